// The NumPy .npy format (versions 1-3): header parsing with strict checks, and writing.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "embflow/table.h"

namespace embflow {

struct NpyHeader {
  std::string descr;  // e.g. "<f4", "<i8"
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
  std::size_t data_offset = 0;  // bytes from the file start to the first element
  std::size_t item_size = 0;

  std::int64_t count() const;
};

// Parses and checks the header of a .npy image of `size` bytes: magic, version, dict syntax,
// that the data the shape calls for is present (not truncated). Throws IoError naming `path`.
NpyHeader parse_npy_header(const std::byte* data, std::size_t size, const std::string& path);

// A whole .npy file, memory-mapped.
struct NpyFile {
  Buffer map;
  NpyHeader header;
  const std::byte* data() const { return map.data() + header.data_offset; }
};
NpyFile open_npy(const std::string& path);

// Reads a 1-D integer array (int32 or int64, little-endian) into int64s; throws IoError.
std::vector<std::int64_t> read_npy_int_vector(const std::string& path, std::string* descr = nullptr);
std::vector<float> read_npy_float_vector(const std::string& path);

// Writes `bytes` of data under a header for (descr, shape), C order.
void write_npy(const std::string& path, const std::string& descr, const std::vector<std::int64_t>& shape,
               const void* data, std::size_t bytes);

}  // namespace embflow
