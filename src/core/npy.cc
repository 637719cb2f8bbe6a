#include "core/npy.h"

#include <cctype>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "embflow/error.h"

namespace embflow {
namespace {

// A cursor over the header's Python dict literal, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class DictParser {
 public:
  DictParser(std::string_view s, const std::string& path) : s_(s), path_(path) {}

  NpyHeader parse() {
    NpyHeader h;
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{');
    while (true) {
      skip_ws();
      if (peek() == '}') break;
      const std::string key = quoted();
      expect(':');
      skip_ws();
      if (key == "descr") {
        h.descr = quoted();
        have_descr = true;
      } else if (key == "fortran_order") {
        h.fortran_order = boolean();
        have_order = true;
      } else if (key == "shape") {
        h.shape = tuple();
        have_shape = true;
      } else {
        fail(fmt::format("unexpected key '{}'", key));
      }
      skip_ws();
      if (peek() == ',') ++pos_;
    }
    if (!have_descr || !have_order || !have_shape) fail("header lacks 'descr', 'fortran_order' or 'shape'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw IoError(fmt::format("{}: malformed .npy header: {}", path_, what));
  }
  char peek() const {
    if (pos_ >= s_.size()) fail("ends early");
    return s_[pos_];
  }
  void skip_ws() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  void expect(char c) {
    skip_ws();
    if (peek() != c) fail(fmt::format("expected '{}' at byte {}", c, pos_));
    ++pos_;
  }
  std::string quoted() {
    skip_ws();
    const char q = peek();
    if (q != '\'' && q != '"') fail(fmt::format("expected a quoted string at byte {}", pos_));
    const std::size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    fail("fortran_order is not True or False");
  }
  std::vector<std::int64_t> tuple() {
    expect('(');
    std::vector<std::int64_t> dims;
    while (true) {
      skip_ws();
      if (peek() == ')') {
        ++pos_;
        return dims;
      }
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("shape holds a non-integer");
      std::int64_t v = 0;
      while (pos_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[pos_]))) {
        if (v > (std::int64_t{1} << 50)) fail("shape dimension too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      dims.push_back(v);
      skip_ws();
      if (peek() == ',') ++pos_;
    }
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  const std::string& path_;
};

std::size_t item_size_of(const std::string& descr, const std::string& path) {
  if (descr.size() < 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '=')) {
    throw IoError(fmt::format("{}: unsupported dtype '{}' (need little-endian)", path, descr));
  }
  const char kind = descr[1];
  if (kind != 'f' && kind != 'i' && kind != 'u') {
    throw IoError(fmt::format("{}: unsupported dtype '{}'", path, descr));
  }
  const int n = std::atoi(descr.c_str() + 2);
  if (n != 1 && n != 2 && n != 4 && n != 8) throw IoError(fmt::format("{}: unsupported dtype '{}'", path, descr));
  return static_cast<std::size_t>(n);
}

}  // namespace

std::int64_t NpyHeader::count() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

NpyHeader parse_npy_header(const std::byte* data, std::size_t size, const std::string& path) {
  static constexpr char kMagic[] = "\x93NUMPY";
  if (size < 10 || std::memcmp(data, kMagic, 6) != 0) {
    throw IoError(fmt::format("{}: not a .npy file (bad magic or shorter than 10 bytes)", path));
  }
  const auto major = static_cast<unsigned>(data[6]);
  std::size_t header_len = 0, prefix = 0;
  if (major == 1) {
    header_len = static_cast<std::size_t>(data[8]) | (static_cast<std::size_t>(data[9]) << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) throw IoError(fmt::format("{}: truncated .npy header", path));
    header_len = 0;
    for (int i = 0; i < 4; ++i) header_len |= static_cast<std::size_t>(data[8 + i]) << (8 * i);
    prefix = 12;
  } else {
    throw IoError(fmt::format("{}: unsupported .npy version {}", path, major));
  }
  if (prefix + header_len > size) {
    throw IoError(fmt::format("{}: truncated .npy header ({} bytes announced, {} in the file)", path,
                              header_len, size - prefix));
  }
  std::string_view text(reinterpret_cast<const char*>(data + prefix), header_len);
  NpyHeader h = DictParser(text, path).parse();
  h.data_offset = prefix + header_len;
  h.item_size = item_size_of(h.descr, path);
  const auto need = static_cast<unsigned __int128>(h.count()) * h.item_size;
  if (need > size - h.data_offset) {
    throw IoError(fmt::format("{}: truncated: shape {} of '{}' needs {} data bytes, the file has {}", path,
                              fmt::join(h.shape, "x"), h.descr, static_cast<std::uint64_t>(need),
                              size - h.data_offset));
  }
  return h;
}

NpyFile open_npy(const std::string& path) {
  NpyFile f;
  f.map = Buffer::map_file(path);
  f.header = parse_npy_header(f.map.data(), f.map.size(), path);
  return f;
}

std::vector<std::int64_t> read_npy_int_vector(const std::string& path, std::string* descr) {
  NpyFile f = open_npy(path);
  const auto& h = f.header;
  if (h.shape.size() != 1) throw IoError(fmt::format("{}: expected a 1-D array, shape is {}", path, fmt::join(h.shape, "x")));
  if (h.descr != "<i4" && h.descr != "<i8") {
    throw IoError(fmt::format("{}: expected int32 or int64 ('<i4' / '<i8'), dtype is '{}'", path, h.descr));
  }
  if (descr) *descr = h.descr;
  std::vector<std::int64_t> out(static_cast<std::size_t>(h.shape[0]));
  if (h.descr == "<i8") {
    std::memcpy(out.data(), f.data(), out.size() * 8);
  } else {
    for (std::size_t i = 0; i < out.size(); ++i) {
      std::int32_t v;
      std::memcpy(&v, f.data() + 4 * i, 4);
      out[i] = v;
    }
  }
  return out;
}

std::vector<float> read_npy_float_vector(const std::string& path) {
  NpyFile f = open_npy(path);
  const auto& h = f.header;
  if (h.shape.size() != 1 || h.descr != "<f4") {
    throw IoError(fmt::format("{}: expected a 1-D float32 array, got '{}' of shape {}", path, h.descr,
                              fmt::join(h.shape, "x")));
  }
  std::vector<float> out(static_cast<std::size_t>(h.shape[0]));
  std::memcpy(out.data(), f.data(), out.size() * 4);
  return out;
}

void write_npy(const std::string& path, const std::string& descr, const std::vector<std::int64_t>& shape,
               const void* data, std::size_t bytes) {
  std::string dims;
  for (auto d : shape) dims += fmt::format("{}, ", d);
  if (shape.size() > 1) dims.resize(dims.size() - 2);  // (n,) keeps its comma; (a, b) loses the last
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, dims);
  // Pad so that the data starts on a 64-byte boundary; the header ends with '\n'.
  const std::size_t total = (10 + header.size() + 1 + 63) / 64 * 64;
  header.append(total - 10 - header.size() - 1, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IoError(fmt::format("{}: cannot create", path));
  const unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
                                    static_cast<unsigned char>(header.size() & 0xff),
                                    static_cast<unsigned char>(header.size() >> 8)};
  out.write(reinterpret_cast<const char*>(prefix), 10);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(bytes));
  if (!out) throw IoError(fmt::format("{}: write failed", path));
}

}  // namespace embflow
