// embflow calibrate: fits the cost model's figures (profile.h) to items measured on this machine.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <tuple>

#include <fmt/format.h>

#include "core/memory.h"
#include "embflow/calibrate.h"
#include "embflow/executor.h"
#include "embflow/measure.h"
#include "embflow/topology.h"
#include "planner/item_bench.h"

namespace embflow {
namespace {
using planner::Arena;
using planner::ItemTimes;

constexpr std::int64_t kBatch = 2048;
constexpr std::size_t KiB = 1024, MiB = KiB * 1024;

TableSpec synthetic_table(const std::string& name, std::size_t bytes, int dim, int bag) {
  TableSpec s;
  s.name = name;
  s.dim = dim;
  s.rows = std::max<std::int64_t>(1, static_cast<std::int64_t>(bytes / (static_cast<std::size_t>(dim) * 4)));
  s.bag_size = {bag, bag};
  return s;
}

// For a plan of one item per core, all running at once: when the batch is done.
double slowest_worker(const ItemTimes& m) {
  double slowest = 0;
  for (const auto& worker : m.seconds) slowest = std::max(slowest, worker[0]);
  return slowest;
}

// What a probe table is for.
enum class Role { kWarmUp, kHit, kMiss, kScan, kBags, kConvert, kPad, kWalk };
struct Probe {
  TableSpec spec;
  Flow flow = Flow::kGather;
  Role role = Role::kMiss;
  bool halves = false;  // served as two items, rows split in half (partial sums)
};

// Bytes from one sample's output row to the next in a model of these probes.
double output_stride_bytes(const std::vector<Probe>& probes) {
  double dims = 0;
  for (const Probe& pr : probes) dims += pr.spec.dim;
  return 4.0 * dims;
}

// Appends a table of empty 64-byte bags (priced nowhere) when the probes' output stride is an even
// number of cache lines, so that every cost is measured at an odd one: a stride that is a multiple
// of a larger power of two costs more per bag (profile.h, bag_stride_factor), which is priced on
// its own, and the calibration's models of 16 tables of one width would otherwise all pay it.
std::vector<Probe> with_odd_line_stride(std::vector<Probe> probes) {
  if (static_cast<std::int64_t>(output_stride_bytes(probes)) % 128 == 0) {
    probes.push_back({synthetic_table("stride-pad", 4 * KiB, 16, 0), Flow::kGather, Role::kPad});
  }
  return probes;
}

// One measured item: which probe, which rows.
struct Measured {
  std::size_t probe = 0;
  RowRange rows;
  double seconds = 0;
};

// A gather's first touch as measured in a calibration model, with what the page walks' fit needs
// to take the walks out of it.
struct FirstTouch {
  double x, seconds, floor;  // the curve's x, seconds per first touch, the repeat price under it
  ItemLoad load;
  double traffic;  // bytes through the caches per batch (page_walk_lines)
};

// Least squares y ~ a * x1 + b * x2 with a, b >= 0.
std::pair<double, double> fit_two(const std::vector<double>& x1, const std::vector<double>& x2, const std::vector<double>& y) {
  double s11 = 0, s12 = 0, s22 = 0, s1y = 0, s2y = 0;
  for (std::size_t i = 0; i < y.size(); ++i) {
    s11 += x1[i] * x1[i], s12 += x1[i] * x2[i], s22 += x2[i] * x2[i];
    s1y += x1[i] * y[i], s2y += x2[i] * y[i];
  }
  const double det = s11 * s22 - s12 * s12;
  double a = det != 0 ? (s1y * s22 - s2y * s12) / det : 0, b = det != 0 ? (s2y * s11 - s1y * s12) / det : 0;
  if (a < 0 || det == 0) a = 0, b = s22 > 0 ? std::max(0.0, s2y / s22) : 0;
  if (b < 0) b = 0, a = s11 > 0 ? std::max(0.0, s1y / s11) : 0;
  return {a, b};
}

double median_of(std::vector<double> v) { return summarize(std::move(v)).median; }

CostCurve sorted_curve(std::vector<std::pair<double, double>> points) {
  std::sort(points.begin(), points.end());
  CostCurve c;
  for (const auto& pt : points) {
    if (!c.points.empty() && pt.first <= c.points.back().first) continue;  // same size twice: keep one
    c.points.push_back(pt);
  }
  return c;
}

// Non-decreasing in x (a larger table, or a larger footprint, is never cheaper per look-up):
// weighted pool-adjacent-violators over (x, y, weight), weights being how many look-ups each
// estimate rests on (a first-touch cost from a 64-row table is noisier than one from 4096 rows).
CostCurve monotone_curve(std::vector<std::tuple<double, double, double>> points) {
  std::sort(points.begin(), points.end());
  struct Pool {
    double x, y, w;
    int n;
  };
  std::vector<Pool> pools;
  for (const auto& [x, y, w] : points) {
    pools.push_back({x, y, std::max(w, 1e-9), 1});
    while (pools.size() > 1 && pools[pools.size() - 2].y > pools.back().y) {
      Pool b = pools.back();
      pools.pop_back();
      Pool& a = pools.back();
      a.y = (a.y * a.w + b.y * b.w) / (a.w + b.w);
      a.w += b.w;
      a.n += b.n;
    }
  }
  std::vector<std::pair<double, double>> out;
  std::size_t k = 0;
  for (const Pool& p : pools) {
    for (int i = 0; i < p.n; ++i, ++k) out.emplace_back(std::get<0>(points[k]), p.y);
  }
  return sorted_curve(out);
}

class Calibrator {
 public:
  Calibrator(const CalibrateOptions& o, MachineProfile& p, Arena& arena, int rounds)
      : o_(o), p_(p), arena_(arena), rounds_(rounds), repeats_(o.quick ? 1 : 3) {}

  void say(const std::string& what) const {
    if (o_.progress) o_.progress(what);
  }

  // Runs the probes as one model on core 0 (in the given order), batch `batch`. The gather flows
  // write the output through the caches, unless `streamed_output` says to stream every column
  // (the two are priced apart: profile.h, bag_seconds and streamed_bag_seconds).
  // The probes as a model, and its plan: one item per probe (two for halves) on core 0.
  static std::pair<ModelSpec, Plan> probe_model(const std::vector<Probe>& probes, std::int64_t batch) {
    ModelSpec model{"calibration", {}, {}};
    Plan plan = planner::single_core_plan(model, batch, {});  // no tables yet: items follow
    for (std::size_t i = 0; i < probes.size(); ++i) {
      const Probe& pr = probes[i];
      model.tables.push_back(pr.spec);
      const int t = static_cast<int>(i);
      const std::int64_t rows = pr.spec.rows;
      if (pr.halves) {
        plan.items[0].push_back({t, pr.flow, {0, batch}, {0, rows / 2}});
        plan.items[0].push_back({t, pr.flow, {0, batch}, {rows / 2, rows}});
      } else {
        plan.items[0].push_back({t, pr.flow, {0, batch}, {0, rows}});
      }
    }
    plan.model = model.name;
    return {model, plan};
  }

  ItemTimes run(const std::vector<Probe>& probes, std::int64_t batch, std::uint64_t seed,
                std::vector<Measured>* measured = nullptr, bool streamed_output = false) {
    RunnerOptions runner = o_.runner;
    runner.stream_output_above = streamed_output ? 0 : std::numeric_limits<std::size_t>::max();
    if (p_.l2_prefetch_lead) runner.kernel.l2_lead = *p_.l2_prefetch_lead;
    const auto [model, plan] = probe_model(probes, batch);
    std::vector<TableView> views;
    for (const Probe& pr : probes) views.push_back(arena_.place(pr.spec));
    WorkloadOptions w;
    w.batch_size = batch;
    w.seed = seed;
    // Each model measured `repeats` times over fresh batches, each item's median taken: one run's
    // times can sit 10-20% off another's on this VM (memory state, the host).
    ItemTimes times = planner::time_plan(model, views, plan, w, rounds_, runner);
    std::vector<ItemTimes> more;
    for (int r = 1; r < repeats_; ++r) {
      w.seed = seed + 7919 * static_cast<std::uint64_t>(r);
      more.push_back(planner::time_plan(model, views, plan, w, rounds_, runner));
    }
    for (std::size_t k = 0; k < times.seconds[0].size() && !more.empty(); ++k) {
      std::vector<double> v{times.seconds[0][k]};
      for (const auto& m : more) v.push_back(m.seconds[0][k]);
      times.seconds[0][k] = median_of(v);
    }
    if (measured != nullptr) {
      for (std::size_t k = 0; k < plan.items[0].size(); ++k) {
        const WorkItem& it = plan.items[0][k];
        measured->push_back({static_cast<std::size_t>(it.table), it.rows, times.seconds[0][k]});
      }
    }
    return times;
  }

  // The lead of the gathers' L2 prefetch (kernels.h, L2PrefetchLead), per row width: the best
  // differs between machines (128 look-ups ahead took Zen 3 1.15-2.05x the best time for rows
  // of 128 bytes and wider, where Zen 4 gained from 48 to 128 on 256-byte rows). Each width
  // runs a model of three tables beside each other, as in the sweep the built-in lead came
  // from: 4 MiB with bags of 20, 64 MiB with one-row bags and the arena's DRAM-sized table with
  // bags of 20, batch 2048, zipf:1.05, rows prefetched into L2, distinct batches in turn (as
  // time_plan). The candidate leads take turns, batch by batch, so that the machine's drift
  // (10-20% between minutes on the development VMs) falls on all alike. Measured first, so that
  // every later figure is measured at the lead the profile will run with.
  void prefetch_lead(std::uint64_t seed) {
    constexpr int kLeads[] = {32, 64, kL2PrefetchLines, 256, 512};  // lines
    constexpr double kLeadMargin = 0.05;
    L2PrefetchLead lead;
    for (std::size_t w = 0; w < std::size(L2PrefetchLead::kRowBytes); ++w) {
      const std::size_t row_bytes = L2PrefetchLead::kRowBytes[w];
      const int dim = static_cast<int>(row_bytes / 4);
      say(fmt::format("prefetch lead of {}-byte rows", row_bytes));
      const std::size_t arena = arena_.bytes();
      const std::vector<Probe> probes = with_odd_line_stride({{synthetic_table("lead-4MiB", std::min(4 * MiB, arena), dim, 20)},
                                                             {synthetic_table("lead-64MiB", std::min(64 * MiB, arena), dim, 1)},
                                                             {synthetic_table("lead-arena", arena, dim, 20)}});
      const auto [model, plan] = probe_model(probes, kBatch);
      std::vector<TableView> views;
      arena_.rewind();
      for (const Probe& pr : probes) views.push_back(arena_.place(pr.spec));
      // Leads that give the same distance in look-ups (at least 8: auto_prefetch_distance) are one.
      std::vector<int> leads;
      auto distance = [&](int lines) { return auto_prefetch_distance(row_bytes, true, L2PrefetchLead::every_width(lines)); };
      for (int l : kLeads) {
        if (leads.empty() || distance(l) != distance(leads.back())) leads.push_back(l);
      }
      std::vector<std::unique_ptr<PlanExecutor>> executors;
      for (int l : leads) {
        RunnerOptions r = o_.runner;
        r.stream_output_above = std::numeric_limits<std::size_t>::max();
        r.kernel.prefetch_level = PrefetchLevel::kL2;
        r.kernel.l2_lead.lines[w] = l;
        executors.push_back(std::make_unique<PlanExecutor>(model, view_pointers(views), plan, r));
      }
      WorkloadOptions wo;
      wo.batch_size = kBatch;
      wo.distribution = Distribution::parse("zipf:1.05");
      wo.seed = seed + 1000 * w;
      const std::vector<Batch> batches = planner::timed_batches(model, wo);
      FloatBuffer out(static_cast<std::size_t>(kBatch) * static_cast<std::size_t>(model.total_dim()));
      std::size_t next = 0;
      auto once = [&](PlanExecutor& e) {
        const double t0 = now_seconds();
        e.run(batches[next++ % batches.size()], out.data());
        return now_seconds() - t0;
      };
      warm_until_stable([&] { return once(*executors[leads.size() / 2]); });
      std::vector<std::vector<double>> seconds(leads.size());
      for (int round = 0; round < rounds_ * repeats_; ++round) {
        for (std::size_t c = 0; c < leads.size(); ++c) seconds[c].push_back(once(*executors[c]));
      }
      // Another lead than the built-in one must win by kLeadMargin: around the best, the time
      // is flat to within the spread of repeated calibrations (up to 6% on the Zen 3 VM), where
      // the profile should keep the lead it would run with anyway.
      const std::size_t builtin = static_cast<std::size_t>(std::find(leads.begin(), leads.end(), kL2PrefetchLines) - leads.begin());
      std::vector<double> median;
      for (const auto& s : seconds) median.push_back(median_of(s));
      std::size_t best = builtin;
      std::vector<std::string> times;
      for (std::size_t c = 0; c < leads.size(); ++c) {
        if (median[c] < median[best] && median[c] < (1 - kLeadMargin) * median[builtin]) best = c;
        times.push_back(fmt::format("{} lines {:.0f} us", leads[c], median[c] * 1e6));
      }
      lead.lines[w] = leads[best];
      say(fmt::format("  {}: {} lines", fmt::join(times, ", "), leads[best]));
    }
    arena_.rewind();
    p_.l2_prefetch_lead = lead;
  }

  // The fixed cost of an item: items of one empty bag.
  void item_overhead() {
    say("per-item overhead");
    std::vector<Probe> probes;
    for (int dim : {16, 64, 128, 256}) probes.push_back({synthetic_table(fmt::format("empty-d{}", dim), 4 * KiB, dim, 0)});
    p_.item_seconds = median_of(run(probes, 1, o_.seed + 100).seconds[0]);
  }

  // Hit, miss and scan costs for rows of `row_bytes`.
  void width(std::size_t row_bytes, std::uint64_t seed) {
    const int dim = static_cast<int>(row_bytes / 4);
    const std::size_t arena = arena_.bytes(), budget = o_.runner.resident_budget;
    say(fmt::format("look-ups of {}-byte rows", row_bytes));
    // Repeated rows (hits): a table gathered twice in a row, the second time timed.
    std::vector<Probe> hit_probes;
    const std::vector<std::size_t> hit_sizes = o_.quick ? std::vector<std::size_t>{4 * KiB, 256 * KiB, 2 * MiB}
                                                        : std::vector<std::size_t>{4 * KiB, 32 * KiB, 256 * KiB, 2 * MiB, 8 * MiB};
    for (std::size_t i = 0; i < hit_sizes.size(); ++i) {
      const std::size_t f = hit_sizes[i];
      if (i % 2 == 0) {  // empty bags, between the pairs: what a bag costs in this model's output
        hit_probes.push_back({synthetic_table(fmt::format("empty-bags-{}", i), 4 * KiB, dim, 0), Flow::kGather, Role::kBags});
      }
      TableSpec s = synthetic_table(fmt::format("hit-{}", f), f, dim, 1);
      // Bags of 128: what is left once a bag is paid must be the look-ups'. With bags of 8, a bag
      // of 512-byte rows (its 30 ns output row priced by the empty bags, and partly hidden behind
      // the adds in a full one) left 0.3 ns a look-up from L1, a third of what eight vector loads
      // and adds take, and dlrm-v2's hot rows were predicted at a sixth of their time.
      constexpr int bag = 128;
      s.bag_size = {bag, bag};
      TableSpec warm = s;
      warm.name += "-warm-up";
      hit_probes.push_back({warm, Flow::kGather, Role::kWarmUp});
      hit_probes.push_back({s, Flow::kGather, Role::kHit});
    }
    // Rows of the same bytes in fp16, in cache: what converting a row costs beyond reading it.
    // The cost model prices an fp16 look-up as a hit of its row's bytes plus its elements
    // converted, so the fp16 row here has twice the fp32 row's elements (the adds of the wider
    // output row are part of that price). Compared at the same dim, the fp16 row read half the
    // bytes in the same time, the difference came out 0, and fp16 tables of dim 64 were predicted
    // at half their time (3.3 ns a look-up measured from L1, 1.2 ns predicted).
    for (RowType type : {RowType::kFp32, RowType::kFp16}) {
      TableSpec s = synthetic_table(fmt::format("convert-{}", to_string(type)), 16 * KiB, dim, 16);
      s.row_type = type;
      if (type == RowType::kFp16) s.dim = 2 * dim;
      s.rows = static_cast<std::int64_t>(16 * KiB / s.row_bytes());
      TableSpec warm = s;
      warm.name += "-warm-up";
      hit_probes.push_back({warm, Flow::kGather, Role::kWarmUp});
      hit_probes.push_back({s, Flow::kGather, Role::kConvert});
    }
    // First touches, in a model-like mix: sizes and flows interleaved, bags of 2, and a table of
    // empty bags that prices a bag in this output. The tile scans run as a model of their own:
    // streaming 128 MiB tables through the core's caches would also evict what makes the
    // gathers of a large table fast (on the development VM, the host's page-table entries:
    // a 1 GiB table's rows cost 45 ns beside light tables, 270 ns beside such scans).
    std::vector<std::vector<Probe>> groups(3);
    for (int k = 0; k < 3; ++k) {  // three, spread through the model: one alone is too noisy
      groups[2].push_back({synthetic_table(fmt::format("empty-bags-{}", k), 4 * KiB, dim, 0), Flow::kGather, Role::kBags});
    }
    std::vector<std::size_t> sizes = o_.quick ? std::vector<std::size_t>{4 * KiB, 256 * KiB, 2 * MiB, 16 * MiB, arena}
                                              : std::vector<std::size_t>{4 * KiB, 32 * KiB, 256 * KiB, 2 * MiB, 16 * MiB, 64 * MiB, 256 * MiB, 512 * MiB, arena};
    std::sort(sizes.begin(), sizes.end());
    sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
    for (std::size_t s : sizes) {
      if (s <= arena) groups[0].push_back({synthetic_table(fmt::format("gather-{}", s), s, dim, 2), Flow::kGather});
    }
    for (std::size_t s : {budget / 512, budget / 64, budget / 8}) {
      groups[1].push_back({synthetic_table(fmt::format("resident-{}", s), std::max(s, row_bytes), dim, 2), Flow::kResident});
    }
    std::vector<Probe> probes;
    for (std::size_t k = 0; k < groups[0].size(); ++k) {
      for (std::size_t g = 0; g < 2; ++g) {
        if (k < groups[g].size()) probes.push_back(groups[g][k]);
      }
      if (k % 3 == 0 && k / 3 < groups[2].size()) probes.push_back(groups[2][k / 3]);
    }
    // A row-range split: every index is read by both halves, half of them only to be skipped.
    // (In cache: in a DRAM-sized table the skipped indices cannot be told from the look-ups' own
    // latency, and a skip priced that way over-prices every in-cache row split.)
    probes.push_back({synthetic_table("halves", 256 * KiB, dim, 8), Flow::kGather, Role::kMiss, true});
    std::vector<Probe> scan_probes;
    const std::vector<std::size_t> scan_sizes =
        o_.quick ? std::vector<std::size_t>{1 * MiB, 16 * MiB} : std::vector<std::size_t>{1 * MiB, 4 * MiB, 16 * MiB, 128 * MiB};
    for (std::size_t k = 0; k < scan_sizes.size(); ++k) {
      for (int bag : {1, 16}) {
        const std::size_t s = scan_sizes[k];
        if (s <= arena) scan_probes.push_back({synthetic_table(fmt::format("scan-{}-{}", s, bag), s, dim, bag), Flow::kTileScan, Role::kScan});
        if (k < 2) {
          // Several tiles each (one is gathered from), all four copies within the core's budget.
          const std::size_t r = k == 0 ? budget * 3 / 20 : budget * 3 / 10;
          scan_probes.push_back({synthetic_table(fmt::format("rscan-{}-{}", r, bag), std::max(r, row_bytes), dim, bag),
                                 Flow::kResidentTileScan, Role::kScan});
        }
      }
    }
    hit_probes = with_odd_line_stride(std::move(hit_probes));
    probes = with_odd_line_stride(std::move(probes));
    scan_probes = with_odd_line_stride(std::move(scan_probes));
    const ItemTimes h = run(hit_probes, kBatch, seed + 500);
    const ItemTimes sc = run(scan_probes, kBatch, seed + 700);
    // First touches at a small and a large batch: a large batch's traffic (and output) leaves
    // less of every table in the caches, which the cost model sees as others' traffic.
    std::vector<Measured> small_items, big_items;
    const ItemTimes small = run(probes, kBatch, seed, &small_items);
    const std::int64_t big_batch = o_.quick ? 8192 : 32768;
    const ItemTimes big = run(probes, big_batch, seed + 300, &big_items);

    // Per bag (offsets read, output row written), against the batch's output bytes: the
    // empty-bag table of each first-touch run.
    const double total_dim = output_stride_bytes(probes) / 4;
    std::vector<std::pair<double, double>> bag_points;
    for (const auto& [measured, batch] : {std::pair{&small_items, kBatch}, std::pair{&big_items, big_batch}}) {
      std::vector<double> per_bag;
      for (const Measured& it : *measured) {
        if (probes[it.probe].role == Role::kBags) {
          per_bag.push_back(std::max(0.0, it.seconds - p_.item_seconds) / static_cast<double>(batch));
        }
      }
      bag_points.emplace_back(4.0 * total_dim * static_cast<double>(batch), median_of(per_bag));
    }
    const double first_touch_bag[2] = {bag_points[0].second, bag_points[1].second};  // at kBatch, big_batch
    CurveFamily bag_family;
    bag_family.widths.emplace_back(4.0 * dim, sorted_curve(bag_points));
    p_.bag_seconds.widths.push_back(bag_family.widths.back());
    if (row_bytes % 64 == 0) streamed_bags(dim, big_batch, seed + 800);
    stride_factors(row_bytes, bag_family, seed + 850);

    MachineProfile priced = p_;  // what is known so far, to price the fixed parts of each item
    priced.bag_seconds = bag_family;
    priced.skip_index_seconds = 0;
    auto load = [&](const Probe& pr, const TableSample& sample, std::int64_t batch, RowRange rows) {
      return item_load(pr.spec, sample, {0, batch}, rows, p_.tile_bytes);
    };
    auto rest = [&](double seconds, const ItemLoad& l, double output_bytes, Flow flow = Flow::kGather) {  // once the fixed costs are paid
      return seconds - p_.item_seconds - CostModel::measured_output_passes(flow, l) * l.bags * bag_family.at(l.out_row_bytes, output_bytes);
    };
    // Hits: what is left once the item and its bags are paid, the bags priced by the hit model's
    // own empty-bag tables (its output is not the first-touch models').
    std::vector<double> hit_bags;
    for (std::size_t i = 0; i < hit_probes.size(); ++i) {
      if (hit_probes[i].role == Role::kBags) hit_bags.push_back(std::max(0.0, h.seconds[0][i] - p_.item_seconds) / kBatch);
    }
    const double hit_bag = median_of(hit_bags);
    auto hit_rest = [&](std::size_t i, const ItemLoad& l) { return h.seconds[0][i] - p_.item_seconds - l.bags * hit_bag; };
    std::vector<std::tuple<double, double, double>> hit;
    for (std::size_t i = 0; i < hit_probes.size(); ++i) {
      if (hit_probes[i].role != Role::kHit) continue;
      const ItemLoad l = load(hit_probes[i], h.samples[i], kBatch, {0, hit_probes[i].spec.rows});
      hit.emplace_back(std::min(l.distinct * l.row_bytes, l.table_bytes), std::max(0.0, hit_rest(i, l)) / l.lookups, l.lookups);
    }
    const CostCurve hit_curve = monotone_curve(hit);
    double per_lookup[2] = {0, 0};  // fp32, fp16
    for (std::size_t i = 0; i < hit_probes.size(); ++i) {
      if (hit_probes[i].role != Role::kConvert) continue;
      const ItemLoad l = load(hit_probes[i], h.samples[i], kBatch, {0, hit_probes[i].spec.rows});
      per_lookup[hit_probes[i].spec.row_type == RowType::kFp16] = hit_rest(i, l) / l.lookups;
    }
    convert_.push_back(std::max(0.0, per_lookup[1] - per_lookup[0]) / (2.0 * dim));
    p_.hit_gather.widths.emplace_back(static_cast<double>(row_bytes), hit_curve);
    p_.hit_resident.widths.emplace_back(static_cast<double>(row_bytes), hit_curve);  // the same caches
    priced.hit_gather = p_.hit_gather;
    priced.hit_resident = p_.hit_resident;

    // What the first touches cost once the repeats are priced (never below a repeat), against the
    // table's bytes plus the others' traffic in that model (cost_model.h).
    std::vector<std::tuple<double, double, double>> miss_resident;
    std::vector<FirstTouch>& miss_gather = first_touches_.emplace_back();
    struct Halves {
      ItemLoad load;
      CoreContext core;
      double seconds;
    };
    std::vector<Halves> halves;
    std::vector<std::pair<double, double>> traffic_bag_points;  // the bag curve by traffic (profile.h)
    for (const auto& [times, measured, batch, bag] : {std::tuple{&small, &small_items, kBatch, first_touch_bag[0]},
                                                      std::tuple{&big, &big_items, big_batch, first_touch_bag[1]}}) {
      std::vector<ItemLoad> loads;
      double traffic = 0, rows = 0, resident = 0;
      for (const Measured& it : *measured) {
        const Probe& pr = probes[it.probe];
        loads.push_back(load(pr, times->samples[it.probe], batch, it.rows));
        traffic += CostModel::traffic_bytes(pr.flow, loads.back());
        rows += CostModel::row_traffic_bytes(pr.flow, loads.back());
        if (is_resident(pr.flow)) resident += loads.back().table_bytes;
      }
      const double output_bytes = 4.0 * total_dim * static_cast<double>(batch);
      traffic_bag_points.emplace_back(output_bytes + rows, bag);
      for (std::size_t k = 0; k < measured->size(); ++k) {
        const Probe& pr = probes[(*measured)[k].probe];
        const ItemLoad& l = loads[k];
        const double others = traffic - CostModel::traffic_bytes(pr.flow, l);
        if (pr.role == Role::kBags || pr.role == Role::kPad) continue;
        if (pr.halves) {
          halves.push_back({l, {resident, others, output_bytes, 4.0 * total_dim}, (*measured)[k].seconds});
          continue;
        }
        const double own = is_resident(pr.flow) ? l.table_bytes : 0.0;
        const double repeat = hit_curve.at(std::max(1.0, std::min(l.distinct * l.row_bytes, l.table_bytes) + resident - own));
        // (A repeat beyond the hits' sizes costs a first touch: cost_model.h. Here footprints stay small.)
        const double first = std::max(
            repeat, (rest((*measured)[k].seconds, l, output_bytes) - (l.lookups - l.distinct) * repeat) / std::max(l.distinct, 1.0));
        if (pr.flow == Flow::kGather) {
          miss_gather.push_back({l.table_bytes + others, first, repeat, l, traffic});
        } else {
          miss_resident.emplace_back(l.table_bytes + others, first, l.distinct);
        }
      }
    }
    cached_output_bags(dim, seed + 950, traffic_bag_points);
    p_.bag_seconds_by_traffic.widths.emplace_back(4.0 * dim, sorted_curve(traffic_bag_points));
    p_.miss_gather.widths.emplace_back(static_cast<double>(row_bytes), gather_first_touch_curve(miss_gather));
    p_.miss_resident.widths.emplace_back(static_cast<double>(row_bytes), monotone_curve(miss_resident));
    // The halves: what is left once their look-ups are priced is the cost of skipping an index.
    priced.miss_gather = p_.miss_gather;
    const CostModel partial(priced);
    for (const Halves& hv : halves) {
      const double skipped = std::max(1.0, hv.load.scanned - hv.load.lookups);
      skip_index_.push_back(std::max(0.0, hv.seconds - partial.item_seconds(Flow::kGather, hv.load, hv.core)) / skipped);
    }
    // Tile scans over several tiles (one tile is gathered from, priced by the hits): bytes
    // streamed * scan + look-ups * serve, fitted at the small batch; then the
    // cost of serving a look-up against the item's look-ups, from both batches (with millions of
    // look-ups the counting sort's buckets leave the caches).
    const ItemTimes sc_big = run(scan_probes, big_batch, seed + 900);
    const double scan_dims = output_stride_bytes(scan_probes) / 4;
    std::vector<double> x1, x2, y, rx, ry, rl;
    for (std::size_t i = 0; i < scan_probes.size(); ++i) {
      if (scan_probes[i].role != Role::kScan) continue;
      const ItemLoad l = load(scan_probes[i], sc.samples[i], kBatch, {0, scan_probes[i].spec.rows});
      if (l.tiles <= 1) continue;  // gathered from its one tile (cost_model.h): priced by the hits
      const double left = rest(sc.seconds[0][i], l, 4.0 * kBatch * scan_dims, scan_probes[i].flow);
      // Relative errors: a 128 MiB scan's milliseconds must not drown a 1 MiB one's microseconds.
      const double w = 1.0 / std::max(left, 1e-9);
      if (scan_probes[i].flow == Flow::kTileScan) x1.push_back(l.touched_tile_bytes * w), x2.push_back(l.lookups * w), y.push_back(1.0);
    }
    const double scan = fit_two(x1, x2, y).first;
    scans_.push_back(scan);
    std::vector<std::tuple<double, double, double>> serve;
    for (const auto& [times, batch] : {std::pair{&sc, kBatch}, std::pair{&sc_big, big_batch}}) {
      for (std::size_t i = 0; i < scan_probes.size(); ++i) {
        if (scan_probes[i].role != Role::kScan) continue;
        const ItemLoad l = load(scan_probes[i], times->samples[i], batch, {0, scan_probes[i].spec.rows});
        if (l.tiles <= 1) continue;
        const double left = rest(times->seconds[0][i], l, 4.0 * static_cast<double>(batch) * scan_dims, scan_probes[i].flow);
        if (scan_probes[i].flow == Flow::kTileScan) {
          // A probe whose streaming leaves nothing to its look-ups cannot resolve their price (2048
          // one-row look-ups beside a 1 MiB stream): kept as 0, it pinned the curve's low end to
          // 0 and every tile scan of 2048-32768 look-ups was priced below the measured serve
          // cost, interpolated toward it. Left out, the curve stays flat below its first point.
          const double serve_seconds = (left - l.touched_tile_bytes * scan) / l.lookups;
          if (serve_seconds > 0) serve.emplace_back(l.lookups, serve_seconds, l.lookups);
        } else {
          rx.push_back(l.touched_tile_bytes), rl.push_back(l.lookups), ry.push_back(left);
        }
      }
    }
    const CostCurve serve_curve = monotone_curve(serve);
    p_.serve_seconds.widths.emplace_back(static_cast<double>(row_bytes), serve_curve);
    double num = 0, den = 0;
    for (std::size_t i = 0; i < ry.size(); ++i) num += (ry[i] - rl[i] * serve_curve.at(rl[i])) * rx[i], den += rx[i] * rx[i];
    resident_scans_.push_back(den > 0 ? std::max(0.0, num / den) : 0.0);
  }

  // The median cost of a bag (its offsets read, its output row written) in a run of `probes`
  // at `batch`: over the tables of empty bags, each item's fixed cost taken off.
  double median_bag_seconds(const std::vector<Probe>& probes, const ItemTimes& times, std::int64_t batch) const {
    std::vector<double> per_bag;
    for (std::size_t i = 0; i < probes.size(); ++i) {
      if (probes[i].role == Role::kBags) per_bag.push_back(std::max(0.0, times.seconds[0][i] - p_.item_seconds) / static_cast<double>(batch));
    }
    return median_of(per_bag);
  }

  // Bags in outputs that nothing else passes through the caches: models of four tables of empty
  // bags alone, outputs of L2/4 to 32x L2, appended to `points` (the first-touch models' two, at
  // x = their traffic) at x = their output, where they fall at least 1.5x from those and below the
  // larger. Below them, outputs the core keeps; between them, where the output leaves L3: a bag of
  // 512-byte rows cost 7.6 ns at 8.6 MiB, 23 ns at 17 MiB and 54 ns at 35 MiB, and with only the
  // first-touch points (4 and 29 MiB) the curve read 14 ns at 8.6 MiB.
  void cached_output_bags(int dim, std::uint64_t seed, std::vector<std::pair<double, double>>& points) {
    std::vector<Probe> probes;
    for (int k = 0; k < 4; ++k) {
      probes.push_back({synthetic_table(fmt::format("cached-bags-{}", k), 4 * KiB, dim, 0), Flow::kGather, Role::kBags});
    }
    probes = with_odd_line_stride(std::move(probes));
    const double stride = output_stride_bytes(probes);
    const double l2 = p_.l2_bytes > 0 ? static_cast<double>(p_.l2_bytes) : static_cast<double>(MiB);
    const std::vector<std::pair<double, double>> measured = points;
    double largest = 0;
    for (const auto& [x, y] : measured) largest = std::max(largest, x);
    auto near_measured = [&](double bytes) {
      for (const auto& [x, y] : measured) {
        if (bytes > x / 1.5 && bytes < x * 1.5) return true;
      }
      return false;
    };
    for (const double target : {l2 / 4, 2 * l2, 4 * l2, 8 * l2, 16 * l2, 32 * l2}) {
      const std::int64_t batch = std::max<std::int64_t>(256, static_cast<std::int64_t>(target / stride));
      const double bytes = stride * static_cast<double>(batch);
      if (bytes >= largest / 1.5) break;
      if (near_measured(bytes)) continue;
      points.emplace_back(bytes, median_bag_seconds(probes, run(probes, batch, seed + static_cast<std::uint64_t>(batch)), batch));
    }
  }

  // Bags whose output rows are streamed (whole cache lines of an output past the caches): a model
  // of empty-bag tables, its output as large as the first-touch models', every column streamed.
  // Streamed stores allocate nothing in the caches, so the price hardly depends on the output's
  // size (the development VM's profiles: 3.5 and 3.6 ns at 2 and 34 MiB of 64-byte rows, 7.3 and
  // 8.5 at 16 and 258 MiB of 512-byte ones), while a slow moment of the machine doubled one of
  // the two now and then (64-byte rows at 34 MiB: 6.7 ns, and criteo-kaggle at batch 65536
  // predicted 52% slow). A slow moment only adds: both sizes get the lower of the two.
  void streamed_bags(int dim, std::int64_t big_batch, std::uint64_t seed) {
    std::vector<Probe> probes;
    for (int k = 0; k < 16; ++k) {
      probes.push_back({synthetic_table(fmt::format("streamed-bags-{}", k), 4 * KiB, dim, 0), Flow::kGather, Role::kBags});
    }
    probes = with_odd_line_stride(std::move(probes));
    std::vector<std::pair<double, double>> points;
    for (const std::int64_t batch : {kBatch, big_batch}) {
      const ItemTimes times = run(probes, batch, seed, nullptr, true);
      points.emplace_back(output_stride_bytes(probes) * static_cast<double>(batch), median_bag_seconds(probes, times, batch));
    }
    const double lower = std::min(points[0].second, points[1].second);
    for (auto& [bytes, seconds] : points) seconds = lower;
    p_.streamed_bag_seconds.widths.emplace_back(4.0 * dim, sorted_curve(points));
  }

  // Bags against the alignment of the output's row stride: models of empty bags whose stride is
  // an odd multiple of 64, 128, ... 4096 bytes, each near 2-4 KiB (columns of this width, and one
  // narrower column for the rest). Each figure is taken against the first's, once the bag curve
  // has priced the difference in output bytes.
  void stride_factors(std::size_t row_bytes, const CurveFamily& bag_family, std::uint64_t seed) {
    CostCurve factors;
    double base = 0;
    for (std::size_t alignment = 64; alignment <= 4096; alignment *= 2) {
      std::size_t odd = std::max<std::size_t>(1, 2048 / alignment);
      if (odd % 2 == 0) ++odd;
      const std::size_t stride = alignment * odd;
      std::vector<Probe> probes;
      for (std::size_t k = 0; k < stride / row_bytes; ++k) {
        probes.push_back({synthetic_table(fmt::format("stride-{}-{}", alignment, k), 4 * KiB, static_cast<int>(row_bytes / 4), 0),
                          Flow::kGather, Role::kBags});
      }
      if (stride % row_bytes != 0) {
        probes.push_back({synthetic_table("stride-rest", 4 * KiB, static_cast<int>(stride % row_bytes / 4), 0), Flow::kGather, Role::kPad});
      }
      const ItemTimes times = run(probes, kBatch, seed + alignment);
      const double priced = median_bag_seconds(probes, times, kBatch) / bag_family.at(static_cast<double>(row_bytes), static_cast<double>(stride * kBatch));
      if (alignment == 64) base = priced;
      factors.points.emplace_back(static_cast<double>(alignment), base > 0 ? std::max(1.0, priced / base) : 1.0);
    }
    p_.bag_stride_factor.widths.emplace_back(static_cast<double>(row_bytes), factors);
  }

  void finish_lookups() {
    p_.scan_byte_seconds = median_of(scans_);
    p_.resident_scan_byte_seconds = median_of(resident_scans_);
    p_.skip_index_seconds = median_of(skip_index_);
    p_.fp16_element_seconds = median_of(convert_);
  }

  // Page walks (cost_model.h, page_walk_lines): models of a table that pulls a chosen traffic
  // through the core's caches, and beside it tables of 1/64, 1/16 and 1/8 of the arena, each
  // gathered twice, by a short item (one-row bags) and by a long one (bags of 8), all in pages
  // of their own (a table that shared pages with the traffic's would find its page entries warm).
  // What the model without walks leaves unexplained per first touch, against the walks per first
  // touch page_walk_lines predicts: the slope is a line's price, the e-folding traffic is the one
  // that fits best (the intercept is what the first-touch curves already hold of the walks, taken
  // out of them below). 64-byte rows: a walk is per row, whatever its width.
  void page_walks(std::uint64_t seed) {
    say("page walks after other traffic");
    constexpr int dim = 16;
    const std::size_t arena = arena_.bytes();
    const CostModel priced(p_, std::numeric_limits<std::size_t>::max());  // run() streams no output
    struct Observed {
      ItemLoad load;
      double traffic, extra;  // bytes through the caches per batch; unexplained seconds per first touch
    };
    std::vector<Observed> observed;
    const std::vector<int> traffic_bags = o_.quick ? std::vector<int>{1, 16, 256} : std::vector<int>{1, 4, 16, 64, 256};
    for (int bag : traffic_bags) {
      std::vector<Probe> probes{{synthetic_table("traffic", arena / 2, dim, bag)}};
      for (std::size_t size : {arena / 64, arena / 16, arena / 8}) {
        probes.push_back({synthetic_table(fmt::format("short-{}", size), size, dim, 1), Flow::kGather, Role::kWalk});
        probes.push_back({synthetic_table(fmt::format("long-{}", size), size, dim, 8), Flow::kGather, Role::kWalk});
      }
      probes = with_odd_line_stride(std::move(probes));
      arena_.rewind();
      const ItemTimes times = run(probes, kBatch, seed + static_cast<std::uint64_t>(bag));
      const auto [model, plan] = probe_model(probes, kBatch);
      const PlanPrediction predicted = priced.predict(plan, model, times.samples);
      std::vector<ItemLoad> loads;
      double traffic = 0;
      for (const WorkItem& it : plan.items[0]) {
        const auto t = static_cast<std::size_t>(it.table);
        loads.push_back(item_load(model.tables[t], times.samples[t], it.bags, it.rows, p_.tile_bytes));
        traffic += CostModel::traffic_bytes(it.flow, loads.back());
      }
      for (std::size_t i = 0; i < probes.size(); ++i) {
        if (probes[i].role != Role::kWalk) continue;
        const ItemLoad& l = loads[i];
        observed.push_back({l, traffic, (times.seconds[0][i] - predicted.item_seconds[0][i]) / std::max(l.distinct, 1.0)});
      }
    }
    // Least squares extra = price * walks per first touch + intercept, for each e-folding traffic.
    // A price above ten first touches in the arena's largest table is noise fitted (a quick
    // calibration's tables of 1-8 MiB hold a few dozen lines each: 3 us a line), not a walk.
    const double most = 10 * p_.miss_gather.at(64, static_cast<double>(arena));
    double best = std::numeric_limits<double>::max();
    for (double evict = 256.0 * KiB; evict <= 4096.0 * MiB; evict *= 2) {
      std::vector<double> x;
      for (const Observed& o : observed) x.push_back(page_walk_lines(o.load, o.traffic, evict) / std::max(o.load.distinct, 1.0));
      const double n = static_cast<double>(x.size());
      double sx = 0, sy = 0, sxx = 0, sxy = 0;
      for (std::size_t i = 0; i < x.size(); ++i) sx += x[i], sy += observed[i].extra, sxx += x[i] * x[i], sxy += x[i] * observed[i].extra;
      const double var = sxx - sx * sx / n;
      if (n < 3 || var <= 0) continue;
      const double slope = (sxy - sx * sy / n) / var, intercept = (sy - slope * sx) / n;
      if (slope <= 0 || slope > most) continue;
      double sse = 0;
      for (std::size_t i = 0; i < x.size(); ++i) sse += std::pow(observed[i].extra - slope * x[i] - intercept, 2);
      if (sse < best) best = sse, p_.page_walk_line_seconds = slope, p_.page_walk_evict_bytes = evict;
    }
    if (p_.page_walk_evict_bytes <= 0) return;  // no walk showed: the first-touch curves keep theirs
    // The first-touch curves without the walks their probes made, which the model now adds.
    for (std::size_t k = 0; k < first_touches_.size(); ++k) p_.miss_gather.widths[k].second = gather_first_touch_curve(first_touches_[k]);
  }

  // A gather's first-touch curve from its measurements, less the page walks the profile prices
  // (none before page_walks has fitted them), never below the repeat price under each.
  CostCurve gather_first_touch_curve(const std::vector<FirstTouch>& touches) const {
    std::vector<std::tuple<double, double, double>> points;
    for (const FirstTouch& f : touches) {
      const double walks = page_walk_lines(f.load, f.traffic, p_.page_walk_evict_bytes) / std::max(f.load.distinct, 1.0);
      points.emplace_back(f.x, std::max(f.floor, f.seconds - p_.page_walk_line_seconds * walks), f.load.distinct);
    }
    return monotone_curve(points);
  }

  // Hand-off of a batch to every core, the serial reduction of partial sums, and DRAM shared by
  // all cores.
  void runtime_overheads(int cores) {
    say("batch hand-off and reduction");
    WorkloadOptions w;
    w.seed = o_.seed + 7;
    {
      ModelSpec model{"calibration", {}, {}};
      std::vector<TableView> views;
      Plan plan;
      plan.model = model.name, plan.batch_size = w.batch_size = 256, plan.mapper = "calibration";
      for (int c = 0; c < cores; ++c) {
        model.tables.push_back(synthetic_table(fmt::format("tiny-{}", c), 4 * KiB, 16, 1));
        views.push_back(arena_.place(model.tables.back()));
        plan.cores.push_back(c);
        plan.items.push_back({{c, Flow::kGather, {0, 256}, {0, model.tables.back().rows}}});
      }
      p_.batch_seconds = planner::time_plan(model, views, plan, w, rounds_, o_.runner).handoff_seconds;
    }
    {
      constexpr std::int64_t kBags = 16384;
      ModelSpec model{"calibration", {synthetic_table("split", 1 * MiB, 64, 1)}, {}};
      const std::vector<TableView> views{arena_.place(model.tables[0])};
      const std::int64_t rows = model.tables[0].rows;
      w.batch_size = kBags;
      Plan whole = planner::single_core_plan(model, kBags, {Flow::kGather});
      Plan split = whole;
      split.items[0] = {{0, Flow::kGather, {0, kBags}, {0, rows / 2}}, {0, Flow::kGather, {0, kBags}, {rows / 2, rows}}};
      const double a = planner::time_plan(model, views, whole, w, rounds_, o_.runner).handoff_seconds;
      const double b = planner::time_plan(model, views, split, w, rounds_, o_.runner).handoff_seconds;
      p_.reduce_float_seconds = std::max(0.0, b - a) / (2.0 * kBags * 64);
    }
    if (cores >= 2) {  // two cores writing neighbouring columns of the same rows, against not
      // An output of twice the cores' L2s, as a model's is: with a 1 MiB output each core of the
      // symmetric plan kept its half in its L2 from one round to the next, and the 4.8 ns per bag
      // measured that, not the sharing (0.9 ns per bag, averaged over the two cores, with 8 MiB; with
      // 4.8 ns criteo-kaggle's table-wise plan was predicted 28-32% slower than symmetric, and it
      // measured 2-10% faster).
      const std::int64_t bags = std::max<std::int64_t>(8192, static_cast<std::int64_t>(4 * p_.l2_bytes / 128));
      ModelSpec model{"calibration", {synthetic_table("left", 4 * KiB, 16, 1), synthetic_table("right", 4 * KiB, 16, 1)}, {}};
      const std::vector<TableView> views{arena_.place(model.tables[0]), arena_.place(model.tables[1])};
      const std::int64_t rows = model.tables[0].rows;
      w.batch_size = bags;
      Plan apart = planner::single_core_plan(model, bags, {Flow::kGather, Flow::kGather});
      apart.cores = {0, 1};
      apart.items = {{{0, Flow::kGather, {0, bags}, {0, rows}}}, {{1, Flow::kGather, {0, bags}, {0, rows}}}};
      Plan together = symmetric_plan(model, bags, 2);
      auto busy = [&](const Plan& plan) {
        const ItemTimes m = planner::time_plan(model, views, plan, w, rounds_, o_.runner);
        double total = 0;
        for (const auto& worker : m.seconds) {
          for (double s : worker) total += s;
        }
        return total / 2;
      };
      p_.shared_output_bag_seconds = std::max(0.0, busy(apart) - busy(together)) / bags;
    }
    say("DRAM shared by all cores");
    // Random rows of 64 and 512 bytes from a table of the arena's size, every core at once: bytes
    // of distinct rows over the slowest core's time.
    p_.dram_bytes_per_s.points.clear();
    for (int dim : {16, 128}) {
      TableSpec big = synthetic_table(fmt::format("dram-d{}", dim), arena_.bytes(), dim, 8);
      ModelSpec model{"calibration", {big}, {}};
      const std::vector<TableView> views{arena_.place(big)};
      w.batch_size = (dim == 16 ? 4096 : 1024) * cores;
      const Plan plan = symmetric_plan(model, w.batch_size, cores);
      const ItemTimes m = planner::time_plan(model, views, plan, w, rounds_, o_.runner);
      double bytes = 0;
      for (const auto& worker : plan.items) {
        bytes += item_load(big, m.samples[0], worker[0].bags, worker[0].rows, p_.tile_bytes).distinct *
                 static_cast<double>(big.row_bytes());
      }
      const double slowest = slowest_worker(m);
      p_.dram_bytes_per_s.points.emplace_back(static_cast<double>(big.row_bytes()), slowest > 0 ? bytes / slowest : 0);
    }
    // The output: empty bags of 512-byte rows, 32 MiB of output per core, every core at once.
    {
      const TableSpec empty = synthetic_table("output", 4 * KiB, 128, 0);
      ModelSpec model{"calibration", {empty}, {}};
      const std::vector<TableView> views{arena_.place(empty)};
      w.batch_size = 65536 * cores;
      const Plan plan = symmetric_plan(model, w.batch_size, cores);
      const ItemTimes m = planner::time_plan(model, views, plan, w, rounds_, o_.runner);
      const double slowest = slowest_worker(m);
      p_.output_bytes_per_s = slowest > 0 ? batch_output_bytes(model, w.batch_size) / slowest : 0;
    }
  }

 private:
  const CalibrateOptions& o_;
  MachineProfile& p_;
  Arena& arena_;
  int rounds_;
  int repeats_;
  std::vector<double> scans_, resident_scans_, skip_index_, convert_;
  std::vector<std::vector<FirstTouch>> first_touches_;  // width()'s gathers, in p_.miss_gather's order
};

}  // namespace

std::size_t planner::calibration_arena_bytes(const CalibrateOptions& o) {
  std::size_t bytes = o.arena_bytes ? o.arena_bytes : (o.quick ? 64 * MiB : 1024 * MiB);
  const std::size_t avail = available_memory();
  if (avail != 0) bytes = std::min(bytes, avail / 4);
  return std::max<std::size_t>(bytes, 4 * MiB);
}

MachineProfile calibrate_machine(const CalibrateOptions& o) {
  const MachineInfo machine = describe_machine();
  MachineProfile p;
  p.source = "measured";
  p.name = machine.cpu_model;
  char date[32] = {};
  const std::time_t t = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&t));
  p.description = fmt::format("measured by embflow calibrate{} on {}; caches: {}", o.quick ? " --quick" : "", date,
                              machine.cache_source);
  p.cores = machine.physical_cores;
  p.isa = std::string(to_string(o.runner.isa));
  p.l1d_bytes = machine.l1d_bytes, p.l2_bytes = machine.l2_bytes, p.l3_bytes = machine.l3_bytes;
  p.resident_budget = o.runner.resident_budget;
  p.tile_bytes = o.runner.kernel.tile_bytes;

  Arena arena(planner::calibration_arena_bytes(o), o.seed);
  const int rounds = o.rounds > 0 ? o.rounds : (o.quick ? 5 : 15);
  Calibrator c(o, p, arena, rounds);
  c.prefetch_lead(o.seed + 50);
  c.item_overhead();
  const std::vector<std::size_t> widths =
      o.quick ? std::vector<std::size_t>{64, 256} : std::vector<std::size_t>{32, 64, 128, 256, 512};
  for (std::size_t w : widths) c.width(w, o.seed + 1000 * w);
  c.finish_lookups();
  c.page_walks(o.seed + 77);
  // A VM may report the host's whole L3 (describe_machine flags it): take the usable share from
  // what was just measured instead: the largest size whose first touches of 64-byte rows cost at
  // most the geometric mean of the cheapest and the dearest (halfway, in log terms, from cache to
  // DRAM).
  if (machine.cache_source.find("implausible") != std::string::npos && !p.miss_gather.widths.empty()) {
    const CostCurve* curve = &p.miss_gather.widths.front().second;
    for (const auto& [w, cv] : p.miss_gather.widths) {
      if (w <= 64) curve = &cv;
    }
    const double lo = curve->points.front().second, hi = curve->points.back().second;
    double usable = static_cast<double>(p.l2_bytes);
    for (const auto& [x, y] : curve->points) {
      if (y <= std::sqrt(std::max(lo, 1e-12) * hi)) usable = std::max(usable, x);
    }
    p.l3_bytes = static_cast<std::size_t>(usable) * static_cast<std::size_t>(std::max(1, p.cores));
    p.description += fmt::format("; usable L3 measured: {} MiB per core", static_cast<std::size_t>(usable) >> 20);
  }
  c.runtime_overheads(machine.physical_cores);
  return p;
}

}  // namespace embflow
