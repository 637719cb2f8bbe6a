// The one run-time dispatch point of the CPU kernels.
#pragma once
#include "embflow/kernels.h"
#include "kernels/cpu/kernel_args.h"

namespace embflow::kernels {

// The kernels of `isa`; throws InvalidInput when this CPU cannot run them.
const KernelTable& kernel_table(Isa isa);

}  // namespace embflow::kernels
