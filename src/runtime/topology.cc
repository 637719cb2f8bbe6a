#include <hwloc.h>

#include <fstream>
#include <mutex>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/topology.h"

namespace embflow {
namespace {

// One hwloc topology for the process, loaded on first use.
hwloc_topology_t topology() {
  static hwloc_topology_t topo = [] {
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0 || hwloc_topology_load(t) != 0) throw Error("hwloc: cannot load the topology");
    return t;
  }();
  return topo;
}

std::size_t first_cache_size(hwloc_obj_type_t type) {
  hwloc_obj_t obj = hwloc_get_obj_by_type(topology(), type, 0);
  return obj != nullptr && obj->attr != nullptr ? static_cast<std::size_t>(obj->attr->cache.size) : 0;
}

std::string cpu_model_name() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto p = line.find(':');
      if (p != std::string::npos) return line.substr(p + 2);
    }
  }
  return "unknown";
}

}  // namespace

MachineInfo describe_machine() {
  MachineInfo m;
  hwloc_topology_t t = topology();
  m.cpu_model = cpu_model_name();
  m.physical_cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
  m.logical_cpus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
  m.numa_nodes = std::max(1, hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE));
  m.l1d_bytes = first_cache_size(HWLOC_OBJ_L1CACHE);
  m.l2_bytes = first_cache_size(HWLOC_OBJ_L2CACHE);
  m.l3_bytes = first_cache_size(HWLOC_OBJ_L3CACHE);
  m.cache_source = "hwloc";
  if (m.l1d_bytes == 0 || m.l2_bytes == 0) m.cache_source += " (some sizes missing)";
  // A VM often reports the host socket's L3, which no guest core can use in full.
  if (m.l3_bytes > (std::size_t{64} << 20) * static_cast<std::size_t>(std::max(1, m.physical_cores))) {
    m.cache_source += fmt::format("; L3 of {} MiB for {} cores is implausible (a host's figure?)", m.l3_bytes >> 20,
                                  m.physical_cores);
  }
  m.huge_pages = transparent_huge_pages();
  return m;
}

std::string transparent_huge_pages() {
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string line;
  return thp && std::getline(thp, line) ? selected_sysfs_choice(line) : "";
}

std::string selected_sysfs_choice(const std::string& sysfs_text) {
  const auto open = sysfs_text.find('['), close = sysfs_text.find(']', open == std::string::npos ? 0 : open);
  if (open == std::string::npos || close == std::string::npos) return "";
  return sysfs_text.substr(open + 1, close - open - 1);
}

void pin_current_thread(int core) {
  static std::mutex mu;  // hwloc topology queries are not documented as thread-safe
  std::lock_guard<std::mutex> lock(mu);
  hwloc_topology_t t = topology();
  hwloc_obj_t obj = hwloc_get_obj_by_type(t, HWLOC_OBJ_CORE, static_cast<unsigned>(core));
  if (obj == nullptr) {
    throw InvalidInput(fmt::format("core {} does not exist (this machine has {} physical cores)", core,
                                   hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE)));
  }
  hwloc_bitmap_t set = hwloc_bitmap_dup(obj->cpuset);
  hwloc_bitmap_singlify(set);  // one hardware thread of the core
  const int rc = hwloc_set_cpubind(t, set, HWLOC_CPUBIND_THREAD);
  hwloc_bitmap_free(set);
  if (rc != 0) throw Error(fmt::format("cannot pin the thread to core {}", core));
}

}  // namespace embflow
