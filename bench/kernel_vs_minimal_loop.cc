// How much of a batch's time is embflow's own kernel overhead: criteo-kaggle (dim 16, one-row
// bags) pooled on one thread, in one process, on the same tables and batches, interleaved:
//   minimal:  the least a CSR gather can do (offsets, index, a prefetch 48 look-ups ahead, one
//             fma, one store per bag), AVX-512;
//   kernels:  embflow's gather kernels as the runtime calls them (no validation);
//   runner:   ModelRunner::run (validation included);
//   fused:    the minimal loop turned sample-major: for each sample, every table (rows prefetched
//             a few samples ahead, the batch's arrays 4 KiB ahead), so that one table's row misses
//             overlap the others' work and the output is written row after row. Not in embflow:
//             it measures what such a kernel could gain. On the development VM it lost: 1.15-1.30x
//             the minimal loop's time at batch 2048 (rows 4, 12 or 24 samples ahead), as did
//             blocks of samples run table by table through the kernels.
// Usage: build/bench/embflow_kernel_vs_minimal [BATCH] [MAX_ROWS]   (MAX_ROWS caps every table)
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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

// One table's bags (int64 CSR, unweighted) into the [B, T, 16] output's column t.
__attribute__((target("avx512f"))) void minimal_gather(const float* table, const BagsView& bags, float* out,
                                                       std::int64_t out_stride) {
  const auto* off = static_cast<const std::int64_t*>(bags.offsets);
  const auto* ix = static_cast<const std::int64_t*>(bags.indices);
  const std::int64_t n = off[bags.num_bags];
  for (std::int64_t b = 0; b < bags.num_bags; ++b) {
    __m512 acc = _mm512_setzero_ps();
    for (std::int64_t k = off[b]; k < off[b + 1]; ++k) {
      if (k + kAhead < n) _mm_prefetch(reinterpret_cast<const char*>(table + ix[k + kAhead] * kDim), _MM_HINT_T0);
      acc = _mm512_add_ps(acc, _mm512_loadu_ps(table + ix[k] * kDim));
    }
    _mm512_storeu_ps(out + b * out_stride, acc);
  }
}

// Sample-major: bag s of every table, then bag s + 1.
__attribute__((target("avx512f"))) void fused_gather(const std::vector<const float*>& tables, const Batch& batch,
                                                     float* out, std::int64_t out_stride) {
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
      _mm_prefetch(reinterpret_cast<const char*>(off + s + kStreamAhead), _MM_HINT_T0);
      _mm_prefetch(reinterpret_cast<const char*>(ix + off[s] + kStreamAhead), _MM_HINT_T0);
      if (s + kAheadSamples < bags && off[s + kAheadSamples] < off[bags]) {
        _mm_prefetch(reinterpret_cast<const char*>(table + ix[off[s + kAheadSamples]] * kDim), _MM_HINT_T0);
      }
      __m512 acc = _mm512_setzero_ps();
      for (std::int64_t k = off[s]; k < off[s + 1]; ++k) acc = _mm512_add_ps(acc, _mm512_loadu_ps(table + ix[k] * kDim));
      _mm512_storeu_ps(o + t * kDim, acc);
    }
  }
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

}  // namespace

int main(int argc, char** argv) {
  if (!__builtin_cpu_supports("avx512f")) {
    std::printf("needs AVX-512 (the minimal loop is written for it)\n");
    return 0;
  }
  const std::int64_t batch = argc > 1 ? std::atoll(argv[1]) : 2048;
  ModelSpec m = preset_model("criteo-kaggle");
  ModelOverrides o;
  o.dim = kDim;
  if (argc > 2) o.max_rows = std::atoll(argv[2]);
  apply_overrides(m, o);
  const auto n = m.tables.size();
  std::vector<Table> tables;
  std::vector<TableView> views;
  std::vector<const TableView*> ptrs;
  for (const auto& s : m.tables) tables.push_back(Table::random(s, 1));
  for (const auto& t : tables) views.push_back(t.view());
  for (const auto& v : views) ptrs.push_back(&v);
  std::vector<Batch> batches;
  for (int k = 0; k < 16; ++k) {
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
    for (const auto& way : ways) way(batches[next++ % 16]);
  }
  for (int rep = 0; rep < 200; ++rep) {
    for (int i = 0; i < kWays; ++i) {
      const double t0 = now();
      ways[i](batches[next++ % 16]);
      times[i].push_back(now() - t0);
    }
  }
  const double base = summarize(times[0]).median;
  std::printf("criteo-kaggle dim %d, batch %lld, one thread, median of 200 interleaved batches:\n", kDim,
              static_cast<long long>(batch));
  const char* names[kWays] = {"minimal loop", "embflow kernels", "embflow runner", "fused (sample-major)"};
  for (int i = 0; i < kWays; ++i) {
    const double t = summarize(times[i]).median;
    std::printf("  %-22s %9.1f us  %.2fx\n", names[i], t * 1e6, t / base);
  }
}
