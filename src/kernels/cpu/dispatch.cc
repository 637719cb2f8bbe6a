#include "kernels/cpu/dispatch.h"

#include <cstdlib>

#include <fmt/format.h>

#include "core/cpu_features.h"
#include "embflow/error.h"

namespace embflow {

std::string_view to_string(Isa isa) {
  switch (isa) {
    case Isa::kGeneric: return "generic";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "?";
}

Isa parse_isa(std::string_view s) {
  if (s == "generic") return Isa::kGeneric;
  if (s == "avx2") return Isa::kAvx2;
  if (s == "avx512") return Isa::kAvx512;
  throw InvalidInput(fmt::format("unknown ISA '{}' (expected generic, avx2 or avx512)", s));
}

namespace {
const std::vector<Isa>& isa_list() {
  static const std::vector<Isa> list = [] {
    std::vector<Isa> out{Isa::kGeneric};
    if (cpu_has_avx2()) out.push_back(Isa::kAvx2);
    if (cpu_has_avx512()) out.push_back(Isa::kAvx512);
    return out;
  }();
  return list;
}

bool supported(Isa isa) {
  for (Isa s : isa_list()) {
    if (s == isa) return true;
  }
  return false;
}

Isa choose_isa() {
  const char* env = std::getenv("EMBFLOW_ISA");
  if (env != nullptr && *env != '\0') {
    Isa want;
    try {
      want = parse_isa(env);
    } catch (const InvalidInput& e) {
      throw InvalidInput(fmt::format("EMBFLOW_ISA={}: {}", env, e.what()));
    }
    if (!supported(want)) {
      throw InvalidInput(fmt::format("EMBFLOW_ISA={}: this CPU does not support it", env));
    }
    return want;
  }
  return isa_list().back();
}
}  // namespace

std::vector<Isa> supported_isas() { return isa_list(); }

Isa active_isa() {
  static const Isa isa = choose_isa();
  return isa;
}

namespace kernels {

const KernelTable& kernel_table(Isa isa) {
  if (!supported(isa)) throw InvalidInput(fmt::format("ISA {} is not supported by this CPU", to_string(isa)));
  switch (isa) {
    case Isa::kAvx512: return kernels_avx512();
    case Isa::kAvx2: return kernels_avx2();
    case Isa::kGeneric: break;
  }
  return kernels_generic();
}

}  // namespace kernels
}  // namespace embflow
