// embflow calibrate --validate: the cost model's predictions against fresh measurements of
// random items, each measured inside a random model as the runtime runs it.
#include <algorithm>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "core/format.h"
#include "embflow/calibrate.h"
#include "embflow/measure.h"
#include "planner/item_bench.h"

namespace embflow {
namespace {

template <class T>
const T& pick(std::mt19937_64& rng, const std::vector<T>& v) {
  return v[std::uniform_int_distribution<std::size_t>(0, v.size() - 1)(rng)];
}

double coin(std::mt19937_64& rng) { return std::uniform_real_distribution<double>(0, 1)(rng); }


}  // namespace

std::vector<ValidationReport> validate_cost_models(const std::vector<const CostModel*>& costs, const CalibrateOptions& o) {
  if (costs.empty()) return {};
  const CostModel& cost = *costs.front();
  planner::Arena arena(planner::calibration_arena_bytes(o), o.seed + 5);
  std::mt19937_64 rng(o.seed * 7919 + 17);
  const int models = o.quick ? 2 : 8;
  const int rounds = o.rounds > 0 ? o.rounds : (o.quick ? 5 : 11);
  const std::size_t budget = cost.profile().resident_budget;
  std::vector<ValidationReport> reports(costs.size());
  struct RandomModel {
    ModelSpec model;
    WorkloadOptions w;
    std::vector<TableView> views;
    Plan plan;
  };
  std::vector<RandomModel> made;
  for (int m = 0; m < models; ++m) {
    ModelSpec model{fmt::format("validation-{}", m), {}, {}};
    WorkloadOptions w;
    w.batch_size = pick<std::int64_t>(rng, {512, 2048, 8192, 32768});
    w.distribution = Distribution::parse(pick<std::string>(rng, {"uniform", "zipf:1.05", "zipf:1.2", "hot-rows:64", "hotset:0.01:0.9"}));
    w.seed = o.seed + 100 * static_cast<std::uint64_t>(m);
    std::vector<TableView> views;
    Plan plan;
    plan.model = model.name, plan.batch_size = w.batch_size, plan.mapper = "validation", plan.cores = {0};
    plan.items.resize(1);
    std::size_t resident_left = budget;
    const int tables = o.quick ? 6 : 10;
    const double lo = std::log(4096.0), hi = std::log(static_cast<double>(arena.bytes()));
    for (int t = 0; t < tables; ++t) {
      TableSpec s;
      s.name = fmt::format("t{}", t);
      s.dim = pick<int>(rng, {8, 16, 32, 64, 128});
      s.row_type = coin(rng) < 0.25 ? RowType::kFp16 : RowType::kFp32;
      const double bytes = std::exp(lo + (hi - lo) * coin(rng));
      s.rows = std::max<std::int64_t>(4, static_cast<std::int64_t>(bytes / static_cast<double>(s.row_bytes())));
      s.bag_size = pick<BagSizeSpec>(rng, {{1, 1}, {1, 20}, {10, 10}, {20, 40}});
      // A split by batch gives two items, each with its own resident copy.
      const double split = coin(rng);
      const bool by_batch = split < 0.2;
      const std::size_t copies_bytes = s.bytes() * (by_batch ? 2 : 1);
      Flow flow = Flow::kGather;
      const double r = coin(rng);
      if (copies_bytes <= resident_left && r < 0.3) {
        flow = r < 0.15 ? Flow::kResident : Flow::kResidentTileScan;
        resident_left -= copies_bytes;
      } else if (r > 0.75 && s.bytes() <= (8u << 20)) {  // larger ones only stream the caches away: no plan
        flow = Flow::kTileScan;                          // would choose them

      }
      const BagRange all{0, w.batch_size};
      const RowRange rows{0, s.rows};
      if (by_batch) {
        plan.items[0].push_back({t, flow, {0, w.batch_size / 2}, rows});
        plan.items[0].push_back({t, flow, {w.batch_size / 2, w.batch_size}, rows});
      } else if (split < 0.35 && !is_resident(flow) && s.rows >= 2) {  // by rows: partial sums
        plan.items[0].push_back({t, flow, all, {0, s.rows / 2}});
        plan.items[0].push_back({t, flow, all, {s.rows / 2, s.rows}});
      } else {
        plan.items[0].push_back({t, flow, all, rows});
      }
      model.tables.push_back(s);
      views.push_back(arena.place(s));
    }
    made.push_back({std::move(model), w, std::move(views), std::move(plan)});
  }
  // Every model measured in `passes` passes over all of them, each item's median over the passes
  // kept: a model measured in one go falls in one phase of a drifting machine, and its items then
  // err together (the Zen 3 VM's validation errors came in blocks per model).
  const int passes = o.quick ? 2 : 3;
  std::vector<std::vector<std::vector<double>>> seconds(made.size());  // [model][item][pass]
  std::vector<std::vector<TableSample>> samples(made.size());
  for (int pass = 0; pass < passes; ++pass) {
    for (std::size_t m = 0; m < made.size(); ++m) {
      if (o.progress) o.progress(fmt::format("validation model {} of {}, pass {} of {}", m + 1, made.size(), pass + 1, passes));
      const RandomModel& r = made[m];
      planner::ItemTimes times = planner::time_plan(r.model, r.views, r.plan, r.w, rounds, o.runner);
      seconds[m].resize(times.seconds[0].size());
      for (std::size_t i = 0; i < times.seconds[0].size(); ++i) seconds[m][i].push_back(times.seconds[0][i]);
      if (pass == 0) samples[m] = std::move(times.samples);
    }
  }
  for (std::size_t m = 0; m < made.size(); ++m) {
    const ModelSpec& model = made[m].model;
    const WorkloadOptions& w = made[m].w;
    const Plan& plan = made[m].plan;
    std::vector<PlanPrediction> predicted;
    for (const CostModel* c : costs) predicted.push_back(c->predict(plan, model, samples[m]));
    // One case per table: a table served as two halves is judged on the two together (the first
    // half warms what the second then finds: judged alone, they err in opposite directions).
    for (std::size_t i = 0; i < plan.items[0].size(); ++i) {
      const WorkItem& it = plan.items[0][i];
      const TableSpec& s = model.tables[static_cast<std::size_t>(it.table)];
      const bool split = i + 1 < plan.items[0].size() && plan.items[0][i + 1].table == it.table;
      ValidationCase c;
      c.table = fmt::format("{}/{} ({}, {} dim {}, {}, batch {}, bags {}-{}{})", model.name, s.name,
                            human_bytes(static_cast<double>(s.bytes())), to_string(s.row_type), s.dim,
                            w.distribution.to_string(), w.batch_size, s.bag_size.min, s.bag_size.max,
                            !split ? "" : it.bags.size() != w.batch_size ? ", as two batch halves" : ", as two row halves");
      c.flow = it.flow;
      c.passes = seconds[m][i];
      if (split) {
        for (int p = 0; p < passes; ++p) c.passes[p] += seconds[m][i + 1][p];
      }
      c.measured = summarize(c.passes).median;
      for (std::size_t k = 0; k < costs.size(); ++k) {
        c.predicted = predicted[k].item_seconds[0][i] + (split ? predicted[k].item_seconds[0][i + 1] : 0.0);
        reports[k].cases.push_back(c);
      }
      if (split) ++i;
    }
  }
  for (ValidationReport& r : reports) summarize_errors(r);
  return reports;
}

ValidationReport validate_cost_model(const CostModel& cost, const CalibrateOptions& o) {
  return validate_cost_models({&cost}, o).front();
}

void summarize_errors(ValidationReport& report) {
  report.per_flow.clear();
  std::vector<double> all;
  for (Flow f : kAllFlows) {
    std::vector<double> errs;
    for (const auto& c : report.cases) {
      if (c.flow == f) errs.push_back(std::abs(c.error()));
    }
    if (errs.empty()) continue;
    all.insert(all.end(), errs.begin(), errs.end());
    report.per_flow.push_back({f, static_cast<int>(errs.size()), summarize(errs).median, *std::max_element(errs.begin(), errs.end())});
  }
  if (!all.empty()) {
    report.median_abs = summarize(all).median;
    report.worst_abs = *std::max_element(all.begin(), all.end());
    std::vector<double> signed_errors;
    for (const auto& c : report.cases) signed_errors.push_back(c.error());
    report.median_signed = summarize(signed_errors).median;
  }
  std::vector<double> repeats;
  for (const auto& c : report.cases) {
    for (std::size_t p = 0; p < c.passes.size(); ++p) {
      for (std::size_t q = p + 1; q < c.passes.size(); ++q) {
        if (c.passes[q] > 0) repeats.push_back(std::abs(c.passes[p] / c.passes[q] - 1));
      }
    }
  }
  if (!repeats.empty()) report.repeat_median_abs = summarize(repeats).median;
}

}  // namespace embflow
