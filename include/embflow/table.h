// Embedding table storage: owned (64-byte aligned, huge pages when large) or memory-mapped .npy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "embflow/model.h"

namespace embflow {

// A non-owning view of rows [first_row, first_row + rows) of a table. Row r starts at
// data + (r - first_row) * row_stride bytes. Kernels take views, so a resident copy of a row
// range is used exactly like the whole table. Any address works; rows that start on 64-byte
// boundaries are fastest (a 64-byte row 16 bytes off one spans two cache lines: up to 3x slower
// gathers, docs/BENCHMARKS.md). Table and Buffer allocate so.
struct TableView {
  const std::byte* data = nullptr;
  std::int64_t first_row = 0;
  std::int64_t rows = 0;
  int dim = 0;
  RowType row_type = RowType::kFp32;
  // Bytes from one row to the next. 0 makes every row the first one: a view that `embflow run`
  // gathers from to time a batch's own arrays and output without its rows' misses (gather only).
  std::size_t row_stride = 0;

  std::int64_t end_row() const { return first_row + rows; }
  const std::byte* row(std::int64_t r) const {
    return data + static_cast<std::size_t>(r - first_row) * row_stride;
  }
  std::size_t bytes() const { return static_cast<std::size_t>(rows) * row_stride; }
};

// Pointers to each view, as the runner and the executor take them (`views` must outlive them).
std::vector<const TableView*> view_pointers(const std::vector<TableView>& views);

// A block of memory: 64-byte aligned, from mmap with MADV_HUGEPAGE above 2 MiB, or a read-only
// file mapping. Move-only.
class Buffer {
 public:
  enum class Pages { kDefault, kHuge, kSmall };
  Buffer() = default;
  static Buffer allocate(std::size_t bytes, Pages pages = Pages::kDefault);
  static Buffer map_file(const std::string& path);  // read-only, whole file
  Buffer(Buffer&&) noexcept;
  Buffer& operator=(Buffer&&) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  std::byte* data() { return data_; }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t mapped_ = 0;  // bytes to munmap, 0 when heap-allocated
};

// Floats for pooled look-ups' output ([B, sum of dims]), as every timed caller should hold it:
// 64-byte aligned, so that the gather flows may stream whole output lines past the caches (a
// std::vector's data is 16-byte aligned: no streaming, and a 512-byte row per bag cost 90 ns
// instead of 22 ns into a 100+ MiB output here), and zeroed once, so that no timed run pays for
// first touches (10-15 us a page on the development VM).
class FloatBuffer {
 public:
  FloatBuffer() = default;
  explicit FloatBuffer(std::size_t count);
  float* data() { return reinterpret_cast<float*>(storage_.data()); }
  const float* data() const { return reinterpret_cast<const float*>(storage_.data()); }
  std::size_t size() const { return count_; }
  std::span<float> span() { return {data(), count_}; }

 private:
  Buffer storage_;
  std::size_t count_ = 0;
};

class Table {
 public:
  Table() = default;
  // Uninitialised storage for `spec` (throws CapacityError when it cannot fit in memory).
  static Table allocate(const TableSpec& spec, Buffer::Pages pages = Buffer::Pages::kDefault);
  // Values uniform in [-1, 1), a pure function of (seed, table name, element): the same for any
  // number of fill threads.
  static Table random(const TableSpec& spec, std::uint64_t seed, int threads = 0,
                      Buffer::Pages pages = Buffer::Pages::kDefault);
  // Memory-maps a .npy file (float32 or float16, C order, shape [rows, dim]) and checks its
  // header, dtype and shape against `spec`. Throws IoError / InvalidInput.
  static Table map_npy(const TableSpec& spec, const std::string& path);

  const TableSpec& spec() const { return spec_; }
  TableView view() const;
  std::byte* mutable_data() { return storage_.data() + offset_; }
  // Reads every page so that a timed run does not pay for first touches or cold pages.
  void touch() const;

 private:
  TableSpec spec_;
  Buffer storage_;
  std::size_t offset_ = 0;  // where row 0 starts inside storage_ (the .npy header size)
};

// Writes `view` as a .npy file of its row type (float32 or float16), shape [rows, dim].
void save_npy_table(const TableView& view, const std::string& path);

}  // namespace embflow
