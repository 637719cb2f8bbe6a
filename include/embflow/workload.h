// Workloads: batches of look-ups drawn from a distribution, or replayed from trace files.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "embflow/batch.h"
#include "embflow/model.h"

namespace embflow {

// Which rows the look-ups of a table hit. Spelled on the command line as:
//   uniform            every row equally likely
//   zipf:A             rank k (1-based) with probability ~ k^-A, ranks mapped to rows by a seeded
//                      random permutation (so hot rows are scattered, as in real tables)
//   hotset:F:P         a fraction F of the rows (scattered) receives a fraction P of the look-ups
//   hot-rows:K         extremely unbalanced: every look-up of a table hits one of K rows
//   heavy-table[:L]    extremely unbalanced: the largest table gets bags of L indices (default
//                      100), every other table bags of 1; indices uniform
struct Distribution {
  enum class Kind { kUniform, kZipf, kHotSet, kHotRows, kHeavyTable };
  Kind kind = Kind::kUniform;
  double zipf_a = 1.05;
  double hot_fraction = 0.0, hot_probability = 0.0;
  std::int64_t hot_rows = 1;
  int heavy_bag = 100;

  static Distribution parse(std::string_view s);  // throws InvalidInput
  std::string to_string() const;
};

struct WorkloadOptions {
  std::int64_t batch_size = 2048;
  Distribution distribution;
  std::uint64_t seed = 1;
  IndexType index_type = IndexType::kInt64;
  bool weighted = false;  // per-index weights uniform in [0, 2)
};

// One batch for every table of `model`. Deterministic in (model, options).
Batch generate_batch(const ModelSpec& model, const WorkloadOptions& opt);
// One table's bags (`table_index` seeds the table's own random stream).
TableBatch generate_table_batch(const TableSpec& table, int table_index, const ModelSpec& model,
                                const WorkloadOptions& opt);

// A workload on disk (see docs/FORMATS.md): DIR/workload.json names, per table, .npy files of
// offsets [B + 1], indices and optional weights (float32), all C order, int32 or int64.
void save_workload(const ModelSpec& model, const Batch& batch, const std::string& dir);
// Loads and checks it against `model` (table count, names, batch size); throws IoError /
// InvalidInput naming the file and field.
Batch load_workload(const ModelSpec& model, const std::string& dir);

// Several batches: one is saved as DIR itself, more as DIR/batch000, DIR/batch001, ...
// load_workloads reads either layout.
void save_workloads(const ModelSpec& model, const std::vector<Batch>& batches, const std::string& dir);
std::vector<Batch> load_workloads(const ModelSpec& model, const std::string& dir);

}  // namespace embflow
