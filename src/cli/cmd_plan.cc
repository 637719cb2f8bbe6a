// embflow plan: maps a model's tables to cores with a cost model and writes the plan (JSON, and an
// SVG chart); `embflow run --plan FILE` runs one (run_plan below).
#include <algorithm>
#include <chrono>
#include <fstream>
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
#include "embflow/plan_report.h"
#include "embflow/plan_tuner.h"
#include "embflow/planner.h"
#include "embflow/topology.h"
#include "runtime/batch_prep.h"

namespace embflow::cli {
namespace {

struct PlanArgs {
  ModelArgs model;
  WorkloadArgs workload;
  PlannerArgs planner;
  std::string mapper = "asymmetric", out, svg, load_workload, tables_dir;
  std::vector<std::string> flows;
  int tune_iters = 0;
};

// --tune: runs the planner's candidates on this machine's cores, side by side, and keeps the
// fastest (plan_tuner.h).
Plan tune_on_this_machine(const PlanArgs& a, const ModelSpec& model, const WorkloadOptions& wopt,
                          const std::vector<Plan>& candidates) {
  std::vector<Table> tables = make_tables(model, a.tables_dir, a.workload.seed);
  const std::vector<Batch> batches = make_batches(model, wopt, 0, a.load_workload, "");
  std::vector<TableView> views;
  for (const auto& t : tables) views.push_back(t.view());
  for (const auto& t : tables) t.touch();
  const TunedPlan tuned =
      tune_plan(model, view_pointers(views), candidates, batch_views(batches), default_runner_options(), a.tune_iters);
  fmt::print("tuned:      ");
  for (std::size_t k = 0; k < tuned.makespans.size(); ++k) {
    fmt::print("{}{} {:.1f} us (spread {:.0f}%)", k == 0 ? "" : ", ", tuned.candidates[k], tuned.makespans[k].median * 1e6,
               tuned.makespans[k].spread() * 100);
  }
  fmt::print("{}-> {}\n", tuned.makespans.empty() ? "one candidate " : "; ", tuned.plan.mapper);
  return tuned.plan;
}

void plan_command(const PlanArgs& a) {
  const ModelSpec model = a.model.resolve();
  const WorkloadOptions wopt = a.workload.resolve();
  const Mapper mapper = parse_mapper(a.mapper);
  PlannerOptions po;
  po.min_gain = a.planner.min_gain;
  if (!a.flows.empty()) {
    po.flows.clear();
    for (const auto& f : a.flows) po.flows.push_back(parse_flow(f));
  }
  fmt::print("model:      {} ({} tables, {})\n", model.name, model.tables.size(), human_bytes(static_cast<double>(model.bytes())));
  for (const auto& n : model.notes) fmt::print("note:       {}\n", n);
  const CostModel cost(resolve_profile(a.planner.profile, true));
  po.cores = a.planner.cores > 0 ? a.planner.cores : cost.profile().cores;
  const Batch sample = sample_batch(model, wopt, a.load_workload);
  const auto samples = sample_statistics(model, sample);
  const auto t0 = std::chrono::steady_clock::now();
  if (a.tune_iters > 0 && mapper != Mapper::kAsymmetric) {
    throw InvalidInput("--tune measures the asymmetric mapper's candidates: use it with --mapper asymmetric");
  }
  if (const int here = describe_machine().physical_cores; a.tune_iters > 0 && po.cores > here) {
    throw InvalidInput(fmt::format("--tune runs the candidates on this machine's {} cores: the plan is for {} (--cores)",
                                   here, po.cores));
  }
  Plan plan = make_plan(mapper, model, samples, cost, po);
  plan.workload = a.load_workload.empty() ? fmt::format("--dist {} --seed {}", wopt.distribution.to_string(), wopt.seed)
                                          : fmt::format("--load-workload {}", a.load_workload);
  const double planning = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("planned:    in {:.1f} ms from a sample of {} look-ups ({})\n", planning * 1e3, sample.num_indices(),
             a.load_workload.empty() ? wopt.distribution.to_string() : a.load_workload);
  // What tuning measures; without --tune, a measured profile hints at tuning when they are close.
  const bool hint = a.tune_iters == 0 && mapper == Mapper::kAsymmetric && cost.profile().source == "measured";
  std::vector<Plan> candidates;
  if (a.tune_iters > 0 || hint) candidates = tuning_candidates(model, samples, cost, po);
  if (a.tune_iters > 0) {
    const std::string workload = plan.workload;
    plan = tune_on_this_machine(a, model, wopt, candidates);
    plan.workload = workload;
  }
  const PlanPrediction p = cost.predict(plan, model, samples);
  fmt::print("{}", describe_plan(plan, model, p));
  if (hint) {
    // Distinct candidates predicted closer together than min_gain (the model's error on whole
    // plans, PlannerOptions): say how to let the machine decide.
    std::vector<Plan> distinct;
    for (Plan& c : candidates) {
      if (std::none_of(distinct.begin(), distinct.end(), [&](const Plan& d) { return d.same_work(c); })) distinct.push_back(std::move(c));
    }
    std::vector<double> predicted;
    for (const Plan& c : distinct) predicted.push_back(cost.predict(c, model, samples).makespan);
    std::sort(predicted.begin(), predicted.end());
    if (predicted.size() >= 2 && predicted[1] / predicted[0] - 1 < po.min_gain) {
      fmt::print("hint:       the best two of the planner's candidates (the search's plan, symmetric, table-wise) are "
                 "predicted within {:.0f}% of each other, under --min-gain: `--tune N` runs them on this machine and "
                 "keeps the fastest\n",
                 (predicted[1] / predicted[0] - 1) * 100);
    }
  }
  if (!a.out.empty()) {
    write_text_file(a.out, plan_to_json(plan) + "\n", "plan");
    fmt::print("written:    plan to {}\n", a.out);
  }
  if (!a.svg.empty()) {
    write_text_file(a.svg, plan_svg(plan, model, p), "chart");
    fmt::print("written:    chart to {}\n", a.svg);
  }
}

Plan read_plan_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw IoError(fmt::format("{}: cannot open plan", file));
  std::stringstream text;
  text << in.rdbuf();
  return parse_plan_json(text.str(), file);
}

}  // namespace

Batch sample_batch(const ModelSpec& model, const WorkloadOptions& w, const std::string& load_dir) {
  Batch b;
  if (load_dir.empty()) {
    WorkloadOptions s = w;
    s.seed = w.seed + 977;  // a sample, not one of the batches a run then times
    b = generate_batch(model, s);
  } else {
    b = load_workloads(model, load_dir).at(0);
  }
  std::vector<std::optional<TableBatch>> repaired(model.tables.size());
  std::vector<BagsView> bags(model.tables.size());
  runtime::prepare_batch(model, b.view(), BoundsPolicy::kError, repaired, bags);  // the statistics need valid indices
  return b;
}

Plan load_plan_for(const std::string& file, const ModelSpec& model, std::int64_t batch_size) {
  Plan p = read_plan_file(file);
  if (p.batch_size != batch_size) {
    throw InvalidInput(fmt::format("{}: the plan is for batches of {}, this run uses {}", file, p.batch_size, batch_size));
  }
  validate_plan(p, model, describe_machine().physical_cores);
  return p;
}

void run_plan(const RunPlanArgs& a) {
  const ModelSpec model = a.model.resolve();
  WorkloadOptions wopt = a.workload.resolve();
  // The plan and the profile are read and checked before any set-up.
  Plan plan = read_plan_file(a.plan_file);
  if (a.load_workload.empty()) wopt.batch_size = plan.batch_size;
  validate_plan(plan, model, describe_machine().physical_cores);
  if (!a.svg.empty() && a.profile.empty()) throw InvalidInput("--svg needs --profile (to price the plan's items)");
  std::optional<CostModel> cost;
  if (!a.profile.empty()) cost.emplace(resolve_profile(a.profile, false));
  fmt::print("model:      {} ({} tables, {})\n", model.name, model.tables.size(), human_bytes(static_cast<double>(model.bytes())));
  for (const auto& n : model.notes) fmt::print("note:       {}\n", n);
  fmt::print("plan:       {} ({} mapping, {} workers{})\n", a.plan_file, plan.mapper, plan.workers(),
             plan.workload.empty() ? "" : fmt::format(", made for {}", plan.workload));
  std::vector<Table> tables = make_tables(model, a.tables_dir, a.workload.seed);
  const std::vector<Batch> batches = make_batches(model, wopt, a.batches, a.load_workload, "");
  if (batches[0].batch_size != plan.batch_size) {
    throw InvalidInput(fmt::format("{}: the plan is for batches of {}, the workload has {}", a.plan_file, plan.batch_size,
                                   batches[0].batch_size));
  }
  std::vector<TableView> views;
  for (const auto& t : tables) views.push_back(t.view());
  PlanExecutor executor(model, view_pointers(views), plan, default_runner_options());
  for (const auto& t : tables) t.touch();
  BatchRotation rotation(batches);
  FloatBuffer out(static_cast<std::size_t>(plan.batch_size) * static_cast<std::size_t>(model.total_dim()));
  executor.run(rotation.next(), out.data());  // untimed
  std::vector<double> makespans;
  std::vector<std::vector<double>> busy(plan.workers());
  std::vector<std::vector<std::vector<double>>> item_samples(plan.workers());  // [worker][item][iteration]
  for (std::size_t w = 0; w < plan.workers(); ++w) item_samples[w].resize(plan.items[w].size());
  Progress progress("running", a.iters);
  for (int i = 0; i < a.iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    executor.run(rotation.next(), out.data());
    makespans.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    const auto ws = executor.last_worker_seconds();
    for (std::size_t w = 0; w < ws.size(); ++w) busy[w].push_back(ws[w]);
    const auto items = executor.last_item_seconds();
    for (std::size_t w = 0; w < items.size(); ++w) {
      for (std::size_t i = 0; i < items[w].size(); ++i) item_samples[w][i].push_back(items[w][i]);
    }
    progress.step("");
  }
  std::vector<double> measured;
  for (auto& b : busy) measured.push_back(summarize(b).median);
  std::vector<std::vector<double>> measured_items;
  for (auto& worker : item_samples) {
    measured_items.emplace_back();
    for (auto& item : worker) measured_items.back().push_back(summarize(item).median);
  }
  const TimingStats st = summarize(makespans);
  double predicted = plan.predicted_makespan;
  if (cost) {
    const auto samples = sample_statistics(model, sample_batch(model, wopt, a.load_workload));
    const PlanPrediction p = cost->predict(plan, model, samples);
    predicted = p.makespan;
    fmt::print("{}", describe_plan(plan, model, p, measured, measured_items));
    if (!a.svg.empty()) {
      write_text_file(a.svg, plan_svg(plan, model, p, measured), "chart");
      fmt::print("written:    chart to {}\n", a.svg);
    }
  } else {
    fmt::print("\n{:>5} {:>13} {:>13}\n", "core", "predicted us", "measured us");
    for (std::size_t w = 0; w < plan.workers(); ++w) {
      fmt::print("{:>5} {:>13} {:>13.1f}\n", plan.cores[w],
                 w < plan.predicted_worker_seconds.size() ? fmt::format("{:.1f}", plan.predicted_worker_seconds[w] * 1e6) : "-",
                 measured[w] * 1e6);
    }
  }
  fmt::print("\nmakespan:   {:.1f} us per batch, median of {} (spread {:.1f}%){}\n", st.median * 1e6, a.iters,
             st.spread() * 100,
             predicted > 0 ? fmt::format("; predicted {:.1f} us ({:+.0f}%)", predicted * 1e6, (predicted / st.median - 1) * 100) : "");
  if (a.check) {
    executor.run(batches[0], out.data());
    if (check_model_output(model, views, batches[0], out.data(), "")) {
      fmt::print("check:      output within the tolerance bound for every table\n");
    }
  }
}

void register_plan(CLI::App& app) {
  auto args = std::make_shared<PlanArgs>();
  auto* cmd = app.add_subcommand("plan", "map tables to cores with the cost model; print the plan, write it as JSON "
                                          "and as an SVG chart");
  args->model.add_to(*cmd);
  args->workload.add_to(*cmd);
  args->planner.add_to(*cmd, false);
  cmd->add_option("--mapper", args->mapper, "asymmetric | symmetric | table-wise")->capture_default_str();
  cmd->add_option("--flows", args->flows, "flows the asymmetric mapper may use (default: all four)")->delimiter(',');
  cmd->add_option("--load-workload", args->load_workload, "plan for the indices saved in DIR (its first batch)");
  cmd->add_option("--out", args->out, "write the plan (JSON) to FILE, for `embflow run --plan FILE`");
  cmd->add_option("--svg", args->svg, "write a chart of per-core predicted time to FILE");
  cmd->add_option("--tune", args->tune_iters,
                  "run the planner's candidates (the search's own plan, symmetric, table-wise) side by side on this machine, "
                  "N batches each, and keep the fastest")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--tables-dir", args->tables_dir, "with --tune: map tables from DIR/<table name>.npy instead of random fill");
  cmd->callback([args] { plan_command(*args); });
}

}  // namespace embflow::cli
