#include <algorithm>
#include <optional>

#include <fmt/format.h>

#include "core/rng.h"
#include "embflow/error.h"
#include "embflow/workload.h"
#include "workload/zipf.h"

namespace embflow {
namespace {

// The table that `heavy-table` loads: the one with the most rows (the first on a tie).
int heaviest_table(const ModelSpec& model) {
  int best = 0;
  for (int t = 1; t < static_cast<int>(model.tables.size()); ++t) {
    if (model.tables[t].rows > model.tables[best].rows) best = t;
  }
  return best;
}

}  // namespace

TableBatch generate_table_batch(const TableSpec& table, int table_index, const ModelSpec& model,
                                const WorkloadOptions& opt) {
  if (opt.batch_size < 0) throw InvalidInput(fmt::format("batch size must be >= 0, got {}", opt.batch_size));
  const Distribution& d = opt.distribution;
  const std::uint64_t table_seed = mix64(opt.seed * 0x100000001b3ull + static_cast<std::uint64_t>(table_index));
  Rng rng(table_seed);
  const RowPermutation perm(table.rows, mix64(table_seed ^ 0xa5a5a5a5u));

  BagSizeSpec bag = table.bag_size;
  if (d.kind == Distribution::Kind::kHeavyTable) {
    const int l = table_index == heaviest_table(model) ? d.heavy_bag : 1;
    bag = {l, l};
  }
  std::vector<std::int64_t> offsets(static_cast<std::size_t>(opt.batch_size) + 1, 0);
  for (std::int64_t b = 0; b < opt.batch_size; ++b) {
    const int l = bag.fixed() ? bag.min : bag.min + static_cast<int>(rng.below(static_cast<std::uint64_t>(bag.max - bag.min + 1)));
    offsets[b + 1] = offsets[b] + l;
  }
  const std::int64_t n = offsets.back();
  std::vector<std::int64_t> indices(static_cast<std::size_t>(n));
  const auto rows = static_cast<std::uint64_t>(table.rows);

  std::optional<ZipfSampler> zipf;
  if (d.kind == Distribution::Kind::kZipf) zipf.emplace(table.rows, d.zipf_a);
  const std::int64_t hot_n = std::clamp<std::int64_t>(static_cast<std::int64_t>(d.hot_fraction * table.rows + 0.5), 1, table.rows);
  const std::int64_t hot_rows = std::min(d.hot_rows, table.rows);
  for (auto& idx : indices) {
    switch (d.kind) {
      case Distribution::Kind::kUniform:
      case Distribution::Kind::kHeavyTable:
        idx = static_cast<std::int64_t>(rng.below(rows));
        break;
      case Distribution::Kind::kZipf:
        idx = perm((*zipf)(rng));
        break;
      case Distribution::Kind::kHotSet:
        if (hot_n == table.rows || rng.uniform() < d.hot_probability) {
          idx = perm(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(hot_n))));
        } else {
          idx = perm(hot_n + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(table.rows - hot_n))));
        }
        break;
      case Distribution::Kind::kHotRows:
        idx = perm(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(hot_rows))));
        break;
    }
  }
  std::vector<float> weights;
  if (opt.weighted) {
    weights.resize(indices.size());
    for (auto& w : weights) w = static_cast<float>(rng.uniform() * 2.0);
  }
  return TableBatch::from_vectors(std::move(offsets), std::move(indices), opt.index_type, std::move(weights));
}

Batch generate_batch(const ModelSpec& model, const WorkloadOptions& opt) {
  Batch batch;
  batch.batch_size = opt.batch_size;
  for (int t = 0; t < static_cast<int>(model.tables.size()); ++t) {
    batch.tables.push_back(generate_table_batch(model.tables[t], t, model, opt));
  }
  return batch;
}

}  // namespace embflow
