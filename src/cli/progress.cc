#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace embflow::cli {

Progress::Progress(std::string label, std::int64_t total)
    : label_(std::move(label)), total_(total), enabled_(isatty(STDOUT_FILENO) && isatty(STDERR_FILENO)) {}

Progress::~Progress() {
  if (enabled_) std::fprintf(stderr, "\r\033[K");
}

void Progress::step(std::string_view what) {
  ++done_;
  if (!enabled_ || total_ <= 0) return;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * done_ / total_);
  std::fprintf(stderr, "\r\033[K%s [%.*s%*s] %lld/%lld %.*s", label_.c_str(), filled, "##############################",
               kWidth - filled, "", static_cast<long long>(done_), static_cast<long long>(total_),
               static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
}

}  // namespace embflow::cli
