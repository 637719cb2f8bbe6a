// A machine profile: what the cost model knows about a machine. Measured here by
// `embflow calibrate`, or described by hand for a machine we do not have (and marked so).
//
// Every figure is in seconds (per item, per bag, per look-up, per byte) or bytes. The per-look-up
// costs are curves over a size, kept per row width:
//   hit[flow](row bytes, footprint) a look-up whose row is already in the core's caches (a repeat
//                                  within the item); footprint = bytes of the distinct rows the
//                                  item touches plus the resident copies sharing the core
//   miss[flow](row bytes, bytes)   the first touch of a row in an item, table (range) of `bytes`,
//                                  measured inside a model (other tables run in between, so a
//                                  small table is not left warm in L1/L2 as it would be alone)
// Between the calibrated sizes a curve is interpolated in log-log space and held flat beyond its
// ends; between row widths linearly, and beyond the widest in proportion to the row bytes.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "embflow/kernels.h"
#include "embflow/runner.h"

namespace embflow {

// y against x, interpolated log-log, flat beyond the ends. Points sorted by x, x > 0, y >= 0.
struct CostCurve {
  std::vector<std::pair<double, double>> points;
  double at(double x) const;
};

// One curve per row width (bytes), sorted by width.
struct CurveFamily {
  std::vector<std::pair<double, CostCurve>> widths;
  double at(double row_bytes, double x) const;
  // The largest x calibrated at every width (0 when empty): beyond it the curves are held flat.
  double calibrated_extent() const;
};

struct MachineProfile {
  // 2: no validate_index_seconds (the kernels check indices); DRAM rates by row width, and the
  // output's own rate.
  static constexpr int kVersion = 2;
  std::string source;  // "measured" or "described"
  std::string name;
  std::string description;
  std::vector<std::string> notes;  // for described profiles: which figures are guesses

  // The machine.
  int cores = 1;
  std::string isa;
  std::size_t l1d_bytes = 0, l2_bytes = 0, l3_bytes = 0;  // per core, per core, shared
  std::size_t resident_budget = 0;  // bytes of resident copies per core (paper: L1)
  std::size_t tile_bytes = 0;       // tile-scan tile (paper: UB)

  // Overheads.
  double item_seconds = 0;            // fixed cost of one work item
  double batch_seconds = 0;           // hand-off of a batch to the workers and back
  double skip_index_seconds = 0;      // a row-range item reading an index outside its range
  double fp16_element_seconds = 0;    // converting one element of an fp16 row looked up
  double reduce_float_seconds = 0;    // adding one float of a row-range partial sum (serial)
  // Per bag (reading its offsets, writing its output row through the caches): one curve per output
  // row bytes, against the bytes of the whole batch's output (an output larger than the caches
  // costs more per row).
  CurveFamily bag_seconds;
  // The same for bags whose output rows the gather flows write with streaming stores (runner.h:
  // output_streamed): they skip the caches, so they cost neither a read of each line nor room in
  // the caches. Optional: without it (a described machine, an older profile) bag_seconds prices them.
  CurveFamily streamed_bag_seconds;
  // Per bag written through the caches, against what passes through the core's caches per batch:
  // the batch's output plus the rows its items gather or stream. That traffic, not the output's
  // size alone, is what evicts an output row before the next batch writes it again: a model of
  // empty bags alone keeps an output of a few MiB in L2 (3-7 ns a bag), the same output beside
  // DRAM tables' rows is written from DRAM (42 ns for 512-byte rows at 16 MiB). Optional: without
  // it (a described machine, an older profile) bag_seconds prices these bags.
  CurveFamily bag_seconds_by_traffic;
  // How much more a bag costs when the output's row stride (bytes from one sample's output row to
  // the next: 4 x the model's total dim) is a multiple of a larger power of two, per output row
  // width: x is the largest power of two that divides the stride (64: an odd number of cache
  // lines), y the factor against x = 64. A table's column of narrow rows then falls into a few
  // cache sets: 16 tables of 64-byte rows (a 1 KiB stride) cost 2-2.5x per bag what 17 do, on
  // the development VM (docs/BENCHMARKS.md). Optional: without it (a described machine, an older
  // profile) 1 everywhere.
  CurveFamily bag_stride_factor;
  // Extra per bag when another core writes the same 128-byte blocks of the same output rows (other
  // columns): cores then pass those lines (and the adjacent-line prefetcher's pairs) back and forth.
  double shared_output_bag_seconds = 0;

  // Look-ups.
  CurveFamily hit_gather;     // per repeated look-up, against footprint bytes
  CurveFamily hit_resident;   // the same from a resident copy (on a CPU: the same caches)
  CurveFamily miss_gather;    // per distinct row, gather, against table (range) bytes
  CurveFamily miss_resident;  // per distinct row, resident copy, against resident bytes on the core
  double scan_byte_seconds = 0;           // tile-scan: streaming one byte of a touched tile
  double resident_scan_byte_seconds = 0;  // resident-tile-scan: the same from the resident copy
  // Tile scans: serving one look-up (bucketing it, then adding its row), per row width, against
  // the item's look-ups (beyond the caches, the counting sort's buckets cost more).
  CurveFamily serve_seconds;
  // Page walks of gathers (cost_model.h, page_walk_lines): what fetching one line of page-table
  // entries from memory again costs beyond a first touch, and the traffic that evicts such a line
  // (the e-folding bytes that every core pulls through the caches between two uses of it).
  // Optional: 0 (a described machine, an older profile) leaves walks in the miss curves.
  double page_walk_line_seconds = 0;
  double page_walk_evict_bytes = 0;

  // Shared memory, all cores together, in bytes per second; 0 when unknown (no bound). Rows read
  // at random, against the row's bytes (a 512-byte row is eight adjacent lines: the DRAM page and
  // the prefetchers serve it faster per byte than eight random 64-byte lines), and the output
  // written once per batch (streamed past the caches: sequential writes).
  CostCurve dram_bytes_per_s;
  double output_bytes_per_s = 0;

  // How far ahead the gathers prefetch rows into L2, per row width (kernels.h, L2PrefetchLead):
  // measured, as the best lead differs between machines. Optional: without it (a described
  // machine, an older profile) the built-in lead.
  std::optional<L2PrefetchLead> l2_prefetch_lead;
};

// The runtime's options on the machine `p` describes: default_runner_options() with the profile's
// measured prefetch lead, for runs without a plan (`run --profile`, validation's own items). A
// plan made with the profile carries the lead itself (Plan::l2_prefetch_lead).
RunnerOptions runner_options_for(const MachineProfile& p);

std::string profile_to_json(const MachineProfile& p);
// Throws InvalidInput naming the missing or bad field; `source` names the document.
MachineProfile parse_profile_json(std::string_view text, std::string_view source);

// Built-in described profiles: "ascend-910-like", "server-16-core", "server-64-core".
std::vector<std::string> described_profile_names();
// A built-in name or a path to a profile JSON file.
MachineProfile load_profile(const std::string& name_or_path);

// Which profile a planning tool should load: `given` if not empty, else $EMBFLOW_PROFILE, else ""
// (none: the caller calibrates, or refuses).
std::string profile_source(const std::string& given);

}  // namespace embflow
