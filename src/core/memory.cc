// Buffer: aligned anonymous mappings (huge pages when large) and read-only file mappings.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "embflow/error.h"
#include "core/memory.h"
#include "embflow/table.h"

namespace embflow {
namespace {
constexpr std::size_t kHugePage = 2u << 20;
// MADV_COLLAPSE (Linux 6.1, uapi asm-generic/mman-common.h): glibc 2.36's <sys/mman.h> lacks it.
constexpr int kMadvCollapse = 25;
}  // namespace

std::size_t available_memory() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  std::size_t kib = 0;
  std::string unit;
  while (in >> key >> kib >> unit) {
    if (key == "MemAvailable:") return kib * 1024;
  }
  return 0;
}

std::size_t advise_huge_pages(const void* data, std::size_t bytes, bool collapse) {
  const auto begin = reinterpret_cast<std::uintptr_t>(data);
  const std::uintptr_t lo = (begin + kHugePage - 1) / kHugePage * kHugePage;
  const std::uintptr_t hi = (begin + bytes) / kHugePage * kHugePage;
  if (hi <= lo) return 0;
  void* p = reinterpret_cast<void*>(lo);
  const std::size_t len = hi - lo;
  if (madvise(p, len, MADV_HUGEPAGE) != 0) return 0;
  if (collapse && madvise(p, len, kMadvCollapse) != 0) return 0;  // EINVAL before Linux 6.1
  return len;
}

Buffer Buffer::allocate(std::size_t bytes, Pages pages) {
  Buffer b;
  if (bytes == 0) return b;
  const std::size_t avail = available_memory();
  if (avail != 0 && bytes > avail) {
    throw CapacityError(fmt::format("cannot allocate {} bytes ({:.2f} GiB): only {:.2f} GiB of memory "
                                    "is available",
                                    bytes, bytes / 1073741824.0, avail / 1073741824.0));
  }
  const bool huge = pages == Pages::kHuge || (pages == Pages::kDefault && bytes >= kHugePage);
  const std::size_t len = huge ? (bytes + kHugePage - 1) / kHugePage * kHugePage : bytes;
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    throw CapacityError(fmt::format("cannot allocate {} bytes: {}", bytes, std::strerror(errno)));
  }
  if (huge) madvise(p, len, MADV_HUGEPAGE);  // a hint: 4 KiB pages still work without it
  b.data_ = static_cast<std::byte*>(p);
  b.size_ = bytes;
  b.mapped_ = len;
  return b;
}

Buffer Buffer::map_file(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw IoError(fmt::format("{}: cannot open: {}", path, std::strerror(errno)));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    const int e = errno;
    close(fd);
    throw IoError(fmt::format("{}: cannot stat: {}", path, std::strerror(e)));
  }
  Buffer b;
  b.size_ = static_cast<std::size_t>(st.st_size);
  if (b.size_ > 0) {
    void* p = mmap(nullptr, b.size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      const int e = errno;
      close(fd);
      throw IoError(fmt::format("{}: cannot map: {}", path, std::strerror(e)));
    }
    b.data_ = static_cast<std::byte*>(p);
    b.mapped_ = b.size_;
  }
  close(fd);
  return b;
}

Buffer::Buffer(Buffer&& o) noexcept : data_(o.data_), size_(o.size_), mapped_(o.mapped_) {
  o.data_ = nullptr;
  o.size_ = o.mapped_ = 0;
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    this->~Buffer();
    data_ = o.data_;
    size_ = o.size_;
    mapped_ = o.mapped_;
    o.data_ = nullptr;
    o.size_ = o.mapped_ = 0;
  }
  return *this;
}

Buffer::~Buffer() {
  if (data_ != nullptr && mapped_ != 0) munmap(data_, mapped_);
  data_ = nullptr;
}

FloatBuffer::FloatBuffer(std::size_t count) : storage_(Buffer::allocate(count * sizeof(float))), count_(count) {
  if (count_ != 0) std::memset(storage_.data(), 0, count_ * sizeof(float));
}

}  // namespace embflow
