// Helpers shared by the tests: seeds that can be overridden, small tables and batches.
#pragma once
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include "embflow/error.h"
#include "embflow/kernels.h"
#include "embflow/workload.h"

namespace embflow::testing {

// The seed of randomized tests: EMBFLOW_TEST_SEED overrides it; failures print it.
inline std::uint64_t test_seed() {
  const char* env = std::getenv("EMBFLOW_TEST_SEED");
  return env ? std::strtoull(env, nullptr, 10) : 20241126;
}

// The message of the E (by default any of the library's errors) that fn throws, or "no error".
template <class E = Error, class Fn>
std::string message_of(Fn&& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  }
  return "no error";
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

// "skewed": one heavy table t0 (20 M rows, bags of 100) among eleven light ones t1..t11 (500
// rows, one-row bags), dim 16.
inline ModelSpec one_heavy_among_light() {
  ModelSpec m{"skewed", {}, {}};
  for (int t = 0; t < 12; ++t) {
    m.tables.push_back(small_spec(t == 0 ? 20'000'000 : 500, 16, RowType::kFp32, t == 0 ? 100 : 1, t == 0 ? 100 : 1));
    m.tables.back().name = std::string("t").append(std::to_string(t));
  }
  return m;
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
