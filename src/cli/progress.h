// A one-line progress bar on stderr, drawn only when stdout and stderr are terminals.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace embflow::cli {

class Progress {
 public:
  Progress(std::string label, std::int64_t total);
  ~Progress();
  void step(std::string_view what);  // one unit done; `what` is shown beside the bar

 private:
  std::string label_;
  std::int64_t total_, done_ = 0;
  bool enabled_;
};

}  // namespace embflow::cli
