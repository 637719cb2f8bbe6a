#include "workload/zipf.h"

#include <cmath>

#include <fmt/format.h>

#include "embflow/error.h"

namespace embflow {
namespace {

// log1p(x) / x, accurate near 0.
double helper1(double x) {
  return std::abs(x) > 1e-8 ? std::log1p(x) / x : 1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x));
}
// expm1(x) / x, accurate near 0.
double helper2(double x) {
  return std::abs(x) > 1e-8 ? std::expm1(x) / x : 1.0 + x * 0.5 * (1.0 + x * (1.0 / 3.0) * (1.0 + 0.25 * x));
}

}  // namespace

ZipfSampler::ZipfSampler(std::int64_t n, double a) : n_(n), a_(a) {
  if (n < 1) throw InvalidInput(fmt::format("zipf: need at least one row, got {}", n));
  if (!(a > 0.0) || !std::isfinite(a)) throw InvalidInput(fmt::format("zipf: exponent must be > 0, got {}", a));
  h_integral_x1_ = h_integral(1.5) - 1.0;
  h_integral_n_ = h_integral(static_cast<double>(n) + 0.5);
  s_cut_ = 2.0 - h_integral_inverse(h_integral(2.5) - h(2.0));
}

double ZipfSampler::h(double x) const { return std::exp(-a_ * std::log(x)); }

// Integral of h from 1 to x: (x^(1-a) - 1) / (1 - a), continuous at a = 1.
double ZipfSampler::h_integral(double x) const {
  const double log_x = std::log(x);
  return helper2((1.0 - a_) * log_x) * log_x;
}

double ZipfSampler::h_integral_inverse(double x) const {
  double t = x * (1.0 - a_);
  if (t < -1.0) t = -1.0;  // rounding guard, as in the published algorithm
  return std::exp(helper1(t) * x);
}

std::int64_t ZipfSampler::operator()(Rng& rng) const {
  while (true) {
    const double u = h_integral_n_ + rng.uniform() * (h_integral_x1_ - h_integral_n_);
    const double x = h_integral_inverse(u);
    auto k = static_cast<std::int64_t>(x + 0.5);
    if (k < 1) k = 1;
    if (k > n_) k = n_;
    if (static_cast<double>(k) - x <= s_cut_ || u >= h_integral(static_cast<double>(k) + 0.5) - h(static_cast<double>(k))) {
      return k - 1;
    }
  }
}

RowPermutation::RowPermutation(std::int64_t n, std::uint64_t seed) : n_(n) {
  int bits = 2;
  while ((std::int64_t{1} << bits) < n) ++bits;
  if (bits % 2) ++bits;
  half_bits_ = bits / 2;
  mask_ = (std::uint64_t{1} << half_bits_) - 1;
  for (int r = 0; r < 4; ++r) keys_[r] = mix64(seed * 4 + r + 0x5851f42d4c957f2dull);
}

std::uint64_t RowPermutation::encrypt(std::uint64_t x) const {
  std::uint64_t left = x >> half_bits_, right = x & mask_;
  for (std::uint64_t key : keys_) {
    const std::uint64_t f = mix64(right ^ key) & mask_;
    const std::uint64_t next = left ^ f;
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

std::int64_t RowPermutation::operator()(std::int64_t i) const {
  // The domain is < 4n, so cycle walking takes under 4 steps on average.
  std::uint64_t x = static_cast<std::uint64_t>(i);
  do {
    x = encrypt(x);
  } while (x >= static_cast<std::uint64_t>(n_));
  return static_cast<std::int64_t>(x);
}

}  // namespace embflow
