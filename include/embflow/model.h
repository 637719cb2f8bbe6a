// Model descriptions: tables (rows, dim, row type, pooling, bag sizes) and whole models.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace embflow {

enum class RowType { kFp32, kFp16 };
enum class Pooling { kSum, kMean };

std::string_view to_string(RowType t);
std::string_view to_string(Pooling p);
RowType parse_row_type(std::string_view s);  // "fp32" | "fp16"; throws InvalidInput
Pooling parse_pooling(std::string_view s);   // "sum" | "mean"; throws InvalidInput
std::size_t row_type_bytes(RowType t);       // bytes of one element

// Number of indices per bag: uniform over [min, max] (fixed when min == max).
struct BagSizeSpec {
  int min = 1;
  int max = 1;
  bool fixed() const { return min == max; }
  double mean() const { return 0.5 * (min + max); }
};

struct TableSpec {
  std::string name;
  std::int64_t rows = 0;
  int dim = 0;
  RowType row_type = RowType::kFp32;
  Pooling pooling = Pooling::kSum;
  BagSizeSpec bag_size;

  std::size_t row_bytes() const { return static_cast<std::size_t>(dim) * row_type_bytes(row_type); }
  std::size_t bytes() const { return row_bytes() * static_cast<std::size_t>(rows); }
};

struct ModelSpec {
  std::string name;
  std::vector<TableSpec> tables;
  // Human-readable remarks on how the model differs from its source (e.g. rows capped).
  std::vector<std::string> notes;

  std::size_t bytes() const;
  int total_dim() const;  // sum of the tables' dims: the width of one output row
};

// Parses a model. Two forms are accepted:
//  explicit: {"name": ..., "tables": [{"name", "rows", "dim", "row_type", "pooling",
//             "bag_size": L | {"min": a, "max": b}}, ...]}
//  compact (the preset files): {"embedding_dim": E, "rows": [...], "bag_sizes": [...]}
// Throws InvalidInput naming the bad field; `source` names the document in messages.
ModelSpec parse_model_json(std::string_view text, std::string_view source);
ModelSpec load_model_file(const std::string& path);
std::string model_to_json(const ModelSpec& model);

// Built-in presets: "criteo-kaggle", "criteo-terabyte", "dlrm-v2".
std::vector<std::string> preset_names();
ModelSpec preset_model(std::string_view name);
// A preset name or a path to a JSON file.
ModelSpec resolve_model(const std::string& name_or_path);

struct ModelOverrides {
  std::optional<int> dim;
  std::optional<std::int64_t> max_rows;  // caps each table's rows; recorded in notes
  std::optional<RowType> row_type;
  std::optional<Pooling> pooling;
  std::optional<BagSizeSpec> bag_size;
};
void apply_overrides(ModelSpec& model, const ModelOverrides& o);

void validate_table_spec(const TableSpec& t);  // throws InvalidInput

}  // namespace embflow
