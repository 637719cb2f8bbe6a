// The machine: CPU, cores, caches (from hwloc), and pinning threads to cores.
#pragma once
#include <cstddef>
#include <string>

namespace embflow {

struct MachineInfo {
  std::string cpu_model;
  int physical_cores = 0;
  int logical_cpus = 0;
  int numa_nodes = 0;
  std::size_t l1d_bytes = 0;  // per core; 0 when unknown
  std::size_t l2_bytes = 0;   // per core
  std::size_t l3_bytes = 0;   // per package (shared)
  std::string cache_source;   // where the sizes came from, and any doubt about them
};

MachineInfo describe_machine();

// Binds the calling thread to physical core `core` (0-based, in hwloc's order). Throws Error
// when the core does not exist or binding fails.
void pin_current_thread(int core);

}  // namespace embflow
