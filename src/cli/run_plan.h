// What the planning subcommands share: a sample batch to plan from, reading a user's plan, and
// `embflow run --plan FILE`.
#pragma once
#include <string>

#include "cli/options.h"
#include "embflow/plan.h"
#include "embflow/workload.h"

namespace embflow::cli {

// The batch the planner's statistics come from: the first batch saved in load_dir, or one
// generated with a seed no timed batch uses. Validated (throws InvalidInput naming table, sample
// and value).
Batch sample_batch(const ModelSpec& model, const WorkloadOptions& w, const std::string& load_dir);

// Reads a plan file and checks it against the model, the batch size and this machine.
Plan load_plan_for(const std::string& file, const ModelSpec& model, std::int64_t batch_size);

struct RunPlanArgs {
  ModelArgs model;
  WorkloadArgs workload;
  std::string plan_file, profile, svg, tables_dir, load_workload;
  int iters = 20;
  int batches = 0;
  bool check = false;
};
void run_plan(const RunPlanArgs& args);

}  // namespace embflow::cli
