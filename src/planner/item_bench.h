// Measuring work items the way the runtime runs them: a synthetic model whose tables are views of
// one random arena, a plan, the PlanExecutor, fresh batches; each item's median time.
#pragma once
#include <vector>

#include "embflow/calibrate.h"
#include "embflow/cost_model.h"
#include "embflow/runner.h"
#include "embflow/table.h"
#include "embflow/workload.h"

namespace embflow::planner {

// Random fp32 rows that synthetic tables of any shape are carved from (tables may overlap: they
// are only read).
class Arena {
 public:
  explicit Arena(std::size_t bytes, std::uint64_t seed);
  std::size_t bytes() const { return table_.view().bytes(); }
  // Places a table of `spec` after the previous one (wrapping around), 4 KiB aligned.
  TableView place(const TableSpec& spec);
  // The next table goes to the start: a model whose tables fit the arena then shares no page.
  void rewind() { cursor_ = 0; }

 private:
  Table table_;
  std::size_t cursor_ = 0;
};

struct ItemTimes {
  std::vector<std::vector<double>> seconds;  // [worker][item]: median over the rounds
  std::vector<TableSample> samples;          // statistics of a separate sample batch
  double handoff_seconds = 0;                // median of (makespan - busiest worker)
};

// Bytes of the arena calibration and validation measure in: the largest table they use.
std::size_t calibration_arena_bytes(const CalibrateOptions& options);

// The distinct batches a timing loop takes in turn, generated first so that the rounds run back to
// back as a serving loop's (seeds after workload.seed, which is the sample's).
std::vector<Batch> timed_batches(const ModelSpec& model, const WorkloadOptions& workload);

// Runs `rounds` batches of `workload` after warming up until the times settle (measure.h): distinct
// batches in turn (its seed is the sample's; the timed batches use the seeds after it).
ItemTimes time_plan(const ModelSpec& model, const std::vector<TableView>& views, const Plan& plan,
                    const WorkloadOptions& workload, int rounds, const RunnerOptions& runner);

// A one-worker plan (core 0) running `flows[t]` on the whole of table t, in table order.
Plan single_core_plan(const ModelSpec& model, std::int64_t batch_size, const std::vector<Flow>& flows);

}  // namespace embflow::planner
