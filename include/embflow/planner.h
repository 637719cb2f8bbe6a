// The mappers: from a model, statistics of a sample batch and a cost model to a plan.
//
//   asymmetric   the paper's method: every table gets a flow and a share of the cores. Heavy tables
//                are split (by batch range, or by row range with a reduction of partial sums) into
//                as many parts as lower the predicted makespan; parts are packed onto cores largest
//                first, each to the core where it finishes earliest, resident flows only where the
//                core's resident budget still has room; then the part on the busiest core is split
//                further while that helps. The result is never predicted slower than either baseline
//                (they are candidates too; the plan's notes say which won).
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
};

// Deterministic: the same inputs give the same plan. `samples` from sample_statistics().
Plan make_plan(Mapper mapper, const ModelSpec& model, const std::vector<TableSample>& samples, const CostModel& cost,
               const PlannerOptions& options);

}  // namespace embflow
