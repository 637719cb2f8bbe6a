// How much of a batch's time is embflow's own kernel overhead: criteo-kaggle (dim 16, one-row
// bags) pooled on one thread, in one process, on the same tables and batches, interleaved:
//   minimal:  the least a CSR gather can do (offsets, index, a prefetch 48 look-ups ahead, one
//             add, one store per bag), compiled for AVX-512 and AVX2 (the CPU's picks at load);
//   kernels:  embflow's gather kernels as the runtime calls them (no validation);
//   runner:   ModelRunner::run (validation included);
//   fused:    the minimal loop turned sample-major: for each sample, every table (rows prefetched
//             a few samples ahead, the batch's arrays 4 KiB ahead), so that one table's row misses
//             overlap the others' work and the output is written row after row. Not in embflow:
//             it measures what such a kernel could gain. On the development VM it lost: 1.15-1.30x
//             the minimal loop's time at batch 2048 (rows 4, 12 or 24 samples ahead), as did
//             blocks of samples run table by table through the kernels; on the Zen 3 VM (AVX2)
//             3.1-3.3x, its rows prefetched into L1 or L2 alike.
// Usage: build/bench/embflow_kernel_vs_minimal [BATCH] [MAX_ROWS] [BATCHES]
//   MAX_ROWS caps every table (0: none); BATCHES distinct batches taken in turn (default 16: the
//   batches' offsets and indices stay in L3; embflow run takes enough to touch 256 MiB of rows,
//   and their arrays then come from DRAM).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

#include "embflow/measure.h"
#include "embflow/model.h"
#include "embflow/runner.h"
#include "embflow/table.h"
#include "embflow/workload.h"

namespace {

using namespace embflow;

constexpr int kDim = 16;
constexpr std::int64_t kAhead = 48;

// A 16-float row as two 8-float values of GCC's vector extension, which the clones below compile
// to AVX2 (or AVX-512) registers. (One 64-byte value spilled to the stack on every add in the
// AVX2 clone: GCC lowers vectors wider than the ISA's through memory.)
typedef float Vec8 __attribute__((vector_size(32)));
struct Row16 {
  Vec8 lo = {}, hi = {};
};
inline void add_row(Row16& acc, const float* p) {
  Vec8 lo, hi;
  std::memcpy(&lo, p, sizeof lo);
  std::memcpy(&hi, p + 8, sizeof hi);
  acc.lo += lo;
  acc.hi += hi;
}
inline void store_row(float* p, const Row16& r) {
  std::memcpy(p, &r.lo, sizeof r.lo);
  std::memcpy(p + 8, &r.hi, sizeof r.hi);
}
#define EMBFLOW_BENCH_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

// One table's bags (int64 CSR, unweighted) into the [B, T, 16] output's column t.
EMBFLOW_BENCH_CLONES void minimal_gather(const float* table, const BagsView& bags, float* out, std::int64_t out_stride) {
  const auto* off = static_cast<const std::int64_t*>(bags.offsets);
  const auto* ix = static_cast<const std::int64_t*>(bags.indices);
  const std::int64_t n = off[bags.num_bags];
  for (std::int64_t b = 0; b < bags.num_bags; ++b) {
    Row16 acc;
    for (std::int64_t k = off[b]; k < off[b + 1]; ++k) {
      if (k + kAhead < n) __builtin_prefetch(table + ix[k + kAhead] * kDim, 0, 3);
      add_row(acc, table + ix[k] * kDim);
    }
    store_row(out + b * out_stride, acc);
  }
}

// Sample-major: bag s of every table, then bag s + 1.
EMBFLOW_BENCH_CLONES void fused_gather(const std::vector<const float*>& tables, const Batch& batch, float* out,
                                       std::int64_t out_stride) {
  constexpr std::int64_t kAheadSamples = 4;  // of 4, 12 and 24 the fastest here
  constexpr std::int64_t kStreamAhead = 4096 / sizeof(std::int64_t);
  const std::size_t n = tables.size();
  const std::int64_t bags = batch.batch_size;
  std::vector<const std::int64_t*> offs(n), ixs(n);
  for (std::size_t t = 0; t < n; ++t) {
    const BagsView v = batch.tables[t].view();
    offs[t] = static_cast<const std::int64_t*>(v.offsets);
    ixs[t] = static_cast<const std::int64_t*>(v.indices);
  }
  for (std::int64_t s = 0; s < bags; ++s) {
    float* o = out + s * out_stride;
    for (std::size_t t = 0; t < n; ++t) {
      const std::int64_t* off = offs[t];
      const std::int64_t* ix = ixs[t];
      const float* table = tables[t];
      __builtin_prefetch(off + s + kStreamAhead, 0, 3);
      __builtin_prefetch(ix + off[s] + kStreamAhead, 0, 3);
      if (s + kAheadSamples < bags && off[s + kAheadSamples] < off[bags]) {
        __builtin_prefetch(table + ix[off[s + kAheadSamples]] * kDim, 0, 3);
      }
      Row16 acc;
      for (std::int64_t k = off[s]; k < off[s + 1]; ++k) add_row(acc, table + ix[k] * kDim);
      store_row(o + t * kDim, acc);
    }
  }
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  const std::int64_t batch = argc > 1 ? std::atoll(argv[1]) : 2048;
  ModelSpec m = preset_model("criteo-kaggle");
  ModelOverrides o;
  o.dim = kDim;
  if (argc > 2 && std::atoll(argv[2]) > 0) o.max_rows = std::atoll(argv[2]);
  const int distinct = argc > 3 ? std::max(1, std::atoi(argv[3])) : 16;
  apply_overrides(m, o);
  const auto n = m.tables.size();
  std::vector<Table> tables;
  std::vector<TableView> views;
  std::vector<const TableView*> ptrs;
  for (const auto& s : m.tables) tables.push_back(Table::random(s, 1));
  for (const auto& t : tables) views.push_back(t.view());
  for (const auto& v : views) ptrs.push_back(&v);
  std::vector<Batch> batches;
  for (int k = 0; k < distinct; ++k) {
    WorkloadOptions w;
    w.batch_size = batch;
    w.seed = 100 + static_cast<std::uint64_t>(k);
    batches.push_back(generate_batch(m, w));
  }
  const std::int64_t stride = m.total_dim();
  FloatBuffer out(static_cast<std::size_t>(batch * stride));  // 64-byte aligned, as embflow run and the Python module use
  const RunnerOptions ro = default_runner_options();
  ModelRunner runner(m, ptrs, std::vector<Flow>(n, Flow::kGather), ro);

  auto minimal = [&](const Batch& b) {
    for (std::size_t t = 0; t < n; ++t) {
      minimal_gather(reinterpret_cast<const float*>(views[t].data), b.tables[t].view(), out.data() + t * kDim, stride);
    }
  };
  auto kernels = [&](const Batch& b) {
    for (std::size_t t = 0; t < n; ++t) {
      const KernelOptions& k = ro.kernel;  // prefetching every table, as the runtime does for a model beyond L2
      run_flow(Flow::kGather, views[t], b.tables[t].view(), {0, batch}, {0, views[t].rows},
               {out.data() + t * kDim, stride}, k, ro.isa);
    }
  };
  auto whole = [&](const Batch& b) { runner.run(b, out.data()); };
  std::vector<const float*> table_data;
  for (const auto& v : views) table_data.push_back(reinterpret_cast<const float*>(v.data));
  auto fused = [&](const Batch& b) { fused_gather(table_data, b, out.data(), stride); };

  constexpr int kWays = 4;
  std::vector<double> times[kWays];
  const std::function<void(const Batch&)> ways[kWays] = {minimal, kernels, whole, fused};
  int next = 0;
  for (int warm = 0; warm < 20; ++warm) {
    for (const auto& way : ways) way(batches[next++ % distinct]);
  }
  for (int rep = 0; rep < 200; ++rep) {
    for (int i = 0; i < kWays; ++i) {
      const double t0 = now();
      ways[i](batches[next++ % distinct]);
      times[i].push_back(now() - t0);
    }
  }
  const double base = summarize(times[0]).median;
  std::printf("criteo-kaggle dim %d, batch %lld, one thread, %d distinct batches, median of 200 interleaved:\n", kDim,
              static_cast<long long>(batch), distinct);
  const char* names[kWays] = {"minimal loop", "embflow kernels", "embflow runner", "fused (sample-major)"};
  for (int i = 0; i < kWays; ++i) {
    const double t = summarize(times[i]).median;
    std::printf("  %-22s %9.1f us  %.2fx\n", names[i], t * 1e6, t / base);
  }
}
