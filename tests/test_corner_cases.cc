// The hard cases, by name, for every flow and ISA.
#include <cmath>

#include <fmt/format.h>

#include "embflow/check.h"
#include "embflow/error.h"
#include "test_util.h"

namespace embflow {
namespace {

using testing::small_spec;

// Runs every flow x supported ISA on (table, bags) and checks against exact arithmetic.
void expect_all_flows_correct(const Table& table, const TableBatch& tb, Pooling pooling = Pooling::kSum) {
  const std::int64_t nb = tb.num_bags();
  const int dim = table.spec().dim;
  for (Flow f : kAllFlows) {
    for (Isa isa : supported_isas()) {
      SCOPED_TRACE(fmt::format("{} {}", to_string(f), to_string(isa)));
      std::vector<float> out(static_cast<std::size_t>(std::max<std::int64_t>(nb, 1) * dim), NAN);
      ResidentCopy copy;
      TableView view = table.view();
      if (is_resident(f)) {
        copy = ResidentCopy::make(view, {0, view.rows}, view.bytes());
        view = copy.view();
      }
      KernelOptions opt;
      opt.pooling = pooling;
      opt.tile_bytes = 256;
      run_flow(f, view, tb.view(), {0, nb}, {0, view.rows}, {out.data(), dim}, opt, isa);
      const CheckResult r = check_pooled_lookup(table.view(), tb.view(), {0, nb}, {0, view.rows}, {out.data(), dim}, pooling);
      EXPECT_TRUE(r.ok()) << "ratio " << r.worst_ratio << " bag " << r.worst_bag;
    }
  }
}

TableBatch bags_of(std::vector<std::int64_t> offsets, std::vector<std::int64_t> indices, std::vector<float> w = {}) {
  return TableBatch::from_vectors(std::move(offsets), std::move(indices), IndexType::kInt64, std::move(w));
}

TEST(CornerCases, EmptyBatch) {
  const Table table = Table::random(small_spec(10, 16), 1, 1);
  expect_all_flows_correct(table, bags_of({0}, {}));
}

TEST(CornerCases, EmptyBagsGiveZeros) {
  const Table table = Table::random(small_spec(10, 17), 1, 1);
  const TableBatch tb = bags_of({0, 0, 2, 2, 2, 3}, {4, 5, 9});
  for (Pooling p : {Pooling::kSum, Pooling::kMean}) expect_all_flows_correct(table, tb, p);
  // And exactly zero, not NaN or stale data.
  std::vector<float> out(5 * 17, 7.0f);
  run_flow(Flow::kTileScan, table.view(), tb.view(), {0, 5}, {0, 10}, {out.data(), 17}, KernelOptions{});
  run_flow(Flow::kGather, table.view(), tb.view(), {0, 1}, {0, 10}, {out.data(), 17}, KernelOptions{});
  for (int j = 0; j < 17; ++j) {
    EXPECT_EQ(out[j], 0.0f);
    EXPECT_EQ(out[3 * 17 + j], 0.0f);
  }
}

TEST(CornerCases, OneRowTable) {
  const Table table = Table::random(small_spec(1, 33), 1, 1);
  expect_all_flows_correct(table, bags_of({0, 1, 4, 4}, {0, 0, 0, 0}));
}

// A view of row stride 0 reads its first row for every index (embflow run times a batch's own
// arrays and output that way); the gather kernels must agree with the reference on it, weighted
// or not, and the other flows refuse it.
TEST(CornerCases, ZeroStrideViewGathersItsFirstRow) {
  const Table table = Table::random(small_spec(1000, 16), 5, 1);
  TableView view = table.view();
  view.row_stride = 0;
  std::vector<std::int64_t> offsets{0}, idx;
  std::vector<float> w;
  for (int b = 0; b < 300; ++b) {
    for (int k = 0; k < b % 4; ++k) {
      idx.push_back((b * 37 + k * 11) % 1000);
      w.push_back(0.25f * static_cast<float>(k + 1));
    }
    offsets.push_back(static_cast<std::int64_t>(idx.size()));
  }
  for (bool weighted : {false, true}) {
    const TableBatch tb = bags_of(offsets, idx, weighted ? w : std::vector<float>{});
    for (Isa isa : supported_isas()) {
      SCOPED_TRACE(fmt::format("{} weighted {}", to_string(isa), weighted));
      std::vector<float> out(300 * 16, NAN);
      run_flow(Flow::kGather, view, tb.view(), {0, 300}, {0, 1000}, {out.data(), 16}, KernelOptions{}, isa);
      const CheckResult r = check_pooled_lookup(view, tb.view(), {0, 300}, {0, 1000}, {out.data(), 16}, Pooling::kSum);
      EXPECT_TRUE(r.ok()) << "ratio " << r.worst_ratio << " bag " << r.worst_bag;
      if (!weighted) {  // bag 3: three look-ups, all of row 0
        EXPECT_EQ(out[3 * 16 + 5], 3 * reinterpret_cast<const float*>(view.data)[5]);
      }
    }
  }
  std::vector<float> out(16);
  const TableBatch one = bags_of({0, 1}, {0});
  for (Flow f : {Flow::kResident, Flow::kTileScan, Flow::kResidentTileScan}) {
    EXPECT_THROW(run_flow(f, view, one.view(), {0, 1}, {0, 1000}, {out.data(), 16}, KernelOptions{}), InvalidInput);
  }
}

TEST(CornerCases, DuplicateIndices) {
  const Table table = Table::random(small_spec(50, 64), 2, 1);
  expect_all_flows_correct(table, bags_of({0, 6, 9}, {7, 7, 7, 3, 7, 3, 49, 49, 49}, {1, 2, 3, 4, 5, 6, 0.5f, -1, 2}),
                           Pooling::kMean);
}

TEST(CornerCases, HugeBag) {
  const Table table = Table::random(small_spec(5000, 16), 3, 1);
  std::vector<std::int64_t> idx(200000);
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<std::int64_t>((i * 2654435761u) % 5000);
  expect_all_flows_correct(table, bags_of({0, 3, 200000}, idx));
}

TEST(CornerCases, Fp16SpecialValuesConvert) {
  // Subnormal, max finite and negative zero halves must convert exactly in every ISA.
  TableSpec spec = small_spec(4, 9, RowType::kFp16);
  Table table = Table::allocate(spec);
  auto* h = reinterpret_cast<std::uint16_t*>(table.mutable_data());
  const std::uint16_t values[] = {0x0001, 0x03ff, 0x7bff, 0x8000, 0x3c00, 0xc000, 0x0400, 0x5640, 0x2e66};
  for (int r = 0; r < 4; ++r) {
    for (int j = 0; j < 9; ++j) h[r * 9 + j] = values[(r + j) % 9];
  }
  expect_all_flows_correct(table, bags_of({0, 1, 2, 4}, {0, 1, 2, 3}));
}

}  // namespace
}  // namespace embflow
