// Arguments of the ISA-specific kernels. Plain data only: this header is included by translation
// units compiled for AVX2 / AVX-512, which must not instantiate library templates (the linker
// could pick such a copy for code that runs on any CPU).
#pragma once
#include <cstddef>
#include <cstdint>

namespace embflow::kernels {

// Pool bags [bag_begin, bag_end) from rows [row_begin, row_end) of a table view whose row 0 is
// global row `first_row`. Bag b writes out + b * out_stride. The caller has checked that
// 0 <= offsets[bag_begin] <= offsets[bag_end] <= the number of indices; the kernel checks each
// bag against them as it reads it (see GatherResult).
struct GatherArgs {
  const std::byte* table;
  std::int64_t first_row;
  std::size_t row_stride;  // bytes
  int dim;
  bool fp16;
  bool idx32;
  const void* offsets;
  const void* indices;
  const float* weights;  // per index, or null
  std::int64_t bag_begin, bag_end;
  std::int64_t row_begin, row_end;
  float* out;
  std::int64_t out_stride;  // floats
  bool mean;
  bool accumulate;
  bool stream_out;           // non-temporal stores of full, 64-byte aligned output vectors
  int prefetch_distance;     // look-ups ahead, 0: none
  bool prefetch_rows;        // rows prefetched at all (only where prefetch_distance > 0, as output rows)
  bool prefetch_l2;          // rows prefetched into L2 only (else into L1)
  std::int64_t prefetch_end;  // prefetch no index position at or past this (the batch's end)
};

// What a gather saw of its input, found on the way at no extra pass over it (as FBGEMM's CPU
// kernels do): look-ups whose row was outside [row_begin, row_end) were skipped (another item's
// rows, or a bad index), and a bag whose offsets decrease or pass offsets[bag_end] stopped the
// kernel before any of its indices were read.
struct GatherResult {
  std::int64_t skipped;
  bool offsets_ok;
};

// One look-up bucketed into a tile: out[bag] += weight * tile_row[row].
struct TileEntry {
  std::int32_t bag;  // relative to ServeArgs::out
  std::int32_t row;  // relative to ServeArgs::tile
  float weight;      // includes the 1/L of mean pooling
};

struct ServeArgs {
  const std::byte* tile;  // row 0 of the tile
  std::size_t row_stride;
  int dim;
  bool fp16;
  const TileEntry* entries;
  std::int64_t count;
  float* out;
  std::int64_t out_stride;
};

struct KernelTable {
  GatherResult (*gather)(const GatherArgs&);
  void (*serve_tile)(const ServeArgs&);
};

const KernelTable& kernels_generic();
const KernelTable& kernels_avx2();
const KernelTable& kernels_avx512();

}  // namespace embflow::kernels
