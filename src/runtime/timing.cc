#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstring>
#include <iterator>

#include "core/rng.h"
#include "embflow/measure.h"

namespace embflow {
namespace {

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

TimingStats summarize(std::vector<double> samples) {
  TimingStats s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.samples = static_cast<int>(samples.size());
  s.min = samples.front();
  s.max = samples.back();
  s.median = quantile(samples, 0.5);
  s.p10 = quantile(samples, 0.1);
  s.p90 = quantile(samples, 0.9);
  return s;
}

int warm_until_stable(const std::function<double()>& once, int max_blocks) {
  constexpr int kBlock = 4;
  double previous = 0;
  for (int block = 0; block < max_blocks; ++block) {
    std::vector<double> t;
    for (int i = 0; i < kBlock; ++i) t.push_back(once());
    const double m = summarize(t).median;
    if (block > 0 && m >= 0.95 * previous) return (block + 1) * kBlock;
    previous = block == 0 ? m : std::min(previous, m);
  }
  return max_blocks * kBlock;
}

RooflinePoint measure_roofline(const TableView& table, Isa isa, std::uint64_t seed) {
  RooflinePoint r;
  constexpr std::int64_t kBag = 32;
  constexpr int kDistances[] = {16, 32, 64, 128};
  constexpr int kReps = 3;
  const std::int64_t lookups = 1 << 17;
  const std::int64_t bags = lookups / kBag;
  // Fresh rows for every repetition: a repeated index set would be served from cache.
  constexpr int kRuns = static_cast<int>(std::size(kDistances)) * kReps;
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(bags) + 1);
  std::vector<std::int64_t> indices(static_cast<std::size_t>(lookups) * kRuns);
  Rng rng(seed);
  for (auto& i : indices) i = table.first_row + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(table.rows)));
  for (std::int64_t b = 0; b <= bags; ++b) offsets[b] = b * kBag;
  BagsView v;
  v.index_type = IndexType::kInt64;
  v.offsets = offsets.data();
  v.num_bags = bags;
  v.num_indices = lookups;
  std::vector<float> out(static_cast<std::size_t>(bags * table.dim));
  KernelOptions opt;
  double best = 1e30;
  int run = 0;
  for (int distance : kDistances) {
    opt.prefetch_distance = distance;
    for (int rep = 0; rep < kReps; ++rep, ++run) {
      v.indices = indices.data() + static_cast<std::size_t>(run) * lookups;
      const double t0 = now();
      run_flow(Flow::kGather, table, v, {0, bags}, {table.first_row, table.end_row()}, {out.data(), table.dim}, opt, isa);
      best = std::min(best, now() - t0);
    }
  }
  r.gather_rows_per_s = static_cast<double>(lookups) / best;

  const std::size_t words = table.bytes() / 8;
  double best_scan = 1e30;
  volatile std::uint64_t sink = 0;
  for (int rep = 0; rep < 3; ++rep) {
    const double t0 = now();
    std::uint64_t acc = 0;
    for (std::size_t w = 0; w < words; ++w) {
      std::uint64_t x;
      std::memcpy(&x, table.data + 8 * w, 8);
      acc += x;
    }
    sink = acc;
    best_scan = std::min(best_scan, now() - t0);
  }
  (void)sink;
  r.scan_bytes_per_s = static_cast<double>(table.bytes()) / std::max(best_scan, 1e-9);
  return r;
}

int distinct_batches_needed(double row_bytes_per_batch, double index_bytes_per_batch) {
  const double want = std::ceil(256.0 * (1 << 20) / std::max(row_bytes_per_batch, 1.0));
  const double affordable = std::floor(512.0 * (1 << 20) / std::max(index_bytes_per_batch, 1.0));
  return static_cast<int>(std::clamp(std::min(want, affordable), 1.0, 4096.0));
}

double roofline_floor_seconds(std::int64_t lookups, std::size_t table_bytes, const RooflinePoint& r) {
  const double gather = r.gather_rows_per_s > 0 ? static_cast<double>(lookups) / r.gather_rows_per_s : 1e30;
  const double scan = r.scan_bytes_per_s > 0 ? static_cast<double>(table_bytes) / r.scan_bytes_per_s : 1e30;
  return std::min(gather, scan);
}

}  // namespace embflow
