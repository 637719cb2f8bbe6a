// Helpers shared by the tests: seeds that can be overridden, small tables and batches.
#pragma once
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "embflow/kernels.h"
#include "embflow/workload.h"

namespace embflow::testing {

// The seed of randomized tests: EMBFLOW_TEST_SEED overrides it; failures print it.
inline std::uint64_t test_seed() {
  const char* env = std::getenv("EMBFLOW_TEST_SEED");
  return env ? std::strtoull(env, nullptr, 10) : 20241126;
}

inline TableSpec small_spec(std::int64_t rows, int dim, RowType type = RowType::kFp32, int bag_min = 0, int bag_max = 9) {
  TableSpec s;
  s.name = "test";
  s.rows = rows;
  s.dim = dim;
  s.row_type = type;
  s.bag_size = {bag_min, bag_max};
  return s;
}

inline TableBatch make_bags(const TableSpec& spec, std::int64_t batch, const std::string& dist, IndexType type,
                            bool weighted, std::uint64_t seed) {
  WorkloadOptions w;
  w.batch_size = batch;
  w.distribution = Distribution::parse(dist);
  w.seed = seed;
  w.index_type = type;
  w.weighted = weighted;
  ModelSpec m{"test", {spec}, {}};
  return generate_table_batch(spec, 0, m, w);
}

}  // namespace embflow::testing
