#include <filesystem>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/model.h"

namespace embflow {
namespace presets {
extern const std::string_view kCriteoKaggle;
extern const std::string_view kCriteoTerabyte;
extern const std::string_view kDlrmV2;
}  // namespace presets

namespace {
struct Preset {
  std::string_view name;
  const std::string_view* json;
};
const Preset kPresets[] = {
    {"criteo-kaggle", &presets::kCriteoKaggle},
    {"criteo-terabyte", &presets::kCriteoTerabyte},
    {"dlrm-v2", &presets::kDlrmV2},
};
}  // namespace

std::vector<std::string> preset_names() {
  std::vector<std::string> out;
  for (const auto& p : kPresets) out.emplace_back(p.name);
  return out;
}

ModelSpec preset_model(std::string_view name) {
  for (const auto& p : kPresets) {
    if (p.name == name) {
      ModelSpec m = parse_model_json(*p.json, fmt::format("preset {}", name));
      m.name = std::string(name);
      return m;
    }
  }
  throw InvalidInput(fmt::format("unknown model preset '{}' (known: {})", name, fmt::join(preset_names(), ", ")));
}

ModelSpec resolve_model(const std::string& name_or_path) {
  for (const auto& p : kPresets) {
    if (p.name == name_or_path) return preset_model(name_or_path);
  }
  if (std::filesystem::exists(name_or_path)) return load_model_file(name_or_path);
  throw InvalidInput(fmt::format("'{}' is neither a model preset ({}) nor a readable file", name_or_path,
                                 fmt::join(preset_names(), ", ")));
}

}  // namespace embflow
