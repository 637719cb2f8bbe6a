// embflow bench: every flow x table bytes x dim x bag size x distribution on one pinned core,
// beside the machine's random-gather roofline. Writes CSV (the cost model's data) and Markdown.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/progress.h"
#include "embflow/error.h"
#include "embflow/measure.h"
#include "embflow/kernels.h"
#include "embflow/topology.h"
#include "embflow/workload.h"

namespace embflow::cli {
namespace {

struct BenchArgs {
  std::vector<std::string> sizes{"1K", "4K", "16K", "64K", "256K", "1M", "4M", "16M", "64M", "256M", "1G", "4G", "8G"};
  std::vector<int> dims{16, 64, 128};
  std::vector<int> bags{1, 20};
  std::vector<std::string> dists{"uniform", "zipf:1.05"};
  std::vector<std::string> flows{"gather", "resident", "tile-scan", "resident-tile-scan"};
  std::int64_t batch = 2048;
  int reps = 7;
  double min_sample_s = 2e-3;
  int core = 0;
  std::size_t resident_budget = 0;
  std::size_t tile_bytes = 256 << 10;
  std::string out = "embflow-bench";
  bool quick = false;
  std::uint64_t seed = 1;
};

std::size_t parse_size(const std::string& s) {
  std::size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (const std::exception&) {
    throw InvalidInput(fmt::format("size '{}': expected a number with K, M or G", s));
  }
  const std::string unit = s.substr(pos);
  const double mult = unit.empty() ? 1 : unit == "K" ? 1024.0 : unit == "M" ? 1048576.0 : unit == "G" ? 1073741824.0 : -1;
  if (mult < 0 || v <= 0) throw InvalidInput(fmt::format("size '{}': expected a number with K, M or G", s));
  return static_cast<std::size_t>(v * mult);
}

struct Row {
  std::size_t bytes;
  std::int64_t rows;
  int dim, bag;
  std::string dist, flow;
  std::int64_t lookups;
  TimingStats t;
  RooflinePoint roof;
  double floor_s;
};

void write_outputs(const BenchArgs& a, const std::vector<Row>& rows, const MachineInfo& m, Isa isa) {
  std::ofstream csv(a.out + ".csv");
  csv << "table_bytes,rows,dim,bag,dist,batch,lookups,flow,median_s,p10_s,p90_s,mlookups_per_s,row_gbps,"
         "roofline_mrows_per_s,scan_gbps,floor_s,fraction_of_roofline\n";
  for (const Row& r : rows) {
    const double rate = static_cast<double>(r.lookups) / r.t.median;
    csv << fmt::format("{},{},{},{},{},{},{},{},{:.9f},{:.9f},{:.9f},{:.3f},{:.3f},{:.3f},{:.3f},{:.9f},{:.4f}\n", r.bytes, r.rows,
                       r.dim, r.bag, r.dist, a.batch, r.lookups, r.flow, r.t.median, r.t.p10, r.t.p90, rate / 1e6,
                       rate * r.dim * 4 / 1e9, r.roof.gather_rows_per_s / 1e6, r.roof.scan_bytes_per_s / 1e9, r.floor_s,
                       r.floor_s / r.t.median);
  }
  if (!csv) throw IoError(fmt::format("{}.csv: cannot write", a.out));

  std::ofstream md(a.out + ".md");
  md << fmt::format("Machine: {}, {} cores; caches L1d {}, L2 {}, L3 {} [{}]; ISA {}; batch {}, one pinned core.\n\n",
                    m.cpu_model, m.physical_cores, human_bytes(static_cast<double>(m.l1d_bytes)),
                    human_bytes(static_cast<double>(m.l2_bytes)), human_bytes(static_cast<double>(m.l3_bytes)), m.cache_source,
                    to_string(isa), a.batch);
  md << "Each cell: million look-ups per second (median), and in brackets the fraction of the roofline floor "
        "(floor time / measured time; 1.00 = at the floor, above 1 = faster than the floor). The floor of a "
        "table is the lower of its look-ups at the measured random-gather rate and one sequential pass.\n";
  // One Markdown table per (dim, bag, dist); rows are table sizes, columns flows.
  std::map<std::tuple<int, int, std::string>, std::map<std::size_t, std::map<std::string, const Row*>>> groups;
  for (const Row& r : rows) groups[{r.dim, r.bag, r.dist}][r.bytes][r.flow] = &r;
  for (const auto& [key, by_size] : groups) {
    const auto& [dim, bag, dist] = key;
    md << fmt::format("\n#### dim {}, bag size {}, {}\n\n| table | rows | roofline Mrows/s | scan GB/s |", dim, bag, dist);
    for (const auto& f : a.flows) md << " " << f << " |";
    md << "\n|---|---:|---:|---:|";
    for (std::size_t i = 0; i < a.flows.size(); ++i) md << "---:|";
    md << "\n";
    for (const auto& [bytes, by_flow] : by_size) {
      const Row* any = by_flow.begin()->second;
      md << fmt::format("| {} | {} | {:.1f} | {:.1f} |", human_bytes(static_cast<double>(bytes)), any->rows,
                        any->roof.gather_rows_per_s / 1e6, any->roof.scan_bytes_per_s / 1e9);
      for (const auto& f : a.flows) {
        auto it = by_flow.find(f);
        if (it == by_flow.end()) {
          md << " - |";
        } else {
          const Row& r = *it->second;
          md << fmt::format(" {:.1f} ({:.2f}) |", static_cast<double>(r.lookups) / r.t.median / 1e6, r.floor_s / r.t.median);
        }
      }
      md << "\n";
    }
  }
  if (!md) throw IoError(fmt::format("{}.md: cannot write", a.out));
}

void bench_command(BenchArgs a) {
  if (a.quick) {
    a.sizes = {"4K", "256K", "4M", "64M"};
    a.reps = 3;
    a.min_sample_s = 5e-4;
  }
  pin_current_thread(a.core);
  const MachineInfo m = describe_machine();
  const Isa isa = active_isa();
  const std::size_t budget = a.resident_budget != 0 ? a.resident_budget : (m.l2_bytes != 0 ? m.l2_bytes : (2u << 20));
  std::vector<Flow> flows;
  for (const auto& f : a.flows) flows.push_back(parse_flow(f));
  for (std::size_t i = 0; i < flows.size(); ++i) a.flows[i] = std::string(to_string(flows[i]));
  std::vector<Distribution> dists;
  for (const auto& d : a.dists) dists.push_back(Distribution::parse(d));

  std::vector<Row> rows;
  const std::int64_t total = static_cast<std::int64_t>(a.sizes.size() * a.dims.size() * a.bags.size() * a.dists.size());
  Progress progress("bench", total);
  for (const auto& size_s : a.sizes) {
    const std::size_t bytes = parse_size(size_s);
    // One fp32 buffer per size, viewed as [bytes / (4 dim), dim] for each dim.
    TableSpec storage_spec{"bench", static_cast<std::int64_t>(std::max<std::size_t>(bytes / 64, 1)), 16};
    const Table storage = Table::random(storage_spec, a.seed);
    for (int dim : a.dims) {
      TableSpec spec{"bench", static_cast<std::int64_t>(std::max<std::size_t>(bytes / (4u * dim), 1)), dim};
      TableView view = storage.view();
      view.dim = dim;
      view.row_stride = spec.row_bytes();
      view.rows = std::min<std::int64_t>(spec.rows, static_cast<std::int64_t>(storage.view().bytes() / spec.row_bytes()));
      spec.rows = view.rows;
      storage.touch();
      const RooflinePoint roof = measure_roofline(view, isa, a.seed);
      ResidentCopy copy;
      if (view.bytes() <= budget) copy = ResidentCopy::make(view, {0, view.rows}, budget);
      for (int bag : a.bags) {
        spec.bag_size = {bag, bag};
        ModelSpec model{"bench", {spec}, {}};
        for (std::size_t d = 0; d < dists.size(); ++d) {
          // Distinct batches used in turn (a repeated batch would find its rows in cache).
          const double planned = static_cast<double>(a.batch) * bag;
          const int count = distinct_batches_needed(planned * static_cast<double>(spec.row_bytes()),
                                                    (planned + static_cast<double>(a.batch)) * 8.0);
          std::vector<TableBatch> batches;
          for (int i = 0; i < count; ++i) {
            WorkloadOptions w;
            w.batch_size = a.batch;
            w.distribution = dists[d];
            w.seed = a.seed + static_cast<std::uint64_t>(i) * 1000003u;
            batches.push_back(generate_table_batch(spec, 0, model, w));
          }
          FloatBuffer out(static_cast<std::size_t>(a.batch) * dim);
          KernelOptions opt;
          opt.tile_bytes = a.tile_bytes;
          std::vector<Flow> runnable;
          for (Flow f : flows) {
            if (!is_resident(f) || !copy.empty()) runnable.push_back(f);
          }
          int turn = 0;
          auto run = [&](Flow f) {
            const TableBatch& tb = batches[static_cast<std::size_t>(turn++) % batches.size()];
            run_flow(f, is_resident(f) ? copy.view() : view, tb.view(), {0, a.batch}, {0, view.rows}, {out.data(), dim}, opt,
                     isa);
          };
          const std::int64_t lookups = batches[0].num_indices();
          // Calibrate iterations per sample so each sample lasts at least min_sample_s.
          std::vector<int> inner(runnable.size(), 1);
          for (std::size_t i = 0; i < runnable.size(); ++i) {
            run(runnable[i]);
            const double t0 = now_seconds();
            run(runnable[i]);
            const double one = std::max(now_seconds() - t0, 1e-7);
            inner[i] = static_cast<int>(std::clamp(a.min_sample_s / one, 1.0, 10000.0));
          }
          // Flow by flow, each after a warm-up of as many untimed runs as one sample: a flow
          // inherits the cache and TLB state the previous one left (a tile scan of a large
          // table evicts for a long time what a gather relies on), so sample-by-sample
          // interleaving would charge one flow for another's traffic. A configuration's flows
          // are measured within about a second of each other.
          std::vector<std::vector<double>> samples(runnable.size());
          for (std::size_t i = 0; i < runnable.size(); ++i) {
            for (int k = 0; k < inner[i]; ++k) run(runnable[i]);
            for (int rep = 0; rep < a.reps; ++rep) {
              const double t0 = now_seconds();
              for (int k = 0; k < inner[i]; ++k) run(runnable[i]);
              samples[i].push_back((now_seconds() - t0) / inner[i]);
            }
          }
          for (std::size_t i = 0; i < runnable.size(); ++i) {
            rows.push_back(Row{view.bytes(), view.rows, dim, bag, dists[d].to_string(), std::string(to_string(runnable[i])),
                               lookups, summarize(samples[i]), roof, roofline_floor_seconds(lookups, view.bytes(), roof)});
          }
          progress.step(fmt::format("{} dim {} bag {} {}", size_s, dim, bag, dists[d].to_string()));
        }
      }
    }
  }
  write_outputs(a, rows, m, isa);
  fmt::print("wrote {}.csv and {}.md ({} measurements)\n", a.out, a.out, rows.size());
}

}  // namespace

void register_bench(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  auto* cmd = app.add_subcommand("bench", "sweep flows x table bytes x dim x bag size x distribution on one core");
  cmd->add_option("--sizes", args->sizes, "table sizes (K, M, G suffixes)")->delimiter(',')->capture_default_str();
  cmd->add_option("--dims", args->dims, "embedding dims")->delimiter(',')->capture_default_str();
  cmd->add_option("--bags", args->bags, "bag sizes")->delimiter(',')->capture_default_str();
  cmd->add_option("--dists", args->dists, "distributions")->delimiter(',')->capture_default_str();
  cmd->add_option("--flows", args->flows, "flows")->delimiter(',')->capture_default_str();
  cmd->add_option("--batch", args->batch, "samples per batch")->capture_default_str();
  cmd->add_option("--reps", args->reps, "samples per measurement (median reported)")->capture_default_str();
  cmd->add_option("--core", args->core, "physical core to pin to")->capture_default_str();
  cmd->add_option("--resident-budget", args->resident_budget, "bytes per resident copy (default: L2 per core)");
  cmd->add_option("--tile-bytes", args->tile_bytes, "tile size of the tile-scan flows")->capture_default_str();
  cmd->add_option("--out", args->out, "output prefix: writes PREFIX.csv and PREFIX.md")->capture_default_str();
  cmd->add_flag("--quick", args->quick, "a small sweep (4 sizes up to 64 MiB, 3 reps)");
  cmd->callback([args] { bench_command(*args); });
}

}  // namespace embflow::cli
