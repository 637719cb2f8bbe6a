#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "cli/session.h"
#include "embflow/kernels.h"
#include "embflow/topology.h"

namespace embflow::cli {
namespace {
int g_exit_code = 0;

void print_info() {
  const MachineInfo m = describe_machine();
  fmt::print("CPU:        {}\n", m.cpu_model);
  fmt::print("cores:      {} physical, {} logical, {} NUMA node(s)\n", m.physical_cores, m.logical_cpus, m.numa_nodes);
  fmt::print("caches:     L1d {} / core, L2 {} / core, L3 {} shared  [{}]\n", human_bytes(static_cast<double>(m.l1d_bytes)),
             human_bytes(static_cast<double>(m.l2_bytes)), human_bytes(static_cast<double>(m.l3_bytes)), m.cache_source);
  std::string isas;
  for (Isa i : supported_isas()) isas += fmt::format("{} ", to_string(i));
  fmt::print("ISA:        {} (supported: {}; override with EMBFLOW_ISA)\n", to_string(active_isa()), isas);
  fmt::print("prefetch:   rows into {}\n", describe_l2_prefetch_rule(this_cpu_l2_prefetch_rule()));
  fmt::print("pages:      {}\n", describe_huge_pages(m.huge_pages));
}
}  // namespace

int exit_code() { return g_exit_code; }
void set_exit_code(int code) { g_exit_code = code; }

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "CPU, cores, cache sizes (hwloc) and the ISA the kernels use");
  cmd->callback(print_info);
}

}  // namespace embflow::cli
