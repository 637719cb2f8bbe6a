// The cost model: the time of a work item on a core, predicted from a machine profile and from
// statistics of a sample of the indices; and the makespan of a whole plan.
//
// An item (table, flow, bags, rows) does `bags` bags, reads `scanned` indices of which `lookups`
// fall in its row range, and `distinct` of those touch a row for the first time in the item.
// Predicted seconds:
//   every flow:         item + bags * bag(out row bytes, batch output bytes) + (scanned - lookups) * skip
//                       + lookups * converted elements * fp16_element
//   gather, resident:   + distinct * miss[flow](row bytes, table range bytes + others' traffic / share)
//                       + (lookups - distinct) * the mean price of a repeat: band by band of reuse distance,
//                         as the item's working set spreads them (repeat_miss_share), at hit[flow] (beyond
//                         the footprints hits were calibrated for: max(hit, miss)) of the band's footprint
//   gather:             + page walks: lines of page-table entries fetched * page_walk_line (page_walk_lines)
//   tile-scan flows:    + bytes of the touched tiles * scan[flow] + lookups * serve(row bytes, lookups)
// The core's other items matter twice. Their traffic (the rows, tiles and output lines they pull
// through the caches each batch) evicts this table's rows before the next batch comes: a first
// touch is priced as if the table were that much larger, the traffic divided by the core's share
// of the table's bags (CoreContext::table_share). Calibration measures first touches inside a
// model, and records the traffic beside them the same way. Resident copies on the core
// take cache too: footprint = distinct rows' bytes + the core's resident bytes.
// Cores that write the same 128-byte blocks of the same output rows (neighbouring columns) pay
// shared_output_bag per such bag.
// A plan's makespan is the busiest worker's time combined with the DRAM traffic of the whole batch
// (rows, tiles, and an output larger than the caches) at the all-core DRAM rate, plus the batch
// hand-off, the parallel validation of the indices, and the serial reduction of row-range partial
// sums. The two are combined as a smooth maximum, (busy^4 + dram^4)^(1/4): near the DRAM bound the
// cores slow each other down (1.19x when the two are equal), and a plan that loads its busiest
// core less still runs faster there.
#pragma once
#include <cstdint>
#include <vector>

#include "embflow/batch.h"
#include "embflow/plan.h"
#include "embflow/profile.h"
#include "embflow/runner.h"

namespace embflow {

// What a sample batch says about one table's look-ups.
struct TableSample {
  static constexpr int kBuckets = 64;  // equal row ranges
  std::int64_t batch_size = 0;
  std::int64_t lookups = 0;
  std::int64_t distinct = 0;
  // Distinct rows among the look-ups of the first n samples, for n = batch_size >> j (j = 0, 1, ...):
  // how the distinct rows of a batch slice shrink with the slice.
  std::vector<std::pair<std::int64_t, std::int64_t>> distinct_by_samples;
  std::vector<std::int64_t> bucket_lookups;   // [kBuckets]: look-ups into each row range
  std::vector<std::int64_t> bucket_distinct;  // [kBuckets]: distinct rows hit in each
};
// One sample per table. The batch must be valid for the model (see validate.h).
std::vector<TableSample> sample_statistics(const ModelSpec& model, const BatchView& batch);
inline std::vector<TableSample> sample_statistics(const ModelSpec& model, const Batch& batch) {
  return sample_statistics(model, batch.view());
}
TableSample sample_table(const TableSpec& table, const BagsView& bags);

// The load of one item, estimated from its table's sample.
struct ItemLoad {
  double bags = 0, scanned = 0, lookups = 0, distinct = 0;
  double row_bytes = 0;       // bytes of a table row
  double converted = 0;       // elements converted per look-up (fp16 rows: dim; fp32: 0)
  double out_row_bytes = 0;   // bytes of an output row (float32 x dim)
  double table_bytes = 0;     // bytes of the item's row range
  double touched_tile_bytes = 0;  // bytes of the tiles a tile scan streams
  double tiles = 0;               // tiles of the item's row range (0 or 1: a tile scan gathers from it)
  // A row-range item writes partial sums into [bags, dim] floats of its own, not into the batch's
  // output: its bags are priced against that (small, sequential) buffer. 0 for other items.
  double private_output_bytes = 0;
  bool streamed_output = false;  // the gather flows write its output rows with streaming stores
  // The item's working set: (w, distinct rows among its first w look-ups), w ascending, ending at
  // (lookups, distinct). How fast it grows says how many repeats a cache of a given size keeps.
  // Empty (a load made by hand): repeats are taken as spread evenly over the distinct rows.
  std::vector<std::pair<double, double>> working_set;
};
ItemLoad item_load(const TableSpec& table, const TableSample& sample, BagRange bags, RowRange rows,
                   std::size_t tile_bytes);

// The share of the item's repeated look-ups that miss a cache holding `capacity_bytes` of its
// rows (least recently used out first). 0 while its distinct rows fit. Beyond, by the footprint
// theory of caches (Denning's working sets; Xiang et al., "HOTL", 2013): a full cache of K rows
// misses at the rate the working set grows where it holds K rows, so hot rows stay and the
// long tail misses, where "capacity / footprint" would spread the misses evenly.
double repeat_miss_share(const ItemLoad& load, double capacity_bytes);

// Page walks. Past the TLB, a row costs a page walk, and the walk reads a line of page-table
// entries; one such line maps kPageEntryLineBytes of table (eight entries of 4 KiB pages: a guest
// whose host maps it with 4 KiB pages walks at that grain). Lines that the traffic between two
// batches evicts come from memory again, once per item that touches them: a short item of a large
// table pays one nearly per row, a long item spreads each over the rows it serves (on the
// development VM, a 64 MiB table after 8 MiB of other traffic: one-row bags 12.5 ns a row, bags of
// 8 6.4 ns). The expected number of lines fetched: the item's distinct rows touch a share
// q = 1 - exp(-distinct / lines) of the table's lines. Page entries are data in the shared
// caches: a line comes back after any core's walk, and any core's traffic evicts it. A line that
// the table's items on all cores (`share`: this item's part of the table's bags) touch in a share
// q_all of the batches comes back after traffic / q_all bytes of every core's traffic, and is
// evicted with probability 1 - exp(-that / evict_bytes). Several items of one table on a core
// (`core_distinct`: their distinct rows together) fetch a line once between them: the first
// item's walk leaves it warm for the next; each item takes its part by its distinct rows.
inline constexpr double kPageEntryLineBytes = 32768;
double page_walk_lines(const ItemLoad& load, double traffic_bytes, double evict_bytes, double share = 1,
                       double core_distinct = 0);

// What the other items on an item's core take from the caches.
struct CoreContext {
  double resident_bytes = 0;  // resident copies on the core (the item's own included)
  double other_traffic = 0;   // bytes the core's other items pull through the caches per batch
  double output_bytes = 0;    // bytes of the whole batch's output
  double output_stride_bytes = 0;  // from one sample's output row to the next (0: unknown, no factor)
  // The share of the table's bags this core serves (a table split by batch over n cores: 1/n).
  // Its rows come back to this core 1/share times less often, after that much more of the
  // others' traffic: a first touch is priced as in a table of table bytes + others' traffic / share.
  double table_share = 1;
  // Rows all of the core's items (this one's included) gather or stream per batch: with the
  // output, what passes through the core's caches between two batches (profile.h,
  // bag_seconds_by_traffic).
  double row_traffic = 0;
  // What every core's items pull through the caches per batch, rows and output (traffic_bytes),
  // this item's included: what evicts page entries from the shared caches. 0: unknown, the
  // core's own (other_traffic and this item's).
  double batch_traffic = 0;
  // Distinct rows over all of this core's gathers of the item's table and row range (0: the
  // item's own): page_walk_lines' argument.
  double core_distinct = 0;
};

// The 128-byte blocks of an output row that table t's column covers: [first, last].
std::pair<std::int64_t, std::int64_t> output_blocks(const ModelSpec& model, int table);
// Per item of the plan ([worker][item]): how many of its bags write output blocks that an item on
// another worker writes for the same bags, each such bag weighted by `concurrent[w][i]` of the
// other item (the share of its worker's time it takes: the chance that the two write at once;
// empty: 1). Row-range items write private partial sums: 0.
std::vector<std::vector<double>> shared_output_bags(const Plan& plan, const ModelSpec& model,
                                                    const std::vector<std::vector<double>>& concurrent = {});

// Bytes of one sample's output row (float32 x the sum of dims): the output's row stride.
double output_row_bytes(const ModelSpec& model);
// Bytes of a batch's whole output: float32 [B, sum of dims].
double batch_output_bytes(const ModelSpec& model, std::int64_t batch_size);

// (busiest^4 + dram^4)^(1/4); `busiest` alone when dram_seconds is 0.
double combine_busy_and_dram(double busiest, double dram_seconds);

struct PlanPrediction {
  std::vector<double> worker_seconds;             // busy time per worker, plan order
  std::vector<std::vector<double>> item_seconds;  // [worker][item]
  std::vector<std::size_t> resident_bytes;        // per worker
  double overhead_seconds = 0;   // the batch's hand-off to the workers and back
  double reduce_seconds = 0;     // serial reduction of partial sums
  double dram_seconds = 0;       // the batch's DRAM traffic at the all-core rates
  double makespan = 0;           // predicted seconds per batch
  double imbalance() const;      // busiest worker / mean worker
};

class CostModel {
 public:
  // `stream_output_above`: the runtime's (RunnerOptions), which decides whose output is streamed.
  explicit CostModel(MachineProfile profile, std::size_t stream_output_above = RunnerOptions{}.stream_output_above)
      : profile_(std::move(profile)), stream_output_above_(stream_output_above) {}
  const MachineProfile& profile() const { return profile_; }

  // Per table of the model: whether the runtime streams its output column at this batch size
  // (runner.h, output_streamed).
  std::vector<bool> streamed_columns(const ModelSpec& model, std::int64_t batch_size) const;
  // The load of an item of a table (item_load), with whether the runtime streams its output rows:
  // a whole-rows item of a streamed column (row-range items write partial sums).
  static ItemLoad load(const TableSpec& table, bool column_streamed, const TableSample& sample, BagRange bags,
                       RowRange rows, std::size_t tile_bytes);

  // Seconds for one item on a core.
  double item_seconds(Flow flow, const ItemLoad& load, const CoreContext& core) const;
  // What a bag costs more in an output of this row stride (profile.h, bag_stride_factor): 1 for
  // rows written contiguously (stride = the row) or without the profile's figure.
  double bag_stride_factor(double out_row_bytes, double stride_bytes) const;
  // Bytes the item pulls through the core's caches per batch: its first-touched rows (or
  // touched tiles) and its output rows. Resident copies stay: they count as resident bytes.
  static double traffic_bytes(Flow flow, const ItemLoad& load);
  // The part of traffic_bytes that is the table's rows (not the output's).
  static double row_traffic_bytes(Flow flow, const ItemLoad& load);
  // How many times a flow writes each of its bags' output rows. embflow's CPU tile scan over
  // several tiles zeroes them first, then adds every look-up into them tile by tile: twice, in a
  // measured profile (and in the calibration that fits it); over one tile it gathers (kernels.h):
  // once. A described machine's figures stand for its own flows (an Ascend UB flow writes each
  // output row once, from its buffer): once there.
  double output_passes(Flow flow, const ItemLoad& load) const;
  static double measured_output_passes(Flow flow, const ItemLoad& load);
  // Whether a measured profile saw loads like this one for `flow` (tile scans: within 4x of the
  // most look-ups calibrated): the planner does not bet on a flow priced by extrapolation.
  bool calibrated_for(Flow flow, const ItemLoad& load) const;
  // The gather's page walks beyond its first touches (page_walk_lines): every core's traffic
  // evicts the lines of page-table entries between batches.
  double page_walk_seconds(const ItemLoad& load, const CoreContext& core) const;
  // What the item's DRAM traffic takes at the rate all cores together get for rows of its width
  // (for the shared-bandwidth bound).
  double dram_seconds(Flow flow, const ItemLoad& load) const;
  // What writing the batch's output takes at the all-core output rate when it cannot stay in the
  // caches, else 0.
  double output_dram_seconds(double output_bytes) const;
  // The per-batch terms that do not belong to any worker.
  double overhead_seconds() const;
  double reduce_seconds(double partial_floats) const;
  double shared_output_seconds(double shared_bags) const { return profile_.shared_output_bag_seconds * shared_bags; }

  PlanPrediction predict(const Plan& plan, const ModelSpec& model, const std::vector<TableSample>& samples) const;

 private:
  double cached_bytes_per_core() const;  // L2 and a core's share of L3
  double dram_bytes(Flow flow, const ItemLoad& load) const;  // bytes the item pulls from DRAM

  MachineProfile profile_;
  std::size_t stream_output_above_;
};

}  // namespace embflow
