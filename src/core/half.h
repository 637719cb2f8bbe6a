// IEEE 754 binary16 <-> binary32 conversion in portable code (the generic ISA and the reference).
#pragma once
#include <cstdint>

namespace embflow {

float half_to_float(std::uint16_t h);
std::uint16_t float_to_half(float f);  // round to nearest even

}  // namespace embflow
