// The planner: machine profiles (JSON, described ones, bad fields), sample statistics, the cost
// model's shape, and the mappers' properties on random models (every look-up served exactly once,
// resident budgets respected, never predicted worse than a baseline, deterministic, fast), and an
// asymmetric plan run by the executor against exact arithmetic. Calibration itself is exercised
// by the CLI tests (calibrate --quick --validate).
#include <gmock/gmock.h>

#include <chrono>
#include <list>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "embflow/calibrate.h"
#include "embflow/check.h"
#include "embflow/error.h"
#include "embflow/executor.h"
#include "embflow/planner.h"
#include "embflow/topology.h"
#include "planner/item_bench.h"
#include "test_util.h"

namespace embflow {
namespace {

using ::testing::AnyOf;
using ::testing::HasSubstr;

MachineProfile server() { return load_profile("server-16-core"); }

std::string profile_error(const std::string& text) {
  return testing::message_of<InvalidInput>([&] { parse_profile_json(text, "test.json"); });
}

TEST(Profiles, DescribedOnesLoadAndSayTheyAreDescribed) {
  for (const auto& name : described_profile_names()) {
    const MachineProfile p = load_profile(name);
    EXPECT_EQ(p.source, "described") << name;
    EXPECT_THAT(p.description, HasSubstr("DESCRIBED")) << name;
    EXPECT_FALSE(p.notes.empty()) << name;
    EXPECT_GT(p.cores, 1) << name;
  }
  EXPECT_EQ(load_profile("ascend-910-like").cores, 32);
  EXPECT_EQ(load_profile("ascend-910-like").resident_budget, 1u << 20);
  EXPECT_EQ(load_profile("server-64-core").cores, 64);
}

TEST(Profiles, JsonRoundTrips) {
  MachineProfile p = server();
  for (const bool optional : {false, true}) {  // the streamed and traffic bags' curves and the stride factors are optional
    if (optional) {
      p.streamed_bag_seconds.widths = {{64.0, CostCurve{{{1 << 20, 3e-9}, {1 << 30, 4e-9}}}}};
      p.bag_seconds_by_traffic.widths = {{64.0, CostCurve{{{1 << 18, 3e-9}, {1 << 30, 8e-9}}}}};
      p.bag_stride_factor.widths = {{64.0, CostCurve{{{64, 1.0}, {1024, 2.0}}}}};
      p.page_walk_line_seconds = 2e-8, p.page_walk_evict_bytes = 16 << 20;
      p.l2_prefetch_lead = L2PrefetchLead{{256, 128, 64, 32}};
    }
    const std::string text = profile_to_json(p);
    const MachineProfile q = parse_profile_json(text, "round trip");
    EXPECT_EQ(profile_to_json(q), text);
    EXPECT_DOUBLE_EQ(q.miss_gather.at(64, 1 << 30), p.miss_gather.at(64, 1 << 30));
    EXPECT_EQ(q.streamed_bag_seconds.widths.size(), optional ? 1u : 0u);
    EXPECT_EQ(q.bag_seconds_by_traffic.widths.size(), optional ? 1u : 0u);
    EXPECT_EQ(q.bag_stride_factor.widths.size(), optional ? 1u : 0u);
    EXPECT_EQ(q.page_walk_line_seconds, optional ? 2e-8 : 0.0);
    EXPECT_EQ(q.page_walk_evict_bytes, optional ? 16 << 20 : 0.0);
    EXPECT_EQ(q.l2_prefetch_lead, p.l2_prefetch_lead);
  }
}

// A measured prefetch lead reaches the kernels of every run the profile prices; without one (a
// described machine) they keep the built-in lead.
TEST(Profiles, RunsTakeTheProfilesPrefetchLead) {
  MachineProfile p = server();
  ASSERT_FALSE(p.l2_prefetch_lead.has_value());
  EXPECT_EQ(runner_options_for(p).kernel.l2_lead, L2PrefetchLead{});
  p.l2_prefetch_lead = L2PrefetchLead{{256, 128, 64, 32}};
  const RunnerOptions o = runner_options_for(p);
  EXPECT_EQ(o.kernel.l2_lead, *p.l2_prefetch_lead);
  EXPECT_EQ(o.isa, default_runner_options().isa);  // the rest as by default
  EXPECT_EQ(o.resident_budget, default_runner_options().resident_budget);
  // Into L2: 64-byte rows 256 look-ups ahead, 128-byte 64, 256-byte 16; 512-byte rows 32 lines'
  // worth is 4 look-ups, held at 8.
  KernelOptions k = o.kernel;
  k.prefetch_level = PrefetchLevel::kL2;
  EXPECT_EQ(row_prefetch(k, 64, 1 << 24, 1).distance, 256);
  EXPECT_EQ(row_prefetch(k, 128, 1 << 24, 1).distance, 64);
  EXPECT_EQ(row_prefetch(k, 256, 1 << 24, 1).distance, 16);
  EXPECT_EQ(row_prefetch(k, 512, 1 << 24, 1).distance, 8);
  k.prefetch_level = PrefetchLevel::kL1;  // the L1 distance is the fill buffers', not the lead's
  EXPECT_EQ(row_prefetch(k, 64, 1 << 24, 1).distance, 48);
  // A plan made with the profile carries its lead (the executor runs the plan with it).
  ModelSpec m{"lead", {}, {}};
  for (std::int64_t rows : {1000, 200000}) {
    TableSpec t;
    t.name = fmt::format("t{}", m.tables.size());
    t.rows = rows;
    t.dim = 16;
    t.bag_size = {4, 4};
    m.tables.push_back(t);
  }
  const auto samples = sample_statistics(m, generate_batch(m, WorkloadOptions{}));
  PlannerOptions po;
  po.cores = 1;
  for (Mapper mapper : {Mapper::kAsymmetric, Mapper::kSymmetric, Mapper::kTableWise}) {
    EXPECT_EQ(make_plan(mapper, m, samples, CostModel(p), po).l2_prefetch_lead, p.l2_prefetch_lead) << to_string(mapper);
    EXPECT_FALSE(make_plan(mapper, m, samples, CostModel(server()), po).l2_prefetch_lead.has_value());
  }
}

TEST(Profiles, MissingOrBadFieldsAreNamed) {
  const std::string good = profile_to_json(server());
  auto without = [&](const std::string& key) {
    nlohmann::json j = nlohmann::json::parse(good);
    if (key.find('.') == std::string::npos) {
      j.erase(key);
    } else {
      j[key.substr(0, key.find('.'))].erase(key.substr(key.find('.') + 1));
    }
    return j.dump();
  };
  EXPECT_THAT(profile_error(without("machine")), HasSubstr("'machine' is missing"));
  EXPECT_THAT(profile_error(without("machine.cores")), HasSubstr("'machine.cores' is missing"));
  EXPECT_THAT(profile_error(without("overheads.item_seconds")), HasSubstr("'overheads.item_seconds' is missing"));
  EXPECT_THAT(profile_error(without("lookups.scan_byte_seconds")), HasSubstr("lookups.scan_byte_seconds"));
  EXPECT_THAT(profile_error(without("format")), HasSubstr("'format'"));
  nlohmann::json j = nlohmann::json::parse(good);
  j["version"] = 99;
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("version"));
  j = nlohmann::json::parse(good);
  j["overheads"]["item_seconds"] = -1;
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("non-negative"));
  j = nlohmann::json::parse(good);
  j["overheads"]["bag_seconds_by_output_bytes"][0]["points"] = {{512, 1e-9}, {64, 1e-9}};
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("x must increase"));
  j = nlohmann::json::parse(good);
  j["lookups"]["page_walk"] = {{"line_seconds", 2e-8}, {"evict_bytes", 0}};
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("'lookups.page_walk.evict_bytes' must be positive"));
  j["lookups"]["page_walk"] = {{"evict_bytes", 1 << 20}};
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("'lookups.page_walk.line_seconds' is missing"));
  j = nlohmann::json::parse(good);
  j["prefetch"]["l2_lead_lines_by_row_bytes"] = {{"64", 128}, {"128", 128}, {"512", 128}};
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("'prefetch.l2_lead_lines_by_row_bytes.256' is missing"));
  j["prefetch"]["l2_lead_lines_by_row_bytes"]["256"] = 0;
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("'prefetch.l2_lead_lines_by_row_bytes.256' must be positive"));
  j["prefetch"]["l2_lead_lines_by_row_bytes"]["256"] = 1e12;
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("'prefetch.l2_lead_lines_by_row_bytes.256' must be at most"));
  j["prefetch"] = {{"lead", 3}};
  EXPECT_THAT(profile_error(j.dump()), HasSubstr("'prefetch.l2_lead_lines_by_row_bytes' is missing"));
  EXPECT_THAT(profile_error("{ not json"), HasSubstr("not valid JSON"));
  EXPECT_THROW(load_profile("/nonexistent/profile.json"), IoError);
}

TEST(Profiles, CurvesInterpolateInLogSpaceAndHoldFlatBeyondTheEnds) {
  CostCurve c{{{1024, 1.0}, {1024 * 1024, 4.0}}};
  EXPECT_DOUBLE_EQ(c.at(1), 1.0);
  EXPECT_DOUBLE_EQ(c.at(1e12), 4.0);
  EXPECT_NEAR(c.at(32 * 1024), 2.0, 1e-12);  // halfway in log x: geometric mean
  CurveFamily f{{{64, c}, {256, CostCurve{{{1024, 3.0}}}}}};
  EXPECT_DOUBLE_EQ(f.at(160, 1024), 2.0);      // linear between widths
  EXPECT_DOUBLE_EQ(f.at(512, 1024), 6.0);      // in proportion beyond the widest
}

TEST(Samples, CountLookupsDistinctRowsAndBuckets) {
  TableSpec t = testing::small_spec(640, 8, RowType::kFp32, 1, 1);
  std::vector<std::int64_t> offsets{0, 1, 2, 3, 4}, indices{0, 0, 639, 10};
  const TableBatch b = TableBatch::from_vectors(offsets, indices, IndexType::kInt64);
  const TableSample s = sample_table(t, b.view());
  EXPECT_EQ(s.lookups, 4);
  EXPECT_EQ(s.distinct, 3);
  EXPECT_EQ(s.bucket_lookups[0], 2);  // 10 rows per bucket: rows 0, 0 in bucket 0, row 10 in 1, 639 in 63
  EXPECT_EQ(s.bucket_lookups[1], 1);
  EXPECT_EQ(s.bucket_lookups[63], 1);
  EXPECT_EQ(s.bucket_distinct[0], 1);
  EXPECT_EQ(s.bucket_distinct[1], 1);
  // Distinct rows of the first n samples: 1 (n = 1), 1 (n = 2), 3 (n = 4).
  EXPECT_EQ(s.distinct_by_samples.front(), (std::pair<std::int64_t, std::int64_t>{1, 1}));
  EXPECT_EQ(s.distinct_by_samples.back(), (std::pair<std::int64_t, std::int64_t>{4, 3}));
}

ModelSpec random_model(std::mt19937_64& rng, int tables) {
  ModelSpec m{"random", {}, {}};
  std::uniform_real_distribution<double> u(0, 1);
  for (int t = 0; t < tables; ++t) {
    TableSpec s;
    s.name = fmt::format("t{}", t);
    s.rows = static_cast<std::int64_t>(std::exp(std::log(3.0) + u(rng) * (std::log(4e7) - std::log(3.0))));
    s.dim = std::vector<int>{4, 16, 32, 64, 128}[rng() % 5];
    const int bag = u(rng) < 0.3 ? 20 : 1;
    s.bag_size = {bag, bag};
    m.tables.push_back(s);
  }
  return m;
}

// Pinned-down plan properties for a model, its sample and a profile.
void expect_good_plans(const ModelSpec& m, const std::vector<TableSample>& samples, const CostModel& cost, int cores) {
  PlannerOptions o;
  o.cores = cores;
  o.min_gain = 0;  // pure prediction: then never worse than either baseline
  const Plan asym = make_plan(Mapper::kAsymmetric, m, samples, cost, o);
  const Plan sym = make_plan(Mapper::kSymmetric, m, samples, cost, o);
  const Plan tw = make_plan(Mapper::kTableWise, m, samples, cost, o);
  for (const Plan* p : {&asym, &sym, &tw}) {
    EXPECT_NO_THROW(validate_plan(*p, m, cores)) << p->mapper;
    const PlanPrediction pr = cost.predict(*p, m, samples);
    EXPECT_DOUBLE_EQ(pr.makespan, p->predicted_makespan) << p->mapper;
    for (std::size_t w = 0; w < p->workers(); ++w) {
      EXPECT_LE(pr.resident_bytes[w], cost.profile().resident_budget) << p->mapper << " core " << w;
    }
  }
  EXPECT_LE(asym.predicted_makespan, sym.predicted_makespan * (1 + 1e-12));
  EXPECT_LE(asym.predicted_makespan, tw.predicted_makespan * (1 + 1e-12));
  EXPECT_EQ(plan_to_json(asym), plan_to_json(make_plan(Mapper::kAsymmetric, m, samples, cost, o)));  // deterministic
  // With a margin: never worse than symmetric; a plan that is not symmetric's beats it by the margin.
  o.min_gain = 0.1;
  const Plan hedged = make_plan(Mapper::kAsymmetric, m, samples, cost, o);
  EXPECT_LE(hedged.predicted_makespan, sym.predicted_makespan * (1 + 1e-12));
  if (!hedged.same_work(sym)) {
    EXPECT_LE(hedged.predicted_makespan, sym.predicted_makespan * 0.9 + 1e-12);
  }
}

TEST(Planner, RandomModelsGetValidPlansNoWorseThanEitherBaseline) {
  std::mt19937_64 rng(testing::test_seed());
  for (const std::string profile : {"server-16-core", "ascend-910-like"}) {
    const CostModel cost(load_profile(profile));
    for (int round = 0; round < 4; ++round) {
      const ModelSpec m = random_model(rng, 6 + round * 5);
      for (const std::string dist : {"uniform", "zipf:1.05", "hot-rows:4"}) {
        WorkloadOptions w;
        w.batch_size = 512;
        w.seed = rng();
        w.distribution = Distribution::parse(dist);
        const auto samples = sample_statistics(m, generate_batch(m, w));
        for (int cores : {1, 3, 16}) {
          SCOPED_TRACE(fmt::format("{} {} cores {} seed {}", profile, dist, cores, testing::test_seed()));
          expect_good_plans(m, samples, cost, cores);
        }
      }
    }
  }
}

TEST(Planner, SplitsAHeavyTableAndKeepsLightOnesWhole) {
  const ModelSpec m = testing::one_heavy_among_light();
  WorkloadOptions w;
  w.batch_size = 2048;
  const auto samples = sample_statistics(m, generate_batch(m, w));
  // On the Ascend-like machine a row from the core's L1 costs a quarter of one from GM, and an item
  // 2 us: light tables are worth keeping whole and resident.
  const CostModel cost(load_profile("ascend-910-like"));
  PlannerOptions o;
  o.cores = 8;
  o.min_gain = 0;  // the search's own result (its gain over symmetric is a few percent here)
  const Plan p = make_plan(Mapper::kAsymmetric, m, samples, cost, o);
  std::vector<int> parts(m.tables.size(), 0);
  int resident_light = 0;
  for (const auto& items : p.items) {
    for (const WorkItem& it : items) {
      ++parts[static_cast<std::size_t>(it.table)];
      resident_light += it.table != 0 && is_resident(it.flow);
    }
  }
  EXPECT_GE(parts[0], 6);  // the heavy table is spread
  for (std::size_t t = 1; t < parts.size(); ++t) EXPECT_EQ(parts[t], 1) << m.tables[t].name;
  EXPECT_EQ(resident_light, 11);
  const double sym = make_plan(Mapper::kSymmetric, m, samples, cost, o).predicted_makespan;
  EXPECT_LT(p.predicted_makespan, sym);
}

TEST(Planner, RespectsTheFlowsItMayUseAndTheResidentBudget) {
  std::mt19937_64 rng(testing::test_seed() + 1);
  const ModelSpec m = random_model(rng, 20);
  WorkloadOptions w;
  w.batch_size = 256;
  const auto samples = sample_statistics(m, generate_batch(m, w));
  const CostModel cost(server());
  PlannerOptions o;
  o.cores = 4;
  o.flows = {Flow::kGather, Flow::kResident};
  o.resident_budget = 64 << 10;
  const Plan p = make_plan(Mapper::kAsymmetric, m, samples, cost, o);
  for (std::size_t c = 0; c < p.workers(); ++c) {
    std::size_t resident = 0;
    for (const WorkItem& it : p.items[c]) {
      EXPECT_TRUE(it.flow == Flow::kGather || it.flow == Flow::kResident);
      if (is_resident(it.flow)) resident += static_cast<std::size_t>(it.rows.size()) * m.tables[it.table].row_bytes();
    }
    EXPECT_LE(resident, o.resident_budget);
  }
  o.flows.clear();
  EXPECT_THROW(make_plan(Mapper::kAsymmetric, m, samples, cost, o), InvalidInput);
  EXPECT_THROW(parse_mapper("greedy"), InvalidInput);
}

// The issue asks for under 1 s; this is a hang guard, not a timing test (the time is printed).
TEST(Planner, ThousandTablesOnSixtyFourCores) {
  std::mt19937_64 rng(testing::test_seed() + 2);
  const ModelSpec m = random_model(rng, 1000);
  WorkloadOptions w;
  w.batch_size = 256;
  const auto samples = sample_statistics(m, generate_batch(m, w));
  const CostModel cost(load_profile("server-64-core"));
  PlannerOptions o;
  o.cores = 64;
  const auto t0 = std::chrono::steady_clock::now();
  const Plan p = make_plan(Mapper::kAsymmetric, m, samples, cost, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("planned 1000 tables on 64 cores in %.3f s\n", s);
  EXPECT_NO_THROW(validate_plan(p, m, 64));
  EXPECT_LT(s, 30.0);
}

TEST(CostModel, MoreWorkCostsMoreAndCachedTablesCostLess) {
  const CostModel cost(server());
  TableSpec small = testing::small_spec(1000, 64, RowType::kFp32, 1, 1), big = testing::small_spec(20'000'000, 64, RowType::kFp32, 1, 1);
  WorkloadOptions w;
  w.batch_size = 4096;
  ModelSpec m{"m", {small, big}, {}};
  const auto samples = sample_statistics(m, generate_batch(m, w));
  const ItemLoad ls = item_load(small, samples[0], {0, 4096}, {0, small.rows}, 256 << 10);
  const ItemLoad lb = item_load(big, samples[1], {0, 4096}, {0, big.rows}, 256 << 10);
  const ItemLoad half = item_load(big, samples[1], {0, 2048}, {0, big.rows}, 256 << 10);
  EXPECT_NEAR(half.lookups, lb.lookups / 2, 1);
  EXPECT_LT(cost.item_seconds(Flow::kGather, ls, {}), cost.item_seconds(Flow::kGather, lb, {}));
  EXPECT_LT(cost.item_seconds(Flow::kGather, half, {}), cost.item_seconds(Flow::kGather, lb, {}));
  EXPECT_LE(cost.item_seconds(Flow::kGather, lb, {}), cost.item_seconds(Flow::kGather, lb, {0, 1e9}));
  // Rows split in halves: each reads every index, and the plan pays a reduction.
  const ItemLoad rows_half = item_load(big, samples[1], {0, 4096}, {0, big.rows / 2}, 256 << 10);
  EXPECT_NEAR(rows_half.scanned, lb.scanned, 1e-9);
  EXPECT_NEAR(rows_half.lookups, lb.lookups / 2, lb.lookups * 0.1);
}

// With the profile's bag curve by traffic, a bag costs more the more rows the core's items pull
// through its caches between two batches (they evict the output); without it, as before.
TEST(CostModel, BagsCostMoreWhenTheCoresRowsEvictTheOutput) {
  MachineProfile prof = server();
  prof.bag_seconds.widths = {{64.0, CostCurve{{{1.0, 5e-9}}}}};
  const TableSpec t = testing::small_spec(1000, 16, RowType::kFp32, 1, 1);
  WorkloadOptions w;
  w.batch_size = 1024;
  const ModelSpec m{"one", {t}, {}};
  const ItemLoad l = CostModel::load(t, false, sample_statistics(m, generate_batch(m, w))[0], {0, 1024}, {0, 1000}, 256 << 10);
  CoreContext quiet, busy;
  quiet.output_bytes = busy.output_bytes = 1 << 20;
  busy.row_traffic = 64 << 20;
  const CostModel by_output(prof);
  EXPECT_DOUBLE_EQ(by_output.item_seconds(Flow::kGather, l, quiet), by_output.item_seconds(Flow::kGather, l, busy));
  prof.bag_seconds_by_traffic.widths = {{64.0, CostCurve{{{1 << 20, 3e-9}, {64 << 20, 30e-9}}}}};
  const CostModel by_traffic(prof);
  const double more = by_traffic.item_seconds(Flow::kGather, l, busy) - by_traffic.item_seconds(Flow::kGather, l, quiet);
  EXPECT_GT(more, 1024 * 20e-9);  // 1024 bags, each at (nearly) 30 ns instead of 3
}

// An output stride that is a multiple of a larger power of two makes every bag of the batch's
// columns dearer (profile.h, bag_stride_factor); partial sums, in rows of their own, are not.
TEST(CostModel, BagsCostMoreInAnOutputOfAPowerOfTwoStride) {
  MachineProfile prof = server();
  prof.bag_seconds.widths = {{64.0, CostCurve{{{1.0, 10e-9}}}}};
  prof.bag_stride_factor.widths = {{64.0, CostCurve{{{64, 1.0}, {128, 1.25}, {1024, 2.0}, {4096, 3.0}}}}};
  const CostModel cost(prof);
  EXPECT_DOUBLE_EQ(cost.bag_stride_factor(64, 17 * 64), 1.0);   // an odd number of lines
  EXPECT_DOUBLE_EQ(cost.bag_stride_factor(64, 26 * 64), 1.25);  // criteo-kaggle's 1664 bytes
  EXPECT_DOUBLE_EQ(cost.bag_stride_factor(64, 16 * 64), 2.0);
  EXPECT_DOUBLE_EQ(cost.bag_stride_factor(64, 128 * 64), 3.0);  // 8 KiB: held beyond the last point
  EXPECT_DOUBLE_EQ(cost.bag_stride_factor(64, 64), 1.0);        // one table: rows written one after another
  EXPECT_DOUBLE_EQ(cost.bag_stride_factor(64, 33 * 32), 1.0);   // not whole lines
  EXPECT_DOUBLE_EQ(CostModel(server()).bag_stride_factor(64, 1024), 1.0);  // no figure: no factor

  const TableSpec t = testing::small_spec(1000, 16, RowType::kFp32, 1, 1);
  const ModelSpec sixteen{"sixteen", std::vector<TableSpec>(16, t), {}};
  WorkloadOptions w;
  w.batch_size = 512;
  const auto samples = sample_statistics(sixteen, generate_batch(sixteen, w));
  const ItemLoad whole = CostModel::load(t, false, samples[0], {0, w.batch_size}, {0, t.rows}, 256 << 10);
  const ItemLoad half = CostModel::load(t, false, samples[0], {0, w.batch_size}, {0, t.rows / 2}, 256 << 10);
  CoreContext core;
  core.output_bytes = 1 << 20;
  auto bags_of = [&](const ItemLoad& l, double stride) {
    core.output_stride_bytes = stride;
    return cost.item_seconds(Flow::kGather, l, core);
  };
  EXPECT_NEAR(bags_of(whole, 1024) - bags_of(whole, 1088), 512 * 10e-9, 1e-12);  // twice the 10 ns per bag
  EXPECT_DOUBLE_EQ(bags_of(half, 1024), bags_of(half, 1088));
  // And predict() takes the stride from the model: 16 columns of 64 bytes, 1 KiB.
  MachineProfile flat = prof;
  flat.bag_stride_factor.widths.clear();
  const Plan plan = planner::single_core_plan(sixteen, w.batch_size, std::vector<Flow>(16, Flow::kGather));
  const double with = cost.predict(plan, sixteen, samples).item_seconds[0][0];
  EXPECT_NEAR(with - CostModel(flat).predict(plan, sixteen, samples).item_seconds[0][0], 512 * 10e-9, 1e-12);
}

// Two cores writing neighbouring columns of the same output rows pay the shared-output price per
// bag in full when each runs only that item (the calibration's probe), in proportion to the
// other item's share of its core's time when the cores have other work, and not at all for
// different bags (a batch split) or far-apart columns.
TEST(CostModel, NeighbouringColumnsFromTwoCoresCostWhileBothWriteThem) {
  MachineProfile prof = server();
  prof.shared_output_bag_seconds = 10e-9;
  MachineProfile none = prof;
  none.shared_output_bag_seconds = 0;
  const CostModel cost(prof), free(none);
  const TableSpec t = testing::small_spec(1000, 16, RowType::kFp32, 1, 1);
  const ModelSpec model{"eight", std::vector<TableSpec>(8, t), {}};  // 64-byte columns: blocks of two
  WorkloadOptions w;
  w.batch_size = 512;
  const auto samples = sample_statistics(model, generate_batch(model, w));
  const BagRange all{0, w.batch_size};
  const RowRange rows{0, t.rows};
  auto extra = [&](const Plan& plan, std::size_t worker, std::size_t item) {
    return cost.predict(plan, model, samples).item_seconds[worker][item] -
           free.predict(plan, model, samples).item_seconds[worker][item];
  };
  Plan plan = planner::single_core_plan(model, w.batch_size, std::vector<Flow>(8, Flow::kGather));
  plan.cores = {0, 1};
  // Tables 0 and 1 share a 128-byte block; each core runs one of them only.
  plan.items = {{{0, Flow::kGather, all, rows}}, {{1, Flow::kGather, all, rows}}};
  EXPECT_NEAR(extra(plan, 0, 0), 512 * 10e-9, 1e-12);
  EXPECT_NEAR(extra(plan, 1, 0), 512 * 10e-9, 1e-12);
  // Tables 0 and 2 do not share one.
  plan.items = {{{0, Flow::kGather, all, rows}}, {{2, Flow::kGather, all, rows}}};
  EXPECT_DOUBLE_EQ(extra(plan, 0, 0), 0.0);
  // Table 1 is a quarter of core 1's work (three more like it): table 0 pays a quarter.
  plan.items = {{{0, Flow::kGather, all, rows}},
                {{1, Flow::kGather, all, rows}, {3, Flow::kGather, all, rows}, {5, Flow::kGather, all, rows}, {7, Flow::kGather, all, rows}}};
  const PlanPrediction base = free.predict(plan, model, samples);
  const double share = base.item_seconds[1][0] / base.worker_seconds[1];
  EXPECT_NEAR(share, 0.25, 0.05);
  EXPECT_NEAR(extra(plan, 0, 0), share * 512 * 10e-9, 1e-12);
  EXPECT_NEAR(extra(plan, 1, 0), 512 * 10e-9, 1e-12);  // table 0 is all of core 0's work
  // The same table split by batch: no bag written from both cores.
  plan.items = {{{0, Flow::kGather, {0, 256}, rows}}, {{1, Flow::kGather, {256, 512}, rows}}};
  EXPECT_DOUBLE_EQ(extra(plan, 0, 0), 0.0);
}

// The runtime's rule (runner.h) and the cost model's use of it: a streamed column's bags are
// priced by the streamed curve, and its output takes no room in the caches.
TEST(CostModel, StreamedOutputColumnsArePricedApart) {
  // Whole aligned lines of an output over the threshold, and nothing else.
  EXPECT_TRUE(output_streamed(16, 32, 64, 65536, 8u << 20));
  EXPECT_FALSE(output_streamed(16, 32, 64, 1024, 8u << 20));    // 256 KiB of output: cached
  EXPECT_FALSE(output_streamed(8, 32, 64, 65536, 8u << 20));    // half a line per row
  EXPECT_FALSE(output_streamed(16, 8, 64, 65536, 8u << 20));    // column not on a line
  EXPECT_FALSE(output_streamed(16, 32, 72, 65536, 8u << 20));   // output rows not whole lines
  MachineProfile prof = server();
  prof.streamed_bag_seconds.widths = {{64.0, CostCurve{{{1.0, 1e-9}}}}};
  prof.bag_seconds.widths = {{64.0, CostCurve{{{1.0, 50e-9}}}}};
  const CostModel cost(prof);
  const TableSpec a = testing::small_spec(1000, 16, RowType::kFp32, 1, 1), b = testing::small_spec(1000, 8, RowType::kFp32, 1, 1);
  const ModelSpec m{"m", {a, a, b}, {}};  // total dim 40: no column is streamed
  const ModelSpec aligned{"aligned", {a, a}, {}};
  WorkloadOptions w;
  w.batch_size = 200'000;  // 25.6 MiB of output for two dim-16 tables
  const auto samples = sample_statistics(aligned, generate_batch(aligned, w));
  const bool aligned_streamed = cost.streamed_columns(aligned, w.batch_size)[1], m_streamed = cost.streamed_columns(m, w.batch_size)[1];
  const ItemLoad streamed = CostModel::load(a, aligned_streamed, samples[1], {0, w.batch_size}, {0, a.rows}, 256 << 10);
  const ItemLoad cached = CostModel::load(a, m_streamed, samples[1], {0, w.batch_size}, {0, a.rows}, 256 << 10);
  const ItemLoad rows_half = CostModel::load(a, aligned_streamed, samples[1], {0, w.batch_size}, {0, a.rows / 2}, 256 << 10);
  EXPECT_TRUE(streamed.streamed_output);
  EXPECT_FALSE(cached.streamed_output);
  EXPECT_FALSE(rows_half.streamed_output);  // partial sums: a buffer of its own
  const double bags = static_cast<double>(w.batch_size);
  const double gap = cost.item_seconds(Flow::kGather, cached, {}) - cost.item_seconds(Flow::kGather, streamed, {});
  EXPECT_NEAR(gap, bags * 49e-9, bags * 1e-12);
  // A tile scan over several tiles (of 4 KiB here) copies its packed rows in through the caches:
  // never streamed; nor a described machine's, whatever its tiles (its flows are its own). Over
  // one tile embflow's CPU tile scan gathers (kernels.h), and streams as the gather does.
  MachineProfile measured = prof;
  measured.source = "measured";
  const CostModel cpu(measured);
  const ItemLoad streamed_tiles = CostModel::load(a, aligned_streamed, samples[1], {0, w.batch_size}, {0, a.rows}, 4 << 10);
  const ItemLoad cached_tiles = CostModel::load(a, m_streamed, samples[1], {0, w.batch_size}, {0, a.rows}, 4 << 10);
  EXPECT_DOUBLE_EQ(cpu.item_seconds(Flow::kTileScan, cached_tiles, {}), cpu.item_seconds(Flow::kTileScan, streamed_tiles, {}));
  EXPECT_DOUBLE_EQ(cost.item_seconds(Flow::kTileScan, cached, {}), cost.item_seconds(Flow::kTileScan, streamed, {}));
  EXPECT_NEAR(cpu.item_seconds(Flow::kTileScan, cached, {}) - cpu.item_seconds(Flow::kTileScan, streamed, {}), gap, bags * 1e-12);
  EXPECT_EQ(CostModel::traffic_bytes(Flow::kGather, streamed) + bags * 64, CostModel::traffic_bytes(Flow::kGather, cached));
}

// A tile scan whose rows fit one tile gathers from it in bag order (kernels.h): its look-ups are
// priced as hits in a table of that size and its bags written once. Over several tiles they are
// served from buckets (the serve curve) into output rows written twice (zeroed, then added to).
TEST(CostModel, OneTileScanIsPricedAsHitsInTheStreamedTile) {
  MachineProfile prof = server();
  prof.source = "measured";
  prof.hit_gather.widths = {{64.0, CostCurve{{{1.0, 2e-9}}}}};
  prof.serve_seconds.widths = {{64.0, CostCurve{{{1.0, 10e-9}}}}};
  prof.bag_seconds.widths = {{64.0, CostCurve{{{1.0, 5e-9}}}}};
  const CostModel cost(prof);
  ItemLoad l;
  l.bags = 1000, l.scanned = l.lookups = 20000, l.distinct = 500, l.row_bytes = 64, l.out_row_bytes = 64;
  l.table_bytes = l.touched_tile_bytes = 64000, l.tiles = 1;
  const double one = cost.item_seconds(Flow::kTileScan, l, {});
  l.tiles = 4;
  const double four = cost.item_seconds(Flow::kTileScan, l, {});
  EXPECT_NEAR(four - one, 20000 * (10e-9 - 2e-9) + 1000 * 5e-9, 1e-12);
  EXPECT_EQ(CostModel::measured_output_passes(Flow::kTileScan, l), 2.0);
  l.tiles = 1;
  EXPECT_EQ(CostModel::measured_output_passes(Flow::kTileScan, l), 1.0);
}

// A core that serves half of a table's bags sees each of its rows half as often: the others'
// traffic between two visits doubles, and a first touch is priced as in a table that much larger.
// Halves of a table on one core are still all of its bags there.
TEST(CostModel, FirstTouchesCostMoreOnACoreThatServesPartOfTheTable) {
  MachineProfile prof = server();
  prof.miss_gather.widths = {{64.0, CostCurve{{{1 << 20, 2e-9}, {64 << 20, 20e-9}}}}};
  const CostModel cost(prof);
  ItemLoad l;
  l.bags = 1024, l.scanned = l.lookups = l.distinct = 1024, l.row_bytes = 64, l.out_row_bytes = 64, l.table_bytes = 4 << 20;
  CoreContext whole{0, 8 << 20, 1 << 20, 0, 1.0}, half = whole;
  half.table_share = 0.5;
  EXPECT_GT(cost.item_seconds(Flow::kGather, l, half), cost.item_seconds(Flow::kGather, l, whole) + 1024 * 1e-9);
  EXPECT_EQ(cost.item_seconds(Flow::kGather, l, {0, 8 << 20, 1 << 20, 0}), cost.item_seconds(Flow::kGather, l, whole));

  ModelSpec m{"two", {testing::small_spec(65536, 16, RowType::kFp32, 1, 1), testing::small_spec(65536, 16, RowType::kFp32, 1, 1)}, {}};
  m.tables[1].name = "t1";
  WorkloadOptions w;
  w.batch_size = 2048;
  const auto samples = sample_statistics(m, generate_batch(m, w));
  Plan one_core;
  one_core.model = m.name, one_core.batch_size = w.batch_size, one_core.mapper = "test", one_core.cores = {0};
  one_core.items = {{{0, Flow::kGather, {0, 1024}, {0, 65536}}, {0, Flow::kGather, {1024, 2048}, {0, 65536}}, {1, Flow::kGather, {0, 2048}, {0, 65536}}}};
  Plan two_cores = one_core;
  two_cores.cores = {0, 1};
  two_cores.items = {{{0, Flow::kGather, {0, 1024}, {0, 65536}}, {1, Flow::kGather, {0, 1024}, {0, 65536}}},
                     {{0, Flow::kGather, {1024, 2048}, {0, 65536}}, {1, Flow::kGather, {1024, 2048}, {0, 65536}}}};
  const PlanPrediction a = cost.predict(one_core, m, samples), b = cost.predict(two_cores, m, samples);
  const auto streamed = cost.streamed_columns(m, w.batch_size);
  auto load = [&](int t, BagRange bags) { return CostModel::load(m.tables[t], streamed[t], samples[t], bags, {0, 65536}, prof.tile_bytes); };
  auto context = [&](double others, double share) {
    return CoreContext{0, others, batch_output_bytes(m, w.batch_size), output_row_bytes(m), share};
  };
  const ItemLoad first_half = load(0, {0, 1024});
  const double one_core_others = CostModel::traffic_bytes(Flow::kGather, load(0, {1024, 2048})) +
                                 CostModel::traffic_bytes(Flow::kGather, load(1, {0, 2048}));
  EXPECT_DOUBLE_EQ(a.item_seconds[0][0], cost.item_seconds(Flow::kGather, first_half, context(one_core_others, 1.0)));
  const double two_core_others = CostModel::traffic_bytes(Flow::kGather, load(1, {0, 1024}));
  EXPECT_DOUBLE_EQ(b.item_seconds[0][0], cost.item_seconds(Flow::kGather, first_half, context(two_core_others, 0.5)));
}

// A first touch past the TLB walks the page table; a line of its entries that the traffic between
// batches evicted comes from memory again once per item (cost_model.h, page_walk_lines). A short
// item of a large table pays that nearly per row, a long item spreads it; without traffic, or
// without the profile's figures, nothing.
TEST(CostModel, PageWalksCostShortItemsOfLargeTablesAfterTraffic) {
  ItemLoad l;
  l.row_bytes = 64, l.table_bytes = 64 << 20, l.distinct = 2048;  // 2048 lines of page entries
  const double lines = 2048, touched = 1 - std::exp(-1.0);
  EXPECT_NEAR(page_walk_lines(l, 8 << 20, 16 << 20), lines * touched * (1 - std::exp(-0.5 / touched)), 1e-9);
  EXPECT_EQ(page_walk_lines(l, 0, 16 << 20), 0);
  EXPECT_EQ(page_walk_lines(l, 8 << 20, 0), 0);
  ItemLoad more = l;
  more.distinct = 16 * 2048;
  EXPECT_LT(page_walk_lines(more, 1e12, 16 << 20) / more.distinct, 0.1 * page_walk_lines(l, 1e12, 16 << 20) / l.distinct);
  EXPECT_LE(page_walk_lines(more, 1e12, 16 << 20), lines);  // a line at most once per item
  // Half of the table's bags: the other core's half brings the lines back into the shared caches.
  EXPECT_LT(page_walk_lines(l, 8 << 20, 16 << 20, 0.5), page_walk_lines(l, 8 << 20, 16 << 20));
  // Two halves of the batch on one core fetch a line once between them, as the whole would.
  ItemLoad half = more;
  half.distinct = more.distinct / 2;
  EXPECT_NEAR(2 * page_walk_lines(half, 8 << 20, 16 << 20, 1, more.distinct), page_walk_lines(more, 8 << 20, 16 << 20), 1e-6);
  EXPECT_GT(2 * page_walk_lines(half, 8 << 20, 16 << 20), 1.5 * page_walk_lines(more, 8 << 20, 16 << 20));  // apart
  ItemLoad small = l;
  small.table_bytes = 64 << 10;
  EXPECT_LE(page_walk_lines(small, 1e12, 16 << 20), 2.0);

  MachineProfile prof = server();
  prof.miss_gather.widths = {{64.0, CostCurve{{{1 << 20, 5e-9}}}}};
  l.bags = l.scanned = l.lookups = 2048, l.out_row_bytes = 64;
  const CoreContext heavy{0, 32 << 20, 1 << 20, 0, 1.0};
  const CostModel plain(prof);
  const double without = plain.item_seconds(Flow::kGather, l, heavy);
  prof.page_walk_line_seconds = 20e-9, prof.page_walk_evict_bytes = 16 << 20;
  const CostModel cost(prof);
  EXPECT_NEAR(cost.item_seconds(Flow::kGather, l, heavy) - without, cost.page_walk_seconds(l, heavy), 1e-15);
  EXPECT_GT(cost.page_walk_seconds(l, heavy), 0.5 * 2048 * 20e-9 * touched);
  EXPECT_LT(cost.page_walk_seconds(l, {0, 0, 1 << 20, 0, 1.0}), cost.page_walk_seconds(l, heavy) / 4);  // its own rows only
  EXPECT_EQ(cost.item_seconds(Flow::kResident, l, heavy), plain.item_seconds(Flow::kResident, l, heavy));
}

// Page entries live in the shared caches: another core's traffic evicts them too.
TEST(CostModel, PageWalksSeeEveryCoresTraffic) {
  MachineProfile prof = server();
  prof.page_walk_line_seconds = 20e-9, prof.page_walk_evict_bytes = 16 << 20;
  const CostModel cost(prof);
  auto short_item_seconds = [&](int other_bag) {
    ModelSpec m{"two", {testing::small_spec(1 << 20, 16, RowType::kFp32, 1, 1), testing::small_spec(1 << 20, 16, RowType::kFp32, other_bag, other_bag)}, {}};
    m.tables[1].name = "t1";
    WorkloadOptions w;
    w.batch_size = 2048;
    Plan plan;
    plan.model = m.name, plan.batch_size = w.batch_size, plan.mapper = "test", plan.cores = {0, 1};
    plan.items = {{{0, Flow::kGather, {0, 2048}, {0, 1 << 20}}}, {{1, Flow::kGather, {0, 2048}, {0, 1 << 20}}}};
    return cost.predict(plan, m, sample_statistics(m, generate_batch(m, w))).item_seconds[0][0];
  };
  EXPECT_GT(short_item_seconds(64), short_item_seconds(1) + 0.2 * 2048 * 20e-9);
}

// A repeat within a footprint the hit curve covers costs a hit, whatever a first touch costs
// there (first touches are measured after other tables' traffic).
TEST(CostModel, RepeatsInASmallFootprintAreHits) {
  MachineProfile prof = server();
  prof.hit_gather.widths = {{64.0, CostCurve{{{4096.0, 1e-9}, {8 << 20, 2e-9}}}}};
  prof.miss_gather.widths = {{64.0, CostCurve{{{4 << 20, 30e-9}, {1 << 30, 100e-9}}}}};
  const CostModel cost(prof);
  ItemLoad l;
  l.bags = 1000, l.scanned = l.lookups = 20000, l.distinct = 20, l.row_bytes = 64, l.out_row_bytes = 64, l.table_bytes = 1280;
  const double repeats_only = cost.item_seconds(Flow::kGather, l, {}) - [&] {
    ItemLoad none = l;
    none.scanned = none.lookups = none.distinct;
    return cost.item_seconds(Flow::kGather, none, {});
  }();
  EXPECT_NEAR(repeats_only, (l.lookups - l.distinct) * 1e-9, 1e-12);
}

// Of the repeated look-ups in `bags`, the share that miss a least-recently-used cache of `rows`
// rows: the reference repeat_miss_share approximates.
double lru_repeat_miss_share(const BagsView& bags, std::size_t rows) {
  std::list<std::int64_t> order;  // most recent first
  std::unordered_map<std::int64_t, std::list<std::int64_t>::iterator> where;
  std::unordered_set<std::int64_t> seen;
  double repeats = 0, missed = 0;
  for (std::int64_t k = bags.offset(0); k < bags.offset(bags.num_bags); ++k) {
    const std::int64_t r = bags.index(k);
    const auto it = where.find(r);
    if (!seen.insert(r).second) {
      ++repeats;
      if (it == where.end()) ++missed;
    }
    if (it != where.end()) order.erase(it->second);
    order.push_front(r);
    where[r] = order.begin();
    if (order.size() > rows) {
      where.erase(order.back());
      order.pop_back();
    }
  }
  return missed / repeats;
}

// The share of repeats a cache misses follows the item's working set, as an LRU cache replaying
// the look-ups finds it; skewed look-ups keep their hot rows, and their repeats cost less.
TEST(CostModel, RepeatsMissACacheAsTheWorkingSetGrows) {
  const TableSpec table = testing::small_spec(1 << 20, 16, RowType::kFp32, 20, 20);  // 64 MiB of 64-byte rows
  const TableBatch uniform_bags = testing::make_bags(table, 16384, "uniform", IndexType::kInt32, false, 7);
  const TableBatch zipf_bags = testing::make_bags(table, 16384, "zipf:1.05", IndexType::kInt32, false, 7);
  auto load_of = [&](const TableBatch& b) {
    return item_load(table, sample_table(table, b.view()), {0, 16384}, {0, table.rows}, 1 << 18);
  };
  const ItemLoad uniform = load_of(uniform_bags), zipf = load_of(zipf_bags);
  ASSERT_GT(uniform.lookups - uniform.distinct, 10000);
  for (const std::size_t rows : {1u << 12, 1u << 16}) {  // caches of 256 KiB and 4 MiB
    EXPECT_NEAR(repeat_miss_share(uniform, rows * 64.0), lru_repeat_miss_share(uniform_bags.view(), rows), 0.05) << rows;
    EXPECT_NEAR(repeat_miss_share(zipf, rows * 64.0), lru_repeat_miss_share(zipf_bags.view(), rows), 0.05) << rows;
  }
  for (const ItemLoad* l : {&uniform, &zipf}) {
    EXPECT_EQ(repeat_miss_share(*l, l->distinct * 64), 0.0);  // every distinct row fits
    double last = 1.0;
    for (double bytes = 4096; bytes < l->distinct * 64; bytes *= 2) {
      const double share = repeat_miss_share(*l, bytes);
      EXPECT_LE(share, last + 1e-3) << bytes;
      EXPECT_GE(share, 0.0);
      last = share;
    }
  }
  // Priced between a hit in L2 and a first touch in a table of the footprint; the zipf item's
  // repeats, mostly of rows still cached, far below the uniform one's.
  MachineProfile prof = server();
  prof.l2_bytes = 1 << 20;
  prof.hit_gather.widths = {{64.0, CostCurve{{{4096.0, 1e-9}, {8 << 20, 2e-9}}}}};
  prof.miss_gather.widths = {{64.0, CostCurve{{{4 << 20, 2e-9}, {16 << 20, 30e-9}, {1 << 30, 100e-9}}}}};
  const CostModel cost(prof);
  auto per_repeat = [&](const ItemLoad& l) {
    ItemLoad none = l;
    none.scanned = none.lookups = none.distinct;
    return (cost.item_seconds(Flow::kGather, l, {}) - cost.item_seconds(Flow::kGather, none, {})) / (l.lookups - l.distinct);
  };
  EXPECT_GT(per_repeat(uniform), prof.hit_gather.at(64, 1 << 20));
  EXPECT_LT(per_repeat(uniform), prof.miss_gather.at(64, uniform.distinct * 64));
  EXPECT_LT(per_repeat(zipf), 0.5 * per_repeat(uniform));
  // Without a working set, repeats spread evenly: priced at the footprint, as the curves measure.
  ItemLoad even = uniform;
  even.working_set.clear();
  const double fp = even.distinct * 64;
  EXPECT_NEAR(per_repeat(even), std::max(prof.hit_gather.at(64, fp), prof.miss_gather.at(64, fp)),
              0.02 * prof.miss_gather.at(64, fp));
}

// The fewest measurements a calibration or validation can take (seconds, in tests).
CalibrateOptions quick_calibration() {
  CalibrateOptions o;
  o.quick = true;
  o.rounds = 2;
  o.arena_bytes = 8 << 20;
  return o;
}

// `calibrate --validate --against`: several profiles judged on one set of measurements, so that
// a machine whose speed drifts between runs cannot favour one of them.
TEST(CostModel, ProfilesAreValidatedOnTheSameMeasurements) {
  MachineProfile slow = server();
  slow.item_seconds += 1e-3;  // every item a millisecond slower
  const CostModel base(server()), slower(slow);
  const CalibrateOptions o = quick_calibration();
  const std::vector<ValidationReport> r = validate_cost_models({&base, &slower}, o);
  ASSERT_EQ(r.size(), 2u);
  ASSERT_EQ(r[0].cases.size(), r[1].cases.size());
  ASSERT_FALSE(r[0].cases.empty());
  for (std::size_t i = 0; i < r[0].cases.size(); ++i) {
    EXPECT_EQ(r[0].cases[i].table, r[1].cases[i].table);
    EXPECT_EQ(r[0].cases[i].measured, r[1].cases[i].measured);
    EXPECT_EQ(r[0].cases[i].passes.size(), 2u);  // quick: two passes
    EXPECT_GT(r[1].cases[i].predicted, r[0].cases[i].predicted + 0.9e-3);
  }
  EXPECT_GT(r[1].median_signed, r[0].median_signed);
  EXPECT_GT(r[1].median_signed, 0);  // a millisecond more than items of microseconds: too slow
}

// The repeat figure: every pass taken as the prediction of every later one, as a model would be.
TEST(CostModel, RepeatErrorComparesEveryPassWithEveryLaterOne) {
  ValidationReport r;
  ValidationCase c;
  c.passes = {1.0, 2.0, 4.0};  // 1 against 2 and 4 (50%, 75%), 2 against 4 (50%)
  c.measured = 2.0, c.predicted = 2.0;
  r.cases.push_back(c);
  summarize_errors(r);
  EXPECT_DOUBLE_EQ(r.repeat_median_abs, 0.5);
  EXPECT_DOUBLE_EQ(r.median_abs, 0.0);
  c.passes = {3.0, 3.0, 3.0};  // a steady item adds three pairs that agree
  r.cases.push_back(c);
  summarize_errors(r);
  EXPECT_LT(r.repeat_median_abs, 0.5);
}

// Streamed stores allocate nothing in the caches: a streamed bag costs the same at any output
// size, and the calibration keeps the lower of its two measurements (a slow moment of the
// machine doubled one of them, and a whole model at batch 65536 was predicted 52% slow).
// Bags written through the caches are also priced by traffic, down to outputs that nothing else
// evicts (below the first-touch models' traffic, which begins at 1-28 MiB by row width).
TEST(Calibrate, BagPricesPageWalksAndPrefetchLead) {
  const CalibrateOptions o = quick_calibration();
  const MachineProfile p = calibrate_machine(o);
  // A prefetch lead is measured for every width, one of the candidate leads.
  ASSERT_TRUE(p.l2_prefetch_lead.has_value());
  for (int lines : p.l2_prefetch_lead->lines) EXPECT_THAT(lines, AnyOf(32, 64, 128, 256, 512));
  // Page walks are fitted or left out (no walk showed), never half set.
  EXPECT_GE(p.page_walk_line_seconds, 0);
  EXPECT_EQ(p.page_walk_line_seconds > 0, p.page_walk_evict_bytes > 0);
  EXPECT_LT(p.page_walk_line_seconds, 1e-6);
  ASSERT_FALSE(p.streamed_bag_seconds.widths.empty());
  for (const auto& [width, curve] : p.streamed_bag_seconds.widths) {
    ASSERT_EQ(curve.points.size(), 2u) << width << "-byte output rows";
    EXPECT_LT(curve.points[0].first, curve.points[1].first);
    EXPECT_EQ(curve.points[0].second, curve.points[1].second) << width << "-byte output rows";
    EXPECT_GT(curve.points[0].second, 0);
  }
  ASSERT_EQ(p.bag_seconds_by_traffic.widths.size(), p.bag_seconds.widths.size());
  const double l2 = p.l2_bytes > 0 ? static_cast<double>(p.l2_bytes) : 1 << 20;
  for (const auto& [width, curve] : p.bag_seconds_by_traffic.widths) {
    ASSERT_GE(curve.points.size(), 2u) << width << "-byte output rows";
    EXPECT_LE(curve.points.front().first, 2 * l2) << width << "-byte output rows";
  }
}

TEST(Planner, AsymmetricPlanRunsAndMatchesExactArithmetic) {
  ModelSpec m = preset_model("criteo-kaggle");
  apply_overrides(m, {.dim = 16, .max_rows = 50000, .bag_size = BagSizeSpec{0, 4}});
  WorkloadOptions w;
  w.batch_size = 300;
  w.distribution = Distribution::parse("zipf:1.05");
  w.weighted = true;
  const auto samples = sample_statistics(m, generate_batch(m, w));
  MachineProfile prof = server();
  const int cores = describe_machine().physical_cores;
  PlannerOptions o;
  o.cores = cores;
  o.resident_budget = 256 << 10;
  const Plan p = make_plan(Mapper::kAsymmetric, m, samples, CostModel(prof), o);
  std::vector<Table> tables;
  std::vector<TableView> views;
  for (const auto& t : m.tables) tables.push_back(Table::random(t, 3));
  for (const auto& t : tables) views.push_back(t.view());
  std::vector<const TableView*> ptrs;
  for (const auto& v : views) ptrs.push_back(&v);
  RunnerOptions ropt = default_runner_options();
  ropt.resident_budget = o.resident_budget;
  PlanExecutor ex(m, ptrs, p, ropt);
  w.seed = 99;
  const Batch b = generate_batch(m, w);
  std::vector<float> out(static_cast<std::size_t>(w.batch_size) * m.total_dim());
  ex.run(b, out.data());
  int col = 0;
  for (std::size_t t = 0; t < m.tables.size(); ++t) {
    const CheckResult r = check_pooled_lookup(views[t], b.tables[t].view(), {0, w.batch_size}, {0, m.tables[t].rows},
                                              {out.data() + col, m.total_dim()}, m.tables[t].pooling);
    EXPECT_TRUE(r.ok()) << m.tables[t].name << " err/bound " << r.worst_ratio;
    col += m.tables[t].dim;
  }
}

}  // namespace
}  // namespace embflow
