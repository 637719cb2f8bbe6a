// Generators: deterministic, exact distributions, fast permutations.
#include <gmock/gmock.h>

#include <cmath>
#include <set>
#include <unordered_set>

#include "embflow/error.h"
#include "test_util.h"
#include "workload/zipf.h"

namespace embflow {
namespace {

using testing::small_spec;

std::vector<std::int64_t> indices_of(const TableSpec& spec, const std::string& dist, std::int64_t batch, std::uint64_t seed) {
  const TableBatch tb = testing::make_bags(spec, batch, dist, IndexType::kInt64, false, seed);
  return tb.indices64;
}

TEST(Permutation, IsABijectionForAwkwardSizes) {
  for (std::int64_t n : {1, 2, 3, 5, 17, 1000, 4096, 4097, 65535}) {
    const RowPermutation p(n, 42);
    std::vector<bool> seen(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t r = p(i);
      ASSERT_GE(r, 0);
      ASSERT_LT(r, n);
      ASSERT_FALSE(seen[r]) << "n " << n << " collision at " << i;
      seen[r] = true;
    }
  }
}

TEST(Zipf, FrequenciesMatchTheLaw) {
  // n = 50, a = 1.05: compare empirical frequencies of the top ranks with the exact law.
  const std::int64_t n = 50;
  const double a = 1.05;
  const ZipfSampler z(n, a);
  Rng rng(testing::test_seed());
  std::vector<int> count(n);
  const int draws = 400000;
  for (int i = 0; i < draws; ++i) ++count[z(rng)];
  double norm = 0;
  for (int k = 1; k <= n; ++k) norm += std::pow(k, -a);
  for (int k = 1; k <= 10; ++k) {
    const double p = std::pow(k, -a) / norm;
    const double sd = std::sqrt(draws * p * (1 - p));
    EXPECT_NEAR(count[k - 1], draws * p, 5 * sd) << "rank " << k;
  }
}

TEST(Zipf, FastForFortyMillionRows) {
  const TableSpec spec = small_spec(40000000, 16, RowType::kFp32, 1, 1);
  const auto idx = indices_of(spec, "zipf:1.05", 100000, 1);  // would take seconds with a table of ranks
  std::int64_t max = 0;
  for (auto i : idx) max = std::max(max, i);
  EXPECT_LT(max, 40000000);
  // Skewed: far fewer distinct rows than draws.
  EXPECT_LT(std::unordered_set<std::int64_t>(idx.begin(), idx.end()).size(), idx.size() * 3 / 4);
}

TEST(Generators, DeterministicInTheSeed) {
  const TableSpec spec = small_spec(1000, 4, RowType::kFp32, 0, 7);
  EXPECT_EQ(indices_of(spec, "zipf:1.1", 100, 5), indices_of(spec, "zipf:1.1", 100, 5));
  EXPECT_NE(indices_of(spec, "zipf:1.1", 100, 5), indices_of(spec, "zipf:1.1", 100, 6));
}

TEST(Generators, HotSetAndHotRows) {
  const TableSpec spec = small_spec(10000, 4, RowType::kFp32, 1, 1);
  const auto hot = indices_of(spec, "hot-rows:3", 5000, 1);
  EXPECT_LE(std::set<std::int64_t>(hot.begin(), hot.end()).size(), 3u);
  // hotset:0.01:0.9: 1% of rows get ~90% of look-ups, so ~100 rows cover most of them.
  const auto hs = indices_of(spec, "hotset:0.01:0.9", 20000, 1);
  std::map<std::int64_t, int> freq;
  for (auto i : hs) ++freq[i];
  std::vector<int> counts;
  for (auto& [k, c] : freq) counts.push_back(c);
  std::sort(counts.rbegin(), counts.rend());
  int top = 0;
  for (int i = 0; i < 100 && i < static_cast<int>(counts.size()); ++i) top += counts[i];
  EXPECT_NEAR(top / 20000.0, 0.9, 0.03);
}

TEST(Generators, HeavyTableLoadsTheLargestTable) {
  ModelSpec m = preset_model("criteo-kaggle");
  apply_overrides(m, {.max_rows = 100000});
  m.tables[11].rows = 200000;  // now the largest
  WorkloadOptions w;
  w.batch_size = 10;
  w.distribution = Distribution::parse("heavy-table:50");
  const Batch b = generate_batch(m, w);
  for (int t = 0; t < 26; ++t) EXPECT_EQ(b.tables[t].num_indices(), t == 11 ? 500 : 10) << t;
}

TEST(Generators, BagSizesStayInRangeAndInt32Fits) {
  const TableSpec spec = small_spec(100, 4, RowType::kFp32, 2, 5);
  const TableBatch tb = testing::make_bags(spec, 1000, "uniform", IndexType::kInt32, true, 3);
  ASSERT_EQ(tb.offsets32.size(), 1001u);
  for (int b = 0; b < 1000; ++b) {
    const int l = tb.offsets32[b + 1] - tb.offsets32[b];
    EXPECT_GE(l, 2);
    EXPECT_LE(l, 5);
  }
  EXPECT_EQ(tb.weights.size(), tb.indices32.size());
}

TEST(Distributions, ParseErrorsAreClear) {
  EXPECT_THROW(Distribution::parse("zipf"), InvalidInput);
  EXPECT_THROW(Distribution::parse("zipf:-1"), InvalidInput);
  EXPECT_THROW(Distribution::parse("zipf:1.x"), InvalidInput);
  EXPECT_THROW(Distribution::parse("hotset:2:0.5"), InvalidInput);
  EXPECT_THROW(Distribution::parse("normal"), InvalidInput);
  EXPECT_EQ(Distribution::parse("zipf:1.05").to_string(), "zipf:1.05");
  EXPECT_EQ(Distribution::parse("hot-rows:4").hot_rows, 4);
}

}  // namespace
}  // namespace embflow
