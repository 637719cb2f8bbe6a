#include "cli/options.h"

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/profile.h"

namespace embflow::cli {

void ModelArgs::add_to(CLI::App& app) {
  app.add_option("--model", model, "preset (criteo-kaggle, criteo-terabyte, dlrm-v2) or model JSON file")
      ->capture_default_str();
  app.add_option("--dim", dim, "override every table's embedding dim");
  app.add_option("--max-rows", max_rows, "cap every table's rows (so a big preset fits this machine)");
  app.add_option("--row-type", row_type, "override the row type: fp32 | fp16");
  app.add_option("--pooling", pooling, "override the pooling: sum | mean");
  app.add_option("--bag-size", bag_size, "override bag sizes: L or MIN:MAX");
}

ModelSpec ModelArgs::resolve() const {
  ModelSpec m = resolve_model(model);
  ModelOverrides o;
  if (dim != 0) o.dim = dim;
  if (max_rows != 0) o.max_rows = max_rows;
  if (!row_type.empty()) o.row_type = parse_row_type(row_type);
  if (!pooling.empty()) o.pooling = parse_pooling(pooling);
  if (!bag_size.empty()) {
    BagSizeSpec b;
    const auto colon = bag_size.find(':');
    try {
      b.min = std::stoi(bag_size.substr(0, colon));
      b.max = colon == std::string::npos ? b.min : std::stoi(bag_size.substr(colon + 1));
    } catch (const std::exception&) {
      throw InvalidInput(fmt::format("--bag-size '{}': expected L or MIN:MAX", bag_size));
    }
    if (b.min < 0 || b.max < b.min) throw InvalidInput(fmt::format("--bag-size '{}': bad range", bag_size));
    o.bag_size = b;
  }
  apply_overrides(m, o);
  return m;
}

void WorkloadArgs::add_to(CLI::App& app) {
  app.add_option("--batch", batch, "samples per batch")->capture_default_str();
  app.add_option("--dist", dist, "uniform | zipf:A | hotset:F:P | hot-rows:K | heavy-table:L")->capture_default_str();
  app.add_option("--seed", seed, "seed of tables and workload")->capture_default_str();
  app.add_option("--index-type", index_type, "int32 | int64")->capture_default_str();
  app.add_flag("--weighted", weighted, "per-index weights (weighted sum)");
}

WorkloadOptions WorkloadArgs::resolve() const {
  WorkloadOptions w;
  if (batch < 0) throw InvalidInput(fmt::format("--batch must be >= 0, got {}", batch));
  w.batch_size = batch;
  w.distribution = Distribution::parse(dist);
  w.seed = seed;
  if (index_type == "int32") {
    w.index_type = IndexType::kInt32;
  } else if (index_type == "int64") {
    w.index_type = IndexType::kInt64;
  } else {
    throw InvalidInput(fmt::format("--index-type '{}': expected int32 or int64", index_type));
  }
  w.weighted = weighted;
  return w;
}

void PlannerArgs::add_to(CLI::App& app, bool profile_required) {
  auto* opt = app.add_option("--profile", profile,
                             fmt::format("machine profile: a file from `embflow calibrate` or a described one ({}){}",
                                         fmt::join(described_profile_names(), ", "),
                                         profile_required ? "" : "; default $EMBFLOW_PROFILE, else a quick calibration"));
  if (profile_required) opt->required();
  app.add_option("--cores", cores, "cores to plan for (default: the profile's; compare: this machine's)")
      ->check(CLI::PositiveNumber);
  app.add_option("--min-gain", min_gain, "the asymmetric mapper keeps the symmetric mapping unless a plan is predicted "
                 "this much faster (a fraction)")->capture_default_str()->check(CLI::Range(0.0, 1.0));
}

}  // namespace embflow::cli
