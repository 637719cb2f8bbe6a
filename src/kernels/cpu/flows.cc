// run_flow: argument checks shared by every flow, then the flow's kernel.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/cpu_features.h"
#include "core/format.h"
#include "embflow/error.h"
#include "embflow/kernels.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/tile_scan.h"

namespace embflow {

std::string_view to_string(Flow f) {
  switch (f) {
    case Flow::kGather: return "gather";
    case Flow::kResident: return "resident";
    case Flow::kTileScan: return "tile-scan";
    case Flow::kResidentTileScan: return "resident-tile-scan";
  }
  return "?";
}

std::string_view paper_name(Flow f) {
  switch (f) {
    case Flow::kGather: return "GM";
    case Flow::kResident: return "L1";
    case Flow::kTileScan: return "GM-UB";
    case Flow::kResidentTileScan: return "L1-UB";
  }
  return "?";
}

Flow parse_flow(std::string_view s) {
  for (Flow f : kAllFlows) {
    if (s == to_string(f) || s == paper_name(f)) return f;
  }
  throw InvalidInput(fmt::format("unknown flow '{}' (expected gather, resident, tile-scan, resident-tile-scan, or "
                                 "the paper's GM, L1, GM-UB, L1-UB)",
                                 s));
}

int L2PrefetchLead::lines_for(std::size_t row_bytes) const {
  std::size_t i = 0;
  while (i + 1 < std::size(kRowBytes) && row_bytes > kRowBytes[i]) ++i;
  return lines[i];
}

int auto_prefetch_distance(std::size_t row_bytes, bool into_l2, const L2PrefetchLead& lead) {
  const auto lines = static_cast<int>(std::max<std::size_t>(1, (row_bytes + 63) / 64));
  if (into_l2) return std::max(lead.lines_for(row_bytes) / lines, 8);
  return std::clamp(96 / lines, 8, 48);
}

L2PrefetchRule this_cpu_l2_prefetch_rule() {
  static const L2PrefetchRule rule = cpu_is_amd() ? L2PrefetchRule::kAmd : L2PrefetchRule::kIntel;
  return rule;
}

std::size_t l2_prefetch_from_bytes(std::size_t row_bytes, L2PrefetchRule rule) {
  constexpr std::size_t KiB = std::size_t{1} << 10, MiB = KiB << 10;
  if (rule == L2PrefetchRule::kAmd) {
    return row_bytes <= 64 ? 128 * KiB : row_bytes <= 128 ? 512 * KiB : row_bytes <= 256 ? MiB : 4 * MiB;
  }
  return row_bytes <= 128 ? 16 * MiB : row_bytes <= 256 ? 512 * MiB : SIZE_MAX;
}

std::string describe_l2_prefetch_rule(L2PrefetchRule rule) {
  constexpr std::size_t kWidths[] = {64, 128, 256, 512};  // 512: every wider row too
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < std::size(kWidths); ++i) {
    const std::size_t from = l2_prefetch_from_bytes(kWidths[i], rule);
    const bool last = i + 1 == std::size(kWidths);
    if (from == SIZE_MAX || (!last && from == l2_prefetch_from_bytes(kWidths[i + 1], rule))) continue;
    parts.push_back(fmt::format("{} from {}", last ? std::string("wider") : fmt::format("up to {} bytes", kWidths[i]),
                                human_bytes(static_cast<double>(from))));
  }
  if (parts.empty()) return "L1";
  return fmt::format("L2 for rows of {} of the table, else L1 ({} rule)", fmt::join(parts, ", "),
                     rule == L2PrefetchRule::kAmd ? "AMD" : "Intel");
}

bool prefetch_rows_to_l2(std::size_t row_bytes, std::size_t range_bytes) {
  return range_bytes >= l2_prefetch_from_bytes(row_bytes, this_cpu_l2_prefetch_rule());
}

RowPrefetch row_prefetch(const KernelOptions& opt, std::size_t row_bytes, std::int64_t range_rows, double lookups) {
  const std::size_t range_bytes = row_bytes * static_cast<std::size_t>(std::max<std::int64_t>(range_rows, 0));
  RowPrefetch r;
  r.into_l2 = opt.prefetch_level == PrefetchLevel::kL2 ||
              (opt.prefetch_level == PrefetchLevel::kAuto && prefetch_rows_to_l2(row_bytes, range_bytes));
  r.distance = opt.prefetch_distance == kPrefetchAuto ? auto_prefetch_distance(row_bytes, r.into_l2, opt.l2_lead)
                                                          : opt.prefetch_distance;
  r.rows = r.distance > 0 && range_bytes > opt.prefetch_rows_above &&
           (lookups < opt.prefetch_reuse_below * static_cast<double>(range_rows) || range_rows > opt.prefetch_rows_beyond);
  return r;
}

PrefetchLevel parse_prefetch_level(const std::string& s) {
  if (s == "auto") return PrefetchLevel::kAuto;
  if (s == "l1" || s == "L1") return PrefetchLevel::kL1;
  if (s == "l2" || s == "L2") return PrefetchLevel::kL2;
  throw InvalidInput(fmt::format("unknown prefetch level '{}' (expected auto, l1 or l2)", s));
}

bool is_resident(Flow f) { return f == Flow::kResident || f == Flow::kResidentTileScan; }
bool is_tile_scan(Flow f) { return f == Flow::kTileScan || f == Flow::kResidentTileScan; }

namespace {

// The offsets at the slice's ends, which the kernels take as bounds for every bag between.
template <class Idx>
BagRange index_span(const BagsView& bags, BagRange slice) {
  const Idx* off = static_cast<const Idx*>(bags.offsets);
  return {off[slice.begin], off[slice.end]};
}

}  // namespace

LookupReport run_flow(Flow flow, const TableView& table, const BagsView& bags, BagRange slice, RowRange rows,
                      OutputView out, const KernelOptions& opt, Isa isa) {
  if (slice.begin < 0 || slice.end > bags.num_bags || slice.begin > slice.end) {
    throw InvalidInput(fmt::format("bag slice [{}, {}) is not inside the batch's {} bags", slice.begin, slice.end,
                                   bags.num_bags));
  }
  if (rows.begin < table.first_row || rows.end > table.end_row() || rows.begin > rows.end) {
    throw InvalidInput(fmt::format("row range [{}, {}) is not inside the table view's rows [{}, {})", rows.begin,
                                   rows.end, table.first_row, table.end_row()));
  }
  if (out.data == nullptr && slice.end > slice.begin) throw InvalidInput("run_flow: no output buffer");
  if (out.row_stride < table.dim && slice.end - slice.begin > 1) {
    throw InvalidInput(fmt::format("output row stride {} is smaller than the table's dim {}", out.row_stride, table.dim));
  }
  if (table.row_stride == 0 && flow != Flow::kGather && table.rows > 0) {
    throw InvalidInput(fmt::format("a table view of row stride 0 (every row is its first) runs only the gather flow, not {}",
                                   to_string(flow)));
  }
  if (opt.prefetch_distance < 0 && opt.prefetch_distance != kPrefetchAuto) {
    throw InvalidInput(fmt::format("prefetch distance {} is negative (0: none; kPrefetchAuto: by row width)",
                                   opt.prefetch_distance));
  }
  if (bags.offsets == nullptr || (bags.num_indices > 0 && bags.indices == nullptr)) {
    throw InvalidInput("run_flow: no offsets or indices");
  }
  if (bags.weights != nullptr && bags.num_weights < bags.num_indices) {
    throw InvalidInput(fmt::format("run_flow: {} weights for {} indices", bags.num_weights, bags.num_indices));
  }
  const bool idx32 = bags.index_type == IndexType::kInt32;
  const BagRange span = idx32 ? index_span<std::int32_t>(bags, slice) : index_span<std::int64_t>(bags, slice);
  if (span.begin < 0 || span.begin > span.end || span.end > bags.num_indices) return {0, false};
  const auto report = [&](kernels::GatherResult r) { return LookupReport{span.size() - r.skipped, r.offsets_ok}; };
  const kernels::KernelTable& k = kernels::kernel_table(isa);
  const bool one_tile = is_tile_scan(flow) && rows.size() <= kernels::tile_rows(opt.tile_bytes, table.row_stride);
  if (is_tile_scan(flow) && !one_tile) return report(kernels::tile_scan(k, table, bags, slice, rows, out, opt));
  kernels::GatherArgs a{};
  a.table = table.data;
  a.first_row = table.first_row;
  a.row_stride = table.row_stride;
  a.dim = table.dim;
  a.fp16 = table.row_type == RowType::kFp16;
  a.idx32 = idx32;
  a.offsets = bags.offsets;
  a.indices = bags.indices;
  a.weights = bags.weights;
  a.bag_begin = slice.begin;
  a.bag_end = slice.end;
  a.row_begin = rows.begin;
  a.row_end = rows.end;
  a.out = out.data;
  a.out_stride = out.row_stride;
  a.mean = opt.pooling == Pooling::kMean;
  a.accumulate = opt.accumulate;
  a.stream_out = opt.stream_output && !opt.accumulate && reinterpret_cast<std::uintptr_t>(out.data) % 64 == 0 &&
                 (out.row_stride * sizeof(float)) % 64 == 0;
  // By the bytes a row holds, not the view's stride: a view of stride 0 (every look-up reads one
  // row, as `embflow run` measures what the floor leaves out) runs as its table would.
  const std::size_t row_bytes = static_cast<std::size_t>(table.dim) * row_type_bytes(table.row_type);
  // The slice's look-ups spread over the view's rows; a row range expects its share of them.
  const double range_lookups = static_cast<double>(span.size()) * static_cast<double>(rows.size()) /
                               static_cast<double>(std::max<std::int64_t>(table.rows, 1));
  const RowPrefetch prefetch = row_prefetch(opt, row_bytes, rows.size(), range_lookups);
  a.prefetch_l2 = prefetch.into_l2;
  a.prefetch_distance = prefetch.distance;
  a.prefetch_end = bags.num_indices;
  a.prefetch_rows = prefetch.rows;
  if (one_tile) {
    // A range of one tile: bucketing its look-ups by tile would leave them in bag order, so the
    // tile is streamed in and its bags served in that order by the gather kernel, without the
    // counting sort's two passes, in which every bucket slot of one tile waits on the previous
    // one's store (and every count did, before the counts were kept four ways): an 11 KiB
    // table, batch 512, bags 1-20, development VM: 40.6 us against 11 us.
    kernels::stream_in(table.row(rows.begin), static_cast<std::size_t>(rows.size()) * table.row_stride);
    a.prefetch_rows = false;
  }
  return report(k.gather(a));
}

}  // namespace embflow
