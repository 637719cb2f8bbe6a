// The tile-scan flow (paper: GM-UB / L1-UB): look-ups bucketed by tile with a counting sort, then
// each tile is streamed once and all its look-ups are served from cache with SIMD.
#pragma once
#include "embflow/kernels.h"
#include "kernels/cpu/kernel_args.h"

namespace embflow::kernels {

GatherResult tile_scan(const KernelTable& k, const TableView& table, const BagsView& bags, BagRange slice,
                       RowRange rows, OutputView out, const KernelOptions& opt);

// Rows per tile: the largest power of two whose rows fit in `tile_bytes` (at least 1).
std::int64_t tile_rows(std::size_t tile_bytes, std::size_t row_stride);

// Pulls [p, p + bytes) into the core's caches with sequential prefetches (a tile streamed in).
void stream_in(const std::byte* p, std::size_t bytes);

}  // namespace embflow::kernels
