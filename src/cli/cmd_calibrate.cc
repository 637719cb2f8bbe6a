// embflow calibrate: measures this machine for the cost model and writes a profile; --validate
// checks the model's predictions against fresh measurements.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/session.h"
#include "embflow/calibrate.h"
#include "embflow/error.h"

namespace embflow::cli {
namespace {

struct CalibrateArgs {
  bool quick = false;
  bool validate = false;
  bool show_cases = false;
  std::string out = "embflow-profile.json";
  std::string profile;  // validate this one instead of measuring
  std::vector<std::string> against;  // and judge these on the same measurements
  int rounds = 0;
  std::size_t arena = 0;
  std::uint64_t seed = 11;
};

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::string ns(double seconds) { return fmt::format("{:.2f}", seconds * 1e9); }

void print_profile(const MachineProfile& p) {
  fmt::print("overheads:  {:.2f} us per item, {:.1f} us per batch hand-off, {} ns per index skipped by a row "
             "range, {} ns per float reduced\n",
             p.item_seconds * 1e6, p.batch_seconds * 1e6, ns(p.skip_index_seconds), ns(p.reduce_float_seconds));
  fmt::print("per bag:    {} ns (64 B output row, 4 MiB output), {} ns (100 MiB output), {} ns more when another core "
             "writes the same 128-byte output blocks\n",
             ns(p.bag_seconds.at(64, 4 << 20)), ns(p.bag_seconds.at(64, 100 << 20)), ns(p.shared_output_bag_seconds));
  if (!p.streamed_bag_seconds.widths.empty()) {
    fmt::print("            streamed output rows: {} ns (4 MiB output), {} ns (100 MiB output)\n",
               ns(p.streamed_bag_seconds.at(64, 4 << 20)), ns(p.streamed_bag_seconds.at(64, 100 << 20)));
  }
  if (!p.bag_stride_factor.widths.empty()) {
    fmt::print("            x{:.2f} when the output's row stride is a multiple of 1 KiB, x{:.2f} of 4 KiB (64 B rows; "
               "x{:.2f} and x{:.2f} for 256 B rows)\n",
               p.bag_stride_factor.at(64, 1024), p.bag_stride_factor.at(64, 4096), p.bag_stride_factor.at(256, 1024),
               p.bag_stride_factor.at(256, 4096));
  }
  fmt::print("\nns per look-up, 64-byte rows (hit: repeated in the item, against its footprint; first touch: against "
             "the table's bytes plus the traffic of the core's other items)\n");
  fmt::print("{:>10} {:>8} {:>14} {:>16}\n", "bytes", "hit", "gather first", "resident first");
  for (double b = 4096; b <= 1.1 * static_cast<double>(1u << 30); b *= 8) {
    const bool fits = b <= static_cast<double>(p.resident_budget);
    fmt::print("{:>10} {:>8} {:>14} {:>16}\n", human_bytes(b), ns(p.hit_gather.at(64, b)), ns(p.miss_gather.at(64, b)),
               fits ? ns(p.miss_resident.at(64, b)) : "-");
  }
  if (p.page_walk_evict_bytes > 0) {
    fmt::print("page walks: {} ns per line of page entries fetched again, the lines evicted by {} of traffic "
               "(e-folding)\n",
               ns(p.page_walk_line_seconds), human_bytes(p.page_walk_evict_bytes));
  }
  if (p.l2_prefetch_lead) {
    std::vector<std::string> leads;
    for (std::size_t i = 0; i < std::size(L2PrefetchLead::kRowBytes); ++i) {
      const std::size_t bytes = L2PrefetchLead::kRowBytes[i];
      leads.push_back(fmt::format("{} lines ({} look-ups) for {}-byte rows", p.l2_prefetch_lead->lines[i],
                                  auto_prefetch_distance(bytes, true, *p.l2_prefetch_lead), bytes));
    }
    fmt::print("prefetch:   into L2 {} ahead (wider rows as the widest)\n", fmt::join(leads, ", "));
  }
  fmt::print("fp16 rows:  {} ns per element converted\n", fmt::format("{:.3f}", p.fp16_element_seconds * 1e9));
  fmt::print("tile scan:  {:.3f} ns per byte streamed ({:.1f} GB/s), resident {:.3f} ns per byte; {} ns per look-up "
             "served (64 B rows, 4096 look-ups)\n",
             p.scan_byte_seconds * 1e9, p.scan_byte_seconds > 0 ? 1e-9 / p.scan_byte_seconds : 0.0,
             p.resident_scan_byte_seconds * 1e9, ns(p.serve_seconds.at(64, 4096)));
  fmt::print("DRAM:       {:.1f} GB/s of random 64-byte rows, {:.1f} GB/s of random 512-byte rows, {:.1f} GB/s writing "
             "the output, all {} cores together\n",
             p.dram_bytes_per_s.at(64) / 1e9, p.dram_bytes_per_s.at(512) / 1e9, p.output_bytes_per_s / 1e9,
             p.cores);
}

void calibrate_command(const CalibrateArgs& a) {
  CalibrateOptions o;
  o.quick = a.quick;
  o.rounds = a.rounds;
  o.arena_bytes = a.arena;
  o.seed = a.seed;
  o.progress = [](std::string_view what) {
    fmt::print("measuring:  {}\n", what);
    std::fflush(stdout);
  };
  const auto t0 = std::chrono::steady_clock::now();
  MachineProfile profile;
  if (!a.profile.empty()) {
    profile = resolve_profile(a.profile, false);
  } else {
    profile = calibrate_machine(o);
    std::ofstream out(a.out);
    if (!out) throw IoError(fmt::format("{}: cannot write the profile", a.out));
    out << profile_to_json(profile) << "\n";
    fmt::print("\nprofile:    {} ({}), written to {} in {:.0f} s\n", profile.name, profile.description, a.out, since(t0));
    print_profile(profile);
  }
  if (!a.validate) return;
  const auto t1 = std::chrono::steady_clock::now();
  fmt::print("\nvalidating: the cost model against fresh measurements of random items in random models\n");
  std::vector<std::string> names{a.profile.empty() ? a.out : a.profile};
  std::vector<CostModel> costs{CostModel(profile)};
  for (const std::string& other : a.against) {
    names.push_back(other);
    costs.emplace_back(resolve_profile(other, false));
  }
  std::vector<const CostModel*> models;
  for (const CostModel& c : costs) models.push_back(&c);
  o.runner = runner_options_for(profile);  // measured at the lead the profile runs with
  const std::vector<ValidationReport> reports = validate_cost_models(models, o);
  if (a.show_cases) {
    fmt::print("\n{:<20} {:>12} {:>12} {:>8}  {}\n", "flow", "predicted us", "measured us", "error", "item");
    for (std::size_t i = 0; i < reports[0].cases.size(); ++i) {
      const ValidationCase& c = reports[0].cases[i];
      std::string others;
      for (std::size_t k = 1; k < reports.size(); ++k) {
        others += fmt::format(" (against {}: {:.1f} us, {:.0f}%)", names[k], reports[k].cases[i].predicted * 1e6,
                              reports[k].cases[i].error() * 100);
      }
      fmt::print("{:<20} {:>12.1f} {:>12.1f} {:>7.0f}%  {}{}\n", to_string(c.flow), c.predicted * 1e6, c.measured * 1e6,
                 c.error() * 100, c.table, others);
    }
  }
  for (std::size_t k = 0; k < reports.size(); ++k) {
    const ValidationReport& r = reports[k];
    if (reports.size() > 1) fmt::print("\nerrors of:  {}{}", names[k], k == 0 ? "" : " (on the same measurements)");
    fmt::print("\n{:<20} {:>6} {:>14} {:>14}\n", "flow", "items", "median |error|", "worst |error|");
    for (const auto& f : r.per_flow) {
      fmt::print("{:<20} {:>6} {:>13.1f}% {:>13.1f}%\n", to_string(f.flow), f.cases, f.median_abs * 100, f.worst_abs * 100);
    }
    fmt::print("{:<20} {:>6} {:>13.1f}% {:>13.1f}%   (median signed error {:+.1f}%: {})\n", "all", r.cases.size(),
               r.median_abs * 100, r.worst_abs * 100, r.median_signed * 100,
               r.median_signed > 0 ? "predicts too slow" : "predicts too fast");
  }
  fmt::print("repeats:    {:.1f}% median |error| of each pass's measurement taken as the prediction of a later pass's "
             "(the machine's own drift, seconds apart)\n",
             reports[0].repeat_median_abs * 100);
  fmt::print("target:     median under 25%: {} ({:.0f} s)\n", reports[0].median_abs < 0.25 ? "met" : "NOT met", since(t1));
}

}  // namespace

void register_calibrate(CLI::App& app) {
  auto args = std::make_shared<CalibrateArgs>();
  auto* cmd = app.add_subcommand("calibrate", "measure this machine for the cost model and write a profile (JSON)");
  cmd->add_flag("--quick", args->quick, "fewer sizes and repetitions: seconds instead of minutes (tests)");
  cmd->add_option("--out", args->out, "where to write the profile")->capture_default_str();
  auto* validate = cmd->add_flag("--validate", args->validate, "then report the cost model's error against fresh measurements");
  cmd->add_flag("--cases", args->show_cases, "with --validate: print every validation item");
  cmd->add_option("--profile", args->profile, "validate this profile (file or built-in name) instead of measuring");
  cmd->add_option("--against", args->against,
                  "with --validate: judge these profiles too, on the same measurements (the machine's speed drifts "
                  "between runs; one run compares them fairly)")
      ->needs(validate);
  cmd->add_option("--rounds", args->rounds, "timed batches per measurement (default 15, quick 5)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--arena", args->arena, "bytes of the largest table measured (default 1 GiB, quick 64 MiB)");
  cmd->add_option("--seed", args->seed, "seed of tables and indices")->capture_default_str();
  cmd->callback([args] { calibrate_command(*args); });
}

}  // namespace embflow::cli
