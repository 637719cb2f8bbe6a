// Runs a plan on worker threads pinned one per physical core.
#pragma once
#include <memory>
#include <vector>

#include "embflow/plan.h"
#include "embflow/runner.h"

namespace embflow {

class PlanExecutor {
 public:
  // Validates the plan against the model and this machine, starts one worker per plan core,
  // pinned to it; each worker makes the resident copies of its own items (first touch by the
  // owning core). Throws InvalidInput for a bad plan, CapacityError when a core's resident copies
  // exceed options.resident_budget (naming the core). `tables` must outlive the executor.
  PlanExecutor(const ModelSpec& model, const std::vector<const TableView*>& tables, Plan plan,
               const RunnerOptions& options);
  ~PlanExecutor();
  PlanExecutor(const PlanExecutor&) = delete;
  PlanExecutor& operator=(const PlanExecutor&) = delete;

  // Pools the batch into out: float[batch_size * total_dim]. The batch size must be the plan's.
  // Bad input throws InvalidInput as ModelRunner::run does (the first bad table in model order;
  // out may hold some results by then), or is repaired under kSkip / kClamp. Safe to call from
  // several threads: calls are served one at a time.
  void run(const BatchView& batch, float* out);
  void run(const Batch& batch, float* out) { run(batch.view(), out); }

  // Seconds each worker spent on its items during the last run, in plan order.
  std::vector<double> last_worker_seconds() const;
  // Seconds each item took during the last run: [worker][item], plan order.
  std::vector<std::vector<double>> last_item_seconds() const;
  const Plan& plan() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace embflow
