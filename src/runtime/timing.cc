#include <algorithm>
#include <barrier>
#include <cmath>
#include <chrono>
#include <cstring>
#include <exception>
#include <iterator>
#include <mutex>
#include <thread>

#include "core/rng.h"
#include "embflow/measure.h"
#include "embflow/topology.h"

namespace embflow {
namespace {

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(pos);
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

double now_seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

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

namespace {

// One thread's share of a roofline measurement: kRuns timed gathers of fresh random rows (run r
// with prefetch distance kDistances[r % kPerLevel / kReps], into L1 for the first kPerLevel runs
// and into L2 for the rest: the best of both, whichever the gathers' own rule picks for the table)
// and kScans timed passes over its slice of the table. measure_roofline lines the threads up
// before each step, so that with several threads every step measures them all at once.
class RooflineProbe {
 public:
  static constexpr int kDistances[] = {16, 32, 64, 128};
  static constexpr PrefetchLevel kLevels[] = {PrefetchLevel::kL1, PrefetchLevel::kL2};
  static constexpr int kReps = 3;
  static constexpr int kPerLevel = static_cast<int>(std::size(kDistances)) * kReps;
  static constexpr int kRuns = kPerLevel * static_cast<int>(std::size(kLevels));
  static constexpr int kScans = 3;
  static constexpr std::int64_t kBag = 32;
  static constexpr std::int64_t kLookups = 1 << 17;

  RooflineProbe(const TableView& table, std::uint64_t seed, std::size_t scan_begin, std::size_t scan_end)
      : table_(table), scan_begin_(scan_begin), scan_end_(scan_end), rng_(seed),
        offsets_(static_cast<std::size_t>(kLookups / kBag) + 1),
        indices_(static_cast<std::size_t>(kLookups)),
        out_(static_cast<std::size_t>(kLookups / kBag * table.dim)) {
    for (std::size_t b = 0; b < offsets_.size(); ++b) offsets_[b] = static_cast<std::int64_t>(b) * kBag;
  }

  double gather(int run, Isa isa) {
    // Fresh rows for every run (drawn before the clock starts): a repeated index set would be
    // served from cache.
    for (auto& i : indices_) i = table_.first_row + static_cast<std::int64_t>(rng_.below(static_cast<std::uint64_t>(table_.rows)));
    BagsView v;
    v.index_type = IndexType::kInt64;
    v.offsets = offsets_.data();
    v.num_bags = kLookups / kBag;
    v.num_indices = kLookups;
    v.indices = indices_.data();
    KernelOptions opt;
    opt.prefetch_distance = kDistances[run % kPerLevel / kReps];
    opt.prefetch_level = kLevels[run / kPerLevel];
    const double t0 = now_seconds();
    run_flow(Flow::kGather, table_, v, {0, v.num_bags}, {table_.first_row, table_.end_row()}, {out_.data(), table_.dim},
             opt, isa);
    return now_seconds() - t0;
  }

  double scan() {
    const double t0 = now_seconds();
    std::uint64_t acc = 0;
    for (std::size_t w = scan_begin_ / 8; w < scan_end_ / 8; ++w) {
      std::uint64_t x;
      std::memcpy(&x, table_.data + 8 * w, 8);
      acc += x;
    }
    sink_ = acc;
    return now_seconds() - t0;
  }

 private:
  const TableView& table_;
  std::size_t scan_begin_, scan_end_;
  Rng rng_;
  std::vector<std::int64_t> offsets_, indices_;
  std::vector<float> out_;
  volatile std::uint64_t sink_ = 0;
};

}  // namespace

RooflinePoint measure_roofline(const TableView& table, Isa isa, std::uint64_t seed, int cores) {
  cores = std::max(cores, 1);
  using P = RooflineProbe;
  // [thread][step]: kRuns gathers, then kScans scans.
  std::vector<std::vector<double>> seconds(static_cast<std::size_t>(cores), std::vector<double>(P::kRuns + P::kScans));
  const std::size_t bytes = table.bytes() / 8 * 8;
  auto work = [&](int c, const std::function<void()>& sync) {
    P probe(table, seed + 7919 * static_cast<std::uint64_t>(c), bytes * c / cores, bytes * (c + 1) / cores);
    for (int step = 0; step < P::kRuns + P::kScans; ++step) {
      sync();
      seconds[c][step] = step < P::kRuns ? probe.gather(step, isa) : probe.scan();
    }
  };
  if (cores == 1) {
    work(0, [] {});
  } else {
    std::barrier<> start(cores);
    std::vector<std::thread> threads;
    std::exception_ptr error;
    std::mutex mu;
    for (int c = 0; c < cores; ++c) {
      threads.emplace_back([&, c] {
        try {
          pin_current_thread(c);
        } catch (...) {
          std::lock_guard<std::mutex> lock(mu);
          if (!error) error = std::current_exception();
        }
        work(c, [&] { start.arrive_and_wait(); });
      });
    }
    for (auto& t : threads) t.join();
    if (error) std::rethrow_exception(error);
  }
  // A step takes as long as its slowest thread; the best step of each kind counts.
  double best_gather = 1e30, best_scan = 1e30;
  for (int step = 0; step < P::kRuns + P::kScans; ++step) {
    double slowest = 0;
    for (int c = 0; c < cores; ++c) slowest = std::max(slowest, seconds[c][step]);
    (step < P::kRuns ? best_gather : best_scan) = std::min(step < P::kRuns ? best_gather : best_scan, slowest);
  }
  RooflinePoint r;
  r.gather_rows_per_s = static_cast<double>(P::kLookups) * cores / best_gather;
  r.scan_bytes_per_s = static_cast<double>(bytes) / std::max(best_scan, 1e-9);
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
