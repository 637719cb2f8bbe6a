#include "embflow/plan_tuner.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/measure.h"
#include "embflow/topology.h"

namespace embflow {

std::vector<PlanTimings> time_side_by_side(const std::vector<PlanExecutor*>& executors,
                                           const std::function<BatchView()>& next_batch, float* out, int iters,
                                           int rounds, const std::function<void(const Plan&)>& step) {
  std::vector<PlanTimings> timings(executors.size());
  for (std::size_t e = 0; e < executors.size(); ++e) timings[e].worker_seconds.resize(executors[e]->plan().workers());
  // First each runs until its times stop falling: freshly made tables start several times slower
  // here than they settle to (measure.h), and the first plan timed would pay for that.
  for (PlanExecutor* ex : executors) {
    warm_until_stable([&] {
      const BatchView batch = next_batch();
      const double t0 = now_seconds();
      ex->run(batch, out);
      return now_seconds() - t0;
    });
  }
  std::vector<std::size_t> order(executors.size());
  for (std::size_t e = 0; e < order.size(); ++e) order[e] = e;
  rounds = std::max(rounds, 1);
  for (int round = 0; round < rounds; ++round) {
    std::reverse(order.begin(), order.end());
    for (const std::size_t e : order) {
      PlanExecutor& ex = *executors[e];
      ex.run(next_batch(), out);  // untimed: inherit no cold state
      for (int i = iters * round / rounds; i < iters * (round + 1) / rounds; ++i) {
        const BatchView batch = next_batch();
        const double t0 = now_seconds();
        ex.run(batch, out);
        timings[e].makespans.push_back(now_seconds() - t0);
        const auto ws = ex.last_worker_seconds();
        for (std::size_t w = 0; w < ws.size(); ++w) timings[e].worker_seconds[w].push_back(ws[w]);
        if (step) step(ex.plan());
      }
    }
  }
  return timings;
}

std::vector<Plan> tuning_candidates(const ModelSpec& model, const std::vector<TableSample>& samples,
                                    const CostModel& cost, const PlannerOptions& options) {
  return {search_plan(model, samples, cost, options), make_plan(Mapper::kSymmetric, model, samples, cost, options),
          make_plan(Mapper::kTableWise, model, samples, cost, options)};
}

TunedPlan tune_plan(const ModelSpec& model, const std::vector<const TableView*>& tables,
                    const std::vector<Plan>& candidates, const std::vector<BatchView>& batches,
                    const RunnerOptions& options, int iters) {
  if (candidates.empty()) throw InvalidInput("tune_plan: no candidate plans");
  if (batches.empty()) throw InvalidInput("tune_plan: no batches to measure on");
  for (const Plan& p : candidates) {  // every candidate, so none is refused only once it would have won
    if (p.batch_size != batches[0].batch_size) {
      throw InvalidInput(fmt::format("tune_plan: candidate '{}' is for batches of {}, the batches have {}", p.mapper,
                                     p.batch_size, batches[0].batch_size));
    }
    validate_plan(p, model, describe_machine().physical_cores);
  }
  std::vector<const Plan*> distinct;
  TunedPlan tuned;
  for (const Plan& p : candidates) {
    const auto same = std::find_if(distinct.begin(), distinct.end(), [&](const Plan* d) { return d->same_work(p); });
    if (same == distinct.end()) {
      distinct.push_back(&p);
      tuned.candidates.push_back(p.mapper);
    } else {
      tuned.candidates[static_cast<std::size_t>(same - distinct.begin())] += " = " + p.mapper;
    }
  }
  if (distinct.size() == 1) {
    tuned.plan = *distinct[0];
    tuned.plan.notes.push_back("tuning: the candidates were one plan, nothing measured");
    return tuned;
  }
  std::vector<std::unique_ptr<PlanExecutor>> owned;
  std::vector<PlanExecutor*> executors;
  for (const Plan* p : distinct) {
    owned.push_back(std::make_unique<PlanExecutor>(model, tables, *p, options));
    executors.push_back(owned.back().get());
  }
  FloatBuffer out(static_cast<std::size_t>(batches[0].batch_size) * static_cast<std::size_t>(model.total_dim()));
  std::size_t next = 0;
  const auto timings =
      time_side_by_side(executors, [&] { return batches[next++ % batches.size()]; }, out.data(), iters);
  std::size_t best = 0;
  for (std::size_t e = 0; e < timings.size(); ++e) {
    tuned.makespans.push_back(summarize(timings[e].makespans));
    if (tuned.makespans[e].median < tuned.makespans[best].median) best = e;
  }
  tuned.plan = *distinct[best];
  std::string measured;
  for (std::size_t e = 0; e < distinct.size(); ++e) {
    measured += fmt::format("{}{} {:.1f} us", e == 0 ? "" : ", ", tuned.candidates[e], tuned.makespans[e].median * 1e6);
  }
  tuned.plan.notes.push_back(fmt::format("tuning: chose {} as the fastest measured on this machine ({}; medians of {} batches each, side by side)",
                                         tuned.plan.mapper, measured, iters));
  return tuned;
}

}  // namespace embflow
