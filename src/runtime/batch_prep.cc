#include "runtime/batch_prep.h"

#include <stdexcept>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/validate.h"

namespace embflow::runtime {

void check_table_count(const ModelSpec& model, const BatchView& batch) {
  if (batch.tables.size() != model.tables.size()) {
    throw InvalidInput(fmt::format("batch has {} tables, model '{}' has {}", batch.tables.size(), model.name,
                                   model.tables.size()));
  }
}

void prepare_batch(const ModelSpec& model, const BatchView& batch, BoundsPolicy bounds,
                   std::vector<std::optional<TableBatch>>& repaired, std::vector<BagsView>& bags) {
  check_table_count(model, batch);
  repaired.resize(model.tables.size());
  bags.resize(model.tables.size());
  for (std::size_t t = 0; t < model.tables.size(); ++t) {
    bags[t] = batch.tables[t];
    repaired[t] = validate_bags(model.tables[t], bags[t], batch.batch_size, bounds);
    if (repaired[t]) bags[t] = repaired[t]->view();
  }
}

void check_batch_shape(const ModelSpec& model, const BatchView& batch, BoundsPolicy bounds) {
  check_table_count(model, batch);
  for (std::size_t t = 0; t < model.tables.size(); ++t) {
    try {
      check_bags_shape(model.tables[t], batch.tables[t], batch.batch_size);
    } catch (const InvalidInput&) {
      for (std::size_t u = 0; u < t; ++u) (void)validate_bags(model.tables[u], batch.tables[u], batch.batch_size, bounds);
      throw;
    }
  }
}

bool served_all(const LookupReport& seen, const BagsView& bags) {
  return seen.offsets_ok && seen.served == bags.num_indices;
}

void add_report(LookupReport& table, const LookupReport& item) {
  table.served += item.served;
  table.offsets_ok = table.offsets_ok && item.offsets_ok;
}

BagsView recheck_table(const TableSpec& spec, const BagsView& bags, std::int64_t batch_size, BoundsPolicy bounds,
                       std::optional<TableBatch>& repaired) {
  repaired = validate_bags(spec, bags, batch_size, bounds);
  if (!repaired) {
    throw std::logic_error(fmt::format("table '{}': the kernels reported input that validation finds valid", spec.name));
  }
  return repaired->view();
}

BagsView sub_bags(const BagsView& bags, BagRange range) {
  BagsView v = bags;
  const std::size_t size = bags.index_type == IndexType::kInt32 ? 4 : 8;
  v.offsets = static_cast<const std::byte*>(bags.offsets) + static_cast<std::size_t>(range.begin) * size;
  v.num_bags = range.end - range.begin;
  return v;
}

void check_storage(const ModelSpec& model, const std::vector<const TableView*>& tables) {
  if (tables.size() != model.tables.size()) {
    throw InvalidInput(fmt::format("model '{}' has {} tables, got storage for {}", model.name, model.tables.size(),
                                   tables.size()));
  }
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const TableSpec& spec = model.tables[t];
    const TableView& v = *tables[t];
    if (v.rows != spec.rows || v.dim != spec.dim || v.row_type != spec.row_type) {
      throw InvalidInput(fmt::format("table '{}': storage is [{}, {}] {}, the spec says [{}, {}] {}", spec.name, v.rows,
                                     v.dim, to_string(v.row_type), spec.rows, spec.dim, to_string(spec.row_type)));
    }
  }
}

std::vector<int> output_columns(const ModelSpec& model) {
  std::vector<int> cols;
  int col = 0;
  for (const auto& t : model.tables) {
    cols.push_back(col);
    col += t.dim;
  }
  return cols;
}

KernelOptions table_kernel_options(const RunnerOptions& options, const ModelSpec& model, std::size_t t, int column,
                                   std::int64_t batch_size) {
  KernelOptions k = options.kernel;
  k.pooling = model.tables[t].pooling;
  const int total_dim = model.total_dim();
  const double out_bytes = static_cast<double>(batch_size) * total_dim * sizeof(float);
  // At most what one core touches per batch (RunnerOptions::prefetch_above_bytes says why).
  if (static_cast<double>(model.bytes()) + out_bytes <= static_cast<double>(options.prefetch_above_bytes)) {
    k.prefetch_distance = 0;
  }
  k.stream_output = output_streamed(model.tables[t].dim, column, total_dim, batch_size, options.stream_output_above);
  return k;
}

}  // namespace embflow::runtime

namespace embflow {

bool output_streamed(int dim, int column, int total_dim, std::int64_t batch_size, std::size_t stream_output_above) {
  constexpr int kLineFloats = 64 / sizeof(float);
  const double out_bytes = static_cast<double>(batch_size) * total_dim * sizeof(float);
  return out_bytes > static_cast<double>(stream_output_above) && dim % kLineFloats == 0 && column % kLineFloats == 0 &&
         total_dim % kLineFloats == 0;
}

}  // namespace embflow
