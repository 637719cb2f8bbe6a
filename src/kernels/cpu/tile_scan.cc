#include "kernels/cpu/tile_scan.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace embflow::kernels {
namespace {

// Per-thread scratch, grown on demand and never shrunk: no allocation or page fault per call.
struct TileScanScratch {
  std::vector<std::int64_t> starts;
  std::vector<TileEntry> entries;
  std::vector<float> output;  // the slice's output rows, packed
  template <class T>
  static T* ensure(std::vector<T>& v, std::size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
};
thread_local TileScanScratch scratch;

// Pulls tiles into the core's caches ahead of their random reads: sequential prefetches (which
// also wake the hardware stream prefetcher), issued a slice at a time while the previous tile is
// served, so that streaming and serving overlap (the CPU's form of the paper's double buffering).
class TileStreamer {
 public:
  void start(const std::byte* p, std::size_t bytes) {
    next_ = p;
    end_ = p + bytes;
  }
  void advance(std::size_t bytes) {
    const std::byte* stop = std::min(end_, next_ + bytes);
    for (; next_ < stop; next_ += 64) __builtin_prefetch(next_, 0, 2);
  }
  void finish() { advance(static_cast<std::size_t>(end_ - next_)); }

 private:
  const std::byte* next_ = nullptr;
  const std::byte* end_ = nullptr;
};

// Returns what gather_* returns (kernel_args.h); the caller has checked the slice's first and
// last offsets, so pass 1 reads only indices that exist, and pass 2 stops at a bag that would
// visit others than pass 1 counted.
// Serves into `slice_out`, whose row 0 is bag slice.begin's.
template <class Idx>
GatherResult bucket_and_serve(const KernelTable& k, const TableView& table, const BagsView& bags, BagRange slice,
                              RowRange rows, OutputView slice_out, const KernelOptions& opt) {
  const Idx* off = static_cast<const Idx*>(bags.offsets);
  const Idx* idx = static_cast<const Idx*>(bags.indices);
  const std::int64_t per_tile = tile_rows(opt.tile_bytes, table.row_stride);
  int shift = 0;
  while ((std::int64_t{1} << shift) < per_tile) ++shift;
  const std::int64_t num_tiles = (rows.size() + per_tile - 1) / per_tile;
  const auto range = static_cast<std::uint64_t>(rows.size());

  // Pass 1: count look-ups per tile, in four histograms taken in turn: with few tiles,
  // consecutive look-ups hit the same count, and each increment waited on the one before.
  constexpr int kLanes = 4;
  const auto width = static_cast<std::size_t>(num_tiles) + 1;
  std::int64_t* counts = TileScanScratch::ensure(scratch.starts, kLanes * width);
  std::memset(counts, 0, sizeof(std::int64_t) * kLanes * width);
  const std::int64_t first = off[slice.begin], end = off[slice.end];
  auto count = [&](std::int64_t kk, std::int64_t* lane) __attribute__((always_inline)) {
    const std::uint64_t rel = static_cast<std::uint64_t>(static_cast<std::int64_t>(idx[kk]) - rows.begin);
    if (rel < range) ++lane[(rel >> shift) + 1];
  };
  std::int64_t kk = first;
  for (; kk + kLanes <= end; kk += kLanes) {
    for (int j = 0; j < kLanes; ++j) count(kk + j, counts + j * width);
  }
  for (; kk < end; ++kk) count(kk, counts);
  std::int64_t* starts = counts;  // lane 0 becomes the prefix sums
  for (std::size_t t = 1; t < width; ++t) {
    for (int j = 1; j < kLanes; ++j) starts[t] += counts[j * width + t];
    starts[t] += starts[t - 1];
  }
  const std::int64_t total = starts[num_tiles];
  const GatherResult seen{end - first - total, true};

  // Pass 2: scatter the look-ups into their tiles' buckets, in bag order within each tile.
  TileEntry* entries = TileScanScratch::ensure(scratch.entries, static_cast<std::size_t>(total));
  for (std::int64_t b = slice.begin; b < slice.end; ++b) {
    const std::int64_t s = off[b], e = off[b + 1];
    if (e < s || e > end) return {seen.skipped, false};
    const float scale = opt.pooling == Pooling::kMean && e > s ? 1.0f / static_cast<float>(e - s) : 1.0f;
    for (std::int64_t kk = s; kk < e; ++kk) {
      const std::uint64_t rel = static_cast<std::uint64_t>(static_cast<std::int64_t>(idx[kk]) - rows.begin);
      if (rel >= range) continue;
      const std::int64_t t = static_cast<std::int64_t>(rel >> shift);
      const float w = (bags.weights ? bags.weights[kk] : 1.0f) * scale;
      entries[starts[t]++] = TileEntry{static_cast<std::int32_t>(b - slice.begin),
                                       static_cast<std::int32_t>(rel - (static_cast<std::uint64_t>(t) << shift)), w};
    }
  }
  // starts[t] now holds the end of tile t; its start is the end of tile t - 1.

  ServeArgs args{};
  args.row_stride = table.row_stride;
  args.dim = table.dim;
  args.fp16 = table.row_type == RowType::kFp16;
  args.out = slice_out.data;
  args.out_stride = slice_out.row_stride;
  // Serve the non-empty tiles in order; while serving one, stream the next.
  auto tile_begin = [&](std::int64_t t) { return t == 0 ? std::int64_t{0} : starts[t - 1]; };
  auto next_nonempty = [&](std::int64_t t) {
    while (t < num_tiles && starts[t] == tile_begin(t)) ++t;
    return t;
  };
  auto tile_bytes_of = [&](std::int64_t t) {
    const std::int64_t first = rows.begin + (t << shift);
    return static_cast<std::size_t>(std::min<std::int64_t>(per_tile, rows.end - first)) * table.row_stride;
  };
  constexpr std::int64_t kServeChunk = 64;  // entries served between two slices of streaming
  TileStreamer streamer;
  std::int64_t t = next_nonempty(0);
  if (t < num_tiles) {
    streamer.start(table.row(rows.begin + (t << shift)), tile_bytes_of(t));
    streamer.finish();
  }
  while (t < num_tiles) {
    const std::int64_t next = next_nonempty(t + 1);
    const std::int64_t begin = tile_begin(t), end = starts[t];
    std::size_t slice = 0;
    if (next < num_tiles) {
      const std::size_t bytes = tile_bytes_of(next);
      streamer.start(table.row(rows.begin + (next << shift)), bytes);
      slice = bytes / static_cast<std::size_t>((end - begin + kServeChunk - 1) / kServeChunk) + 64;
    }
    args.tile = table.row(rows.begin + (t << shift));
    for (std::int64_t e = begin; e < end; e += kServeChunk) {
      args.entries = entries + e;
      args.count = std::min(kServeChunk, end - e);
      k.serve_tile(args);
      if (slice) streamer.advance(slice);
    }
    if (next < num_tiles) streamer.finish();
    t = next;
  }
  return seen;
}

}  // namespace

std::int64_t tile_rows(std::size_t tile_bytes, std::size_t row_stride) {
  std::int64_t rows = 1;
  while (static_cast<std::size_t>(rows * 2) * row_stride <= tile_bytes) rows *= 2;
  return rows;
}

void stream_in(const std::byte* p, std::size_t bytes) {
  TileStreamer streamer;
  streamer.start(p, bytes);
  streamer.finish();
}

GatherResult tile_scan(const KernelTable& k, const TableView& table, const BagsView& bags, BagRange slice,
                       RowRange rows, OutputView out, const KernelOptions& opt) {
  if (slice.end <= slice.begin) return {0, true};
  const std::int64_t n = slice.end - slice.begin;
  const auto row_bytes = sizeof(float) * static_cast<std::size_t>(table.dim);
  // The tiles add into their bags' output rows in an order of their own, so each row is a random
  // read-modify-write. In a model's output (rows of every table side by side) those rows lie a
  // whole sample apart, over far more memory than the caches hold: the adds go to a packed buffer
  // of the slice's rows instead, copied (or added) into the output at the end.
  const bool packed = out.row_stride != table.dim;
  float* const rows_out = packed ? TileScanScratch::ensure(scratch.output, static_cast<std::size_t>(n * table.dim))
                                 : out.data + slice.begin * out.row_stride;
  const std::int64_t stride = packed ? table.dim : out.row_stride;
  if (packed || !opt.accumulate) {  // tiles add into the rows: start from zero
    for (std::int64_t b = 0; b < n; ++b) std::memset(rows_out + b * stride, 0, row_bytes);
  }
  const OutputView slice_out{rows_out, stride};
  const GatherResult r = bags.index_type == IndexType::kInt32
                             ? bucket_and_serve<std::int32_t>(k, table, bags, slice, rows, slice_out, opt)
                             : bucket_and_serve<std::int64_t>(k, table, bags, slice, rows, slice_out, opt);
  if (packed) {
    for (std::int64_t b = 0; b < n; ++b) {
      float* o = out.data + (slice.begin + b) * out.row_stride;
      const float* p = rows_out + b * stride;
      if (opt.accumulate) {
        for (int j = 0; j < table.dim; ++j) o[j] += p[j];
      } else {
        std::memcpy(o, p, row_bytes);
      }
    }
  }
  return r;
}

}  // namespace embflow::kernels
