// embflow compare: mappings of tables to cores, run side by side on pinned workers, repeated:
// the paper's asymmetric plan against the two baselines, symmetric (every table's batch split
// evenly over all cores) and table-wise (whole tables, largest predicted cost first, to the least
// loaded core), plus any plan files given; predicted against measured makespans.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "cli/run_plan.h"
#include "cli/session.h"
#include "embflow/error.h"
#include "embflow/executor.h"
#include "embflow/measure.h"
#include "embflow/plan_tuner.h"
#include "embflow/planner.h"
#include "embflow/topology.h"

namespace embflow::cli {
namespace {

struct CompareArgs {
  ModelArgs model;
  WorkloadArgs workload;
  PlannerArgs planner;
  int iters = 20;
  int batches = 0;
  int tune_iters = 0;
  bool check = false;
  bool one_core = false;
  std::string tables_dir, plans_dir;
  std::vector<std::string> plan_files;
};

struct Mapping {
  Plan plan;
  std::unique_ptr<PlanExecutor> executor;
};

void compare_command(const CompareArgs& a) {
  const ModelSpec model = a.model.resolve();
  const WorkloadOptions wopt = a.workload.resolve();
  const MachineInfo machine = describe_machine();
  const int cores = a.planner.cores > 0 ? a.planner.cores : machine.physical_cores;
  if (cores > machine.physical_cores) {
    throw InvalidInput(fmt::format("--cores {}: this machine has {} physical cores", cores, machine.physical_cores));
  }
  fmt::print("model:      {} ({} tables, {}), {} cores of {}\n", model.name, model.tables.size(),
             human_bytes(static_cast<double>(model.bytes())), cores, machine.cpu_model);
  for (const auto& n : model.notes) fmt::print("note:       {}\n", n);
  // The user's plans and the profile are read and checked before any set-up work.
  std::vector<Plan> user_plans;
  for (const auto& file : a.plan_files) {  // e.g. edited from --save-plans
    Plan p = load_plan_for(file, model, wopt.batch_size);
    p.mapper = std::filesystem::path(file).stem().string();
    user_plans.push_back(std::move(p));
  }
  const CostModel cost(resolve_profile(a.planner.profile, true));
  const RunnerOptions ropt = default_runner_options();
  const auto samples = sample_statistics(model, sample_batch(model, wopt, ""));
  PlannerOptions po;
  po.cores = cores;
  po.min_gain = a.planner.min_gain;
  po.resident_budget = std::min(ropt.resident_budget, cost.profile().resident_budget);
  std::vector<Plan> plans;
  for (Mapper m : {Mapper::kSymmetric, Mapper::kTableWise, Mapper::kAsymmetric}) plans.push_back(make_plan(m, model, samples, cost, po));

  std::vector<Table> tables = make_tables(model, a.tables_dir, a.workload.seed);
  const std::vector<Batch> batches = make_batches(model, wopt, a.batches, "", "");
  std::vector<TableView> views;
  for (const auto& t : tables) views.push_back(t.view());
  const auto ptrs = view_pointers(views);
  if (a.tune_iters > 0) {  // measured apart from the comparison below, which then measures its choice afresh
    for (const auto& t : tables) t.touch();
    Plan tuned = tune_plan(model, ptrs, tuning_candidates(model, samples, cost, po), batch_views(batches), ropt, a.tune_iters).plan;
    tuned.mapper = "tuned";
    plans.push_back(std::move(tuned));
  }
  for (Plan& p : user_plans) plans.push_back(std::move(p));
  if (a.one_core) {
    Plan p = symmetric_plan(model, wopt.batch_size, 1);
    p.mapper = "one-core";
    plans.push_back(std::move(p));
  }
  BatchRotation rotation(batches);
  const std::int64_t batch_size = batches[0].batch_size;
  FloatBuffer out(static_cast<std::size_t>(batch_size) * model.total_dim());

  std::vector<Mapping> maps;
  for (Plan p : plans) {
    if (!a.plans_dir.empty()) {
      std::filesystem::create_directories(a.plans_dir);
      std::ofstream(std::filesystem::path(a.plans_dir) / (p.mapper + ".json")) << plan_to_json(p) << "\n";
    }
    Mapping m;
    m.executor = std::make_unique<PlanExecutor>(model, ptrs, p, ropt);
    m.plan = std::move(p);
    maps.push_back(std::move(m));
  }
  for (const auto& t : tables) t.touch();
  Progress progress("comparing", static_cast<std::int64_t>(maps.size()) * a.iters);
  std::vector<PlanExecutor*> executors;
  for (auto& m : maps) executors.push_back(m.executor.get());
  const std::vector<PlanTimings> timings = time_side_by_side(
      executors, [&] { return rotation.next().view(); }, out.data(), a.iters, 4,
      [&](const Plan& p) { progress.step(p.mapper); });

  std::vector<TimingStats> makespan;  // per mapping
  for (const PlanTimings& t : timings) makespan.push_back(summarize(t.makespans));
  const double base = makespan[0].median;
  fmt::print("\nmakespan per batch: median over {} iterations, mappings interleaved; workers' busy time per batch\n",
             a.iters);
  fmt::print("{:<12} {:>10} {:>8} {:>9} {:>13} {:>7} {:>10}  {}\n", "mapping", "us", "spread", "speed-up", "predicted us",
             "error", "imbalance", "busy us per worker (core: us)");
  for (std::size_t k = 0; k < maps.size(); ++k) {
    const Mapping& m = maps[k];
    const TimingStats& st = makespan[k];
    std::vector<double> busy;
    std::string per;
    for (std::size_t w = 0; w < m.plan.workers(); ++w) {
      busy.push_back(summarize(timings[k].worker_seconds[w]).median);
      per += fmt::format("{}: {:.0f}  ", m.plan.cores[w], busy.back() * 1e6);
    }
    const double mean = std::accumulate(busy.begin(), busy.end(), 0.0) / static_cast<double>(busy.size());
    const double imbalance = mean > 0 ? *std::max_element(busy.begin(), busy.end()) / mean : 1.0;
    const double predicted = cost.predict(m.plan, model, samples).makespan;
    fmt::print("{:<12} {:>10.1f} {:>7.1f}% {:>8.2f}x {:>13.1f} {:>6.0f}% {:>10.2f}  {}\n", m.plan.mapper, st.median * 1e6,
               st.spread() * 100, base / st.median, predicted * 1e6, (predicted / st.median - 1) * 100, imbalance, per);
  }
  // A mapping that made the same plan as an earlier one is that plan measured again: the gap
  // between their rows is the machine's noise, which the reader should not take for a result.
  for (std::size_t k = 1; k < maps.size(); ++k) {
    const auto same = std::find_if(maps.begin(), maps.begin() + static_cast<std::ptrdiff_t>(k),
                                   [&](const Mapping& m) { return m.plan.same_work(maps[k].plan); });
    if (same == maps.begin() + static_cast<std::ptrdiff_t>(k)) continue;
    const double first = makespan[static_cast<std::size_t>(same - maps.begin())].median, again = makespan[k].median;
    fmt::print("same plan:  {} is {}'s plan measured again: their rows {:.2f}x apart are this machine's noise\n",
               maps[k].plan.mapper, same->plan.mapper, std::max(first, again) / std::min(first, again));
  }
  if (a.one_core) {
    // What a split over the cores would take if it lost nothing: no mapping can be more than this
    // much faster than symmetric, unless splitting also gives the tables more cache than one core has.
    const double linear = makespan.back().median / cores;  // one-core is the last mapping
    std::string ratios;
    for (std::size_t k = 0; k + 1 < maps.size(); ++k) {
      ratios += fmt::format("{}{} {:.2f}x", k == 0 ? "" : ", ", maps[k].plan.mapper, makespan[k].median / linear);
    }
    fmt::print("linear:     one-core / {} = {:.1f} us, a split that loses nothing; the mappings take {}\n", cores,
               linear * 1e6, ratios);
  }
  for (const Mapping& m : maps) {
    for (const auto& n : m.plan.notes) fmt::print("note:       {}: {}\n", m.plan.mapper, n);
  }
  if (a.check) {
    bool ok = true;
    for (Mapping& m : maps) {
      m.executor->run(batches[0], out.data());
      ok = check_model_output(model, views, batches[0], out.data(), m.plan.mapper + ": ") && ok;
    }
    if (ok) fmt::print("check:      every mapping's output within the tolerance bound\n");
  }
}

}  // namespace

void register_compare(CLI::App& app) {
  auto args = std::make_shared<CompareArgs>();
  auto* cmd = app.add_subcommand("compare", "run mappings of tables to cores side by side (symmetric, table-wise, "
                                             "asymmetric, and plans given with --plan)");
  args->model.add_to(*cmd);
  args->workload.add_to(*cmd);
  args->planner.add_to(*cmd, false);
  cmd->add_option("--iters", args->iters, "timed batches per mapping")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batches", args->batches, "distinct batches used in turn (default: enough to touch 256 MiB of rows)");
  cmd->add_flag("--one-core", args->one_core,
                "also run every table's whole batch on one core (row 'one-core'): divided by the cores, the time "
                "of a split that loses nothing, which no mapping beats but by the caches the other cores add");
  cmd->add_flag("--check", args->check, "compare every mapping's output with exact arithmetic");
  cmd->add_option("--tune", args->tune_iters,
                  "also run the plan `embflow plan --tune N` chooses (the fastest of the planner's candidates, "
                  "measured over N batches each before the comparison); row 'tuned'")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--tables-dir", args->tables_dir, "map tables from DIR/<table name>.npy instead of random fill");
  cmd->add_option("--save-plans", args->plans_dir, "write each mapping's plan as DIR/<mapper>.json");
  cmd->add_option("--plan", args->plan_files, "also run this plan (JSON, as --save-plans writes; repeatable)");
  cmd->callback([args] { compare_command(*args); });
}

}  // namespace embflow::cli
