// Bad input gets a typed error naming table, sample and value; skip / clamp repair it.
#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <gmock/gmock.h>

#include "embflow/error.h"
#include "embflow/runner.h"
#include "embflow/validate.h"
#include "test_util.h"

namespace embflow {
namespace {

using ::testing::HasSubstr;
using testing::small_spec;

TableBatch bags_of(std::vector<std::int64_t> offsets, std::vector<std::int64_t> indices, IndexType t = IndexType::kInt64) {
  return TableBatch::from_vectors(std::move(offsets), std::move(indices), t);
}

std::string error_of(const TableSpec& spec, const TableBatch& tb, std::int64_t batch) {
  return testing::message_of<InvalidInput>([&] { validate_bags(spec, tb.view(), batch, BoundsPolicy::kError); });
}

TEST(Validation, IndexOutOfRangeNamesTableSampleAndValue) {
  TableSpec spec = small_spec(100, 4);
  spec.name = "C7";
  for (IndexType t : {IndexType::kInt32, IndexType::kInt64}) {
    const std::string e = error_of(spec, bags_of({0, 2, 4, 5}, {1, 2, 3, 100, 7}, t), 3);
    EXPECT_THAT(e, HasSubstr("table 'C7'"));
    EXPECT_THAT(e, HasSubstr("sample 1"));
    EXPECT_THAT(e, HasSubstr("index 100"));
    EXPECT_THAT(e, HasSubstr("[0, 100)"));
  }
}

// A bad index at any position is named exactly by validate_bags, for both index types; and the
// kernels of every flow (the runtime's only check of indices on the fast path) serve every look-up
// but that one, on every ISA, whichever slice holds it.
TEST(Validation, BadIndexFoundAtAnyPositionByTheCheckAndByTheKernels) {
  const TableSpec spec = small_spec(1000, 4);
  const Table table = Table::random(spec, 1, 1);
  const std::int64_t n = 5000;
  for (std::int64_t bag : {1, 10}) {  // one-row bags have a loop of their own
    const std::int64_t bags = n / bag;
    std::vector<std::int64_t> offsets;
    for (std::int64_t b = 0; b <= bags; ++b) offsets.push_back(b * bag);
    std::vector<float> out(static_cast<std::size_t>(bags) * 4);
    for (IndexType type : {IndexType::kInt32, IndexType::kInt64}) {
      for (std::int64_t pos : {0L, 1L, 1023L, 1024L, 1025L, 2047L, 2048L, 4095L, 4999L}) {
        for (std::int64_t bad : {1000L, -1L}) {
          std::vector<std::int64_t> indices(n);
          for (std::int64_t k = 0; k < n; ++k) indices[k] = (k * 7919) % 1000;
          indices[pos] = bad;
          const TableBatch tb = bags_of(offsets, indices, type);
          const std::string e = error_of(spec, tb, bags);
          EXPECT_THAT(e, HasSubstr(fmt::format("sample {}: index {} (position {})", pos / bag, bad, pos))) << e;
          for (Isa isa : supported_isas()) {
            for (Flow f : {Flow::kGather, Flow::kTileScan}) {
              const std::int64_t b = pos / bag;
              auto served = [&](BagRange slice) {
                const LookupReport r = run_flow(f, table.view(), tb.view(), slice, {0, 1000}, {out.data(), 4}, {}, isa);
                EXPECT_TRUE(r.offsets_ok);
                return r.served;
              };
              EXPECT_EQ(served({0, bags}), n - 1) << to_string(f) << " " << to_string(isa);
              EXPECT_EQ(served({b, b + 1}), bag - 1);
              EXPECT_EQ(served({0, b}), b * bag);
              EXPECT_EQ(served({b + 1, bags}), (bags - b - 1) * bag);
            }
          }
        }
      }
    }
  }
}

// Offsets that decrease, or jump past the slice's end, between valid first and last offsets: every
// flow stops without reading outside the arrays (the sanitizer build checks that) and says so.
TEST(Validation, KernelsStopAtMalformedOffsets) {
  const TableSpec spec = small_spec(50, 20);
  const Table table = Table::random(spec, 1, 1);
  std::mt19937_64 rng(3);
  std::vector<float> out(40 * 20);
  for (int trial = 0; trial < 200; ++trial) {
    const std::int64_t nb = 1 + static_cast<std::int64_t>(rng() % 40);
    const bool one_row = trial % 2 == 1;  // one-row bags (their own loop) with a few offsets changed
    const std::int64_t n = one_row ? nb : static_cast<std::int64_t>(rng() % 100);
    std::vector<std::int64_t> offsets(static_cast<std::size_t>(nb) + 1), indices(static_cast<std::size_t>(n));
    for (std::size_t b = 0; b < offsets.size(); ++b) {
      const bool random = !one_row || rng() % 8 == 0;
      offsets[b] = random ? static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(2 * n + 2)) - 1
                          : static_cast<std::int64_t>(b);
    }
    offsets.front() = 0;
    offsets.back() = n;
    for (auto& i : indices) i = static_cast<std::int64_t>(rng() % 50);
    const bool monotone = std::is_sorted(offsets.begin(), offsets.end());
    for (IndexType type : {IndexType::kInt32, IndexType::kInt64}) {
      const TableBatch tb = bags_of(offsets, indices, type);
      for (Isa isa : supported_isas()) {
        for (Flow f : {Flow::kGather, Flow::kTileScan}) {
          const LookupReport r = run_flow(f, table.view(), tb.view(), {0, nb}, {0, 50}, {out.data(), 20}, {}, isa);
          EXPECT_EQ(r.offsets_ok, monotone) << to_string(f) << " " << to_string(isa) << " trial " << trial;
          if (monotone) {
            EXPECT_EQ(r.served, n);
          }
        }
      }
    }
  }
}

TEST(Validation, NegativeIndex) {
  const std::string e = error_of(small_spec(10, 4), bags_of({0, 1, 2}, {3, -1}), 2);
  EXPECT_THAT(e, HasSubstr("sample 1"));
  EXPECT_THAT(e, HasSubstr("index -1"));
}

TEST(Validation, OffsetsMustStartAtZeroNeverDecreaseAndEndAtIndexCount) {
  const TableSpec spec = small_spec(10, 4);
  EXPECT_THAT(error_of(spec, bags_of({1, 2, 3}, {1, 2, 3}), 2), HasSubstr("offsets[0] is 1"));
  EXPECT_THAT(error_of(spec, bags_of({0, 2, 1, 3}, {1, 2, 3}), 3), HasSubstr("sample 1: offsets decrease"));
  EXPECT_THAT(error_of(spec, bags_of({0, 1, 2}, {1, 2, 3}), 2), HasSubstr("offsets end at 2, but there are 3 indices"));
  EXPECT_THAT(error_of(spec, bags_of({0, 1, 3}, {1, 2, 3}), 5), HasSubstr("2 bags, expected the batch size 5"));
}

TEST(Validation, WeightsOfTheWrongLength) {
  TableBatch tb = bags_of({0, 2}, {1, 2});
  tb.weights = {1.0f};
  EXPECT_THAT(error_of(small_spec(10, 4), tb, 1), HasSubstr("1 weights for 2 indices"));
}

TEST(Validation, SkipDropsAndClampReplaces) {
  const TableSpec spec = small_spec(10, 4);
  TableBatch tb = bags_of({0, 3, 4}, {1, 12, -3, 9});
  tb.weights = {1, 2, 3, 4};
  auto skip = validate_bags(spec, tb.view(), 2, BoundsPolicy::kSkip);
  ASSERT_TRUE(skip);
  EXPECT_EQ(skip->offsets64, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(skip->indices64, (std::vector<std::int64_t>{1, 9}));
  EXPECT_EQ(skip->weights, (std::vector<float>{1, 4}));
  auto clamp = validate_bags(spec, tb.view(), 2, BoundsPolicy::kClamp);
  ASSERT_TRUE(clamp);
  EXPECT_EQ(clamp->indices64, (std::vector<std::int64_t>{1, 9, 0, 9}));
  EXPECT_FALSE(validate_bags(spec, bags_of({0, 1}, {3}).view(), 1, BoundsPolicy::kSkip));  // nothing to repair
}

TEST(Validation, TableLargerThanMemoryIsACapacityError) {
  TableSpec spec = small_spec(std::int64_t{1} << 38, 1024);
  EXPECT_THROW(Table::allocate(spec), CapacityError);
}

TEST(Validation, RunFlowRejectsRangesOutsideTheViewOrBatch) {
  const TableSpec spec = small_spec(10, 4);
  const Table table = Table::random(spec, 1, 1);
  const TableBatch tb = bags_of({0, 1}, {3});
  std::vector<float> out(4);
  EXPECT_THROW(run_flow(Flow::kGather, table.view(), tb.view(), {0, 2}, {0, 10}, {out.data(), 4}, {}), InvalidInput);
  EXPECT_THROW(run_flow(Flow::kGather, table.view(), tb.view(), {0, 1}, {0, 11}, {out.data(), 4}, {}), InvalidInput);
}

// The prefetch distance is look-ups ahead, 0 for none, or kPrefetchAuto (the default): by row
// width, into L1 48 up to two cache lines, then about 96 lines' worth, at least 8; into L2 128
// lines' worth, at least 8.
TEST(Validation, PrefetchDistanceIsLookupsOrByRowWidth) {
  EXPECT_EQ(auto_prefetch_distance(4), 48);
  EXPECT_EQ(auto_prefetch_distance(64), 48);
  EXPECT_EQ(auto_prefetch_distance(128), 48);
  EXPECT_EQ(auto_prefetch_distance(256), 24);
  EXPECT_EQ(auto_prefetch_distance(512), 12);
  EXPECT_EQ(auto_prefetch_distance(4096), 8);
  EXPECT_EQ(auto_prefetch_distance(4, true), 128);  // into L2: no fill buffer held per line
  EXPECT_EQ(auto_prefetch_distance(64, true), 128);
  EXPECT_EQ(auto_prefetch_distance(65, true), 64);
  EXPECT_EQ(auto_prefetch_distance(256, true), 32);
  EXPECT_EQ(auto_prefetch_distance(512, true), 16);
  EXPECT_EQ(auto_prefetch_distance(4096, true), 8);
  // A measured lead (the machine profile's), per row width: up to 64, 128, 256 bytes, and wider.
  const L2PrefetchLead lead{{256, 64, 64, 256}};
  EXPECT_EQ(lead.lines_for(4), 256);
  EXPECT_EQ(lead.lines_for(65), 64);
  EXPECT_EQ(lead.lines_for(256), 64);
  EXPECT_EQ(lead.lines_for(257), 256);
  EXPECT_EQ(lead.lines_for(4096), 256);
  EXPECT_EQ(auto_prefetch_distance(64, true, lead), 256);
  EXPECT_EQ(auto_prefetch_distance(128, true, lead), 32);
  EXPECT_EQ(auto_prefetch_distance(256, true, lead), 16);
  EXPECT_EQ(auto_prefetch_distance(512, true, lead), 32);
  EXPECT_EQ(auto_prefetch_distance(64, false, lead), 48);  // into L1 the fill buffers decide
  const TableSpec spec = small_spec(10, 4);
  const Table table = Table::random(spec, 1, 1);
  const TableBatch tb = bags_of({0, 1}, {3});
  std::vector<float> out(4);
  KernelOptions opt;
  EXPECT_EQ(opt.prefetch_distance, kPrefetchAuto);
  EXPECT_EQ(run_flow(Flow::kGather, table.view(), tb.view(), {0, 1}, {0, 10}, {out.data(), 4}, opt).served, 1);
  opt.prefetch_distance = -3;
  EXPECT_THROW(run_flow(Flow::kGather, table.view(), tb.view(), {0, 1}, {0, 10}, {out.data(), 4}, opt), InvalidInput);
}

// Rows are prefetched only past L1, and there where most look-ups are first touches or the range
// has more rows than L2 keeps (kPrefetchRowsAbove in kernels.h).
TEST(Validation, RowsArePrefetchedForFirstTouchesOrPastL2) {
  KernelOptions opt;
  opt.prefetch_rows_beyond = 4096;
  const auto rows = [&](std::size_t row_bytes, std::int64_t range_rows, double lookups) {
    return row_prefetch(opt, row_bytes, range_rows, lookups).rows;
  };
  EXPECT_FALSE(rows(64, 1024, 10));           // 64 KiB: stays in L1 while served
  EXPECT_TRUE(rows(64, 1025, 1025.0 * 31));   // past L1, 31 look-ups a row
  EXPECT_FALSE(rows(64, 1025, 1025.0 * 32));  // 32 a row: mostly hits in L1 and L2
  EXPECT_FALSE(rows(512, 4096, 4096.0 * 40));
  EXPECT_TRUE(rows(512, 4097, 4097.0 * 40));  // more rows than L2 keeps: misses whatever the reuse
  EXPECT_TRUE(rows(64, 16384, 1e9));
  opt.prefetch_distance = 0;
  EXPECT_FALSE(rows(64, 16384, 1));
}

// Rows go to L2 by default from a range size that depends on the row width and the vendor's
// rule (kernels.h); this CPU runs one of the two.
TEST(Validation, PrefetchLevelIsL2FromARangeSizeByRowWidthAndVendor) {
  constexpr std::size_t KiB = std::size_t{1} << 10, MiB = KiB << 10;
  const auto intel = L2PrefetchRule::kIntel, amd = L2PrefetchRule::kAmd;
  EXPECT_EQ(l2_prefetch_from_bytes(64, intel), 16 * MiB);
  EXPECT_EQ(l2_prefetch_from_bytes(128, intel), 16 * MiB);
  EXPECT_EQ(l2_prefetch_from_bytes(256, intel), 512 * MiB);
  EXPECT_EQ(l2_prefetch_from_bytes(512, intel), SIZE_MAX);
  EXPECT_EQ(l2_prefetch_from_bytes(32, amd), 128 * KiB);
  EXPECT_EQ(l2_prefetch_from_bytes(64, amd), 128 * KiB);
  EXPECT_EQ(l2_prefetch_from_bytes(100, amd), 512 * KiB);
  EXPECT_EQ(l2_prefetch_from_bytes(256, amd), MiB);
  EXPECT_EQ(l2_prefetch_from_bytes(4096, amd), 4 * MiB);
  EXPECT_EQ(describe_l2_prefetch_rule(intel),
            "L2 for rows of up to 128 bytes from 16.0 MiB, up to 256 bytes from 512.0 MiB of the table, else L1 "
            "(Intel rule)");
  EXPECT_EQ(describe_l2_prefetch_rule(amd),
            "L2 for rows of up to 64 bytes from 128.0 KiB, up to 128 bytes from 512.0 KiB, up to 256 bytes from "
            "1.0 MiB, wider from 4.0 MiB of the table, else L1 (AMD rule)");
  const std::size_t from = l2_prefetch_from_bytes(64, this_cpu_l2_prefetch_rule());
  EXPECT_TRUE(prefetch_rows_to_l2(64, from));
  EXPECT_FALSE(prefetch_rows_to_l2(64, from - 1));
  EXPECT_EQ(parse_prefetch_level("auto"), PrefetchLevel::kAuto);
  EXPECT_EQ(parse_prefetch_level("l2"), PrefetchLevel::kL2);
  EXPECT_EQ(parse_prefetch_level("L1"), PrefetchLevel::kL1);
  EXPECT_THROW(parse_prefetch_level("l3"), InvalidInput);
  EXPECT_EQ(KernelOptions{}.prefetch_level, PrefetchLevel::kAuto);
}

TEST(Validation, ResidentCopyRefusedAboveBudget) {
  const Table table = Table::random(small_spec(1000, 16), 1, 1);
  EXPECT_THROW(ResidentCopy::make(table.view(), {0, 1000}, 1000 * 64 - 1), CapacityError);
  EXPECT_NO_THROW(ResidentCopy::make(table.view(), {0, 1000}, 1000 * 64));
}

TEST(Validation, RunnerRejectsDimMismatchAndNamesTheTable) {
  ModelSpec model{"m", {small_spec(10, 8)}, {}};
  model.tables[0].name = "wide";
  const Table table = Table::random(small_spec(10, 4), 1, 1);
  const TableView v = table.view();
  try {
    ModelRunner runner(model, {&v}, {Flow::kGather}, default_runner_options());
    FAIL() << "no error";
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("table 'wide'"));
    EXPECT_THAT(e.what(), HasSubstr("[10, 4]"));
  }
}

}  // namespace
}  // namespace embflow
