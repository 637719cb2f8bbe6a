// Human-readable sizes for messages and reports.
#pragma once
#include <string>

namespace embflow {

// "512 B", "1.5 KiB", "2.0 GiB".
std::string human_bytes(double bytes);

}  // namespace embflow
