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

#include "embflow/executor.h"
#include "embflow/measure.h"
#include "embflow/table.h"
#include "embflow/workload.h"

namespace {

using namespace embflow;

struct Case {
  std::int64_t rows;
  int bag;
  std::int64_t batch;
  std::string dist;
};

// Median seconds of each item of `plan` over `rounds` batches after as many untimed ones.
std::vector<double> item_medians(const ModelSpec& model, const std::vector<const TableView*>& views, const Plan& plan,
                                 const std::vector<Batch>& batches, int rounds) {
  PlanExecutor ex(model, views, plan, default_runner_options());
  FloatBuffer out(static_cast<std::size_t>(plan.batch_size) * static_cast<std::size_t>(model.total_dim()));
  std::vector<std::vector<double>> seconds(plan.items[0].size());
  for (int r = 0; r < 2 * rounds; ++r) {
    ex.run(batches[static_cast<std::size_t>(r) % batches.size()], out.data());
    if (r < rounds) continue;
    const auto items = ex.last_item_seconds();
    for (std::size_t i = 0; i < items[0].size(); ++i) seconds[i].push_back(items[0][i]);
  }
  std::vector<double> medians;
  for (auto& s : seconds) medians.push_back(summarize(s).median);
  return medians;
}

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
  const TableView tv = table.view(), pv = pad_table.view();
  const std::vector<const TableView*> views{&tv, &pv};
  std::vector<Batch> batches;
  for (int i = 0; i < 64; ++i) {
    WorkloadOptions w;
    w.batch_size = c.batch;
    w.distribution = Distribution::parse(c.dist);
    w.seed = 7 + static_cast<std::uint64_t>(i);
    batches.push_back(generate_batch(model, w));
  }
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
  constexpr int kRounds = 400;
  const std::vector<double> whole = item_medians(model, views, plan(false), batches, kRounds);
  const std::vector<double> halves = item_medians(model, views, plan(true), batches, kRounds);
  std::printf("%9.1f MiB  bag %2d  batch %6lld  %-10s  whole %9.2f us   halves %9.2f + %9.2f us\n",
              static_cast<double>(t.bytes()) / (1 << 20), c.bag, static_cast<long long>(c.batch), c.dist.c_str(),
              whole[0] * 1e6, halves[0] * 1e6, halves[1] * 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<Case> cases;
  for (int i = 1; i + 3 < argc; i += 4) cases.push_back({std::atoll(argv[i]), std::atoi(argv[i + 1]), std::atoll(argv[i + 2]), argv[i + 3]});
  if (cases.empty()) cases = {{4096, 8, 2048, "uniform"}, {3650000, 1, 512, "uniform"}, {16000000, 8, 2048, "uniform"}};
  std::printf("one worker on core 0; each item's median time over 400 batches (64 in turn)\n");
  for (const Case& c : cases) run(c);
}
