// The mappers: from a model, statistics of a sample batch and a cost model to a plan.
//
//   asymmetric   the paper's method: every table gets a flow and a share of the cores. Heavy tables
//                are split (by batch range, or by row range with a reduction of partial sums) into
//                as many parts as lower the predicted makespan; parts are packed onto cores largest
//                first, each to the core where it finishes earliest, resident flows only where the
//                core's resident budget still has room; then the part on the busiest core is split
//                further while that helps. The baselines are candidates too, so the result is never
//                predicted slower than either; and unless it is predicted at least `min_gain` faster
//                than symmetric, symmetric is returned (the plan's notes say why).
//   symmetric    every table's batch split evenly over all cores, gather (the paper's baseline)
//   table-wise   whole tables, gather, largest predicted cost first, to the least loaded core
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "embflow/cost_model.h"
#include "embflow/plan.h"

namespace embflow {

enum class Mapper { kAsymmetric, kSymmetric, kTableWise };
std::string_view to_string(Mapper m);
Mapper parse_mapper(std::string_view s);  // throws InvalidInput
inline constexpr Mapper kAllMappers[] = {Mapper::kAsymmetric, Mapper::kSymmetric, Mapper::kTableWise};

struct PlannerOptions {
  int cores = 1;                      // workers on cores 0 .. cores-1
  std::vector<Flow> flows{std::begin(kAllFlows), std::end(kAllFlows)};  // the asymmetric mapper's choices
  std::size_t resident_budget = 0;    // bytes per core; 0: the profile's
  int max_parts = 0;                  // most parts one table is split into; 0: the core count
  // Smallest predicted gain over symmetric worth leaving it for. The cost model's error on a
  // whole plan is of the order of 10% here (docs/BENCHMARKS.md); below that a "faster" plan is
  // as likely slower. With a positive min_gain the result may be predicted up to min_gain slower
  // than table-wise (never slower than symmetric).
  double min_gain = 0.10;
};

// Deterministic: the same inputs give the same plan. `samples` from sample_statistics().
Plan make_plan(Mapper mapper, const ModelSpec& model, const std::vector<TableSample>& samples, const CostModel& cost,
               const PlannerOptions& options);
// The asymmetric mapper's search alone: its best plan before the baselines and min_gain are
// weighed against it (what tuning measures beside the baselines, plan_tuner.h).
Plan search_plan(const ModelSpec& model, const std::vector<TableSample>& samples, const CostModel& cost,
                 const PlannerOptions& options);

}  // namespace embflow
