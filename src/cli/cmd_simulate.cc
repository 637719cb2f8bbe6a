// embflow simulate: predicted makespans of the three mappers on a machine described by a profile
// (one we may not have), for one or more query distributions. Nothing is run: tables are never
// allocated, only a sample of indices is drawn.
#include <map>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/run_plan.h"
#include "cli/session.h"
#include "embflow/plan_report.h"
#include "embflow/planner.h"

namespace embflow::cli {
namespace {

struct SimulateArgs {
  ModelArgs model;
  WorkloadArgs workload;
  PlannerArgs planner;
  std::vector<std::string> dists;
  bool show_plan = false;
};

void simulate_command(const SimulateArgs& a) {
  const ModelSpec model = a.model.resolve();
  const CostModel cost(resolve_profile(a.planner.profile, false));
  PlannerOptions po;
  po.cores = a.planner.cores > 0 ? a.planner.cores : cost.profile().cores;
  po.min_gain = a.planner.min_gain;
  fmt::print("model:      {} ({} tables, {}), batch {}, {} cores\n", model.name, model.tables.size(),
             human_bytes(static_cast<double>(model.bytes())), a.workload.batch, po.cores);
  for (const auto& n : model.notes) fmt::print("note:       {}\n", n);
  std::vector<std::string> dists = a.dists;
  if (dists.empty()) dists.push_back(a.workload.dist);
  fmt::print("\npredicted makespan per batch, us (speed-up of asymmetric over each baseline)\n");
  fmt::print("{:<18} {:>12} {:>12} {:>12} {:>10} {:>11}  {}\n", "distribution", "symmetric", "table-wise", "asymmetric",
             "vs symm.", "vs t-wise", "asymmetric plan: flows (items), split tables");
  for (const std::string& d : dists) {
    WorkloadArgs w = a.workload;
    w.dist = d;
    const auto samples = sample_statistics(model, sample_batch(model, w.resolve(), ""));
    std::map<Mapper, Plan> plans;
    for (Mapper m : kAllMappers) plans[m] = make_plan(m, model, samples, cost, po);
    const Plan& asym = plans[Mapper::kAsymmetric];
    std::map<Flow, int> flows;
    std::map<int, int> parts;
    for (const auto& items : asym.items) {
      for (const WorkItem& it : items) ++flows[it.flow], ++parts[it.table];
    }
    std::string used;
    for (const auto& [f, n] : flows) used += fmt::format("{} {}, ", paper_name(f), n);
    int split = 0;
    for (const auto& [t, n] : parts) split += n > 1;
    const double s = plans[Mapper::kSymmetric].predicted_makespan, t = plans[Mapper::kTableWise].predicted_makespan,
                 x = asym.predicted_makespan;
    fmt::print("{:<18} {:>12.1f} {:>12.1f} {:>12.1f} {:>9.2f}x {:>10.2f}x  {}{} split\n", d, s * 1e6, t * 1e6, x * 1e6, s / x,
               t / x, used, split);
    if (a.show_plan) fmt::print("{}", describe_plan(asym, model, cost.predict(asym, model, samples)));
  }
}

}  // namespace

void register_simulate(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  auto* cmd = app.add_subcommand("simulate", "predicted makespans of the asymmetric, symmetric and table-wise mappings "
                                              "on a machine described by a profile (nothing runs)");
  args->model.add_to(*cmd);
  args->workload.add_to(*cmd);
  args->planner.add_to(*cmd, true);
  cmd->add_option("--dists", args->dists, "several distributions, one row each (default: --dist)")->delimiter(',');
  cmd->add_flag("--show-plan", args->show_plan, "print each asymmetric plan");
  cmd->callback([args] { simulate_command(*args); });
}

}  // namespace embflow::cli
