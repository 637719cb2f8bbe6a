#include "embflow/cost_model.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <tuple>

namespace embflow {
namespace {

// Distinct rows among the look-ups of `samples` consecutive samples, from the sample's curve
// (interpolated in log n; proportional below its first point).
double distinct_for_samples(const TableSample& s, double samples) {
  const auto& c = s.distinct_by_samples;
  if (c.empty() || samples <= 0) return 0;
  if (samples >= static_cast<double>(c.back().first)) return static_cast<double>(c.back().second);
  if (samples <= static_cast<double>(c.front().first)) {
    return static_cast<double>(c.front().second) * samples / static_cast<double>(c.front().first);
  }
  for (std::size_t i = 1; i < c.size(); ++i) {
    const double n1 = static_cast<double>(c[i].first);
    if (samples <= n1) {
      const double n0 = static_cast<double>(c[i - 1].first);
      const double f = std::log(samples / n0) / std::log(n1 / n0);
      return static_cast<double>(c[i - 1].second) + f * static_cast<double>(c[i].second - c[i - 1].second);
    }
  }
  return static_cast<double>(c.back().second);
}

double cache_lines(double bytes) { return std::ceil(bytes / 64.0) * 64.0; }

// The mean cost of the item's repeats. `price(f)` is what a repeat costs when repeats spread
// evenly over f bytes of rows (the hit curves are measured so); the working set says how they
// spread: the share of repeats whose row was last used between c/2 and c bytes of other rows
// ago (repeat_miss_share at c/2 less at c) pays the marginal price of that band,
// (c price(c) - c/2 price(c/2)) / (c/2). Evenly spread repeats give back price(footprint);
// skewed ones pay mostly the smaller footprints of their hot rows. Not below `l2` bytes: a hit in
// L2 costs about what one in L1 does (the adds, not the latency, set the pace there; zipf tables
// of 1 MiB priced by their hottest rows were predicted 30% too fast).
template <class Price>
double mean_repeat_seconds(const ItemLoad& l, double footprint, double l2, const Price& price) {
  double c = std::max(footprint, 1.0), missing_c = 0, total = 0;
  while (c > l2) {
    const double half = c / 2, missing_half = repeat_miss_share(l, half);
    const double marginal = std::max(0.0, (c * price(c) - half * price(half)) / half);
    total += (missing_half - missing_c) * marginal;
    c = half, missing_c = missing_half;
  }
  return total + (1 - missing_c) * price(c);
}

// Whether embflow's CPU tile scan buckets the item's look-ups by tile; over one tile it gathers
// from the streamed tile in bag order instead (kernels.h).
bool buckets_by_tile(Flow flow, const ItemLoad& l) { return is_tile_scan(flow) && l.tiles > 1; }

// Whether the item's output rows go past the caches: streamed stores are the gather kernel's (a
// tile scan over several tiles copies its packed rows in through the caches).
bool output_rows_streamed(Flow flow, const ItemLoad& l) { return l.streamed_output && !buckets_by_tile(flow, l); }

}  // namespace

ItemLoad item_load(const TableSpec& table, const TableSample& sample, BagRange bags, RowRange rows,
                   std::size_t tile_bytes) {
  ItemLoad l;
  l.row_bytes = static_cast<double>(table.row_bytes());
  l.converted = table.row_type == RowType::kFp16 ? table.dim : 0;
  l.out_row_bytes = 4.0 * table.dim;
  l.bags = static_cast<double>(bags.size());
  l.table_bytes = static_cast<double>(rows.size()) * l.row_bytes;
  // Look-ups and distinct rows in the row range: the buckets it covers, in proportion.
  double lookups = 0, distinct = 0;
  constexpr int kB = TableSample::kBuckets;
  for (int i = 0; i < kB; ++i) {
    const double lo = static_cast<double>(table.rows) * i / kB, hi = static_cast<double>(table.rows) * (i + 1) / kB;
    const double overlap = std::min(hi, static_cast<double>(rows.end)) - std::max(lo, static_cast<double>(rows.begin));
    if (overlap <= 0 || hi <= lo) continue;
    const double f = std::min(1.0, overlap / (hi - lo));
    lookups += f * static_cast<double>(sample.bucket_lookups[static_cast<std::size_t>(i)]);
    distinct += f * static_cast<double>(sample.bucket_distinct[static_cast<std::size_t>(i)]);
  }
  // A slice of the batch: its share of the look-ups, and the distinct rows of that many samples.
  const double b = static_cast<double>(std::max<std::int64_t>(sample.batch_size, 1));
  l.scanned = static_cast<double>(sample.lookups) * l.bags / b;  // a row-range item reads every index
  l.lookups = lookups * l.bags / b;
  const double whole = static_cast<double>(std::max<std::int64_t>(sample.distinct, 1));
  l.distinct = std::min(l.lookups, distinct * distinct_for_samples(sample, l.bags) / whole);
  for (const auto& [n, d] : sample.distinct_by_samples) {
    const auto samples = static_cast<double>(n);
    if (samples >= l.bags) break;
    l.working_set.emplace_back(l.lookups * samples / std::max(l.bags, 1.0),
                               std::min(l.distinct, distinct * static_cast<double>(d) / whole));
  }
  l.working_set.emplace_back(l.lookups, l.distinct);
  // Tiles a tile scan streams: distinct rows scattered over the range's tiles.
  std::int64_t per_tile = 1;
  while (static_cast<double>(per_tile * 2) * l.row_bytes <= static_cast<double>(tile_bytes)) per_tile *= 2;
  const double tiles = std::ceil(static_cast<double>(rows.size()) / static_cast<double>(per_tile));
  const double touched = tiles * (1.0 - std::exp(-l.distinct / std::max(tiles, 1.0)));
  l.tiles = tiles;
  l.touched_tile_bytes = std::min(l.table_bytes, touched * static_cast<double>(per_tile) * l.row_bytes);
  if (!rows.whole(table.rows)) l.private_output_bytes = l.bags * l.out_row_bytes;
  return l;
}

double repeat_miss_share(const ItemLoad& l, double capacity_bytes) {
  const double repeats = l.lookups - l.distinct;
  const double k = capacity_bytes / cache_lines(l.row_bytes);  // rows the cache holds
  if (repeats <= 0 || l.distinct <= k) return 0.0;
  // Where the working set reaches k rows (w_k), and its growth there: a power law through the
  // two points around it (working sets grow ever slower).
  const auto& ws = l.working_set;
  if (ws.empty()) return 1.0 - k / l.distinct;  // no curve: repeats spread evenly over the rows
  auto above = std::find_if(ws.begin(), ws.end(), [&](const auto& p) { return p.second >= k; });
  if (above == ws.end()) return 0.0;
  double w_k = above->first * k / std::max(above->second, 1e-9), growth = above->second / std::max(above->first, 1e-9);
  if (above != ws.begin()) {
    const auto& [w0, d0] = *std::prev(above);
    const auto& [w1, d1] = *above;
    if (w1 > w0 && d1 > d0 && d0 > 0 && w0 > 0) {
      const double b = std::log(d1 / d0) / std::log(w1 / w0);
      w_k = w0 * std::pow(k / d0, 1 / b);
      growth = b * k / w_k;
    } else {
      growth = 0;  // flat: every look-up past w_k repeats a row in the cache
    }
  }
  // Misses: the k rows that filled the cache, then `growth` per look-up; the distinct rows'
  // first touches are among them.
  const double misses = k + std::max(0.0, l.lookups - w_k) * std::min(growth, 1.0);
  return std::clamp((misses - l.distinct) / repeats, 0.0, 1.0);
}

double page_walk_lines(const ItemLoad& l, double traffic_bytes, double evict_bytes, double share, double core_distinct) {
  if (evict_bytes <= 0 || l.distinct <= 0 || l.table_bytes <= 0) return 0;
  const double lines = std::max(1.0, l.table_bytes / kPageEntryLineBytes);
  const double on_core = std::max(l.distinct, core_distinct);
  const double touched = 1.0 - std::exp(-on_core / lines);
  const double by_all = 1.0 - std::exp(-on_core / std::clamp(share, 1e-3, 1.0) / lines);
  return lines * touched * (1.0 - std::exp(-traffic_bytes / by_all / evict_bytes)) * l.distinct / on_core;
}

std::vector<bool> CostModel::streamed_columns(const ModelSpec& model, std::int64_t batch_size) const {
  std::vector<bool> out;
  const int total_dim = model.total_dim();
  int column = 0;
  for (const TableSpec& t : model.tables) {
    out.push_back(output_streamed(t.dim, column, total_dim, batch_size, stream_output_above_));
    column += t.dim;
  }
  return out;
}

ItemLoad CostModel::load(const TableSpec& table, bool column_streamed, const TableSample& sample, BagRange bags,
                         RowRange rows, std::size_t tile_bytes) {
  ItemLoad l = item_load(table, sample, bags, rows, tile_bytes);
  l.streamed_output = column_streamed && rows.whole(table.rows);
  return l;
}

double CostModel::bag_stride_factor(double out_row_bytes, double stride_bytes) const {
  const CurveFamily& f = profile_.bag_stride_factor;
  if (f.widths.empty() || stride_bytes <= out_row_bytes) return 1.0;
  const auto stride = static_cast<std::uint64_t>(stride_bytes);
  const auto alignment = static_cast<double>(stride & (~stride + 1));  // the largest power of two dividing it
  // Held at the widest row calibrated (CurveFamily::at scales beyond it, as it should for costs).
  return std::max(1.0, f.at(std::min(out_row_bytes, f.widths.back().first), alignment));
}

double CostModel::item_seconds(Flow flow, const ItemLoad& l, const CoreContext& core) const {
  const MachineProfile& p = profile_;
  const bool private_output = l.private_output_bytes > 0;  // partial sums: rows of their own, contiguous
  const double output = private_output ? l.private_output_bytes : core.output_bytes;
  // A described machine's tile scans are its own (an Ascend UB flow serves from its buffer
  // whatever the tiles): priced by the serve figure at any size.
  const bool bucketed = buckets_by_tile(flow, l) || (is_tile_scan(flow) && p.source != "measured");
  const bool streamed = l.streamed_output && !bucketed && !p.streamed_bag_seconds.widths.empty();
  const bool by_traffic = !streamed && !p.bag_seconds_by_traffic.widths.empty();
  const CurveFamily& bag = streamed ? p.streamed_bag_seconds : by_traffic ? p.bag_seconds_by_traffic : p.bag_seconds;
  const double per_bag = bag.at(l.out_row_bytes, std::max(output + (by_traffic ? core.row_traffic : 0.0), 1.0)) *
                         (private_output ? 1.0 : bag_stride_factor(l.out_row_bytes, core.output_stride_bytes));
  double t = p.item_seconds + output_passes(flow, l) * l.bags * per_bag +
             std::max(0.0, l.scanned - l.lookups) * p.skip_index_seconds + l.lookups * l.converted * p.fp16_element_seconds;
  const double repeats = std::max(0.0, l.lookups - l.distinct);
  const double own = is_resident(flow) ? l.table_bytes : 0.0;
  const double own_footprint = std::min(l.distinct * l.row_bytes, l.table_bytes);
  const double others_resident = std::max(0.0, core.resident_bytes - own);  // copies sharing the caches
  const double evicted_as = l.table_bytes + core.other_traffic / std::clamp(core.table_share, 1e-3, 1.0);
  // A repeat is a cache hit only while its footprint fits the caches: beyond the sizes
  // calibrated for hits it costs what a first touch in a table of that footprint costs. Within
  // them the hit curve alone: the first-touch curves are measured after other tables' traffic
  // (their x includes it), so read at a small footprint they give an L3 or DRAM latency, not a
  // hit (a 26-row table was predicted 7x its measured time that way).
  auto repeats_seconds = [&](const auto& hit, const auto& miss) {
    auto price = [&](double bytes) {
      const double fp = std::max(bytes + others_resident, 1.0);
      return fp > p.hit_gather.calibrated_extent() ? std::max(hit(fp), miss(fp)) : hit(fp);
    };
    return repeats * mean_repeat_seconds(l, own_footprint, static_cast<double>(p.l2_bytes), price);
  };
  switch (flow) {
    case Flow::kGather: {
      auto hit = [&](double bytes) { return p.hit_gather.at(l.row_bytes, bytes); };
      auto miss = [&](double bytes) { return p.miss_gather.at(l.row_bytes, bytes); };
      t += l.distinct * miss(evicted_as) + repeats_seconds(hit, miss) + page_walk_seconds(l, core);
      break;
    }
    case Flow::kResident: {
      // Capped by a gathered first touch: the copy is at least as close to the core as the table
      // (the resident curve rests on three probes and swung 3-10x between calibrations here).
      auto hit = [&](double bytes) { return p.hit_resident.at(l.row_bytes, bytes); };
      auto miss = [&](double bytes) { return std::min(p.miss_resident.at(l.row_bytes, bytes), p.miss_gather.at(l.row_bytes, bytes)); };
      t += l.distinct * miss(evicted_as) + repeats_seconds(hit, miss);
      break;
    }
    case Flow::kTileScan:
    case Flow::kResidentTileScan: {
      t += l.touched_tile_bytes * (flow == Flow::kTileScan ? p.scan_byte_seconds : p.resident_scan_byte_seconds);
      if (bucketed) {
        t += l.lookups * p.serve_seconds.at(l.row_bytes, std::max(l.lookups, 1.0));
      } else {  // one tile, streamed in: every look-up a hit in it
        const CurveFamily& hit = flow == Flow::kTileScan ? p.hit_gather : p.hit_resident;
        t += l.lookups * hit.at(l.row_bytes, std::max(l.table_bytes + others_resident, 1.0));
      }
      break;
    }
  }
  return t;
}

double CostModel::page_walk_seconds(const ItemLoad& l, const CoreContext& core) const {
  const double traffic = core.batch_traffic > 0 ? core.batch_traffic : core.other_traffic + traffic_bytes(Flow::kGather, l);
  return profile_.page_walk_line_seconds *
         page_walk_lines(l, traffic, profile_.page_walk_evict_bytes, core.table_share, core.core_distinct);
}

bool CostModel::calibrated_for(Flow flow, const ItemLoad& l) const {
  if (profile_.source != "measured") return true;  // a described machine is taken at its word
  if (!buckets_by_tile(flow, l)) return true;  // gathers (resident: within the budget measured)
  double most = 0;
  for (const auto& [w, c] : profile_.serve_seconds.widths) {
    if (!c.points.empty()) most = std::max(most, c.points.back().first);
  }
  return l.lookups <= 4 * most;
}

double CostModel::row_traffic_bytes(Flow flow, const ItemLoad& l) {
  switch (flow) {
    case Flow::kGather: return l.distinct * cache_lines(l.row_bytes);
    case Flow::kTileScan: return l.touched_tile_bytes;
    case Flow::kResident:
    case Flow::kResidentTileScan: return 0;
  }
  return 0;
}

double CostModel::traffic_bytes(Flow flow, const ItemLoad& l) {
  const double out = output_rows_streamed(flow, l) ? 0.0 : l.bags * cache_lines(l.out_row_bytes);
  return out + row_traffic_bytes(flow, l);
}

double CostModel::measured_output_passes(Flow flow, const ItemLoad& l) { return buckets_by_tile(flow, l) ? 2.0 : 1.0; }

double CostModel::output_passes(Flow flow, const ItemLoad& l) const {
  return profile_.source == "measured" ? measured_output_passes(flow, l) : 1.0;
}

double CostModel::dram_bytes(Flow flow, const ItemLoad& l) const {
  if (is_resident(flow)) return 0;
  const double cached = cached_bytes_per_core();
  const double from_dram = l.table_bytes > 0 ? std::max(0.0, 1.0 - cached / l.table_bytes) : 0.0;
  if (flow == Flow::kTileScan) return l.touched_tile_bytes * from_dram;
  // Repeats the core's share of the caches does not keep (repeat_miss_share). Without this term
  // a 1 GiB table split over 6 cores was predicted a third of the DRAM traffic of the same table
  // split over 16 (each slice's repeats counted as hits).
  const double repeat_miss = repeat_miss_share(l, cached);
  return (l.distinct * from_dram + std::max(0.0, l.lookups - l.distinct) * repeat_miss) * cache_lines(l.row_bytes);
}

double combine_busy_and_dram(double busiest, double dram_seconds) {
  constexpr double kP = 4;
  if (dram_seconds <= 0) return busiest;
  return std::pow(std::pow(busiest, kP) + std::pow(dram_seconds, kP), 1 / kP);
}

double CostModel::cached_bytes_per_core() const {
  return static_cast<double>(profile_.l2_bytes) + static_cast<double>(profile_.l3_bytes) / std::max(profile_.cores, 1);
}

double CostModel::dram_seconds(Flow flow, const ItemLoad& l) const {
  const double rate = profile_.dram_bytes_per_s.at(l.row_bytes);
  return rate > 0 ? dram_bytes(flow, l) / rate : 0.0;
}

double CostModel::output_dram_seconds(double output_bytes) const {
  const bool from_dram = output_bytes > cached_bytes_per_core() && profile_.output_bytes_per_s > 0;
  return from_dram ? output_bytes / profile_.output_bytes_per_s : 0.0;
}

double output_row_bytes(const ModelSpec& model) { return 4.0 * model.total_dim(); }

double batch_output_bytes(const ModelSpec& model, std::int64_t batch_size) {
  return static_cast<double>(batch_size) * output_row_bytes(model);
}

double CostModel::overhead_seconds() const { return profile_.batch_seconds; }

double CostModel::reduce_seconds(double partial_floats) const { return profile_.reduce_float_seconds * partial_floats; }

std::pair<std::int64_t, std::int64_t> output_blocks(const ModelSpec& model, int table) {
  std::int64_t col = 0;
  for (int t = 0; t < table; ++t) col += model.tables[static_cast<std::size_t>(t)].dim;
  const std::int64_t dim = model.tables[static_cast<std::size_t>(table)].dim;
  return {col * 4 / 128, ((col + dim) * 4 - 1) / 128};
}

std::vector<std::vector<double>> shared_output_bags(const Plan& plan, const ModelSpec& model,
                                                    const std::vector<std::vector<double>>& concurrent) {
  struct Writer {
    std::size_t worker, item;
    BagRange bags;
  };
  std::map<std::int64_t, std::vector<Writer>> by_block;  // who writes each block, for which bags
  auto writes_output = [&](const WorkItem& it) {
    return it.rows.whole(model.tables[static_cast<std::size_t>(it.table)].rows);
  };
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    for (std::size_t i = 0; i < plan.items[w].size(); ++i) {
      const WorkItem& it = plan.items[w][i];
      if (!writes_output(it)) continue;
      const auto [first, last] = output_blocks(model, it.table);
      for (std::int64_t b = first; b <= last; ++b) by_block[b].push_back({w, i, it.bags});
    }
  }
  std::vector<std::vector<double>> out(plan.workers());
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    for (const WorkItem& it : plan.items[w]) {
      double shared = 0;
      if (writes_output(it)) {
        const auto [first, last] = output_blocks(model, it.table);
        for (std::int64_t b = first; b <= last; ++b) {
          for (const Writer& o : by_block[b]) {
            if (o.worker == w) continue;
            const std::int64_t overlap = std::min(o.bags.end, it.bags.end) - std::max(o.bags.begin, it.bags.begin);
            const double share = concurrent.empty() ? 1.0 : concurrent[o.worker][o.item];
            shared = std::max(shared, share * static_cast<double>(std::max<std::int64_t>(overlap, 0)));
          }
        }
      }
      out[w].push_back(shared);
    }
  }
  return out;
}

double PlanPrediction::imbalance() const {
  if (worker_seconds.empty()) return 1;
  const double mean =
      std::accumulate(worker_seconds.begin(), worker_seconds.end(), 0.0) / static_cast<double>(worker_seconds.size());
  return mean > 0 ? *std::max_element(worker_seconds.begin(), worker_seconds.end()) / mean : 1.0;
}

PlanPrediction CostModel::predict(const Plan& plan, const ModelSpec& model, const std::vector<TableSample>& samples) const {
  PlanPrediction out;
  double dram = 0, partial_floats = 0;  // dram: seconds at the all-core DRAM rates
  // A row that several cores gather in one batch comes from DRAM once when the rows the batch
  // touches fit in the shared last-level cache: the cores read a table at about the same time
  // (every core runs its items in model order). Counted per item, the symmetric mapping paid for
  // every row each core shares with another (twice the traffic of a 200 MiB table at batch
  // 65536), and plans that merely avoided that phantom traffic were predicted 15% faster and
  // measured 10-20% slower on 16 cores. Rows of a larger footprint are evicted before the next
  // core asks for them: per item, as before.
  std::vector<double> gather_dram(model.tables.size(), 0.0);
  const double output_bytes = batch_output_bytes(model, plan.batch_size);
  const std::vector<bool> streamed = streamed_columns(model, plan.batch_size);
  std::vector<std::vector<ItemLoad>> worker_loads(plan.workers());
  std::vector<double> worker_traffic(plan.workers(), 0.0);
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    for (const WorkItem& it : plan.items[w]) {
      const auto t = static_cast<std::size_t>(it.table);
      worker_loads[w].push_back(load(model.tables[t], streamed[t], samples[t], it.bags, it.rows, profile_.tile_bytes));
      worker_traffic[w] += traffic_bytes(it.flow, worker_loads[w].back());
    }
  }
  const double batch_traffic = std::accumulate(worker_traffic.begin(), worker_traffic.end(), 0.0);
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    const std::vector<ItemLoad>& loads = worker_loads[w];
    CoreContext core;
    core.output_bytes = output_bytes;
    core.output_stride_bytes = output_row_bytes(model);
    core.batch_traffic = batch_traffic;
    const double traffic = worker_traffic[w];
    std::vector<double> table_bags(model.tables.size(), 0.0);  // bags of each table this core serves
    std::map<std::tuple<int, std::int64_t, std::int64_t>, double> range_distinct;  // gathers' distinct rows per row range
    for (std::size_t i = 0; i < loads.size(); ++i) {
      const WorkItem& it = plan.items[w][i];
      table_bags[static_cast<std::size_t>(it.table)] += static_cast<double>(it.bags.size());
      if (it.flow == Flow::kGather) range_distinct[{it.table, it.rows.begin, it.rows.end}] += loads[i].distinct;
      if (is_resident(it.flow)) core.resident_bytes += loads[i].table_bytes;
      core.row_traffic += row_traffic_bytes(it.flow, loads[i]);
      (it.flow == Flow::kGather ? gather_dram[static_cast<std::size_t>(it.table)] : dram) += dram_seconds(it.flow, loads[i]);
      partial_floats += loads[i].private_output_bytes / sizeof(float);  // row-range items' partial sums
    }
    double busy = 0;
    std::vector<double> items;
    for (std::size_t i = 0; i < loads.size(); ++i) {
      const WorkItem& it = plan.items[w][i];
      core.other_traffic = traffic - traffic_bytes(it.flow, loads[i]);
      core.table_share = table_bags[static_cast<std::size_t>(it.table)] / static_cast<double>(std::max<std::int64_t>(plan.batch_size, 1));
      core.core_distinct = it.flow == Flow::kGather ? range_distinct[{it.table, it.rows.begin, it.rows.end}] : 0.0;
      items.push_back(item_seconds(it.flow, loads[i], core));
      busy += items.back();
    }
    out.worker_seconds.push_back(busy);
    out.item_seconds.push_back(std::move(items));
    out.resident_bytes.push_back(static_cast<std::size_t>(core.resident_bytes));
  }
  // Neighbouring output columns written from two cores cost only while both write them at once:
  // the other core's writes are weighted by the share of its time its item takes. Priced in full
  // for every overlapping bag, criteo-kaggle's table-wise plan on two cores was predicted 44-249%
  // too slow (about 13 items a core, each beside another core's column), and it measured faster
  // than symmetric; the calibration's probe (one item a core, both at once) is priced as before.
  std::vector<std::vector<double>> concurrent = out.item_seconds;
  for (std::size_t w = 0; w < concurrent.size(); ++w) {
    for (double& s : concurrent[w]) s = out.worker_seconds[w] > 0 ? s / out.worker_seconds[w] : 0.0;
  }
  const auto shared = shared_output_bags(plan, model, concurrent);
  for (std::size_t w = 0; w < plan.workers(); ++w) {
    for (std::size_t i = 0; i < shared[w].size(); ++i) {
      const double extra = shared_output_seconds(shared[w][i]);
      out.item_seconds[w][i] += extra;
      out.worker_seconds[w] += extra;
    }
  }
  for (std::size_t t = 0; t < gather_dram.size(); ++t) {
    if (gather_dram[t] <= 0) continue;
    const TableSpec& spec = model.tables[t];
    const ItemLoad whole = item_load(spec, samples[t], {0, plan.batch_size}, {0, spec.rows}, profile_.tile_bytes);
    const bool shared_in_l3 = whole.distinct * whole.row_bytes <= static_cast<double>(profile_.l3_bytes);
    dram += shared_in_l3 ? std::min(gather_dram[t], dram_seconds(Flow::kGather, whole)) : gather_dram[t];
  }
  out.overhead_seconds = overhead_seconds();
  out.reduce_seconds = reduce_seconds(partial_floats);
  out.dram_seconds = dram + output_dram_seconds(output_bytes);
  const double busiest = out.worker_seconds.empty() ? 0.0 : *std::max_element(out.worker_seconds.begin(), out.worker_seconds.end());
  out.makespan = combine_busy_and_dram(busiest, out.dram_seconds) + out.overhead_seconds + out.reduce_seconds;
  return out;
}

}  // namespace embflow
