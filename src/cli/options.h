// Options shared by the subcommands: which model, which workload.
#pragma once
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "core/format.h"
#include "embflow/model.h"
#include "embflow/planner.h"
#include "embflow/workload.h"

namespace embflow::cli {

struct ModelArgs {
  std::string model = "criteo-kaggle";
  int dim = 0;
  std::int64_t max_rows = 0;
  std::string row_type, pooling, bag_size;

  void add_to(CLI::App& app);
  ModelSpec resolve() const;  // the preset or file, with overrides applied
};

struct WorkloadArgs {
  std::int64_t batch = 2048;
  std::string dist = "uniform";
  std::uint64_t seed = 1;
  std::string index_type = "int64";
  bool weighted = false;

  void add_to(CLI::App& app);
  WorkloadOptions resolve() const;
};

// What the planning subcommands share: the machine profile, the cores, the gain asked for.
struct PlannerArgs {
  std::string profile;
  int cores = 0;
  double min_gain = PlannerOptions{}.min_gain;

  // `profile_required`: simulate needs one (it runs nothing here to calibrate with).
  void add_to(CLI::App& app, bool profile_required);
};

using embflow::human_bytes;  // core/format.h

}  // namespace embflow::cli
