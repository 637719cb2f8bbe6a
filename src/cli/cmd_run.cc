// embflow run: one model, one batch, each requested strategy (a flow for every table, or the
// best flow per table), interleaved and repeated, timed against the roofline floor, checked.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <span>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "cli/run_plan.h"
#include "cli/session.h"
#include "runtime/batch_prep.h"
#include "embflow/check.h"
#include "embflow/error.h"
#include "embflow/measure.h"
#include "embflow/runner.h"
#include "embflow/topology.h"
#include "embflow/workload.h"

namespace embflow::cli {
namespace {

struct RunArgs {
  ModelArgs model;
  WorkloadArgs workload;
  std::string strategy = "all";
  int iters = 20;
  int batches = 0;
  int warmup = 2;
  bool check = false;
  std::string save_workload, load_workload, tables_dir, json_out;
  std::vector<std::string> table_flows;
  std::string bounds = "error";
  int prefetch = kPrefetchAuto;
  std::string prefetch_level = "auto";
  std::size_t tile_bytes = 256 << 10;
  std::size_t resident_budget = 0;
  long stream_output_above = -1;
  long prefetch_rows_above = -1;
  int core = 0;
  std::string plan, profile, svg;  // run a plan on pinned workers instead
};

struct Strategy {
  std::string name;
  std::vector<Flow> flows;
  std::unique_ptr<ModelRunner> runner;
  std::vector<std::vector<double>> table_samples;  // [table][iteration] seconds
  std::vector<double> total_samples;
  CheckResult check;
  bool checked = false;
};

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// "48", or for the default the distances the model's tables get: "48 (by row width)".
std::string prefetch_description(const ModelSpec& model, const KernelOptions& opt) {
  if (opt.prefetch_distance != kPrefetchAuto) return std::to_string(opt.prefetch_distance);
  int lo = 1 << 30, hi = 0;
  for (const auto& t : model.tables) {
    const int d = row_prefetch(opt, t.row_bytes(), t.rows, 0).distance;
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  return lo == hi ? fmt::format("{} (by row width)", lo) : fmt::format("{}-{} (by row width)", lo, hi);
}

// The strategies to run: "all" = the four flows plus the best flow per table; or a comma list of
// flows, "best" and "table-flows" (one flow per table, from --table-flows).
std::vector<std::string> strategy_names(const std::string& s) {
  if (s == "all") return {"gather", "resident", "tile-scan", "resident-tile-scan", "best"};
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t p = s.find(',', start);
    out.push_back(s.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  for (auto& n : out) {
    if (n != "best" && n != "table-flows") n = std::string(to_string(parse_flow(n)));  // paper names -> ours
  }
  return out;
}

// One timed batch for the total, then another with per-table timers (whose clock reads would
// otherwise inflate the total).
void run_once(Strategy& s, BatchRotation& batches, float* out, std::vector<double>& table_seconds) {
  const auto t0 = std::chrono::steady_clock::now();
  s.runner->run(batches.next(), out);
  s.total_samples.push_back(since(t0));
  s.runner->run(batches.next(), out, &table_seconds);
  for (std::size_t t = 0; t < table_seconds.size(); ++t) s.table_samples[t].push_back(table_seconds[t]);
}

void run_command(const RunArgs& a) {
  // Every option is checked before any work: a typo fails at once, not after minutes of set-up.
  const ModelSpec model = a.model.resolve();
  const WorkloadOptions wopt = a.workload.resolve();
  const auto names = strategy_names(a.strategy);
  const Isa isa = active_isa();
  pin_current_thread(a.core);
  const MachineInfo machine = describe_machine();
  // A profile brings its measured prefetch lead (runner_options_for).
  RunnerOptions ropt = a.profile.empty() ? default_runner_options() : runner_options_for(resolve_profile(a.profile, false));
  ropt.isa = isa;
  ropt.bounds = parse_bounds_policy(a.bounds);
  ropt.kernel.prefetch_distance = a.prefetch;
  ropt.kernel.prefetch_level = parse_prefetch_level(a.prefetch_level);
  ropt.kernel.tile_bytes = a.tile_bytes;
  if (a.resident_budget != 0) ropt.resident_budget = a.resident_budget;
  if (a.stream_output_above >= 0) ropt.stream_output_above = static_cast<std::size_t>(a.stream_output_above);
  if (a.prefetch_rows_above >= 0) ropt.kernel.prefetch_rows_above = static_cast<std::size_t>(a.prefetch_rows_above);

  fmt::print("model:      {} ({} tables, {} rows, {})\n", model.name, model.tables.size(),
             [&] { std::int64_t r = 0; for (auto& t : model.tables) r += t.rows; return r; }(),
             human_bytes(static_cast<double>(model.bytes())));
  for (const auto& n : model.notes) fmt::print("note:       {}\n", n);
  fmt::print("machine:    {}, pinned to core {}, ISA {}\n", machine.cpu_model, a.core, to_string(ropt.isa));
  fmt::print("options:    resident budget {} per table, tile {}, prefetch {} into {} (rows of ranges above {} with under {} "
             "look-ups a row or over {} rows), "
             "streaming output stores above {}, bounds {}\n",
             human_bytes(static_cast<double>(ropt.resident_budget)), human_bytes(static_cast<double>(a.tile_bytes)),
             prefetch_description(model, ropt.kernel),
             a.prefetch_level == "auto" ? describe_l2_prefetch_rule(this_cpu_l2_prefetch_rule()) : a.prefetch_level,
             human_bytes(static_cast<double>(ropt.kernel.prefetch_rows_above)), ropt.kernel.prefetch_reuse_below,
             ropt.kernel.prefetch_rows_beyond,
             human_bytes(static_cast<double>(ropt.stream_output_above)), a.bounds);

  std::vector<Table> tables = make_tables(model, a.tables_dir, a.workload.seed);
  const std::vector<Batch> batches = make_batches(model, wopt, a.batches, a.load_workload, a.save_workload);
  const Batch& batch = batches[0];  // the one checked, and the shape of every one
  const std::size_t n = model.tables.size();
  std::vector<TableView> views;
  for (const auto& t : tables) views.push_back(t.view());
  const std::vector<const TableView*> view_ptrs = view_pointers(views);

  // The roofline of each table, measured on the table itself.
  std::vector<RooflinePoint> roof(n);
  std::vector<double> floor_s(n);
  {
    Progress progress("roofline", static_cast<std::int64_t>(n));
    for (std::size_t t = 0; t < n; ++t) {
      roof[t] = measure_roofline(views[t], ropt.isa);
      floor_s[t] = roofline_floor_seconds(batch.tables[t].num_indices(), model.tables[t].bytes(), roof[t]);
      progress.step(model.tables[t].name);
    }
  }

  // The output: huge pages (its rows are written far apart), pre-faulted once, reused every run.
  FloatBuffer out_storage(static_cast<std::size_t>(batch.batch_size) * static_cast<std::size_t>(model.total_dim()));
  const std::span<float> out = out_storage.span();
  std::vector<double> table_seconds(n);
  BatchRotation rotation(batches);
  // What the roofline floor leaves out, measured: the same batches through the gather kernels with
  // every look-up reading one cached row (views of stride 0), which leaves reading the batch's
  // offsets and indices and writing its output.
  std::vector<TableView> one_row = views;
  for (TableView& v : one_row) v.row_stride = 0;
  Strategy inputs_output;
  inputs_output.name = "inputs and output";
  inputs_output.runner = std::make_unique<ModelRunner>(model, view_pointers(one_row), std::vector<Flow>(n, Flow::kGather), ropt);
  inputs_output.table_samples.resize(n);

  std::vector<Strategy> strategies;
  auto add_strategy = [&](const std::string& name, std::vector<Flow> flows) {
    Strategy s;
    s.name = name;
    for (std::size_t t = 0; t < n; ++t) {
      bool fell_back = false;
      flows[t] = fit_flow(flows[t], model.tables[t].bytes(), ropt.resident_budget, &fell_back);
      if (fell_back && name != "best") {
        fmt::print("note:       {}: table {} ({}) is above the resident budget: runs {}\n", name, model.tables[t].name,
                   human_bytes(static_cast<double>(model.tables[t].bytes())), to_string(flows[t]));
      }
    }
    s.flows = flows;
    s.runner = std::make_unique<ModelRunner>(model, view_ptrs, flows, ropt);
    s.table_samples.resize(n);
    strategies.push_back(std::move(s));
  };
  const bool want_best = std::find(names.begin(), names.end(), "best") != names.end();
  for (Flow f : kAllFlows) {
    const bool named = std::find(names.begin(), names.end(), std::string(to_string(f))) != names.end();
    if (named || want_best) add_strategy(std::string(to_string(f)), std::vector<Flow>(n, f));
  }
  if (std::find(names.begin(), names.end(), "table-flows") != names.end()) {
    if (a.table_flows.size() != n) {
      throw InvalidInput(fmt::format("--table-flows: {} flows for a model of {} tables", a.table_flows.size(), n));
    }
    std::vector<Flow> flows;
    for (const auto& f : a.table_flows) flows.push_back(parse_flow(f));
    add_strategy("table-flows", flows);
  }

  // --check compares a strategy's output for batch 0 with exact arithmetic, on the same validated
  // (or repaired) bags the strategy ran.
  std::vector<std::optional<TableBatch>> checked_repairs;
  std::vector<BagsView> checked_bags;
  if (a.check) runtime::prepare_batch(model, batch.view(), ropt.bounds, checked_repairs, checked_bags);
  const std::vector<int> columns = runtime::output_columns(model);
  auto check_strategy = [&](Strategy& s) {
    s.check = {};
    for (std::size_t t = 0; t < n; ++t) {
      const CheckResult c = check_pooled_lookup(views[t], checked_bags[t], {0, batch.batch_size}, {0, model.tables[t].rows},
                                                {out.data() + columns[t], model.total_dim()}, model.tables[t].pooling);
      s.check.max_abs_error = std::max(s.check.max_abs_error, c.max_abs_error);
      if (c.worst_ratio >= s.check.worst_ratio) s.check = {s.check.max_abs_error, c.worst_ratio, c.worst_bag, c.worst_col};
    }
    s.checked = true;
  };

  auto measure = [&](std::vector<Strategy*> list, int iters, const char* label) {
    for (const auto& t : tables) t.touch();  // memory left idle goes cold: warm it before timing
    Progress progress(label, static_cast<std::int64_t>(list.size()) * (a.warmup + iters));
    for (Strategy* s : list) {
      for (int w = 0; w < a.warmup; ++w) {
        s->runner->run(rotation.next(), out.data());
        progress.step(s->name);
      }
      if (a.check && s != &inputs_output) {
        s->runner->run(batch, out.data());
        check_strategy(*s);
      }
      s->total_samples.clear();
      for (auto& v : s->table_samples) v.clear();
    }
    // Rounds of (A x k, B x k, C x k): drift of the machine hits every strategy alike, and each
    // block starts with an untimed run, because a strategy inherits the cache and TLB state the
    // one before it left (a tile scan of a large table evicts what a gather relies on).
    // Every other round runs in reverse order, so that no strategy always follows the same one.
    constexpr int kRounds = 4;
    for (int round = 0; round < kRounds; ++round) {
      const int first = iters * round / kRounds, last = iters * (round + 1) / kRounds;
      std::reverse(list.begin(), list.end());
      for (Strategy* s : list) {
        if (last > first) s->runner->run(rotation.next(), out.data());
        for (int i = first; i < last; ++i) {
          run_once(*s, rotation, out.data(), table_seconds);
          progress.step(s->name);
        }
      }
    }
  };

  std::vector<Strategy*> first;
  for (auto& s : strategies) first.push_back(&s);
  first.push_back(&inputs_output);
  measure(first, want_best && names.size() == 1 ? std::max(3, a.iters / 4) : a.iters, "measuring");
  if (want_best) {
    std::vector<Flow> best(n);
    for (std::size_t t = 0; t < n; ++t) {
      double best_s = 1e30;
      for (const auto& s : strategies) {
        const double m = summarize(s.table_samples[t]).median;
        if (m < best_s) {
          best_s = m;
          best[t] = s.flows[t];
        }
      }
    }
    double fastest = 1e30;
    for (const auto& s : strategies) fastest = std::min(fastest, summarize(s.total_samples).median);
    add_strategy("best", best);
    std::vector<Strategy*> second{&strategies.back()};
    // Rerun the named strategies beside it so that "best" is compared side by side; those over 3x
    // slower than the fastest keep their first-pass figures (a tile scan of a large table leaves
    // the caches cold for whatever runs next, which would charge "best" for it).
    for (auto& s : strategies) {
      if (&s == &strategies.back() || std::find(names.begin(), names.end(), s.name) == names.end()) continue;
      if (summarize(s.total_samples).median <= 3 * fastest) {
        second.push_back(&s);
      } else {
        fmt::print("note:       {} keeps its first-pass figures (over 3x slower than the fastest)\n", s.name);
      }
    }
    second.push_back(&inputs_output);  // measured again beside them, away from the tile scans
    measure(second, a.iters, "measuring best");
  }
  std::vector<Strategy*> shown;
  for (auto& s : strategies) {
    if (std::find(names.begin(), names.end(), s.name) != names.end()) shown.push_back(&s);
  }

  // Per-table matrix: median microseconds per batch for every strategy shown, then the rates of
  // the fastest of them on that table.
  fmt::print("\nper table: median us per batch ({} iterations, interleaved); floor = roofline floor; "
             "rates of the fastest strategy\n", a.iters);
  fmt::print("{:<8} {:>10} {:>9} {:>8} {:>9}", "table", "rows", "bytes", "lookups", "floor");
  for (Strategy* s : shown) fmt::print(" {:>12}", s->name == "resident-tile-scan" ? "res-tile-scan" : s->name);
  fmt::print(" {:>10} {:>7}\n", "Mlookup/s", "GB/s");
  for (std::size_t t = 0; t < n; ++t) {
    fmt::print("{:<8} {:>10} {:>9} {:>8} {:>9.1f}", model.tables[t].name, model.tables[t].rows,
               human_bytes(static_cast<double>(model.tables[t].bytes())), batch.tables[t].num_indices(), floor_s[t] * 1e6);
    double fastest = 1e30;
    for (Strategy* s : shown) {
      const double m = summarize(s->table_samples[t]).median;
      fastest = std::min(fastest, m);
      if (s->name == "best") {
        fmt::print(" {:>7.1f} {:<4}", m * 1e6, paper_name(s->flows[t]));
      } else {
        fmt::print(" {:>12.1f}", m * 1e6);
      }
    }
    const double lk = static_cast<double>(batch.tables[t].num_indices());
    fmt::print(" {:>10.1f} {:>7.2f}\n", lk / fastest / 1e6, lk * static_cast<double>(model.tables[t].row_bytes()) / fastest / 1e9);
  }

  double floor_total = 0, row_bytes = 0;
  for (std::size_t t = 0; t < n; ++t) {
    floor_total += floor_s[t];
    row_bytes += static_cast<double>(batch.tables[t].num_indices()) * static_cast<double>(model.tables[t].row_bytes());
  }
  const double lookups = static_cast<double>(batch.num_indices());
  fmt::print("\ntotal per batch: median over {} iterations (spread = (p90 - p10) / median); roofline floor {:.1f} us\n",
             a.iters, floor_total * 1e6);
  const double inputs_output_s = summarize(inputs_output.total_samples).median;
  fmt::print("(not in the floor: reading the batch's offsets and indices and writing its {} output, with every "
             "look-up reading one cached row, takes {:.1f} us = {:.2f}x the floor)\n",
             human_bytes(static_cast<double>(out.size_bytes())), inputs_output_s * 1e6, inputs_output_s / floor_total);
  fmt::print("{:<20} {:>10} {:>8} {:>12} {:>9} {:>9} {}\n", "strategy", "us", "spread", "Mlookups/s", "GB/s", "x floor",
             a.check ? "check (max |err|, worst err/bound)" : "");
  nlohmann::json results = nlohmann::json::array();
  for (Strategy* s : shown) {
    const TimingStats st = summarize(s->total_samples);
    std::string check;
    if (s->checked) {
      check = fmt::format("{} {:.2e} {:.3f}", s->check.ok() ? "OK  " : "FAIL", s->check.max_abs_error, s->check.worst_ratio);
      if (!s->check.ok()) set_exit_code(3);
    }
    fmt::print("{:<20} {:>10.1f} {:>7.1f}% {:>12.1f} {:>9.2f} {:>9.2f} {}\n", s->name, st.median * 1e6, st.spread() * 100,
               lookups / st.median / 1e6, row_bytes / st.median / 1e9, st.median / floor_total, check);
    nlohmann::json flows = nlohmann::json::array();
    for (Flow f : s->flows) flows.push_back(std::string(to_string(f)));
    results.push_back({{"strategy", s->name}, {"median_s", st.median}, {"p10_s", st.p10}, {"p90_s", st.p90},
                       {"samples", s->total_samples}, {"flows", flows}, {"check_ok", !s->checked || s->check.ok()}});
  }
  if (!a.json_out.empty()) {
    nlohmann::json doc{{"model", model.name}, {"batch", batch.batch_size}, {"lookups", batch.num_indices()},
                       {"floor_s", floor_total}, {"inputs_output_s", inputs_output_s}, {"isa", std::string(to_string(ropt.isa))}, {"results", results}};
    std::ofstream f(a.json_out);
    f << doc.dump(1) << "\n";
    if (!f) throw IoError(fmt::format("{}: cannot write", a.json_out));
  }
  if (exit_code() != 0) fmt::print(stderr, "embflow: error: --check failed: an output is outside the tolerance bound\n");
}

}  // namespace

void register_run(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  auto* cmd = app.add_subcommand("run", "pool one batch of a model with each strategy; time it against the roofline");
  args->model.add_to(*cmd);
  args->workload.add_to(*cmd);
  cmd->add_option("--strategy", args->strategy,
                  "all | best | table-flows | a comma list of flows: gather, resident, tile-scan, resident-tile-scan "
                  "(or GM, L1, GM-UB, L1-UB)")
      ->capture_default_str();
  cmd->add_option("--table-flows", args->table_flows, "one flow per table, for --strategy table-flows (e.g. the flows "
                  "'best' chose, from --json)")->delimiter(',');
  cmd->add_option("--iters", args->iters, "timed iterations per strategy")->capture_default_str()->check(CLI::PositiveNumber);
  cmd->add_option("--batches", args->batches, "distinct batches used in turn (default: enough to touch 256 MiB of rows)");
  cmd->add_option("--warmup", args->warmup, "untimed iterations first")->capture_default_str()->check(CLI::NonNegativeNumber);
  cmd->add_flag("--check", args->check, "compare every output with exact arithmetic (see include/embflow/check.h)");
  cmd->add_option("--save-workload", args->save_workload, "write the batch's indices to DIR (.npy + workload.json)");
  cmd->add_option("--load-workload", args->load_workload, "replay a saved workload / trace directory");
  cmd->add_option("--tables-dir", args->tables_dir, "map tables from DIR/<table name>.npy instead of random fill");
  cmd->add_option("--bounds", args->bounds, "out-of-range indices: error | skip | clamp")->capture_default_str();
  cmd->add_option("--prefetch", args->prefetch,
                  "gather prefetch distance in look-ups, 0: none (default by row width: into L2 128 lines' worth, 128 "
                  "for rows of 64 bytes, 16 for 512, or the lead --profile measured; into L1 48 for rows of 64 bytes, "
                  "12 for 512)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--prefetch-level", args->prefetch_level,
                  "where the gathers prefetch rows: auto (" + describe_l2_prefetch_rule(this_cpu_l2_prefetch_rule()) + ") | l1 | l2")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "l1", "l2"}));
  cmd->add_option("--prefetch-rows-above", args->prefetch_rows_above,
                  "gathers prefetch no rows of row ranges of at most this many bytes (default "
                  + human_bytes(static_cast<double>(kPrefetchRowsAbove)) + "; see kernels.h)");
  cmd->add_option("--tile-bytes", args->tile_bytes, "tile size of the tile-scan flows")->capture_default_str();
  cmd->add_option("--resident-budget", args->resident_budget, "bytes per resident copy (default: L2 per core)");
  cmd->add_option("--stream-output-above", args->stream_output_above,
                  "bytes of output above which gather flows use streaming stores (default 8 MiB)");
  cmd->add_option("--core", args->core, "physical core to pin to")->capture_default_str();
  cmd->add_option("--json", args->json_out, "also write the results as JSON to FILE");
  cmd->add_option("--plan", args->plan, "run this plan (from `embflow plan --out`) on pinned workers instead");
  cmd->add_option("--profile", args->profile,
                  "machine profile (from `embflow calibrate`) whose measured prefetch lead the gathers take; with --plan it "
                  "also prices the plan's items");
  cmd->add_option("--svg", args->svg, "with --plan and --profile: write a chart of predicted and measured per-core time");
  cmd->callback([args] {
    if (args->plan.empty()) {
      if (!args->svg.empty()) throw InvalidInput("--svg goes with --plan");
      run_command(*args);
      return;
    }
    RunPlanArgs r{args->model, args->workload, args->plan, args->profile, args->svg, args->tables_dir,
                  args->load_workload, args->iters, args->batches, args->check};
    run_plan(r);
  });
}

}  // namespace embflow::cli
