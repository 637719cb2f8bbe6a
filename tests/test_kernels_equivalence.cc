// Every flow x ISA level against exact arithmetic, over dims that hit every SIMD tail, both
// poolings, weights, both index widths, several distributions and both row types.
//
// Tolerance rule (include/embflow/check.h): |out - exact| <= (L + R) * FLT_EPSILON * s * sum|w x|
// + FLT_MIN per element, exact computed in double; R = 2, plus 2 per extra partial sum.
// Outputs are written into rows padded with NaN sentinels to catch writes past a row's end,
// and bags outside the slice must stay untouched.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "embflow/check.h"
#include "test_util.h"

namespace embflow {
namespace {

using testing::make_bags;
using testing::small_spec;
using testing::test_seed;

constexpr int kDims[] = {1, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 128, 129, 256};
constexpr int kPad = 5;  // sentinel floats after each output row

struct Case {
  Flow flow;
  Isa isa;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = fmt::format("{}_{}", to_string(info.param.flow), to_string(info.param.isa));
  for (char& c : s) {
    if (c == '-') c = '_';
  }
  return s;
}

std::vector<Case> all_cases() {
  std::vector<Case> out;
  for (Flow f : kAllFlows) {
    for (Isa i : {Isa::kGeneric, Isa::kAvx2, Isa::kAvx512}) out.push_back({f, i});
  }
  return out;
}

class FlowEquivalence : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    bool ok = false;
    for (Isa i : supported_isas()) ok |= i == GetParam().isa;
    if (!ok) GTEST_SKIP() << "this CPU does not run " << to_string(GetParam().isa);
  }

  // The view the case's flow reads `rows` of `table` from: the table itself, or for the resident
  // flows a copy of those rows made into `copy`.
  static TableView flow_view(const TableView& table, RowRange rows, ResidentCopy& copy) {
    if (!is_resident(GetParam().flow)) return table;
    copy = ResidentCopy::make(table, rows, table.bytes());
    return copy.view();
  }

  // Runs the flow on [slice] x [rows] (split into `parts` row ranges accumulated together) and
  // checks the output against exact arithmetic, the sentinels and the untouched bags.
  void run_and_check(const Table& table, const TableBatch& tb, Pooling pooling, BagRange slice, RowRange rows,
                     int parts, std::size_t tile_bytes) {
    const Case c = GetParam();
    const int dim = table.spec().dim;
    const std::int64_t stride = dim + kPad;
    const std::int64_t nb = tb.num_bags();
    std::vector<float> out(static_cast<std::size_t>(std::max<std::int64_t>(nb, 1) * stride), NAN);
    KernelOptions opt;
    opt.pooling = pooling;
    opt.tile_bytes = tile_bytes;
    opt.prefetch_distance = 4;
    opt.prefetch_level = dim % 2 ? PrefetchLevel::kL2 : PrefetchLevel::kL1;  // both prefetch paths, every flow and ISA
    // Rows prefetched or not (the output's are either way): each with both levels and poolings.
    opt.prefetch_rows_above =
        (dim / 2 + static_cast<int>(pooling)) % 2 ? 0 : std::numeric_limits<std::size_t>::max();
    opt.prefetch_rows_beyond = 0;  // so that prefetch_rows_above alone decides
    const BagsView bags = tb.view();
    for (int p = 0; p < parts; ++p) {
      const RowRange part{rows.begin + rows.size() * p / parts, rows.begin + rows.size() * (p + 1) / parts};
      opt.accumulate = p > 0;
      ResidentCopy copy;
      const TableView view = flow_view(table.view(), part, copy);
      run_flow(c.flow, view, bags, slice, part, {out.data(), stride}, opt, c.isa);
    }
    const CheckResult r =
        check_pooled_lookup(table.view(), bags, slice, rows, {out.data(), stride}, pooling, 2 * parts);
    ASSERT_TRUE(r.ok()) << "worst err/bound " << r.worst_ratio << " at bag " << r.worst_bag << " col " << r.worst_col
                        << ", max |err| " << r.max_abs_error;
    for (std::int64_t b = 0; b < nb; ++b) {
      const bool inside = b >= slice.begin && b < slice.end;
      for (std::int64_t j = inside ? dim : 0; j < stride; ++j) {
        ASSERT_TRUE(std::isnan(out[b * stride + j])) << "wrote outside its rows: bag " << b << " col " << j;
      }
    }
  }
};

TEST_P(FlowEquivalence, MatchesExactArithmetic) {
  const std::uint64_t seed = test_seed();
  SCOPED_TRACE(fmt::format("seed {} (EMBFLOW_TEST_SEED)", seed));
  int n = 0;
  for (RowType type : {RowType::kFp32, RowType::kFp16}) {
    for (int dim : kDims) {
      const TableSpec spec = small_spec(97 + dim, dim, type);
      const Table table = Table::random(spec, seed + dim, 1);
      for (const char* dist : {"uniform", "zipf:1.2", "hot-rows:3"}) {
        for (IndexType it : {IndexType::kInt32, IndexType::kInt64}) {
          for (bool weighted : {false, true}) {
            const TableBatch tb = make_bags(spec, 23, dist, it, weighted, seed + n++);
            for (Pooling pooling : {Pooling::kSum, Pooling::kMean}) {
              SCOPED_TRACE(fmt::format("{} dim {} dist {} {} {} {}", to_string(type), dim, dist,
                                       it == IndexType::kInt32 ? "int32" : "int64", weighted ? "weighted" : "unweighted",
                                       to_string(pooling)));
              // Whole batch, whole table; several tiles of 1 KiB for the tile-scan flows.
              run_and_check(table, tb, pooling, {0, 23}, {0, spec.rows}, 1, 1024);
              if (HasFatalFailure()) return;
            }
          }
        }
      }
    }
  }
}

TEST_P(FlowEquivalence, SlicesAndRowRangeSplitsAddUp) {
  const std::uint64_t seed = test_seed();
  SCOPED_TRACE(fmt::format("seed {}", seed));
  // Both row types and with or without weights: a gather over a row range leaves out the other
  // rows by masked loads of no lanes, per row type and ISA (pool_kernels.inc, LeanBags), also
  // in rows of 16 vectors, pooled in one pass (dims 64, 128 and 256 for 4, 8 and 16 lanes).
  for (RowType type : {RowType::kFp32, RowType::kFp16}) {
    for (int dim : {1, 16, 33, 64, 128, 129, 256}) {
      const TableSpec spec = small_spec(1000, dim, type, 0, 30);
      const Table table = Table::random(spec, seed, 1);
      for (bool weighted : {true, false}) {
        const TableBatch tb = make_bags(spec, 64, "zipf:1.05", IndexType::kInt64, weighted, seed + dim);
        for (int parts : {1, 2, 3, 7}) {
          for (Pooling pooling : {Pooling::kSum, Pooling::kMean}) {
            SCOPED_TRACE(fmt::format("{} dim {} {} parts {} {}", to_string(type), dim, weighted ? "weighted" : "unweighted",
                                     parts, to_string(pooling)));
            run_and_check(table, tb, pooling, {5, 50}, {0, spec.rows}, parts, 2048);
            // A row range that is not the whole table: only its rows count.
            run_and_check(table, tb, pooling, {0, 64}, {100, 900}, parts, 512);
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

// Criteo's bags hold one look-up each, and the gathers serve runs of such bags with a loop of
// their own: long runs, runs ended by an empty bag, a bag of several rows, a slice's end, or (on
// row ranges) a row of another range, and runs shorter than the prefetch distance.
TEST_P(FlowEquivalence, RunsOfOneRowBags) {
  const std::uint64_t seed = test_seed();
  std::mt19937_64 rng(seed);
  const std::int64_t nb = 300;
  for (RowType type : {RowType::kFp32, RowType::kFp16}) {
    for (int dim : {1, 3, 16, 17, 33, 64, 100, 128, 129}) {
      const TableSpec spec = small_spec(1000, dim, type);
      const Table table = Table::random(spec, seed + dim, 1);
      std::vector<std::int64_t> sizes(nb, 1);
      sizes[37] = 0;
      sizes[150] = 3;
      sizes[151] = 2;
      sizes[290] = 0;
      std::vector<std::int64_t> offsets{0}, indices;
      for (std::int64_t size : sizes) {
        for (std::int64_t k = 0; k < size; ++k) indices.push_back(static_cast<std::int64_t>(rng() % 1000));
        offsets.push_back(static_cast<std::int64_t>(indices.size()));
      }
      std::vector<float> weights(indices.size());
      for (float& w : weights) w = static_cast<float>(rng() % 2001) / 1000.0f - 1.0f;
      for (IndexType it : {IndexType::kInt32, IndexType::kInt64}) {
        for (bool weighted : {false, true}) {
          const TableBatch tb = TableBatch::from_vectors(offsets, indices, it, weighted ? weights : std::vector<float>{});
          for (Pooling pooling : {Pooling::kSum, Pooling::kMean}) {
            SCOPED_TRACE(fmt::format("{} dim {} {} {} {}", to_string(type), dim,
                                     it == IndexType::kInt32 ? "int32" : "int64", weighted ? "weighted" : "unweighted",
                                     to_string(pooling)));
            run_and_check(table, tb, pooling, {0, nb}, {0, spec.rows}, 1, 4096);
            run_and_check(table, tb, pooling, {38, 296}, {0, spec.rows}, 1, 4096);
            run_and_check(table, tb, pooling, {297, nb}, {0, spec.rows}, 1, 4096);  // shorter than the prefetch
            run_and_check(table, tb, pooling, {0, nb}, {250, 750}, 2, 4096);
            if (HasFatalFailure()) return;
          }
        }
      }
    }
  }
}

TEST_P(FlowEquivalence, TileSizesFromOneRowToWholeTable) {
  const TableSpec spec = small_spec(300, 24, RowType::kFp16, 0, 12);
  const Table table = Table::random(spec, test_seed(), 1);
  const TableBatch tb = make_bags(spec, 40, "uniform", IndexType::kInt32, false, test_seed());
  for (std::size_t tile : {std::size_t{1}, std::size_t{48}, std::size_t{100}, std::size_t{4096}, std::size_t{1} << 20}) {
    SCOPED_TRACE(fmt::format("tile {} bytes", tile));
    run_and_check(table, tb, Pooling::kSum, {0, 40}, {0, spec.rows}, 1, tile);
    if (HasFatalFailure()) return;
  }
}

TEST_P(FlowEquivalence, StreamedOutputStoresMatch) {
  // stream_output takes effect on 64-byte aligned rows: full vectors are streamed, tails stored.
  const Case c = GetParam();
  for (int dim : {16, 17, 33, 64, 128, 256}) {
    for (int bag_max : {1, 5}) {  // one-row bags only (their own loop), or 0 to 5 (weighted)
      const TableSpec spec = small_spec(500, dim, RowType::kFp32, bag_max == 1 ? 1 : 0, bag_max);
      const Table table = Table::random(spec, test_seed(), 1);
      const TableBatch tb = make_bags(spec, 50, "uniform", IndexType::kInt64, bag_max > 1, test_seed() + dim);
      const std::int64_t stride = (dim + 15) / 16 * 16 + 16;
      Buffer out = Buffer::allocate(50 * stride * sizeof(float), Buffer::Pages::kSmall);
      auto* o = reinterpret_cast<float*>(out.data());
      for (Pooling pooling : {Pooling::kSum, Pooling::kMean}) {
        KernelOptions opt;
        opt.pooling = pooling;
        opt.stream_output = true;
        ResidentCopy copy;
        const TableView view = flow_view(table.view(), {0, spec.rows}, copy);
        run_flow(c.flow, view, tb.view(), {0, 50}, {0, spec.rows}, {o, stride}, opt, c.isa);
        const CheckResult r = check_pooled_lookup(table.view(), tb.view(), {0, 50}, {0, spec.rows}, {o, stride}, pooling);
        EXPECT_TRUE(r.ok()) << "dim " << dim << " bags of up to " << bag_max << " ratio " << r.worst_ratio;
      }
    }
  }
}

// A table that does not start on a cache line (numpy's large arrays start 16 bytes past one):
// its full rows are gathered by the lean loops where they are not prefetched, by the general
// loop where they are.
TEST_P(FlowEquivalence, TablesOffTheCacheLine) {
  const Case c = GetParam();
  for (RowType type : {RowType::kFp32, RowType::kFp16}) {
    for (int dim : {16, 24, 32, 48, 64, 128, 256}) {
      for (int bag_max : {1, 5}) {
        const TableSpec spec = small_spec(300, dim, type, bag_max == 1 ? 1 : 0, bag_max);
        const Table table = Table::random(spec, test_seed() + dim, 1);
        const TableView aligned = table.view();
        std::vector<std::byte> shifted(aligned.bytes() + 64);
        const std::size_t skew = 16 + (64 - reinterpret_cast<std::uintptr_t>(shifted.data()) % 64) % 64;
        std::memcpy(shifted.data() + skew, aligned.data, aligned.bytes());
        TableView view = aligned;
        view.data = shifted.data() + skew;
        const TableBatch tb = make_bags(spec, 60, "uniform", IndexType::kInt32, bag_max > 1, test_seed() + dim);
        std::vector<float> out(60u * dim);
        for (std::size_t above : {std::size_t{0}, std::numeric_limits<std::size_t>::max()}) {
          KernelOptions opt;
          opt.prefetch_distance = 4;
          opt.prefetch_rows_above = above;
          opt.prefetch_rows_beyond = 0;
          ResidentCopy copy;
          const TableView v = flow_view(view, {0, spec.rows}, copy);
          run_flow(c.flow, v, tb.view(), {0, 60}, {0, spec.rows}, {out.data(), dim}, opt, c.isa);
          const CheckResult r =
              check_pooled_lookup(view, tb.view(), {0, 60}, {0, spec.rows}, {out.data(), dim}, Pooling::kSum);
          EXPECT_TRUE(r.ok()) << to_string(type) << " dim " << dim << " bags of up to " << bag_max
                              << (above == 0 ? ", rows prefetched" : ", rows not prefetched") << ": ratio "
                              << r.worst_ratio;
        }
      }
    }
  }
}

// Every index of a bag is checked against the item's rows: bags of 0 to 40 look-ups, each with
// one index outside the item's rows at each position in turn (below them, above them, negative,
// or far past the table), among indices inside, as int32 and int64. A row missed there would be
// added. (A check of a bag's indices at once, by vector compares, was tried: docs/BENCHMARKS.md.)
TEST_P(FlowEquivalence, EveryIndexOfABagIsChecked) {
  const Case c = GetParam();
  const TableSpec spec = small_spec(200, 16);
  const Table table = Table::random(spec, test_seed(), 1);
  const RowRange rows{50, 150};
  std::mt19937_64 rng(test_seed());
  std::vector<std::int64_t> offsets{0}, indices;
  for (int n = 0; n <= 40; ++n) {
    for (int bad = -1; bad < n; ++bad) {  // -1: none outside
      for (int k = 0; k < n; ++k) {
        static constexpr std::int64_t kOutside[] = {49, 150, -1, std::int64_t{1} << 40, 0, 199};
        indices.push_back(k == bad ? kOutside[(n + k) % 6] : rows.begin + static_cast<std::int64_t>(rng() % 100));
      }
      offsets.push_back(static_cast<std::int64_t>(indices.size()));
    }
  }
  const std::int64_t nb = static_cast<std::int64_t>(offsets.size()) - 1;
  for (IndexType it : {IndexType::kInt32, IndexType::kInt64}) {
    std::vector<std::int64_t> idx = indices;
    if (it == IndexType::kInt32) {
      for (auto& i : idx) i = i == std::int64_t{1} << 40 ? std::numeric_limits<std::int32_t>::max() : i;
    }
    const TableBatch tb = TableBatch::from_vectors(offsets, idx, it);
    std::vector<float> out(static_cast<std::size_t>(nb) * 16);
    ResidentCopy copy;
    const TableView view = flow_view(table.view(), rows, copy);
    // A bag at a time: after a bag with a row outside, the rest of a slice goes to the general loop.
    std::int64_t served = 0, inside = 0;
    for (std::int64_t b = 0; b < nb; ++b) {
      served += run_flow(c.flow, view, tb.view(), {b, b + 1}, rows, {out.data(), 16}, KernelOptions{}, c.isa).served;
    }
    for (std::int64_t i : idx) inside += i >= rows.begin && i < rows.end;
    EXPECT_EQ(served, inside);
    const CheckResult r = check_pooled_lookup(table.view(), tb.view(), {0, nb}, rows, {out.data(), 16}, Pooling::kSum);
    EXPECT_TRUE(r.ok()) << (it == IndexType::kInt32 ? "int32" : "int64") << ": bag " << r.worst_bag << " ratio "
                        << r.worst_ratio;
  }
}

// A view whose rows start past 2^31: no int32 index reaches them, not even the negative ones
// that a 32-bit difference would take for its rows.
TEST_P(FlowEquivalence, RowsPast2To31) {
  const Case c = GetParam();
  if (is_resident(c.flow)) GTEST_SKIP() << "resident copies are views of their own";
  const TableSpec spec = small_spec(100, 16);
  const Table table = Table::random(spec, test_seed(), 1);
  TableView view = table.view();
  view.first_row = (std::int64_t{1} << 31) + 5;
  const RowRange rows{view.first_row, view.end_row()};
  std::vector<std::int64_t> offsets{0}, small, large;
  for (int b = 0; b < 30; ++b) {
    for (int k = 0; k < 20; ++k) {
      const std::int64_t r = (b * 20 + k) % 100;
      // Below the view; and negative ones that a 32-bit difference would take for the view's rows.
      small.push_back(b % 2 ? r + 5 : std::numeric_limits<std::int32_t>::min() + 5 + r);
      large.push_back(view.first_row + r);
    }
    offsets.push_back(static_cast<std::int64_t>(small.size()));
  }
  std::vector<float> out(30 * 16, NAN);
  const TableBatch tb32 = TableBatch::from_vectors(offsets, small, IndexType::kInt32);
  EXPECT_EQ(run_flow(c.flow, view, tb32.view(), {0, 30}, rows, {out.data(), 16}, KernelOptions{}, c.isa).served, 0);
  for (float x : out) EXPECT_EQ(x, 0.0f);
  const TableBatch tb64 = TableBatch::from_vectors(offsets, large, IndexType::kInt64);
  EXPECT_EQ(run_flow(c.flow, view, tb64.view(), {0, 30}, rows, {out.data(), 16}, KernelOptions{}, c.isa).served, 600);
  const CheckResult r = check_pooled_lookup(view, tb64.view(), {0, 30}, rows, {out.data(), 16}, Pooling::kSum);
  EXPECT_TRUE(r.ok()) << "bag " << r.worst_bag << " ratio " << r.worst_ratio;
}

INSTANTIATE_TEST_SUITE_P(AllFlowsAllIsas, FlowEquivalence, ::testing::ValuesIn(all_cases()), case_name);

TEST(Reference, MeetsItsOwnToleranceRule) {
  for (int dim : kDims) {
    const TableSpec spec = small_spec(200, dim, RowType::kFp32, 0, 50);
    const Table table = Table::random(spec, test_seed(), 1);
    const TableBatch tb = make_bags(spec, 31, "zipf:1.05", IndexType::kInt64, true, test_seed());
    std::vector<float> out(31u * dim);
    for (Pooling p : {Pooling::kSum, Pooling::kMean}) {
      KernelOptions opt;
      opt.pooling = p;
      pooled_lookup_ref(table.view(), tb.view(), {0, 31}, {0, spec.rows}, {out.data(), dim}, opt);
      const CheckResult r = check_pooled_lookup(table.view(), tb.view(), {0, 31}, {0, spec.rows}, {out.data(), dim}, p);
      EXPECT_TRUE(r.ok()) << "dim " << dim << " ratio " << r.worst_ratio;
    }
  }
}

TEST(Check, CatchesAWrongAnswer) {
  const TableSpec spec = small_spec(50, 8);
  const Table table = Table::random(spec, 3, 1);
  const TableBatch tb = make_bags(spec, 10, "uniform", IndexType::kInt64, false, 3);
  std::vector<float> out(80);
  pooled_lookup_ref(table.view(), tb.view(), {0, 10}, {0, 50}, {out.data(), 8}, KernelOptions{});
  out[8 * 4 + 3] += 1e-3f;
  const CheckResult r = check_pooled_lookup(table.view(), tb.view(), {0, 10}, {0, 50}, {out.data(), 8}, Pooling::kSum);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.worst_bag, 4);
  EXPECT_EQ(r.worst_col, 3);
}

}  // namespace
}  // namespace embflow
