// What the CPU supports, from cpuid / xgetbv via the compiler's builtins.
#pragma once

namespace embflow {

bool cpu_has_avx2();    // AVX2 + FMA + F16C, enabled by the OS
bool cpu_has_avx512();  // AVX-512 F/BW/VL/DQ, enabled by the OS
bool cpu_is_amd();      // cpuid's vendor: tunings measured per microarchitecture (kernels.h)

}  // namespace embflow
