// Measuring: robust summaries of repeated timings, and the machine's roofline for a table.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "embflow/kernels.h"

namespace embflow {

struct TimingStats {
  double median = 0, min = 0, max = 0;
  double p10 = 0, p90 = 0;
  double spread() const { return median > 0 ? (p90 - p10) / median : 0; }  // relative
  int samples = 0;
};
TimingStats summarize(std::vector<double> samples);

// A steady clock, in seconds: what every timing loop here reads.
double now_seconds();

// How many distinct batches a timing loop must use in turn so that each batch's rows have left the
// caches before it comes back: enough to touch 256 MiB of rows, unless their index arrays would
// take more than 512 MiB. (A batch repeated back to back finds its rows in cache and looks
// several times faster than inference on fresh requests.)
int distinct_batches_needed(double row_bytes_per_batch, double index_bytes_per_batch);

// Runs `once` (which returns the seconds it took) until its time stops falling: in blocks of 4,
// until a block's median is no better than 0.95x the previous block's, at most `max_blocks`
// blocks. Returns how many runs it made. Why: on the development VM a core's random reads from a
// large table start several times slower than they settle to after some tens of batches (1 GiB
// table, 2048 rows per batch: 244 -> 45 us), even with the batches back to back and every page
// touched first; a serving loop runs in the settled state.
int warm_until_stable(const std::function<double()>& once, int max_blocks = 12);

// What this machine achieves on one table, measured on the table itself.
struct RooflinePoint {
  double gather_rows_per_s = 0;  // best rate of a prefetched gather of uniform random rows
  double scan_bytes_per_s = 0;   // one sequential pass over the table
};
// The gather figure is the best over prefetch distances {16, 32, 64, 128} and prefetch levels
// (L1, L2) of the gather kernel on bags of 32 uniform random rows (so per-bag work is
// negligible), fresh rows for every repetition; the scan figure is the best of 3
// passes summing every 64-bit word of the table. With cores > 1, that many threads pinned to
// cores 0..cores-1 do the same at once (the scan split between them) and the rates are theirs
// together: the machine's roofline for a batch spread over those cores, which on a shared
// memory system is less than cores times one core's.
RooflinePoint measure_roofline(const TableView& table, Isa isa, std::uint64_t seed = 7, int cores = 1);

// Roofline floor of `lookups` look-ups into a table of `table_bytes`: the lower of gathering them
// at the measured rate and one sequential pass over the table. Seconds.
double roofline_floor_seconds(std::int64_t lookups, std::size_t table_bytes, const RooflinePoint& r);

}  // namespace embflow
