// The model runner: every flow on a whole (row-capped) model equals exact arithmetic.
#include <gmock/gmock.h>

#include "embflow/check.h"
#include "embflow/error.h"
#include "embflow/runner.h"
#include "embflow/topology.h"
#include "test_util.h"

namespace embflow {
namespace {

TEST(ModelRunner, EveryFlowOnCriteoShapesMatchesExactArithmetic) {
  ModelSpec model = preset_model("criteo-kaggle");
  apply_overrides(model, {.dim = 20, .max_rows = 30000, .bag_size = BagSizeSpec{0, 4}});
  model.tables[5].pooling = Pooling::kMean;
  std::vector<Table> tables;
  std::vector<TableView> views;
  for (const auto& s : model.tables) tables.push_back(Table::random(s, testing::test_seed(), 1));
  for (const auto& t : tables) views.push_back(t.view());
  std::vector<const TableView*> ptrs;
  for (const auto& v : views) ptrs.push_back(&v);
  WorkloadOptions w;
  w.batch_size = 100;
  w.distribution = Distribution::parse("zipf:1.05");
  w.weighted = true;
  const Batch batch = generate_batch(model, w);
  RunnerOptions opt = default_runner_options();
  opt.resident_budget = 1 << 20;
  for (Flow f : kAllFlows) {
    std::vector<Flow> flows(model.tables.size());
    for (std::size_t t = 0; t < flows.size(); ++t) flows[t] = fit_flow(f, model.tables[t].bytes(), opt.resident_budget);
    ModelRunner runner(model, ptrs, flows, opt);
    std::vector<float> out(100u * model.total_dim());
    runner.run(batch, out.data());
    int col = 0;
    for (std::size_t t = 0; t < model.tables.size(); ++t) {
      const CheckResult r = check_pooled_lookup(views[t], batch.tables[t].view(), {0, 100}, {0, model.tables[t].rows},
                                                {out.data() + col, model.total_dim()}, model.tables[t].pooling);
      EXPECT_TRUE(r.ok()) << to_string(f) << " table " << t << " ratio " << r.worst_ratio;
      col += model.tables[t].dim;
    }
  }
}

TEST(ModelRunner, ResidentAboveBudgetNamesTheTable) {
  ModelSpec model{"m", {testing::small_spec(1000, 16)}, {}};
  model.tables[0].name = "big";
  const Table t = Table::random(model.tables[0], 1, 1);
  const TableView v = t.view();
  RunnerOptions opt = default_runner_options();
  opt.resident_budget = 1000;
  try {
    ModelRunner r(model, {&v}, {Flow::kResident}, opt);
    FAIL();
  } catch (const CapacityError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("table 'big'"));
  }
  bool fell_back = false;
  EXPECT_EQ(fit_flow(Flow::kResidentTileScan, 64000, 1000, &fell_back), Flow::kTileScan);
  EXPECT_TRUE(fell_back);
  EXPECT_EQ(fit_flow(Flow::kResident, 64000, 64000, &fell_back), Flow::kResident);
  EXPECT_FALSE(fell_back);
}

TEST(ModelRunner, BoundsPoliciesApplyPerBatch) {
  ModelSpec model{"m", {testing::small_spec(10, 4)}, {}};
  const Table t = Table::random(model.tables[0], 1, 1);
  const TableView v = t.view();
  Batch batch{2, {TableBatch::from_vectors({0, 1, 2}, {3, 10}, IndexType::kInt64)}};
  RunnerOptions opt = default_runner_options();
  std::vector<float> out(8);
  {
    ModelRunner r(model, {&v}, {Flow::kGather}, opt);
    EXPECT_THROW(r.run(batch, out.data()), InvalidInput);
  }
  opt.bounds = BoundsPolicy::kSkip;
  ModelRunner skip(model, {&v}, {Flow::kGather}, opt);
  skip.run(batch, out.data());
  for (int j = 0; j < 4; ++j) EXPECT_EQ(out[4 + j], 0.0f);
  opt.bounds = BoundsPolicy::kClamp;
  ModelRunner clamp(model, {&v}, {Flow::kTileScan}, opt);
  clamp.run(batch, out.data());
  for (int j = 0; j < 4; ++j) EXPECT_EQ(out[4 + j], reinterpret_cast<const float*>(v.row(9))[j]);
}

// `embflow info` says whether tables can have huge pages: the kernel's setting is the bracketed
// word of /sys/kernel/mm/transparent_hugepage/enabled.
TEST(Machine, HugePageModeIsTheBracketedChoice) {
  EXPECT_EQ(selected_sysfs_choice("always [madvise] never\n"), "madvise");
  EXPECT_EQ(selected_sysfs_choice("[always] madvise never"), "always");
  EXPECT_EQ(selected_sysfs_choice("always madvise [never]"), "never");
  EXPECT_EQ(selected_sysfs_choice("always madvise never"), "");
  EXPECT_EQ(selected_sysfs_choice("[never"), "");
  EXPECT_EQ(selected_sysfs_choice(""), "");
  EXPECT_THAT(describe_machine().huge_pages, ::testing::AnyOf("", "always", "madvise", "never"));
}

}  // namespace
}  // namespace embflow
