// Google Benchmark of the flows on one table: quick A/B checks of kernel changes.
//   build/bench/embflow_bench_kernels --benchmark_filter=gather
// The systematic sweep with the roofline is `embflow bench`; peers: bench/compare_torch.py.
#include <benchmark/benchmark.h>

#include "embflow/kernels.h"
#include "embflow/workload.h"

namespace {

using namespace embflow;

// Args: log2(table bytes), dim, bag size, flow index.
void BM_Flow(benchmark::State& state) {
  const std::size_t bytes = std::size_t{1} << state.range(0);
  const int dim = static_cast<int>(state.range(1));
  const int bag = static_cast<int>(state.range(2));
  const Flow flow = kAllFlows[state.range(3)];
  TableSpec spec{"t", static_cast<std::int64_t>(bytes / (4u * dim)), dim};
  spec.bag_size = {bag, bag};
  const Table table = Table::random(spec, 1);
  ModelSpec model{"m", {spec}, {}};
  WorkloadOptions w;
  w.batch_size = 2048;
  const TableBatch tb = generate_table_batch(spec, 0, model, w);
  ResidentCopy copy;
  if (is_resident(flow)) copy = ResidentCopy::make(table.view(), {0, spec.rows}, bytes);
  const TableView view = is_resident(flow) ? copy.view() : table.view();
  std::vector<float> out(2048u * dim);
  for (auto _ : state) {
    run_flow(flow, view, tb.view(), {0, 2048}, {0, spec.rows}, {out.data(), dim}, KernelOptions{});
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * tb.num_indices());
  state.SetLabel(std::string(to_string(flow)));
}

BENCHMARK(BM_Flow)
    ->ArgsProduct({{16, 20, 24, 30}, {16, 64, 128}, {1, 20}, {0, 2}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Flow)->ArgsProduct({{16, 20}, {16, 64}, {1, 20}, {1, 3}})->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
