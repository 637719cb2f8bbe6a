#include "planner/item_bench.h"

#include <algorithm>

#include "embflow/error.h"
#include "embflow/executor.h"
#include "embflow/measure.h"

namespace embflow::planner {

Arena::Arena(std::size_t bytes, std::uint64_t seed) {
  TableSpec spec;
  spec.name = "calibration-arena";
  spec.rows = static_cast<std::int64_t>(std::max<std::size_t>(bytes, 1 << 20) / 64);
  spec.dim = 16;
  table_ = Table::random(spec, seed);
  table_.touch();
}

TableView Arena::place(const TableSpec& spec) {
  const std::size_t size = spec.bytes();
  if (cursor_ + size > bytes()) cursor_ = 0;
  TableView v;
  v.data = table_.view().data + cursor_;
  v.rows = spec.rows;
  v.dim = spec.dim;
  v.row_type = spec.row_type;
  v.row_stride = spec.row_bytes();
  cursor_ = std::min(bytes(), (cursor_ + size + 4095) / 4096 * 4096);
  return v;
}

std::vector<Batch> timed_batches(const ModelSpec& model, const WorkloadOptions& workload) {
  // As many as `embflow run` cycles (measure.h), so that a row comes back only after the batches
  // between have turned the caches over, as in serving where every batch is new. With at most
  // `rounds` of them (15), a table's rows came back within 15 small batches and were still in L3:
  // the first touches of a 64 MiB table were priced as L3 hits, 3 ns a 64-byte row, where models
  // whose other tables pull megabytes a batch paid 15-18 ns.
  double row_bytes = 0, index_bytes = 0;
  for (const auto& t : model.tables) {
    const double lookups = static_cast<double>(workload.batch_size) * t.bag_size.mean();
    row_bytes += lookups * static_cast<double>(t.row_bytes());
    index_bytes += (lookups + static_cast<double>(workload.batch_size)) * 8;
  }
  const int count = row_bytes > 0 ? std::max(2, distinct_batches_needed(row_bytes, index_bytes)) : 2;
  std::vector<Batch> batches;
  for (int i = 0; i < count; ++i) {
    WorkloadOptions o = workload;
    o.seed = workload.seed + 1 + static_cast<std::uint64_t>(i);
    batches.push_back(generate_batch(model, o));
  }
  return batches;
}

ItemTimes time_plan(const ModelSpec& model, const std::vector<TableView>& views, const Plan& plan,
                    const WorkloadOptions& workload, int rounds, const RunnerOptions& runner) {
  PlanExecutor executor(model, view_pointers(views), plan, runner);
  ItemTimes out;
  {
    const Batch sample = generate_batch(model, workload);
    out.samples = sample_statistics(model, sample);
  }
  FloatBuffer result(static_cast<std::size_t>(workload.batch_size) * static_cast<std::size_t>(model.total_dim()));
  const std::vector<Batch> batches = timed_batches(model, workload);
  std::size_t next = 0;
  auto run_once = [&] {
    const double t0 = now_seconds();
    executor.run(batches[next++ % batches.size()], result.data());
    return now_seconds() - t0;
  };
  // Warm up until no item's time is still falling: the makespan alone can hide one slow item
  // settling (see warm_until_stable in measure.h for why times fall).
  std::vector<double> previous;
  for (int block = 0; block < 16; ++block) {
    std::vector<std::vector<double>> t;  // [round][item], worker 0 and then the others in order
    double total = 0;
    for (int i = 0; i < 4; ++i) {
      total += run_once();
      t.emplace_back();
      for (const auto& w : executor.last_item_seconds()) t.back().insert(t.back().end(), w.begin(), w.end());
    }
    std::vector<double> medians;
    for (std::size_t k = 0; k < t[0].size(); ++k) {
      std::vector<double> v;
      for (const auto& r : t) v.push_back(r[k]);
      medians.push_back(summarize(v).median);
    }
    bool falling = previous.empty();
    for (std::size_t k = 0; k < medians.size() && !falling; ++k) {
      falling = medians[k] > 0.02 * total / 4 && medians[k] < 0.9 * previous[k];
    }
    if (!falling) break;
    previous = medians;
  }
  std::vector<std::vector<std::vector<double>>> samples(plan.workers());  // [worker][item][round]
  for (std::size_t w = 0; w < plan.workers(); ++w) samples[w].resize(plan.items[w].size());
  std::vector<double> handoff;
  for (int round = 0; round < rounds; ++round) {
    const double makespan = run_once();
    const auto items = executor.last_item_seconds();
    const auto workers = executor.last_worker_seconds();
    double busiest = 0;
    for (std::size_t w = 0; w < items.size(); ++w) {
      for (std::size_t i = 0; i < items[w].size(); ++i) samples[w][i].push_back(items[w][i]);
      busiest = std::max(busiest, workers[w]);
    }
    handoff.push_back(std::max(0.0, makespan - busiest));
  }
  for (auto& worker : samples) {
    out.seconds.emplace_back();
    for (auto& item : worker) out.seconds.back().push_back(summarize(item).median);
  }
  out.handoff_seconds = summarize(handoff).median;
  return out;
}

Plan single_core_plan(const ModelSpec& model, std::int64_t batch_size, const std::vector<Flow>& flows) {
  if (flows.size() != model.tables.size()) throw InvalidInput("single_core_plan: one flow per table");
  Plan p;
  p.model = model.name;
  p.batch_size = batch_size;
  p.mapper = "calibration";
  p.cores = {0};
  p.items.resize(1);
  for (std::size_t t = 0; t < model.tables.size(); ++t) {
    p.items[0].push_back({static_cast<int>(t), flows[t], {0, batch_size}, {0, model.tables[t].rows}});
  }
  return p;
}

}  // namespace embflow::planner
