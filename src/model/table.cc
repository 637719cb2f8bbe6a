#include <algorithm>
#include <cstring>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/half.h"
#include "core/npy.h"
#include "core/rng.h"
#include "embflow/error.h"
#include "embflow/table.h"

namespace embflow {
namespace {

// Runs fn(begin, end) over [0, n) split into contiguous chunks, one per thread.
template <class Fn>
void parallel_chunks(std::int64_t n, int threads, Fn fn) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<std::int64_t>(threads, std::max<std::int64_t>(1, n / 65536)));
  if (threads <= 1) {
    fn(std::int64_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    const std::int64_t b = n * t / threads, e = n * (t + 1) / threads;
    pool.emplace_back([=] { fn(b, e); });
  }
  for (auto& th : pool) th.join();
}

float value_of(std::uint64_t key, std::uint64_t element) {
  // 24 random bits -> a float in [-1, 1) that is exact in fp32 and close in fp16.
  return static_cast<float>(static_cast<std::int64_t>(mix64(key ^ mix64(element)) >> 40) - (1 << 23)) *
         0x1.0p-23f;
}

}  // namespace

Table Table::allocate(const TableSpec& spec, Buffer::Pages pages) {
  validate_table_spec(spec);
  Table t;
  t.spec_ = spec;
  try {
    t.storage_ = Buffer::allocate(spec.bytes(), pages);
  } catch (const CapacityError& e) {
    throw CapacityError(fmt::format("table '{}' ({} rows x {} {}): {}", spec.name, spec.rows, spec.dim,
                                    to_string(spec.row_type), e.what()));
  }
  return t;
}

Table Table::random(const TableSpec& spec, std::uint64_t seed, int threads, Buffer::Pages pages) {
  Table t = allocate(spec, pages);
  const std::uint64_t key = mix64(seed ^ hash_string(spec.name));
  const std::int64_t n = spec.rows * spec.dim;
  std::byte* base = t.mutable_data();
  parallel_chunks(n, threads, [&](std::int64_t b, std::int64_t e) {
    if (spec.row_type == RowType::kFp32) {
      auto* p = reinterpret_cast<float*>(base);
      for (std::int64_t i = b; i < e; ++i) p[i] = value_of(key, static_cast<std::uint64_t>(i));
    } else {
      auto* p = reinterpret_cast<std::uint16_t*>(base);
      for (std::int64_t i = b; i < e; ++i) p[i] = float_to_half(value_of(key, static_cast<std::uint64_t>(i)));
    }
  });
  return t;
}

Table Table::map_npy(const TableSpec& spec, const std::string& path) {
  validate_table_spec(spec);
  NpyFile f = open_npy(path);
  const NpyHeader& h = f.header;
  const char* want = spec.row_type == RowType::kFp32 ? "<f4" : "<f2";
  if (h.descr != want) {
    throw InvalidInput(fmt::format("{}: table '{}' is {} (dtype '{}'), the file holds dtype '{}'", path, spec.name,
                                   to_string(spec.row_type), want, h.descr));
  }
  if (h.fortran_order) throw InvalidInput(fmt::format("{}: Fortran order is not supported; save it in C order", path));
  if (h.shape.size() != 2 || h.shape[0] != spec.rows || h.shape[1] != spec.dim) {
    throw InvalidInput(fmt::format("{}: table '{}' expects shape [{}, {}], the file has [{}]", path, spec.name,
                                   spec.rows, spec.dim, fmt::join(h.shape, ", ")));
  }
  Table t;
  t.spec_ = spec;
  t.offset_ = h.data_offset;
  t.storage_ = std::move(f.map);
  return t;
}

std::vector<const TableView*> view_pointers(const std::vector<TableView>& views) {
  std::vector<const TableView*> out;
  for (const auto& v : views) out.push_back(&v);
  return out;
}

TableView Table::view() const {
  TableView v;
  v.data = storage_.data() + offset_;
  v.first_row = 0;
  v.rows = spec_.rows;
  v.dim = spec_.dim;
  v.row_type = spec_.row_type;
  v.row_stride = spec_.row_bytes();
  return v;
}

void Table::touch() const {
  const TableView v = view();
  const std::size_t bytes = v.bytes();
  volatile std::byte sink{};
  std::byte acc{};
  for (std::size_t off = 0; off < bytes; off += 4096) acc ^= v.data[off];
  if (bytes > 0) acc ^= v.data[bytes - 1];
  sink = acc;
  (void)sink;
}

void save_npy_table(const TableView& view, const std::string& path) {
  write_npy(path, view.row_type == RowType::kFp32 ? "<f4" : "<f2", {view.rows, view.dim}, view.data, view.bytes());
}

}  // namespace embflow
