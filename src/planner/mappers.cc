// The mappers of planner.h. The asymmetric one searches over how many parts each table is split
// into (and whether by batch or by rows); for a given split, parts are packed largest first onto
// the core where they finish earliest, choosing each part's flow on the way.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/planner.h"

namespace embflow {
namespace {

enum class Split { kBatch, kRows };

// Every table gathered whole: its load.
std::vector<ItemLoad> whole_table_loads(const ModelSpec& model, const std::vector<TableSample>& samples,
                                        const CostModel& cost, std::int64_t batch_size) {
  std::vector<ItemLoad> loads;
  const std::vector<bool> streamed = cost.streamed_columns(model, batch_size);
  for (std::size_t t = 0; t < model.tables.size(); ++t) {
    const TableSpec& spec = model.tables[t];
    loads.push_back(CostModel::load(spec, streamed[t], samples[t], {0, batch_size}, {0, spec.rows}, cost.profile().tile_bytes));
  }
  return loads;
}

// A core's fair share of the cache traffic of the whole batch, every table gathered whole, and of
// its rows alone (CoreContext::row_traffic): the context a part is priced in before its core is
// known.
struct TrafficShare {
  double all = 0;
  double rows = 0;
};
TrafficShare fair_share_traffic(const std::vector<ItemLoad>& loads, int cores) {
  TrafficShare s;
  for (const ItemLoad& l : loads) {
    s.all += CostModel::traffic_bytes(Flow::kGather, l) / cores;
    s.rows += CostModel::row_traffic_bytes(Flow::kGather, l) / cores;
  }
  return s;
}

// One part of a split table, priced for every flow it may use.
struct Part {
  int table = 0;
  BagRange bags;
  RowRange rows;
  double stream_seconds = 0;   // best non-resident flow
  Flow stream_flow = Flow::kGather;
  double resident_seconds = -1;  // best resident flow; < 0: not allowed or does not fit
  Flow resident_flow = Flow::kResident;
  std::size_t bytes = 0;       // of its row range
  double dram_seconds = 0;     // of its streaming flow, at the all-core DRAM rate
  double partial_floats = 0;   // output it reduces (row splits)
  double best() const { return resident_seconds >= 0 ? std::min(stream_seconds, resident_seconds) : stream_seconds; }
};

struct Packing {
  std::vector<std::vector<std::pair<const Part*, Flow>>> cores;
  std::vector<double> load;
  double makespan = 0;
};

class AsymmetricPlanner {
 public:
  AsymmetricPlanner(const ModelSpec& model, const std::vector<TableSample>& samples, const CostModel& cost,
                    const PlannerOptions& o)
      : model_(model), samples_(samples), cost_(cost), o_(o),
        budget_(o.resident_budget ? o.resident_budget : cost.profile().resident_budget),
        max_parts_(o.max_parts > 0 ? o.max_parts : o.cores) {
    overhead_ = cost.overhead_seconds();
  }

  static double overlap(BagRange a, BagRange b) {
    return static_cast<double>(std::max<std::int64_t>(0, std::min(a.end, b.end) - std::max(a.begin, b.begin)));
  }

  // While packing, a part's core is not known yet: price it beside a fair share of the traffic of
  // the whole batch (every table gathered whole). Also each table's output blocks.
  void set_context() {
    for (std::size_t t = 0; t < model_.tables.size(); ++t) blocks_.push_back(output_blocks(model_, static_cast<int>(t)));
    const TrafficShare share = fair_share_traffic(whole_table_loads(model_, samples_, cost_, batch_size_), o_.cores);
    context_traffic_ = share.all;
    context_rows_ = share.rows;
    streamed_ = cost_.streamed_columns(model_, batch_size_);
    output_bytes_ = batch_output_bytes(model_, batch_size_);
    output_stride_ = output_row_bytes(model_);
  }

  Plan plan(std::int64_t batch_size) {
    batch_size_ = batch_size;
    set_context();
    const std::size_t n = model_.tables.size();
    std::vector<int> k(n, 1);
    std::vector<Split> split(n, Split::kBatch);
    // Start: split what cannot fit in a fair share of the work.
    double total = 0;
    for (std::size_t t = 0; t < n; ++t) total += parts(static_cast<int>(t), Split::kBatch, 1)[0].best();
    const double fair = total / o_.cores;
    for (std::size_t t = 0; t < n; ++t) {
      const double c = parts(static_cast<int>(t), Split::kBatch, 1)[0].best();
      if (fair > 0 && c > fair) k[t] = std::min<int>(max_parts_, static_cast<int>(std::ceil(c / fair)));
    }
    Packing best = pack(k, split);
    // Improve: split a table of the busiest core further, while the makespan drops.
    for (int iteration = 0; iteration < 4 * static_cast<int>(n) + 4 * o_.cores; ++iteration) {
      const auto busiest = static_cast<std::size_t>(std::max_element(best.load.begin(), best.load.end()) - best.load.begin());
      std::vector<std::pair<double, int>> candidates;  // (part seconds, table) on the busiest core
      for (const auto& [part, flow] : best.cores[busiest]) candidates.emplace_back(part->best(), part->table);
      std::sort(candidates.begin(), candidates.end(), [](auto& a, auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); });
      bool improved = false;
      for (std::size_t c = 0; c < std::min<std::size_t>(candidates.size(), 3) && !improved; ++c) {
        const auto t = static_cast<std::size_t>(candidates[c].second);
        for (Split s : {Split::kBatch, Split::kRows}) {
          const int next = s == split[t] ? k[t] + 1 : std::max(2, k[t]);
          if (next > max_parts_ || !splittable(static_cast<int>(t), s, next)) continue;
          std::vector<int> k2 = k;
          std::vector<Split> split2 = split;
          k2[t] = next, split2[t] = s;
          Packing p = pack(k2, split2);
          if (p.makespan < best.makespan * (1 - 1e-9)) {
            best = std::move(p), k = std::move(k2), split = std::move(split2), improved = true;
            break;
          }
        }
      }
      if (!improved) break;
    }
    return to_plan(best);
  }

 private:
  // Row splits only where each part then fits a core's cache (resident, or in L2): that is what
  // they buy on a CPU (each row cached by one core). Split by rows, a DRAM-sized table gains
  // nothing and reads every index once per part; measured on criteo-kaggle's 618 MiB table with
  // bags of 100, two row halves took 1.3x the time of two batch halves.
  bool splittable(int t, Split s, int k) const {
    const TableSpec& spec = model_.tables[static_cast<std::size_t>(t)];
    if (s == Split::kBatch) return k <= batch_size_;
    const double part = static_cast<double>(spec.bytes()) / k;
    const double cache = static_cast<double>(std::max<std::size_t>(budget_, cost_.profile().l2_bytes));
    return k <= std::min<std::int64_t>(spec.rows, TableSample::kBuckets) && part <= cache;
  }

  // The parts of table t split k ways (memoized: the search asks for the same splits again).
  const std::vector<Part>& parts(int t, Split s, int k) {
    const auto key = std::make_tuple(t, s == Split::kRows, k);
    auto found = memo_.find(key);
    if (found != memo_.end()) return found->second;
    const TableSpec& spec = model_.tables[static_cast<std::size_t>(t)];
    const TableSample& sample = samples_[static_cast<std::size_t>(t)];
    std::vector<Part> out;
    for (int i = 0; i < k; ++i) {
      Part p;
      p.table = t;
      if (s == Split::kBatch) {
        p.bags = {batch_size_ * i / k, batch_size_ * (i + 1) / k};
        p.rows = {0, spec.rows};
      } else {  // on bucket boundaries, so the sample's histogram prices each part
        auto edge = [&](int j) { return spec.rows * (TableSample::kBuckets * j / k) / TableSample::kBuckets; };
        p.bags = {0, batch_size_};
        p.rows = {edge(i), edge(i + 1)};
        p.partial_floats = k > 1 ? static_cast<double>(batch_size_) * spec.dim : 0.0;
      }
      if (p.bags.size() <= 0 || p.rows.size() <= 0) continue;
      const ItemLoad load = CostModel::load(spec, streamed_[static_cast<std::size_t>(t)], sample, p.bags, p.rows, cost_.profile().tile_bytes);
      p.bytes = static_cast<std::size_t>(p.rows.size()) * spec.row_bytes();
      p.stream_seconds = -1;
      const double share = static_cast<double>(p.bags.size()) / static_cast<double>(batch_size_);  // of the table's bags
      for (Flow f : o_.flows) {
        if (!cost_.calibrated_for(f, load)) continue;
        const double others = std::max(0.0, context_traffic_ - CostModel::traffic_bytes(f, load));
        const bool resident = is_resident(f);
        if (resident && p.bytes > budget_) continue;
        const double resident_bytes = resident ? static_cast<double>(p.bytes) : 0.0;
        const double c = cost_.item_seconds(f, load, {resident_bytes, others, output_bytes_, output_stride_, share, context_rows_});
        if (resident) {
          if (p.resident_seconds < 0 || c < p.resident_seconds) p.resident_seconds = c, p.resident_flow = f;
        } else {
          if (p.stream_seconds < 0 || c < p.stream_seconds) p.stream_seconds = c, p.stream_flow = f;
        }
      }
      if (p.stream_seconds < 0) {  // only resident flows allowed: it must fit somewhere
        p.stream_seconds = p.resident_seconds >= 0 ? 1e30 : cost_.item_seconds(Flow::kGather, load, {0, context_traffic_, output_bytes_, output_stride_, 1, context_rows_});
      }
      p.dram_seconds = cost_.dram_seconds(p.stream_flow, load);
      out.push_back(p);
    }
    return memo_.emplace(key, std::move(out)).first->second;
  }

  Packing pack(const std::vector<int>& k, const std::vector<Split>& split) {
    std::vector<const Part*> all;
    for (std::size_t t = 0; t < k.size(); ++t) {
      for (const Part& p : parts(static_cast<int>(t), split[t], k[t])) all.push_back(&p);
    }
    std::stable_sort(all.begin(), all.end(), [](const Part* a, const Part* b) { return a->best() > b->best(); });
    Packing pk;
    pk.cores.resize(static_cast<std::size_t>(o_.cores));
    pk.load.assign(static_cast<std::size_t>(o_.cores), 0.0);
    std::vector<std::size_t> room(static_cast<std::size_t>(o_.cores), budget_);
    double dram = cost_.output_dram_seconds(output_bytes_), partial = 0;
    // Who writes each 128-byte output block so far, for which bags: a part beside another core's
    // writes of the same rows pays the shared-output cost, and so does that core (once), each
    // weighted by the other part's share of a core's time, as CostModel::predict weighs them
    // (the load a core ends with is not known yet: the mean is).
    struct Writer {
      std::size_t core;
      BagRange bags;
      bool charged;
      double share;
    };
    std::map<std::int64_t, std::vector<Writer>> writers;
    const double penalty = cost_.profile().shared_output_bag_seconds;
    double mean_load = 0;
    for (const Part* p : all) mean_load += p->best() / static_cast<double>(o_.cores);
    auto share_of = [&](const Part& p) { return mean_load > 0 ? std::min(1.0, p.best() / mean_load) : 1.0; };
    auto shared_on = [&](const Part& p, std::size_t c) {
      double most = 0;
      if (p.partial_floats > 0 || penalty == 0) return most;
      for (std::int64_t b = blocks_[p.table].first; b <= blocks_[p.table].second; ++b) {
        for (const Writer& o : writers[b]) {
          if (o.core != c) most = std::max(most, o.share * overlap(o.bags, p.bags));
        }
      }
      return most;
    };
    for (const Part* p : all) {
      std::size_t core = 0;
      double finish = 0;
      bool resident = false;
      for (std::size_t c = 0; c < pk.load.size(); ++c) {
        const bool fits = p->resident_seconds >= 0 && p->bytes <= room[c];
        const bool use_resident = fits && p->resident_seconds < p->stream_seconds;
        const double f = pk.load[c] + (use_resident ? p->resident_seconds : p->stream_seconds) + penalty * shared_on(*p, c);
        if (c == 0 || f < finish) core = c, finish = f, resident = use_resident;
      }
      pk.load[core] = finish;
      if (resident) room[core] -= p->bytes;
      pk.cores[core].emplace_back(p, resident ? p->resident_flow : p->stream_flow);
      if (!resident) dram += p->dram_seconds;
      partial += p->partial_floats;
      if (p->partial_floats == 0 && penalty > 0) {
        for (std::int64_t b = blocks_[p->table].first; b <= blocks_[p->table].second; ++b) {
          for (Writer& o : writers[b]) {
            if (o.core != core && !o.charged && overlap(o.bags, p->bags) > 0) {
              pk.load[o.core] += penalty * share_of(*p) * overlap(o.bags, p->bags);
              o.charged = true;
            }
          }
          writers[b].push_back({core, p->bags, true, share_of(*p)});
        }
      }
    }
    const double busiest = *std::max_element(pk.load.begin(), pk.load.end());
    pk.makespan = combine_busy_and_dram(busiest, dram) + overhead_ + cost_.reduce_seconds(partial);
    return pk;
  }

  Plan to_plan(const Packing& pk) const {
    Plan plan;
    plan.model = model_.name;
    plan.batch_size = batch_size_;
    plan.mapper = "asymmetric";
    for (int c = 0; c < o_.cores; ++c) plan.cores.push_back(c);
    for (const auto& core : pk.cores) {
      std::vector<WorkItem> items;
      for (const auto& [part, flow] : core) items.push_back({part->table, flow, part->bags, part->rows});
      // Table order on every core: the order a model's tables come in, deterministic.
      std::sort(items.begin(), items.end(), [](const WorkItem& a, const WorkItem& b) {
        return std::tie(a.table, a.bags.begin, a.rows.begin) < std::tie(b.table, b.bags.begin, b.rows.begin);
      });
      plan.items.push_back(std::move(items));
    }
    return plan;
  }

  const ModelSpec& model_;
  const std::vector<TableSample>& samples_;
  const CostModel& cost_;
  const PlannerOptions& o_;
  std::size_t budget_;
  int max_parts_;
  std::int64_t batch_size_ = 0;
  double overhead_ = 0, context_traffic_ = 0, context_rows_ = 0, output_bytes_ = 0, output_stride_ = 0;
  std::vector<std::pair<std::int64_t, std::int64_t>> blocks_;  // each table's output blocks
  std::vector<bool> streamed_;  // each table's output column streamed (CostModel::streamed_columns)
  std::map<std::tuple<int, bool, int>, std::vector<Part>> memo_;
};

// Whole tables priced by the cost model: gather, beside a fair share of the others' traffic.
std::vector<double> table_costs(const ModelSpec& model, const std::vector<TableSample>& samples, const CostModel& cost,
                                std::int64_t batch_size, int cores) {
  const std::vector<ItemLoad> loads = whole_table_loads(model, samples, cost, batch_size);
  const TrafficShare share = fair_share_traffic(loads, cores);
  std::vector<double> out;
  for (const ItemLoad& l : loads) {
    const double others = std::max(0.0, share.all - CostModel::traffic_bytes(Flow::kGather, l));
    out.push_back(cost.item_seconds(Flow::kGather, l, {0, others, batch_output_bytes(model, batch_size), 0, 1, share.rows}));
  }
  return out;
}

void attach_prediction(Plan& plan, const ModelSpec& model, const std::vector<TableSample>& samples, const CostModel& cost) {
  const PlanPrediction p = cost.predict(plan, model, samples);
  plan.profile = cost.profile().name;
  plan.l2_prefetch_lead = cost.profile().l2_prefetch_lead;
  plan.predicted_worker_seconds = p.worker_seconds;
  plan.predicted_makespan = p.makespan;
}

}  // namespace

std::string_view to_string(Mapper m) {
  switch (m) {
    case Mapper::kAsymmetric: return "asymmetric";
    case Mapper::kSymmetric: return "symmetric";
    case Mapper::kTableWise: return "table-wise";
  }
  return "?";
}

Mapper parse_mapper(std::string_view s) {
  for (Mapper m : kAllMappers) {
    if (to_string(m) == s) return m;
  }
  throw InvalidInput(fmt::format("unknown mapper '{}' (known: asymmetric, symmetric, table-wise)", s));
}

namespace {

void check_planner_inputs(const ModelSpec& model, const std::vector<TableSample>& samples, const PlannerOptions& o) {
  if (o.cores < 1) throw InvalidInput(fmt::format("need at least one core, got {}", o.cores));
  if (samples.size() != model.tables.size()) {
    throw InvalidInput(fmt::format("{} table samples for a model of {} tables", samples.size(), model.tables.size()));
  }
  if (o.flows.empty()) throw InvalidInput("the planner needs at least one flow to choose from");
}

}  // namespace

Plan search_plan(const ModelSpec& model, const std::vector<TableSample>& samples, const CostModel& cost,
                 const PlannerOptions& o) {
  check_planner_inputs(model, samples, o);
  const std::int64_t batch_size = samples.empty() ? 0 : samples[0].batch_size;
  Plan plan;
  if (batch_size == 0) {
    plan = symmetric_plan(model, batch_size, o.cores);
    plan.mapper = "asymmetric";
  } else {
    plan = AsymmetricPlanner(model, samples, cost, o).plan(batch_size);
  }
  attach_prediction(plan, model, samples, cost);
  return plan;
}

Plan make_plan(Mapper mapper, const ModelSpec& model, const std::vector<TableSample>& samples, const CostModel& cost,
               const PlannerOptions& o) {
  check_planner_inputs(model, samples, o);
  const std::int64_t batch_size = samples.empty() ? 0 : samples[0].batch_size;
  Plan plan;
  switch (mapper) {
    case Mapper::kSymmetric:
      plan = symmetric_plan(model, batch_size, o.cores);
      break;
    case Mapper::kTableWise:
      plan = table_wise_plan(model, batch_size, o.cores, table_costs(model, samples, cost, batch_size, o.cores));
      break;
    case Mapper::kAsymmetric: {
      plan = search_plan(model, samples, cost, o);
      if (batch_size == 0) return plan;
      // The baselines are candidates too (when their gather flow is allowed): never predicted worse.
      if (std::find(o.flows.begin(), o.flows.end(), Flow::kGather) != o.flows.end()) {
        Plan symmetric = make_plan(Mapper::kSymmetric, model, samples, cost, o);
        for (Mapper base : {Mapper::kSymmetric, Mapper::kTableWise}) {
          Plan b = base == Mapper::kSymmetric ? symmetric : make_plan(base, model, samples, cost, o);
          if (b.predicted_makespan < plan.predicted_makespan) {
            b.notes.push_back(fmt::format("the {} mapping was predicted fastest ({:.1f} us against {:.1f} us for the "
                                          "search's best)", to_string(base), b.predicted_makespan * 1e6,
                                          plan.predicted_makespan * 1e6));
            b.mapper = "asymmetric";
            plan = std::move(b);
          }
        }
        // Leave the default mapping only for a clear predicted gain (the model's own error is of
        // that order): a plan within min_gain of symmetric runs as symmetric.
        const double gain = 1 - plan.predicted_makespan / symmetric.predicted_makespan;
        if (gain > 0 && gain < o.min_gain) {
          symmetric.notes.push_back(fmt::format("the best plan found was predicted only {:.1f}% faster than the "
                                                "symmetric mapping, under the {:.0f}% asked for (min_gain): symmetric "
                                                "kept", gain * 100, o.min_gain * 100));
          symmetric.mapper = "asymmetric";
          plan = std::move(symmetric);
        }
      }
      return plan;
    }
  }
  attach_prediction(plan, model, samples, cost);
  return plan;
}

}  // namespace embflow
