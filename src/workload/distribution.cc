#include <charconv>
#include <vector>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/workload.h"

namespace embflow {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t p = s.find(sep, start);
    parts.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) return parts;
    start = p + 1;
  }
}

template <class T>
T number(std::string_view spec, std::string_view part, const char* what) {
  T v{};
  const auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
  if (ec != std::errc() || ptr != part.data() + part.size()) {
    throw InvalidInput(fmt::format("distribution '{}': {} '{}' is not a number", spec, what, part));
  }
  return v;
}

}  // namespace

Distribution Distribution::parse(std::string_view s) {
  const auto parts = split(s, ':');
  const std::string_view kind = parts[0];
  Distribution d;
  auto need = [&](std::size_t lo, std::size_t hi, const char* usage) {
    if (parts.size() < lo || parts.size() > hi) {
      throw InvalidInput(fmt::format("distribution '{}': expected {}", s, usage));
    }
  };
  if (kind == "uniform") {
    need(1, 1, "'uniform'");
    d.kind = Kind::kUniform;
  } else if (kind == "zipf") {
    need(2, 2, "'zipf:A' with A > 0");
    d.kind = Kind::kZipf;
    d.zipf_a = number<double>(s, parts[1], "exponent");
    if (!(d.zipf_a > 0)) throw InvalidInput(fmt::format("distribution '{}': exponent must be > 0", s));
  } else if (kind == "hotset") {
    need(3, 3, "'hotset:F:P' with F, P in (0, 1]");
    d.kind = Kind::kHotSet;
    d.hot_fraction = number<double>(s, parts[1], "fraction");
    d.hot_probability = number<double>(s, parts[2], "probability");
    if (!(d.hot_fraction > 0 && d.hot_fraction <= 1 && d.hot_probability >= 0 && d.hot_probability <= 1)) {
      throw InvalidInput(fmt::format("distribution '{}': F must be in (0, 1] and P in [0, 1]", s));
    }
  } else if (kind == "hot-rows") {
    need(1, 2, "'hot-rows:K' with K >= 1");
    d.kind = Kind::kHotRows;
    d.hot_rows = parts.size() == 2 ? number<std::int64_t>(s, parts[1], "row count") : 1;
    if (d.hot_rows < 1) throw InvalidInput(fmt::format("distribution '{}': K must be >= 1", s));
  } else if (kind == "heavy-table") {
    need(1, 2, "'heavy-table:L' with L >= 1");
    d.kind = Kind::kHeavyTable;
    if (parts.size() == 2) d.heavy_bag = number<int>(s, parts[1], "bag size");
    if (d.heavy_bag < 1) throw InvalidInput(fmt::format("distribution '{}': L must be >= 1", s));
  } else {
    throw InvalidInput(fmt::format("unknown distribution '{}' (expected uniform, zipf:A, hotset:F:P, "
                                   "hot-rows:K or heavy-table:L)",
                                   s));
  }
  return d;
}

std::string Distribution::to_string() const {
  switch (kind) {
    case Kind::kUniform: return "uniform";
    case Kind::kZipf: return fmt::format("zipf:{}", zipf_a);
    case Kind::kHotSet: return fmt::format("hotset:{}:{}", hot_fraction, hot_probability);
    case Kind::kHotRows: return fmt::format("hot-rows:{}", hot_rows);
    case Kind::kHeavyTable: return fmt::format("heavy-table:{}", heavy_bag);
  }
  return "?";
}

}  // namespace embflow
