// Measuring this machine for the cost model (`embflow calibrate`), and checking the model's
// predictions against fresh measurements (`embflow calibrate --validate`).
//
// Everything is measured the way the runtime runs it: synthetic models whose tables are views of
// one large random arena, run by the PlanExecutor on pinned workers, each item timed inside a
// sequence of other items (so caches hold what they would inside a model, not what a table
// measured alone would leave there), a fresh batch for every repetition.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "embflow/cost_model.h"
#include "embflow/profile.h"
#include "embflow/runner.h"

namespace embflow {

struct CalibrateOptions {
  bool quick = false;            // fewer sizes, widths and repetitions (for tests): seconds, not minutes
  std::size_t arena_bytes = 0;   // largest table measured; 0: 1 GiB (64 MiB quick), less if memory is short
  int rounds = 0;                // timed batches per measurement; 0: 15 (5 quick)
  std::uint64_t seed = 11;
  RunnerOptions runner = default_runner_options();
  std::function<void(std::string_view)> progress;  // told what is being measured
};

MachineProfile calibrate_machine(const CalibrateOptions& options);

// One validation case: an item of a random model, its predicted and measured seconds.
struct ValidationCase {
  std::string table;  // e.g. "t3 (4.0 MiB, dim 64, zipf:1.05, bag 1-20)"
  Flow flow = Flow::kGather;
  double predicted = 0, measured = 0;
  std::vector<double> passes;  // the measured seconds of each pass (measured: their median)
  double error() const { return measured > 0 ? (predicted - measured) / measured : 0; }  // relative, signed
};
struct FlowError {
  Flow flow = Flow::kGather;
  int cases = 0;
  double median_abs = 0, worst_abs = 0;  // relative errors
};
struct ValidationReport {
  std::vector<ValidationCase> cases;
  std::vector<FlowError> per_flow;
  double median_abs = 0, worst_abs = 0;  // over all cases
  double median_signed = 0;              // over all cases: > 0 predicts too slow, < 0 too fast
  // The machine's own drift: every pass of a case taken as the prediction of every later pass,
  // median |relative error| over all those pairs. A model cannot be relied on to err less than
  // measurements of the same item seconds apart differ.
  double repeat_median_abs = 0;
};

// Random models (table sizes, dims, row types, distributions, bag sizes, batch sizes, flows, batch
// and row splits) run on one pinned core, all of them in three passes (two quick); every item's
// median time over fresh batches and passes against the model's prediction from statistics of
// another sample batch.
ValidationReport validate_cost_model(const CostModel& model, const CalibrateOptions& options);
// The same for several cost models (profiles) on the same measurements, one report each in their
// order: on a machine whose speed drifts by phases, only such a comparison tells two profiles apart.
std::vector<ValidationReport> validate_cost_models(const std::vector<const CostModel*>& models,
                                                   const CalibrateOptions& options);
// Fills per_flow, median_abs, worst_abs, median_signed and repeat_median_abs from the cases.
void summarize_errors(ValidationReport& report);

}  // namespace embflow
