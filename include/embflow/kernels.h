// Pooled embedding look-ups on one core: the scalar reference and the four data flows.
//
// Semantics (the reference `pooled_lookup_ref` is the executable definition):
//   for b in bags:                          // a slice [bags.begin, bags.end) of the batch
//     acc = 0
//     for k in offsets[b] .. offsets[b+1]:
//       r = indices[k]
//       if rows.begin <= r < rows.end:      // a row range: partial sums for row-wise splits
//         acc += (weights ? weights[k] : 1) * table[r]
//     if pooling == mean: acc *= 1 / (offsets[b+1] - offsets[b])   (empty bag: zeros)
//     out[b] = acc            (or out[b] += acc when options.accumulate)
// The flows check their input as they read it, with no pass of their own over it: they never read
// outside the batch's arrays, and report look-ups outside `rows` and malformed offsets in a
// LookupReport (validate.h has the precise checks that name table, sample and value).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "embflow/batch.h"
#include "embflow/model.h"
#include "embflow/table.h"

namespace embflow {

// The paper's four single-core data flows, carried to a CPU. Paper names: GM, L1, GM-UB, L1-UB.
enum class Flow {
  kGather,            // GM: rows gathered one by one from DRAM, prefetched ahead
  kResident,          // L1: gather from a copy first-touched by the core's own thread
  kTileScan,          // GM-UB: look-ups bucketed by tile; each tile streamed once, served with SIMD
                      // (a row range of one tile: the tile streamed in, its bags gathered in order)
  kResidentTileScan,  // L1-UB: tile scan over the core's resident copy
};
inline constexpr Flow kAllFlows[] = {Flow::kGather, Flow::kResident, Flow::kTileScan,
                                     Flow::kResidentTileScan};
std::string_view to_string(Flow f);
std::string_view paper_name(Flow f);
Flow parse_flow(std::string_view s);  // our names or the paper's (GM, L1, GM-UB, L1-UB)
bool is_resident(Flow f);
bool is_tile_scan(Flow f);  // tile-scan or resident-tile-scan

enum class Isa { kGeneric, kAvx2, kAvx512 };
std::string_view to_string(Isa isa);
Isa parse_isa(std::string_view s);
std::vector<Isa> supported_isas();  // those this CPU runs, lowest first
// The ISA kernels use: the best supported, unless EMBFLOW_ISA=generic|avx2|avx512 says otherwise
// (an unsupported request throws InvalidInput).
Isa active_isa();

struct BagRange {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
  bool operator==(const BagRange&) const = default;
};
struct RowRange {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
  // Whether this is all of a table of `rows` rows (else a row-range item, with partial sums).
  bool whole(std::int64_t rows) const { return begin == 0 && end == rows; }
  bool operator==(const RowRange&) const = default;
};

// Output rows: bag b of the slice writes dim floats at data + b * row_stride.
struct OutputView {
  float* data = nullptr;
  std::int64_t row_stride = 0;  // floats
};

// The gather flows' default prefetch distance. Into L1: by row width, 48 look-ups ahead for rows of
// one or two cache lines, fewer for wider rows, so that about 96 lines are on their way (at least
// 8 look-ups): the line-fill buffers bound them. Measured on the Intel VM, one thread: dlrm-v2's
// 512-byte rows took 7-10% less time 12 look-ups ahead than 48 (batch 2048 and 65536); criteo's
// 64-byte rows did the same from 32 to 96. Into L2 (no fill buffer held): 128 lines' worth
// (kL2PrefetchLines), 128 look-ups for rows of one line, 16 for 512-byte rows, at least 8.
// A distance is a lead in time only through the look-ups between: narrow rows served from cache
// take 1-3 ns each, so 48 of them ran out before an L3 or DRAM line arrived, most of all where
// repeats (skewed indices) fill the window. On the AMD Zen 4 VM, batch 2048, bags of 20,
// zipf:1.05, 48 -> 128 ahead: 4 MiB tables of 32 and 64-byte rows 0.67-0.72x the time, 64 MiB
// of 64-byte rows 0.81x; uniform 0.70-0.93x; 256 and 512-byte rows and 1 GiB tables within
// noise; criteo-kaggle dim 16 0.87x (bags of 20, zipf) to 0.93x (one-row bags, uniform)
// (docs/BENCHMARKS.md, "Prefetching 128 look-ups ahead into L2"). Before, one 1 GiB table, bags of
// 32, batch 4096: 256-byte rows 60-62 M look-ups/s 24 ahead, 67-70 at 32 and 64; 512-byte rows
// 26-28 M/s 12 ahead, 36-37 at 48.
// Into L2, 128 look-ups at every width asked for 8 times the lines for 512-byte rows as for
// 64-byte ones, and on the AMD Zen 3 VM wide rows lost by it: tables of 4 MiB, 64 MiB and 1 GiB
// (bags of 20 and of 1) beside each other, batch 2048, zipf:1.05, 128 ahead against 128 lines'
// worth: 128-byte rows 1.15-1.58x the time (64 ahead), 256-byte 1.57-2.05x (32 ahead), 512-byte
// 1.36-1.80x (16 ahead). 64-byte rows still gained from 128 to 256 ahead there (0.71-0.92x),
// and on Zen 4 a 4 MiB table of 256-byte rows took 0.91x the time 128 ahead against 48
// (docs/BENCHMARKS.md, "dlrm-v2 against torch's loop on Zen 3"): the best lead is the machine's,
// which a calibration measures: `embflow calibrate` stores the best lead per row width in the
// machine profile (calibrate.cc, prefetch_lead), and runs priced by that profile take it
// (runner_options_for, profile.h). kL2PrefetchLines is the lead without one: Zen 3's.
inline constexpr int kPrefetchAuto = -1;
inline constexpr int kL2PrefetchLines = 128;
// The lead into L2 in lines, per row width: rows of up to 64, 128 and 256 bytes, and wider.
struct L2PrefetchLead {
  static constexpr std::size_t kRowBytes[] = {64, 128, 256, 512};
  std::array<int, std::size(kRowBytes)> lines{kL2PrefetchLines, kL2PrefetchLines, kL2PrefetchLines, kL2PrefetchLines};
  int lines_for(std::size_t row_bytes) const;
  static L2PrefetchLead every_width(int lines) { return {{lines, lines, lines, lines}}; }
  bool operator==(const L2PrefetchLead&) const = default;
};
// The most lines a stored lead may ask for: 4 MiB in flight is past any cache (a typo).
inline constexpr int kMaxL2PrefetchLeadLines = 1 << 16;
int auto_prefetch_distance(std::size_t row_bytes, bool into_l2 = false, const L2PrefetchLead& lead = {});

// Which cache the gather flows prefetch rows into. A prefetch into L1 holds one of the core's few
// line-fill buffers for the whole miss; one into L2 does not, so more misses fly at once, and the
// load then finds its row one level further away. Auto: L2 from a row range of
// `l2_prefetch_from_bytes` on, by row width, with thresholds measured per vendor, because the two
// machines measured disagree (docs/BENCHMARKS.md, "Prefetching rows into L2"):
// - Intel (Sapphire Rapids guest, one table alone, batch 2048): 64 MiB of 64 and 128-byte rows
//   1.42-1.71x faster into L2, 1 GiB of 128 and 256-byte rows 1.28-1.61x; but 8-64 MiB of
//   256-byte rows and 512-byte rows of any size 0.72-0.91x, their lines then each an L2 hit away.
//   Used for every CPU that is not AMD.
// - AMD (Zen 4 guest, tables beside two DRAM-sized ones, as in a model, batch 2048): L2 is faster
//   for every width once the range is past what the core keeps of it between batches: 64-byte
//   rows from 128 KiB (0.84-0.93x the time; 0.45-0.5x at 2-32 MiB), 128-byte from 512 KiB,
//   256-byte from 1 MiB, wider from 4 MiB (0.72-0.90x; 0.57-0.6x at 64-512 MiB).
enum class PrefetchLevel { kAuto, kL1, kL2 };
enum class L2PrefetchRule { kIntel, kAmd };
L2PrefetchRule this_cpu_l2_prefetch_rule();
// Row-range bytes from which rows of `row_bytes` are prefetched into L2 (SIZE_MAX: never).
std::size_t l2_prefetch_from_bytes(std::size_t row_bytes, L2PrefetchRule rule);
// Auto on this CPU.
bool prefetch_rows_to_l2(std::size_t row_bytes, std::size_t range_bytes);
// "L2 for rows of up to 128 bytes from 16.0 MiB of the table, up to 256 bytes from 512.0 MiB,
// else L1 (Intel rule)".
std::string describe_l2_prefetch_rule(L2PrefetchRule rule);
PrefetchLevel parse_prefetch_level(const std::string& s);

// Whether the gather flows prefetch a row range's rows at all (its output rows they always do). A
// row prefetch costs an instruction per line of every look-up (plus the index ahead and a bounds
// select); it pays only for the look-ups whose row is not already in L1 or L2. So rows are
// prefetched when the range is larger than L1 (ranges of at most kPrefetchRowsAbove bytes stay
// there while served) and either its look-ups come to few per row (under
// kPrefetchReuseBelow: most are first touches, from L3 or DRAM) or it holds more rows than L2
// keeps (kPrefetchRowsBeyond, set from L2 by the runner: look-ups then miss L2 whatever the
// reuse). Rows, not bytes, for the second: the lines of one wide row are fetched side by side
// anyway, so a miss costs less per line than for narrow rows.
// Measured one thread, AMD Zen 3 VM (L1d 32 KiB, L2 512 KiB), tables of 96 KiB to 6 MiB beside
// a 256 MiB one, bags of 20, without row prefetch against with (docs/BENCHMARKS.md, "Which
// row ranges the gathers prefetch"): 64-byte rows batch 2048 crossed over at 100 KiB (1600
// rows, 26 look-ups a row), batch 16384 at 300 KiB (4800 rows); 128-byte rows at 350 KiB (2800
// rows) for both batches; 512-byte rows at 750 KiB (batch 2048, 27 a row) and 6 MiB (batch
// 16384, 27 a row). Against the better choice in each of 60 cases, the previous rule (every
// range above 64 KiB) took 11% more time on average and at worst 1.81x (512-byte rows, batch
// 16384, 96 KiB); this one 0.9%, at worst 1.21x. Before, Zen 4, dim 16: ranges of 16-32 KiB
// 0.78x the time without, 64 KiB 0.90x.
inline constexpr std::size_t kPrefetchRowsAbove = std::size_t{64} << 10;
inline constexpr double kPrefetchReuseBelow = 32;
// The rows past which a range misses L2 whatever its reuse: one per this many bytes of L2.
inline constexpr std::size_t kL2BytesPerPrefetchedRow = 128;
inline constexpr std::int64_t rows_past_l2(std::size_t l2_bytes) {
  return static_cast<std::int64_t>(l2_bytes / kL2BytesPerPrefetchedRow);
}
inline constexpr std::int64_t kPrefetchRowsBeyond = rows_past_l2(std::size_t{512} << 10);  // 512 KiB L2

struct KernelOptions {
  Pooling pooling = Pooling::kSum;
  bool accumulate = false;          // add into out instead of overwriting (row-range splits)
  int prefetch_distance = kPrefetchAuto;  // look-ups ahead (gather flows); 0 disables prefetch
  L2PrefetchLead l2_lead;                 // how far ahead an auto distance reaches into L2
  PrefetchLevel prefetch_level = PrefetchLevel::kAuto;
  std::size_t prefetch_rows_above = kPrefetchRowsAbove;    // bytes of the row range (see there)
  double prefetch_reuse_below = kPrefetchReuseBelow;      // look-ups per row of the range
  std::int64_t prefetch_rows_beyond = kPrefetchRowsBeyond;  // rows of the range
  std::size_t tile_bytes = 256 << 10;  // bytes of table per tile (tile-scan flows)
  // Gather flows: write output rows with non-temporal stores (a hint, used only when the output
  // rows are 64-byte aligned and accumulate is off). For outputs far larger than the caches.
  bool stream_output = false;
};

// How the gather flows prefetch the rows of a row range of `range_rows` rows under `opt`: the
// distance (auto: auto_prefetch_distance), the level (auto: prefetch_rows_to_l2) and whether rows
// are prefetched at all (kPrefetchRowsAbove says when) for `lookups` look-ups expected in the
// range. run_flow follows it; `embflow run` describes it.
struct RowPrefetch {
  int distance = 0;  // look-ups ahead, for output rows too; 0: nothing prefetched
  bool into_l2 = false;
  bool rows = false;
};
RowPrefetch row_prefetch(const KernelOptions& opt, std::size_t row_bytes, std::int64_t range_rows, double lookups);

// What a flow saw of its slice. `served`: look-ups whose row was inside `rows` (so that the items
// of one table's plan served every look-up of a valid batch exactly once iff their served counts
// add up to its number of indices: an index outside the table is served by none). `offsets_ok`:
// false when the slice's offsets were not non-decreasing within [0, number of indices]; the flow
// stopped there, and its output is incomplete.
struct LookupReport {
  std::int64_t served = 0;
  bool offsets_ok = true;
};

// The scalar reference: plain loops, float accumulation in index order.
void pooled_lookup_ref(const TableView& table, const BagsView& bags, BagRange slice, RowRange rows,
                       OutputView out, const KernelOptions& opt);

// Runs one flow with the given ISA. For resident flows `table` must be a resident copy's view
// (ResidentCopy::view()) covering `rows`.
LookupReport run_flow(Flow flow, const TableView& table, const BagsView& bags, BagRange slice, RowRange rows,
                      OutputView out, const KernelOptions& opt, Isa isa);
inline LookupReport run_flow(Flow flow, const TableView& table, const BagsView& bags, BagRange slice,
                             RowRange rows, OutputView out, const KernelOptions& opt) {
  return run_flow(flow, table, bags, slice, rows, out, opt, active_isa());
}

// A private copy of a table's row range, allocated and first-touched by the calling thread (so it
// lives in memory local to that core). Refused with CapacityError above `budget_bytes`.
class ResidentCopy {
 public:
  ResidentCopy() = default;
  static ResidentCopy make(const TableView& source, RowRange rows, std::size_t budget_bytes);
  const TableView& view() const { return view_; }
  bool empty() const { return view_.data == nullptr; }

 private:
  Buffer storage_;
  TableView view_;
};

}  // namespace embflow
