// A table split in row halves against the same table whole, on one pinned worker as the runtime
// runs plans: each half reads every index of the batch and leaves out the rows of the other half,
// so a half should cost no more than the whole. Beside the table, a table of empty bags sized
// so that the model is too large for the runtime to drop row prefetch (RunnerOptions::
// prefetch_above_bytes), as in any real model.
// Usage: build/bench/embflow_row_split [rows bag batch dist] ...
//   default: 4096 8 2048 uniform   (a 256 KiB table: in L2)
//            3650000 1 512 uniform  (a 223 MiB table of one-row bags)
//            16000000 8 2048 uniform (1 GiB)
// Results on the development VM: docs/BENCHMARKS.md ("Row-range items", stop 20).
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "embflow/table.h"
#include "embflow/workload.h"
#include "planner/item_bench.h"

namespace {

using namespace embflow;

struct Case {
  std::int64_t rows;
  int bag;
  std::int64_t batch;
  std::string dist;
};

void run(const Case& c) {
  ModelSpec model{"row-split", {}, {}};
  TableSpec t;
  t.name = "t";
  t.rows = c.rows;
  t.dim = 16;
  t.bag_size = {c.bag, c.bag};
  TableSpec pad;  // never read: it only makes the model large
  pad.name = "pad";
  pad.rows = 1 << 17;
  pad.dim = 16;
  pad.bag_size = {0, 0};
  model.tables = {t, pad};
  const Table table = Table::random(t, 1), pad_table = Table::random(pad, 2);
  const std::vector<TableView> views{table.view(), pad_table.view()};
  WorkloadOptions w;
  w.batch_size = c.batch;
  w.distribution = Distribution::parse(c.dist);
  w.seed = 7;
  auto plan = [&](bool halves) {
    Plan p;
    p.model = model.name;
    p.batch_size = c.batch;
    p.mapper = "manual";
    p.cores = {0};
    p.items.resize(1);
    const BagRange all{0, c.batch};
    if (halves) {
      p.items[0].push_back({0, Flow::kGather, all, {0, t.rows / 2}});
      p.items[0].push_back({0, Flow::kGather, all, {t.rows / 2, t.rows}});
    } else {
      p.items[0].push_back({0, Flow::kGather, all, {0, t.rows}});
    }
    p.items[0].push_back({1, Flow::kGather, all, {0, pad.rows}});
    return p;
  };
  // Each item's median over 400 batches, measured as calibration measures items (item_bench.h).
  constexpr int kRounds = 400;
  const RunnerOptions runner = default_runner_options();
  const std::vector<double> whole = planner::time_plan(model, views, plan(false), w, kRounds, runner).seconds[0];
  const std::vector<double> halves = planner::time_plan(model, views, plan(true), w, kRounds, runner).seconds[0];
  std::printf("%9.1f MiB  bag %2d  batch %6lld  %-10s  whole %9.2f us   halves %9.2f + %9.2f us\n",
              static_cast<double>(t.bytes()) / (1 << 20), c.bag, static_cast<long long>(c.batch), c.dist.c_str(),
              whole[0] * 1e6, halves[0] * 1e6, halves[1] * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Case> cases;
  for (int i = 1; i + 3 < argc; i += 4) cases.push_back({std::atoll(argv[i]), std::atoi(argv[i + 1]), std::atoll(argv[i + 2]), argv[i + 3]});
  if (cases.empty()) cases = {{4096, 8, 2048, "uniform"}, {3650000, 1, 512, "uniform"}, {16000000, 8, 2048, "uniform"}};
  std::printf("one worker on core 0; each item's median time over 400 batches, distinct batches in turn\n");
  for (const Case& c : cases) run(c);
}
