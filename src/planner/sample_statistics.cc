// Statistics of a sample batch, per table: what the cost model needs to price any slice of it.
#include <algorithm>

#include "embflow/cost_model.h"
#include "embflow/error.h"

namespace embflow {

TableSample sample_table(const TableSpec& table, const BagsView& bags) {
  TableSample s;
  s.batch_size = bags.num_bags;
  s.lookups = bags.offset(bags.num_bags) - bags.offset(0);
  s.bucket_lookups.assign(TableSample::kBuckets, 0);
  s.bucket_distinct.assign(TableSample::kBuckets, 0);
  auto bucket = [&](std::int64_t row) {
    return static_cast<std::size_t>(static_cast<__int128>(row) * TableSample::kBuckets / table.rows);
  };
  // (row, sample) for every look-up, sorted: the first entry of each row is its first sample.
  std::vector<std::pair<std::int64_t, std::int64_t>> hits;
  hits.reserve(static_cast<std::size_t>(s.lookups));
  for (std::int64_t b = 0; b < bags.num_bags; ++b) {
    for (std::int64_t k = bags.offset(b); k < bags.offset(b + 1); ++k) {
      const std::int64_t r = bags.index(k);
      hits.emplace_back(r, b);
      ++s.bucket_lookups[bucket(r)];
    }
  }
  std::sort(hits.begin(), hits.end());
  std::vector<std::int64_t> first_sample;  // per distinct row
  for (std::size_t i = 0; i < hits.size(); ++i) {
    if (i > 0 && hits[i].first == hits[i - 1].first) continue;
    first_sample.push_back(hits[i].second);
    ++s.bucket_distinct[bucket(hits[i].first)];
  }
  s.distinct = static_cast<std::int64_t>(first_sample.size());
  std::sort(first_sample.begin(), first_sample.end());
  for (std::int64_t n = s.batch_size; n > 0; n /= 2) {
    const auto d = std::lower_bound(first_sample.begin(), first_sample.end(), n) - first_sample.begin();
    s.distinct_by_samples.emplace_back(n, static_cast<std::int64_t>(d));
  }
  std::reverse(s.distinct_by_samples.begin(), s.distinct_by_samples.end());
  return s;
}

std::vector<TableSample> sample_statistics(const ModelSpec& model, const BatchView& batch) {
  if (batch.tables.size() != model.tables.size()) {
    throw InvalidInput("sample batch has " + std::to_string(batch.tables.size()) + " tables, the model " +
                       std::to_string(model.tables.size()));
  }
  std::vector<TableSample> out;
  for (std::size_t t = 0; t < model.tables.size(); ++t) out.push_back(sample_table(model.tables[t], batch.tables[t]));
  return out;
}

}  // namespace embflow
