#include "embflow/profile.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "embflow/error.h"

namespace embflow {
namespace profiles {
extern const std::string_view kAscend910Like;
extern const std::string_view kServer16Core;
extern const std::string_view kServer64Core;
}  // namespace profiles

namespace {
using nlohmann::json;

double lerp_log(double x, double x0, double y0, double x1, double y1) {
  const double f = (std::log(x) - std::log(x0)) / (std::log(x1) - std::log(x0));
  if (y0 <= 0 || y1 <= 0) return y0 + f * (y1 - y0);  // log y needs positive values
  return std::exp(std::log(y0) + f * (std::log(y1) - std::log(y0)));
}

// Reading: every field named in errors with its path.
struct Reader {
  std::string_view source;

  [[noreturn]] void fail(const std::string& path, const std::string& what) const {
    throw InvalidInput(fmt::format("{}: profile field '{}' {}", source, path, what));
  }
  const json& field(const json& j, const std::string& path, const char* key) const {
    if (!j.is_object() || !j.contains(key)) fail(path + key, "is missing");
    return j.at(key);
  }
  double number(const json& j, const std::string& path, const char* key, bool positive = false) const {
    const json& v = field(j, path, key);
    if (!v.is_number()) fail(path + key, "must be a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || d < 0 || (positive && d == 0)) fail(path + key, fmt::format("must be {}, got {}", positive ? "positive" : "non-negative", d));
    return d;
  }
  std::size_t bytes(const json& j, const std::string& path, const char* key) const {
    return static_cast<std::size_t>(number(j, path, key));
  }
  std::string text(const json& j, const std::string& path, const char* key) const {
    const json& v = field(j, path, key);
    if (!v.is_string()) fail(path + key, "must be a string");
    return v.get<std::string>();
  }
  CostCurve curve(const json& j, const std::string& path, const char* key, const char* unit = "seconds") const {
    const json& v = field(j, path, key);
    const std::string p = path + key;
    if (!v.is_array() || v.empty()) fail(p, fmt::format("must be a non-empty array of [x, {}] pairs", unit));
    CostCurve c;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const json& pt = v[i];
      if (!pt.is_array() || pt.size() != 2 || !pt[0].is_number() || !pt[1].is_number()) {
        fail(fmt::format("{}[{}]", p, i), fmt::format("must be a pair [x, {}]", unit));
      }
      const double x = pt[0].get<double>(), y = pt[1].get<double>();
      if (!(x > 0) || !(y >= 0) || !std::isfinite(x) || !std::isfinite(y)) {
        fail(fmt::format("{}[{}]", p, i), fmt::format("needs x > 0 and {} >= 0, got [{}, {}]", unit, x, y));
      }
      if (!c.points.empty() && x <= c.points.back().first) fail(fmt::format("{}[{}]", p, i), "x must increase");
      c.points.emplace_back(x, y);
    }
    return c;
  }
  CurveFamily family(const json& j, const std::string& path, const char* key) const {
    const json& v = field(j, path, key);
    const std::string p = path + key;
    if (!v.is_array() || v.empty()) fail(p, "must be a non-empty array of {row_bytes, points}");
    CurveFamily f;
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string pi = fmt::format("{}[{}].", p, i);
      const double w = number(v[i], pi, "row_bytes", true);
      if (!f.widths.empty() && w <= f.widths.back().first) fail(pi + "row_bytes", "must increase");
      f.widths.emplace_back(w, curve(v[i], pi, "points"));
    }
    return f;
  }
};

json curve_json(const CostCurve& c) {
  json a = json::array();
  for (const auto& [x, y] : c.points) a.push_back({x, y});
  return a;
}
json family_json(const CurveFamily& f) {
  json a = json::array();
  for (const auto& [w, c] : f.widths) a.push_back({{"row_bytes", w}, {"points", curve_json(c)}});
  return a;
}

struct BuiltIn {
  std::string_view name;
  const std::string_view* json;
};
const BuiltIn kBuiltIns[] = {
    {"ascend-910-like", &profiles::kAscend910Like},
    {"server-16-core", &profiles::kServer16Core},
    {"server-64-core", &profiles::kServer64Core},
};

}  // namespace

double CostCurve::at(double x) const {
  if (points.empty()) return 0;
  if (x <= points.front().first) return points.front().second;
  if (x >= points.back().first) return points.back().second;
  const auto hi = std::lower_bound(points.begin(), points.end(), x,
                                   [](const std::pair<double, double>& p, double v) { return p.first < v; });
  const auto lo = hi - 1;
  return lerp_log(x, lo->first, lo->second, hi->first, hi->second);
}

double CurveFamily::at(double row_bytes, double x) const {
  if (widths.empty()) return 0;
  if (row_bytes <= widths.front().first) return widths.front().second.at(x);
  if (row_bytes >= widths.back().first) return widths.back().second.at(x) * row_bytes / widths.back().first;
  const auto hi = std::lower_bound(widths.begin(), widths.end(), row_bytes,
                                   [](const auto& p, double v) { return p.first < v; });
  const auto lo = hi - 1;
  const double f = (row_bytes - lo->first) / (hi->first - lo->first);
  return lo->second.at(x) * (1 - f) + hi->second.at(x) * f;
}

double CurveFamily::calibrated_extent() const {
  double extent = widths.empty() ? 0.0 : std::numeric_limits<double>::max();
  for (const auto& [w, c] : widths) extent = std::min(extent, c.points.empty() ? 0.0 : c.points.back().first);
  return extent;
}

std::string profile_to_json(const MachineProfile& p) {
  json j;
  j["format"] = "embflow-profile";
  j["version"] = MachineProfile::kVersion;
  j["source"] = p.source;
  j["name"] = p.name;
  j["description"] = p.description;
  j["notes"] = p.notes;
  j["machine"] = {{"cores", p.cores},         {"isa", p.isa},
                  {"l1d_bytes", p.l1d_bytes}, {"l2_bytes", p.l2_bytes},
                  {"l3_bytes", p.l3_bytes},   {"resident_budget_bytes", p.resident_budget},
                  {"tile_bytes", p.tile_bytes}};
  j["overheads"] = {{"item_seconds", p.item_seconds},
                    {"batch_seconds", p.batch_seconds},
                    {"skip_index_seconds", p.skip_index_seconds},
                    {"fp16_element_seconds", p.fp16_element_seconds},
                    {"reduce_float_seconds", p.reduce_float_seconds},
                    {"shared_output_bag_seconds", p.shared_output_bag_seconds},
                    {"bag_seconds_by_output_bytes", family_json(p.bag_seconds)}};
  if (!p.streamed_bag_seconds.widths.empty()) {
    j["overheads"]["streamed_bag_seconds_by_output_bytes"] = family_json(p.streamed_bag_seconds);
  }
  if (!p.bag_seconds_by_traffic.widths.empty()) {
    j["overheads"]["bag_seconds_by_traffic_bytes"] = family_json(p.bag_seconds_by_traffic);
  }
  if (!p.bag_stride_factor.widths.empty()) {
    j["overheads"]["bag_stride_factor_by_stride_alignment"] = family_json(p.bag_stride_factor);
  }
  j["lookups"] = {{"hit_seconds_by_footprint", {{"gather", family_json(p.hit_gather)},
                                                {"resident", family_json(p.hit_resident)}}},
                  {"miss_seconds_by_table_bytes", {{"gather", family_json(p.miss_gather)},
                                                   {"resident", family_json(p.miss_resident)}}},
                  {"scan_byte_seconds", {{"tile-scan", p.scan_byte_seconds},
                                         {"resident-tile-scan", p.resident_scan_byte_seconds}}},
                  {"serve_seconds_by_lookups", family_json(p.serve_seconds)}};
  if (p.page_walk_evict_bytes > 0) {
    j["lookups"]["page_walk"] = {{"line_seconds", p.page_walk_line_seconds}, {"evict_bytes", p.page_walk_evict_bytes}};
  }
  j["memory"] = {{"dram_bytes_per_s_by_row_bytes", curve_json(p.dram_bytes_per_s)},
                 {"output_bytes_per_s_all_cores", p.output_bytes_per_s}};
  if (p.l2_prefetch_lead) {
    json& lead = j["prefetch"]["l2_lead_lines_by_row_bytes"];
    for (std::size_t i = 0; i < std::size(L2PrefetchLead::kRowBytes); ++i) {
      lead[std::to_string(L2PrefetchLead::kRowBytes[i])] = p.l2_prefetch_lead->lines[i];
    }
  }
  return j.dump(1);
}

MachineProfile parse_profile_json(std::string_view text, std::string_view source) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InvalidInput(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  const Reader r{source};
  if (r.text(j, "", "format") != "embflow-profile") r.fail("format", "must be \"embflow-profile\"");
  const double version = r.number(j, "", "version");
  if (version != MachineProfile::kVersion) {
    r.fail("version", fmt::format("is {}, this embflow reads version {}", version, MachineProfile::kVersion));
  }
  MachineProfile p;
  p.source = r.text(j, "", "source");
  if (p.source != "measured" && p.source != "described") r.fail("source", "must be \"measured\" or \"described\"");
  p.name = r.text(j, "", "name");
  p.description = j.value("description", "");
  if (j.contains("notes")) {
    for (const auto& n : j.at("notes")) p.notes.push_back(n.is_string() ? n.get<std::string>() : n.dump());
  }
  const json& m = r.field(j, "", "machine");
  p.cores = static_cast<int>(r.number(m, "machine.", "cores", true));
  p.isa = r.text(m, "machine.", "isa");
  p.l1d_bytes = r.bytes(m, "machine.", "l1d_bytes");
  p.l2_bytes = r.bytes(m, "machine.", "l2_bytes");
  p.l3_bytes = r.bytes(m, "machine.", "l3_bytes");
  p.resident_budget = r.bytes(m, "machine.", "resident_budget_bytes");
  p.tile_bytes = r.bytes(m, "machine.", "tile_bytes");
  if (p.tile_bytes == 0) r.fail("machine.tile_bytes", "must be positive");
  const json& o = r.field(j, "", "overheads");
  p.item_seconds = r.number(o, "overheads.", "item_seconds");
  p.batch_seconds = r.number(o, "overheads.", "batch_seconds");
  p.skip_index_seconds = r.number(o, "overheads.", "skip_index_seconds");
  p.fp16_element_seconds = r.number(o, "overheads.", "fp16_element_seconds");
  p.reduce_float_seconds = r.number(o, "overheads.", "reduce_float_seconds");
  p.shared_output_bag_seconds = r.number(o, "overheads.", "shared_output_bag_seconds");
  p.bag_seconds = r.family(o, "overheads.", "bag_seconds_by_output_bytes");
  if (o.contains("streamed_bag_seconds_by_output_bytes")) {
    p.streamed_bag_seconds = r.family(o, "overheads.", "streamed_bag_seconds_by_output_bytes");
  }
  if (o.contains("bag_seconds_by_traffic_bytes")) {
    p.bag_seconds_by_traffic = r.family(o, "overheads.", "bag_seconds_by_traffic_bytes");
  }
  if (o.contains("bag_stride_factor_by_stride_alignment")) {
    p.bag_stride_factor = r.family(o, "overheads.", "bag_stride_factor_by_stride_alignment");
  }
  const json& l = r.field(j, "", "lookups");
  const json& hit = r.field(l, "lookups.", "hit_seconds_by_footprint");
  p.hit_gather = r.family(hit, "lookups.hit_seconds_by_footprint.", "gather");
  p.hit_resident = r.family(hit, "lookups.hit_seconds_by_footprint.", "resident");
  const json& miss = r.field(l, "lookups.", "miss_seconds_by_table_bytes");
  p.miss_gather = r.family(miss, "lookups.miss_seconds_by_table_bytes.", "gather");
  p.miss_resident = r.family(miss, "lookups.miss_seconds_by_table_bytes.", "resident");
  const json& scan = r.field(l, "lookups.", "scan_byte_seconds");
  p.scan_byte_seconds = r.number(scan, "lookups.scan_byte_seconds.", "tile-scan");
  p.resident_scan_byte_seconds = r.number(scan, "lookups.scan_byte_seconds.", "resident-tile-scan");
  p.serve_seconds = r.family(l, "lookups.", "serve_seconds_by_lookups");
  if (l.contains("page_walk")) {
    const json& walk = r.field(l, "lookups.", "page_walk");
    p.page_walk_line_seconds = r.number(walk, "lookups.page_walk.", "line_seconds");
    p.page_walk_evict_bytes = r.number(walk, "lookups.page_walk.", "evict_bytes", true);
  }
  const json& mem = r.field(j, "", "memory");
  p.dram_bytes_per_s = r.curve(mem, "memory.", "dram_bytes_per_s_by_row_bytes", "bytes per second");
  p.output_bytes_per_s = r.number(mem, "memory.", "output_bytes_per_s_all_cores");
  if (j.contains("prefetch")) {
    const json& lead = r.field(r.field(j, "", "prefetch"), "prefetch.", "l2_lead_lines_by_row_bytes");
    L2PrefetchLead l;
    for (std::size_t i = 0; i < std::size(L2PrefetchLead::kRowBytes); ++i) {
      const std::string width = std::to_string(L2PrefetchLead::kRowBytes[i]);
      const double lines = r.number(lead, "prefetch.l2_lead_lines_by_row_bytes.", width.c_str(), true);
      if (lines > kMaxL2PrefetchLeadLines) {
        r.fail("prefetch.l2_lead_lines_by_row_bytes." + width, fmt::format("must be at most {}, got {}", kMaxL2PrefetchLeadLines, lines));
      }
      l.lines[i] = static_cast<int>(lines);
    }
    p.l2_prefetch_lead = l;
  }
  return p;
}

RunnerOptions runner_options_for(const MachineProfile& p) {
  RunnerOptions o = default_runner_options();
  if (p.l2_prefetch_lead) o.kernel.l2_lead = *p.l2_prefetch_lead;
  return o;
}

std::vector<std::string> described_profile_names() {
  std::vector<std::string> out;
  for (const auto& b : kBuiltIns) out.emplace_back(b.name);
  return out;
}

std::string profile_source(const std::string& given) {
  if (!given.empty()) return given;
  const char* env = std::getenv("EMBFLOW_PROFILE");
  return env != nullptr ? env : "";
}

MachineProfile load_profile(const std::string& name_or_path) {
  for (const auto& b : kBuiltIns) {
    if (b.name == name_or_path) return parse_profile_json(*b.json, fmt::format("built-in profile {}", b.name));
  }
  std::ifstream in(name_or_path);
  if (!in) {
    throw IoError(fmt::format("'{}' is neither a built-in profile ({}) nor a readable file", name_or_path,
                              fmt::join(described_profile_names(), ", ")));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_profile_json(text.str(), name_or_path);
}

}  // namespace embflow
