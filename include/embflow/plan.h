// A plan: which core runs which work items (table, flow, bag range, row range) for a batch size.
// The planner produces plans, the executor runs them, and they are stored as versioned JSON.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "embflow/kernels.h"
#include "embflow/model.h"

namespace embflow {

// The unit everything shares: pool bags [bags) of `table` from rows [rows) with `flow`.
// An item whose rows are not the whole table produces partial sums that are added up.
struct WorkItem {
  int table = 0;
  Flow flow = Flow::kGather;
  BagRange bags;
  RowRange rows;
  bool operator==(const WorkItem&) const = default;
};

struct Plan {
  static constexpr int kVersion = 1;
  std::string model;          // the model's name
  std::int64_t batch_size = 0;
  std::string mapper;         // what produced it: "symmetric", "table-wise", "manual", ...
  // Per worker: the physical core it is pinned to, and its items, run in order.
  std::vector<int> cores;
  std::vector<std::vector<WorkItem>> items;
  // What the planner predicted, when a cost model made the plan (empty / 0 otherwise).
  std::string profile;                          // the machine profile's name
  std::vector<double> predicted_worker_seconds;  // per worker
  double predicted_makespan = 0;                // seconds per batch
  std::vector<std::string> notes;               // e.g. which candidate won
  std::string workload;                         // what the sample the plan was made from was
  // The profile's measured prefetch lead (profile.h): the executor runs the plan with it, with or
  // without the profile at hand. Unset: the runner options' own.
  std::optional<L2PrefetchLead> l2_prefetch_lead;

  std::size_t workers() const { return cores.size(); }
  // The same work: the same items, in the same order, on the same cores (whatever made them).
  bool same_work(const Plan& other) const { return cores == other.cores && items == other.items; }
};

std::string plan_to_json(const Plan& plan);
// Throws InvalidInput naming the bad field.
Plan parse_plan_json(std::string_view text, std::string_view source);

// Checks a plan against a model and a machine of `machine_cores` physical cores: model name,
// known flows, cores in range and distinct, ranges inside the table and the batch, and every
// look-up of every table served exactly once (each table's items tile [0, batch) x [0, rows)).
// Throws InvalidInput naming the table, item or core.
void validate_plan(const Plan& plan, const ModelSpec& model, int machine_cores);

// Baseline mappers.
// symmetric: every table's batch split evenly over all cores, gather (what a default operator
// does, and the paper's baseline).
Plan symmetric_plan(const ModelSpec& model, std::int64_t batch_size, int cores);
// table-wise: whole tables, gather, each to the core with the least predicted work so far,
// largest first (LPT). table_seconds: a predicted or measured time per table.
Plan table_wise_plan(const ModelSpec& model, std::int64_t batch_size, int cores,
                     const std::vector<double>& table_seconds);

}  // namespace embflow
