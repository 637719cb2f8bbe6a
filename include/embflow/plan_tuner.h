// Measuring plans against each other on this machine, and keeping the fastest. The cost model
// ranks plans; where its predictions for the best candidates lie closer together than its error
// (docs/PLANNER.md), only running them tells them apart.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "embflow/executor.h"
#include "embflow/measure.h"
#include "embflow/planner.h"
#include "embflow/workload.h"

namespace embflow {

struct PlanTimings {
  std::vector<double> makespans;                    // seconds, per timed batch
  std::vector<std::vector<double>> worker_seconds;  // [worker][timed batch]
};

// Runs the executors side by side on the batches `next_batch` hands out: each first until its
// times stop falling (warm_until_stable), then `iters` timed batches each, in `rounds` rounds
// whose order reverses every round (no executor always follows the same one), each executor's
// block after an untimed batch (none inherits another's cold caches). `step` is called after
// every timed batch (progress).
std::vector<PlanTimings> time_side_by_side(const std::vector<PlanExecutor*>& executors,
                                           const std::function<BatchView()>& next_batch, float* out, int iters,
                                           int rounds = 4, const std::function<void(const Plan&)>& step = {});

struct TunedPlan {
  Plan plan;                            // the fastest candidate; its notes say how it was chosen
  std::vector<std::string> candidates;  // the distinct candidates measured: their mappers ("a = b": the same plan)
  std::vector<TimingStats> makespans;   // their makespans, in the same order
};

// What tuning measures: the asymmetric mapper's search result (search_plan: not replaced by a
// baseline predicted faster, nor by symmetric for want of min_gain: here the measurement
// decides), symmetric and table-wise.
std::vector<Plan> tuning_candidates(const ModelSpec& model, const std::vector<TableSample>& samples,
                                    const CostModel& cost, const PlannerOptions& options);

// Of the candidate plans (for one model and batch size), the one whose median makespan, measured
// side by side over `iters` batches each taken in turn from `batches`, is the lowest. Candidates
// with the same items on the same cores are measured once (the first is kept). Throws
// InvalidInput, before anything runs, if there is no candidate or a candidate does not fit the
// model, this machine or the batches.
TunedPlan tune_plan(const ModelSpec& model, const std::vector<const TableView*>& tables,
                    const std::vector<Plan>& candidates, const std::vector<BatchView>& batches,
                    const RunnerOptions& options, int iters);

}  // namespace embflow
