// Memory facts the library needs internally.
#pragma once
#include <cstddef>

namespace embflow {

// MemAvailable from /proc/meminfo, in bytes (0 when unknown).
std::size_t available_memory();

// Asks the kernel to back the whole 2 MiB pages inside [data, data + bytes) with huge pages
// (MADV_HUGEPAGE), and with `collapse` to do so now for pages already there (MADV_COLLAPSE,
// Linux 6.1+; seconds for gigabytes). For memory embflow did not allocate (a torch tensor's):
// random look-ups into gigabytes of 4 KiB pages miss the TLB on nearly every row. The contents
// do not change. Returns the bytes the kernel accepted the advice for (0: refused or too small).
std::size_t advise_huge_pages(const void* data, std::size_t bytes, bool collapse);

}  // namespace embflow
