#include "cli/session.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "cli/commands.h"
#include "embflow/calibrate.h"
#include "embflow/check.h"
#include "embflow/error.h"
#include "embflow/measure.h"
#include "embflow/topology.h"

namespace embflow::cli {

std::string describe_huge_pages(const std::string& mode) {
  if (mode == "never") {
    return "transparent huge pages are off (\"never\"): tables sit on 4 KiB pages, and a random row of a large table "
           "misses the TLB; as root: echo madvise > /sys/kernel/mm/transparent_hugepage/enabled";
  }
  if (mode.empty()) return "transparent huge pages: unknown (no /sys/kernel/mm/transparent_hugepage/enabled)";
  return fmt::format("transparent huge pages \"{}\": embflow's tables and buffers of 2 MiB and more get them", mode);
}

std::vector<Table> make_tables(const ModelSpec& model, const std::string& tables_dir, std::uint64_t seed) {
  std::vector<Table> tables;
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto& spec : model.tables) {
    if (tables_dir.empty()) {
      tables.push_back(Table::random(spec, seed));
    } else {
      tables.push_back(Table::map_npy(spec, (std::filesystem::path(tables_dir) / (spec.name + ".npy")).string()));
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("tables:     {} {} in {:.2f} s\n", tables_dir.empty() ? "filled from seed" : "mapped from",
             tables_dir.empty() ? fmt::format("{}", seed) : tables_dir, s);
  const bool large = std::any_of(model.tables.begin(), model.tables.end(),
                                 [](const TableSpec& t) { return t.bytes() >= (std::size_t{2} << 20); });
  if (large && transparent_huge_pages() == "never") fmt::print("note:       {}\n", describe_huge_pages("never"));
  return tables;
}

std::vector<Batch> make_batches(const ModelSpec& model, const WorkloadOptions& opt, int count,
                                const std::string& load_dir, const std::string& save_dir) {
  std::vector<Batch> batches;
  if (!load_dir.empty()) {
    batches = load_workloads(model, load_dir);
    fmt::print("workload:   {} batch(es) loaded from {}: batch {}, {} look-ups each\n", batches.size(), load_dir,
               batches[0].batch_size, batches[0].num_indices());
    for (const Batch& b : batches) {
      if (b.batch_size != batches[0].batch_size) {
        throw InvalidInput(fmt::format("{}: batches of {} and {} samples; use one batch size", load_dir,
                                       batches[0].batch_size, b.batch_size));
      }
    }
  } else {
    double touched = 0, index_bytes = 0;
    const double index_size = opt.index_type == IndexType::kInt32 ? 4 : 8;
    for (const auto& t : model.tables) {
      const double lookups = static_cast<double>(opt.batch_size) * t.bag_size.mean();
      touched += lookups * static_cast<double>(t.row_bytes());
      index_bytes += (lookups + static_cast<double>(opt.batch_size)) * index_size;
    }
    if (count <= 0) count = distinct_batches_needed(touched, index_bytes);
    for (int i = 0; i < count; ++i) {
      WorkloadOptions w = opt;
      w.seed = opt.seed + static_cast<std::uint64_t>(i) * 1000003u;
      batches.push_back(generate_batch(model, w));
    }
    fmt::print("workload:   {} batches in turn, each of {} samples, {} look-ups, dist {}, {}{}\n", count,
               batches[0].batch_size, batches[0].num_indices(), opt.distribution.to_string(),
               opt.index_type == IndexType::kInt32 ? "int32" : "int64", opt.weighted ? ", weighted" : "");
  }
  if (!save_dir.empty()) {
    save_workloads(model, batches, save_dir);
    fmt::print("saved:      workload to {}\n", save_dir);
  }
  return batches;
}

MachineProfile resolve_profile(const std::string& name_or_path, bool may_calibrate) {
  const std::string source = profile_source(name_or_path);
  if (!source.empty()) {
    MachineProfile p = load_profile(source);
    fmt::print("profile:    {} ({}, {} cores){}\n", source, p.source, p.cores,
               p.source == "described" ? ": DESCRIBED, not measured" : "");
    return p;
  }
  if (!may_calibrate) throw InvalidInput("no machine profile: give --profile NAME|FILE or set EMBFLOW_PROFILE");
  fmt::print("profile:    none given: calibrating this machine quickly (`embflow calibrate` once, then --profile FILE, "
             "gives better plans)\n");
  std::fflush(stdout);
  CalibrateOptions o;
  o.quick = true;
  return calibrate_machine(o);
}

bool check_model_output(const ModelSpec& model, const std::vector<TableView>& views, const Batch& batch, const float* out,
                        const std::string& what) {
  bool ok = true;
  std::int64_t column = 0;
  for (std::size_t t = 0; t < model.tables.size(); ++t) {
    const CheckResult r = check_pooled_lookup(views[t], batch.tables[t].view(), {0, batch.batch_size},
                                              {0, model.tables[t].rows}, {const_cast<float*>(out) + column, model.total_dim()},
                                              model.tables[t].pooling);
    column += model.tables[t].dim;
    if (!r.ok()) {
      ok = false;
      set_exit_code(3);
      fmt::print(stderr, "embflow: error: --check: {}table {} outside the tolerance (err/bound {:.2f})\n", what,
                 model.tables[t].name, r.worst_ratio);
    }
  }
  return ok;
}

void write_text_file(const std::string& path, const std::string& text, const std::string& what) {
  std::ofstream out(path);
  out << text;
  if (!out) throw IoError(fmt::format("{}: cannot write the {}", path, what));
}

}  // namespace embflow::cli
