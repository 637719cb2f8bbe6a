#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "embflow/error.h"
#include "embflow/model.h"

namespace embflow {
namespace {

using nlohmann::json;

[[noreturn]] void bad_field(std::string_view source, const std::string& field, const std::string& what) {
  throw InvalidInput(fmt::format("{}: field '{}': {}", source, field, what));
}

template <class T>
T get_number(const json& j, std::string_view source, const std::string& field) {
  if (!j.is_number_integer()) bad_field(source, field, fmt::format("expected an integer, got {}", j.dump()));
  return j.get<T>();
}

BagSizeSpec parse_bag_size(const json& j, std::string_view source, const std::string& field) {
  BagSizeSpec b;
  if (j.is_number_integer()) {
    b.min = b.max = j.get<int>();
  } else if (j.is_object() && j.contains("min") && j.contains("max")) {
    b.min = get_number<int>(j["min"], source, field + ".min");
    b.max = get_number<int>(j["max"], source, field + ".max");
  } else {
    bad_field(source, field, "expected an integer or {\"min\": a, \"max\": b}");
  }
  if (b.min < 0 || b.max < b.min) bad_field(source, field, fmt::format("bad range [{}, {}]", b.min, b.max));
  return b;
}

std::string enum_field(const json& t, const char* key, const char* def, std::string_view source,
                       const std::string& field) {
  if (!t.contains(key)) return def;
  if (!t[key].is_string()) bad_field(source, field + "." + key, "expected a string");
  return t[key].get<std::string>();
}

ModelSpec parse_explicit(const json& doc, std::string_view source) {
  ModelSpec m;
  m.name = doc.value("name", std::string(source));
  const json& tables = doc["tables"];
  if (!tables.is_array() || tables.empty()) bad_field(source, "tables", "expected a non-empty array");
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const json& t = tables[i];
    const std::string field = fmt::format("tables[{}]", i);
    if (!t.is_object()) bad_field(source, field, "expected an object");
    TableSpec s;
    s.name = t.contains("name") && t["name"].is_string() ? t["name"].get<std::string>() : fmt::format("t{}", i);
    if (!t.contains("rows")) bad_field(source, field + ".rows", "missing");
    if (!t.contains("dim")) bad_field(source, field + ".dim", "missing");
    s.rows = get_number<std::int64_t>(t["rows"], source, field + ".rows");
    s.dim = get_number<int>(t["dim"], source, field + ".dim");
    try {
      s.row_type = parse_row_type(enum_field(t, "row_type", "fp32", source, field));
      s.pooling = parse_pooling(enum_field(t, "pooling", "sum", source, field));
    } catch (const InvalidInput& e) {
      bad_field(source, field, e.what());
    }
    if (t.contains("bag_size")) s.bag_size = parse_bag_size(t["bag_size"], source, field + ".bag_size");
    try {
      validate_table_spec(s);
    } catch (const InvalidInput& e) {
      bad_field(source, field, e.what());
    }
    m.tables.push_back(std::move(s));
  }
  return m;
}

// The preset files' form: parallel arrays of rows and bag sizes, one embedding_dim.
ModelSpec parse_compact(const json& doc, std::string_view source) {
  ModelSpec m;
  m.name = doc.value("name", std::string(source));
  if (!doc.contains("embedding_dim")) bad_field(source, "embedding_dim", "missing");
  const int dim = get_number<int>(doc["embedding_dim"], source, "embedding_dim");
  const json& rows = doc["rows"];
  if (!rows.is_array() || rows.empty()) bad_field(source, "rows", "expected a non-empty array");
  const json bags = doc.contains("bag_sizes") ? doc["bag_sizes"] : json::array();
  if (!bags.is_array() || (!bags.empty() && bags.size() != rows.size())) {
    bad_field(source, "bag_sizes", fmt::format("expected an array of {} entries", rows.size()));
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    TableSpec s;
    s.name = fmt::format("t{:02}", i);
    s.rows = get_number<std::int64_t>(rows[i], source, fmt::format("rows[{}]", i));
    s.dim = dim;
    if (!bags.empty()) s.bag_size = parse_bag_size(bags[i], source, fmt::format("bag_sizes[{}]", i));
    try {
      validate_table_spec(s);
    } catch (const InvalidInput& e) {
      bad_field(source, fmt::format("rows[{}]", i), e.what());
    }
    m.tables.push_back(std::move(s));
  }
  return m;
}

}  // namespace

std::string_view to_string(RowType t) { return t == RowType::kFp32 ? "fp32" : "fp16"; }
std::string_view to_string(Pooling p) { return p == Pooling::kSum ? "sum" : "mean"; }

RowType parse_row_type(std::string_view s) {
  if (s == "fp32" || s == "float32") return RowType::kFp32;
  if (s == "fp16" || s == "float16") return RowType::kFp16;
  throw InvalidInput(fmt::format("unknown row type '{}' (expected fp32 or fp16)", s));
}

Pooling parse_pooling(std::string_view s) {
  if (s == "sum") return Pooling::kSum;
  if (s == "mean") return Pooling::kMean;
  throw InvalidInput(fmt::format("unknown pooling '{}' (expected sum or mean)", s));
}

std::size_t row_type_bytes(RowType t) { return t == RowType::kFp32 ? 4 : 2; }

std::size_t ModelSpec::bytes() const {
  std::size_t b = 0;
  for (const auto& t : tables) b += t.bytes();
  return b;
}

int ModelSpec::total_dim() const {
  int d = 0;
  for (const auto& t : tables) d += t.dim;
  return d;
}

void validate_table_spec(const TableSpec& t) {
  if (t.rows < 1) throw InvalidInput(fmt::format("table '{}': rows must be >= 1, got {}", t.name, t.rows));
  if (t.rows > (std::int64_t{1} << 40)) throw InvalidInput(fmt::format("table '{}': {} rows is too many", t.name, t.rows));
  if (t.dim < 1 || t.dim > 1024) throw InvalidInput(fmt::format("table '{}': dim must be in [1, 1024], got {}", t.name, t.dim));
  if (t.bag_size.min < 0 || t.bag_size.max < t.bag_size.min) {
    throw InvalidInput(fmt::format("table '{}': bad bag size range [{}, {}]", t.name, t.bag_size.min, t.bag_size.max));
  }
}

ModelSpec parse_model_json(std::string_view text, std::string_view source) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InvalidInput(fmt::format("{}: not valid JSON: {}", source, e.what()));
  }
  if (!doc.is_object()) throw InvalidInput(fmt::format("{}: expected a JSON object", source));
  try {
    if (doc.contains("tables")) return parse_explicit(doc, source);
    if (doc.contains("rows")) return parse_compact(doc, source);
  } catch (const json::exception& e) {  // e.g. a number out of range for its type
    throw InvalidInput(fmt::format("{}: {}", source, e.what()));
  }
  throw InvalidInput(fmt::format("{}: expected a 'tables' array (or the compact 'rows' form)", source));
}

ModelSpec load_model_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError(fmt::format("{}: cannot open model file", path));
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_model_json(ss.str(), path);
}

std::string model_to_json(const ModelSpec& model) {
  json tables = json::array();
  for (const auto& t : model.tables) {
    json bag = t.bag_size.fixed() ? json(t.bag_size.min) : json{{"min", t.bag_size.min}, {"max", t.bag_size.max}};
    tables.push_back({{"name", t.name},
                      {"rows", t.rows},
                      {"dim", t.dim},
                      {"row_type", std::string(to_string(t.row_type))},
                      {"pooling", std::string(to_string(t.pooling))},
                      {"bag_size", bag}});
  }
  return json{{"name", model.name}, {"tables", tables}}.dump(1);
}

void apply_overrides(ModelSpec& model, const ModelOverrides& o) {
  for (auto& t : model.tables) {
    if (o.dim) t.dim = *o.dim;
    if (o.row_type) t.row_type = *o.row_type;
    if (o.pooling) t.pooling = *o.pooling;
    if (o.bag_size) t.bag_size = *o.bag_size;
    if (o.max_rows && t.rows > *o.max_rows) {
      model.notes.push_back(fmt::format("table {} capped from {} to {} rows (--max-rows)", t.name, t.rows, *o.max_rows));
      t.rows = *o.max_rows;
    }
    validate_table_spec(t);
  }
  if (o.dim) model.notes.push_back(fmt::format("dim set to {} (--dim)", *o.dim));
  if (o.bag_size) model.notes.push_back(fmt::format("bag size set to [{}, {}]", o.bag_size->min, o.bag_size->max));
}

}  // namespace embflow
