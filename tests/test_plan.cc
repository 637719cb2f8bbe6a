// Plans: the baselines' properties, validation of bad plans, JSON; the executor on pinned
// workers against exact arithmetic, with batch splits, row splits, resident copies and tile
// scans, and with several callers at once.
#include <gmock/gmock.h>

#include <algorithm>
#include <thread>

#include <nlohmann/json.hpp>

#include "embflow/check.h"
#include "embflow/error.h"
#include "embflow/executor.h"
#include "embflow/plan.h"
#include "embflow/topology.h"
#include "test_util.h"

namespace embflow {
namespace {

using ::testing::HasSubstr;

ModelSpec small_model() {
  ModelSpec m = preset_model("criteo-kaggle");
  apply_overrides(m, {.dim = 24, .max_rows = 20000, .bag_size = BagSizeSpec{0, 6}});
  m.tables[3].pooling = Pooling::kMean;
  return m;
}

int machine_cores() { return describe_machine().physical_cores; }

std::string plan_error(const Plan& p, const ModelSpec& m) {
  return testing::message_of<InvalidInput>([&] { validate_plan(p, m, machine_cores()); });
}

std::string plan_text_error(const std::string& json) {
  return testing::message_of<InvalidInput>([&] { parse_plan_json(json, "p.json"); });
}

TEST(Plans, BaselinesServeEveryLookupExactlyOnce) {
  const ModelSpec m = small_model();
  for (int cores = 1; cores <= machine_cores(); ++cores) {
    for (std::int64_t batch : {1, 7, 2048}) {
      EXPECT_NO_THROW(validate_plan(symmetric_plan(m, batch, cores), m, machine_cores()));
      std::vector<double> cost(m.tables.size());
      for (std::size_t t = 0; t < cost.size(); ++t) cost[t] = static_cast<double>(m.tables[t].rows);
      const Plan tw = table_wise_plan(m, batch, cores, cost);
      EXPECT_NO_THROW(validate_plan(tw, m, machine_cores()));
    }
  }
}

TEST(Plans, TableWiseBalancesPredictedCostLargestFirst) {
  const ModelSpec m = small_model();
  std::vector<double> cost(m.tables.size(), 1.0);
  cost[2] = 30.0;  // one heavy table: alone on a core, every other table on the other
  const Plan p = table_wise_plan(m, 64, 2, cost);
  ASSERT_EQ(p.items[0].size(), 1u);
  EXPECT_EQ(p.items[0][0].table, 2);
  EXPECT_EQ(p.items[1].size(), m.tables.size() - 1);
  EXPECT_EQ(plan_to_json(p), plan_to_json(table_wise_plan(m, 64, 2, cost)));  // deterministic
}

TEST(Plans, JsonRoundTrips) {
  const ModelSpec m = small_model();
  Plan p = symmetric_plan(m, 100, machine_cores());
  const Plan back = parse_plan_json(plan_to_json(p), "round trip");
  EXPECT_EQ(plan_to_json(back), plan_to_json(p));
  EXPECT_FALSE(back.l2_prefetch_lead.has_value());
  p.l2_prefetch_lead = L2PrefetchLead{{256, 128, 64, 32}};  // a profile's measured lead
  EXPECT_EQ(parse_plan_json(plan_to_json(p), "round trip").l2_prefetch_lead, p.l2_prefetch_lead);
}

TEST(Plans, BadPlansAreRefusedWithTheReason) {
  const ModelSpec m = small_model();
  Plan p = symmetric_plan(m, 100, 1);
  p.model = "dlrm-v2";
  EXPECT_THAT(plan_error(p, m), HasSubstr("plan is for model 'dlrm-v2'"));

  p = symmetric_plan(m, 100, 1);
  p.cores[0] = 999;
  EXPECT_THAT(plan_error(p, m), HasSubstr("uses core 999"));

  p = symmetric_plan(m, 100, 1);
  p.items[0].erase(p.items[0].begin() + 5);
  EXPECT_THAT(plan_error(p, m), HasSubstr("leaves table 't05' out"));

  p = symmetric_plan(m, 100, 1);
  p.items[0].push_back({7, Flow::kGather, {10, 20}, {0, 5}});
  EXPECT_THAT(plan_error(p, m), HasSubstr("serves table 't07' twice"));

  p = symmetric_plan(m, 100, 1);
  p.items[0][3].rows.end -= 1;
  EXPECT_THAT(plan_error(p, m), HasSubstr("leaves part of table 't03' unserved"));

  p = symmetric_plan(m, 100, 1);
  p.items[0][1].bags.end = 101;
  EXPECT_THAT(plan_error(p, m), HasSubstr("outside [0, 100)"));

  std::string json = plan_to_json(symmetric_plan(m, 10, 1));
  json.replace(json.find("\"gather\""), 8, "\"GM-XB\"");
  EXPECT_THAT(plan_text_error(json), HasSubstr("unknown flow 'GM-XB'"));
  EXPECT_THROW(parse_plan_json("{\"format\": \"embflow-plan\", \"version\": 9}", "p.json"), InvalidInput);
  nlohmann::json lead = nlohmann::json::parse(plan_to_json(symmetric_plan(m, 10, 1)));
  lead["l2_prefetch_lead_lines"] = {128, 0, 128, 128};
  EXPECT_THAT(plan_text_error(lead.dump()), HasSubstr("'l2_prefetch_lead_lines'[1] is 0"));
  lead["l2_prefetch_lead_lines"] = {128, 128};
  EXPECT_THAT(plan_text_error(lead.dump()), HasSubstr("must be 4 numbers of lines"));
}

class ExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = small_model();
    for (const auto& s : model_.tables) tables_.push_back(Table::random(s, testing::test_seed(), 1));
    for (const auto& t : tables_) views_.push_back(t.view());
    for (const auto& v : views_) ptrs_.push_back(&v);
  }

  Batch batch(std::uint64_t seed) const {
    WorkloadOptions w;
    w.batch_size = kBatch;
    w.distribution = Distribution::parse("zipf:1.05");
    w.weighted = true;
    w.seed = seed;
    return generate_batch(model_, w);
  }

  void expect_correct(const Batch& b, const std::vector<float>& out, int parts) const {
    int col = 0;
    for (std::size_t t = 0; t < model_.tables.size(); ++t) {
      const CheckResult r = check_pooled_lookup(views_[t], b.tables[t].view(), {0, kBatch}, {0, model_.tables[t].rows},
                                                {const_cast<float*>(out.data()) + col, model_.total_dim()},
                                                model_.tables[t].pooling, 2 * parts);
      EXPECT_TRUE(r.ok()) << "table " << t << " ratio " << r.worst_ratio << " bag " << r.worst_bag;
      col += model_.tables[t].dim;
    }
  }

  static constexpr std::int64_t kBatch = 300;
  ModelSpec model_;
  std::vector<Table> tables_;
  std::vector<TableView> views_;
  std::vector<const TableView*> ptrs_;
};

TEST_F(ExecutorTest, BaselinePlansMatchExactArithmetic) {
  std::vector<double> cost(model_.tables.size());
  for (std::size_t t = 0; t < cost.size(); ++t) cost[t] = static_cast<double>(model_.tables[t].rows);
  for (const Plan& plan : {symmetric_plan(model_, kBatch, machine_cores()), table_wise_plan(model_, kBatch, machine_cores(), cost)}) {
    PlanExecutor ex(model_, ptrs_, plan, default_runner_options());
    const Batch b = batch(3);
    std::vector<float> out(static_cast<std::size_t>(kBatch) * model_.total_dim(), NAN);
    ex.run(b, out.data());
    expect_correct(b, out, 1);
    EXPECT_EQ(ex.last_worker_seconds().size(), plan.workers());
  }
}

TEST_F(ExecutorTest, RowSplitsResidentCopiesAndTileScansAddUp) {
  // Table 2 split by rows over every core (partial sums reduced), table 3 split by rows and
  // bags, resident and tile-scan flows on slices; everything else symmetric.
  const int cores = machine_cores();
  Plan p = symmetric_plan(model_, kBatch, cores);
  for (auto& items : p.items) {
    std::erase_if(items, [](const WorkItem& it) { return it.table == 2 || it.table == 3 || it.table == 0; });
  }
  const std::int64_t rows2 = model_.tables[2].rows, rows3 = model_.tables[3].rows;
  for (int c = 0; c < cores; ++c) {
    p.items[c].push_back({2, c % 2 ? Flow::kTileScan : Flow::kResident, {0, kBatch}, {rows2 * c / cores, rows2 * (c + 1) / cores}});
  }
  p.items[0].push_back({3, Flow::kGather, {0, 100}, {0, rows3 / 3}});
  p.items[cores - 1].push_back({3, Flow::kResidentTileScan, {0, 100}, {rows3 / 3, rows3}});
  p.items[cores - 1].push_back({3, Flow::kTileScan, {100, kBatch}, {0, rows3}});
  p.items[0].push_back({0, Flow::kResidentTileScan, {0, kBatch}, {0, model_.tables[0].rows}});
  p.mapper = "manual";
  // The copies on core 0 take about 1.1 MB: a budget of their own, not this machine's L2 (1 MiB
  // on some of the machines this suite runs on).
  RunnerOptions runner = default_runner_options();
  runner.resident_budget = std::size_t{4} << 20;
  PlanExecutor ex(model_, ptrs_, p, runner);
  for (std::uint64_t seed : {1, 2}) {
    const Batch b = batch(seed);
    std::vector<float> out(static_cast<std::size_t>(kBatch) * model_.total_dim(), NAN);
    ex.run(b, out.data());
    expect_correct(b, out, cores);
  }
}

// A repaired batch runs twice (the second time on the repaired indices): row-range partial sums,
// added up by the last worker in both runs, come out as the repaired batch's.
TEST_F(ExecutorTest, RowSplitsOfARepairedTableAddUp) {
  const int cores = machine_cores();
  Plan p = symmetric_plan(model_, kBatch, cores);
  for (auto& items : p.items) std::erase_if(items, [](const WorkItem& it) { return it.table == 1; });
  const std::int64_t rows1 = model_.tables[1].rows;
  const int parts = std::max(cores, 2);  // partial sums even on one core
  for (int k = 0; k < parts; ++k) {
    p.items[static_cast<std::size_t>(k % cores)].push_back({1, Flow::kGather, {0, kBatch}, {rows1 * k / parts, rows1 * (k + 1) / parts}});
  }
  p.mapper = "manual";
  RunnerOptions clamp = default_runner_options();
  clamp.bounds = BoundsPolicy::kClamp;
  PlanExecutor ex(model_, ptrs_, p, clamp);
  Batch bad = batch(7);
  auto& idx = bad.tables[1].indices64;
  idx.front() = -2;
  idx[idx.size() / 2] = rows1 + 9;
  Batch clamped = bad;
  clamped.tables[1].indices64.front() = 0;
  clamped.tables[1].indices64[idx.size() / 2] = rows1 - 1;
  std::vector<float> out(static_cast<std::size_t>(kBatch) * model_.total_dim(), NAN);
  ex.run(bad, out.data());
  expect_correct(clamped, out, parts);
  const Batch good = batch(8);
  ex.run(good, out.data());
  expect_correct(good, out, parts);
}

TEST_F(ExecutorTest, ServesConcurrentCallers) {
  PlanExecutor ex(model_, ptrs_, symmetric_plan(model_, kBatch, machine_cores()), default_runner_options());
  std::vector<std::thread> callers;
  std::vector<Batch> batches;
  std::vector<std::vector<float>> outs(4, std::vector<float>(static_cast<std::size_t>(kBatch) * model_.total_dim()));
  for (int i = 0; i < 4; ++i) batches.push_back(batch(10 + i));
  for (int i = 0; i < 4; ++i) {
    callers.emplace_back([&, i] {
      for (int rep = 0; rep < 5; ++rep) ex.run(batches[i], outs[i].data());
    });
  }
  for (auto& c : callers) c.join();
  for (int i = 0; i < 4; ++i) expect_correct(batches[i], outs[i], 1);
}

TEST_F(ExecutorTest, BadBatchOrBudgetThrows) {
  PlanExecutor ex(model_, ptrs_, symmetric_plan(model_, kBatch, 1), default_runner_options());
  Batch b = batch(1);
  b.tables[4].indices64[7] = model_.tables[4].rows;  // out of range: found by the kernels
  std::vector<float> out(static_cast<std::size_t>(kBatch) * model_.total_dim(), 5.0f);
  EXPECT_THROW(ex.run(b, out.data()), InvalidInput);
  std::fill(out.begin(), out.end(), 5.0f);
  Batch small = batch(1);
  small.batch_size = 10;
  EXPECT_THROW(ex.run(small, out.data()), InvalidInput);
  Batch unequal = batch(1);
  unequal.tables[2].offsets64.back() += 1;  // offsets end past the indices: found before anything runs
  EXPECT_THROW(ex.run(unequal, out.data()), InvalidInput);
  for (float f : out) ASSERT_EQ(f, 5.0f);

  Plan p = symmetric_plan(model_, kBatch, 1);
  for (auto& it : p.items[0]) it.flow = Flow::kResident;  // every table resident on one core
  RunnerOptions tight = default_runner_options();
  tight.resident_budget = 1 << 20;
  try {
    PlanExecutor over(model_, ptrs_, p, tight);
    FAIL();
  } catch (const CapacityError& e) {
    EXPECT_THAT(e.what(), HasSubstr("core 0 holds"));
  }
}

// Bad input is found by the kernels of whichever worker reads it: the error is still the
// single-thread runner's, for the first bad table in model order; skip and clamp repair as the
// runner does; the batch after a bad one runs normally.
TEST_F(ExecutorTest, BadInputReportedAndRepairedAsTheRunnerDoes) {
  const int cores = machine_cores();
  const Plan plan = symmetric_plan(model_, kBatch, cores);
  Batch bad = batch(5);
  bad.tables[3].indices64.back() = -2;                      // the last index of table 3
  bad.tables[1].indices64[bad.tables[1].indices64.size() / 2] = model_.tables[1].rows + 9;
  bad.tables[4].offsets64[1] = bad.tables[4].offsets64[2] + 1;  // structural, in a later table
  std::vector<float> ref(static_cast<std::size_t>(kBatch) * model_.total_dim());
  std::vector<float> out(ref.size(), 5.0f);
  auto message = [&](auto&& run) { return testing::message_of<InvalidInput>(run); };
  RunnerOptions strict = default_runner_options();
  ModelRunner runner(model_, ptrs_, std::vector<Flow>(model_.tables.size(), Flow::kGather), strict);
  PlanExecutor ex(model_, ptrs_, plan, strict);
  const std::string expected = message([&] { runner.run(bad, ref.data()); });
  EXPECT_THAT(expected, HasSubstr("table 't01'"));
  EXPECT_EQ(message([&] { ex.run(bad, out.data()); }), expected);

  bad.tables[4] = batch(5).tables[4];  // only bad indices left: repaired
  for (BoundsPolicy policy : {BoundsPolicy::kSkip, BoundsPolicy::kClamp}) {
    RunnerOptions o = default_runner_options();
    o.bounds = policy;
    ModelRunner r(model_, ptrs_, std::vector<Flow>(model_.tables.size(), Flow::kGather), o);
    PlanExecutor e(model_, ptrs_, plan, o);
    r.run(bad, ref.data());
    e.run(bad, out.data());
    EXPECT_EQ(out, ref) << to_string(policy);
    const Batch good = batch(6);
    e.run(good, out.data());
    expect_correct(good, out, 1);
  }
}

}  // namespace
}  // namespace embflow
