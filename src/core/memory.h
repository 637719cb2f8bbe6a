// Memory facts the library needs internally.
#pragma once
#include <cstddef>

namespace embflow {

// MemAvailable from /proc/meminfo, in bytes (0 when unknown).
std::size_t available_memory();

}  // namespace embflow
