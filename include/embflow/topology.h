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
  // Transparent huge pages (/sys/kernel/mm/transparent_hugepage/enabled): "always", "madvise"
  // (embflow asks for them: tables and buffers of 2 MiB and more) or "never"; "" when unknown.
  // With "never" every table sits on 4 KiB pages, and a random row of a large table misses the TLB.
  std::string huge_pages;
};

// The mode the kernel's huge-page setting selects: the bracketed word of `sysfs_text` (e.g.
// "always [madvise] never" -> "madvise"), "" when there is none.
std::string selected_sysfs_choice(const std::string& sysfs_text);
// This machine's transparent huge page mode (MachineInfo::huge_pages), read alone.
std::string transparent_huge_pages();

MachineInfo describe_machine();

// Binds the calling thread to physical core `core` (0-based, in hwloc's order). Throws Error
// when the core does not exist or binding fails.
void pin_current_thread(int core);

}  // namespace embflow
