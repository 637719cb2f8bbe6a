// Exact Zipf sampling over a huge range, and a seeded random permutation of rows that needs no
// table (so a 40 M-row table costs nothing to set up).
#pragma once
#include <cstdint>

#include "core/rng.h"

namespace embflow {

// Draws ranks k in [0, n) with P(k) proportional to (k + 1)^-a, a > 0, by rejection-inversion
// (W. Hormann, G. Derflinger, "Rejection-inversion to generate variates from monotone discrete
// distributions", 1996): O(1) per draw, exact, no tables.
class ZipfSampler {
 public:
  ZipfSampler(std::int64_t n, double a);
  std::int64_t operator()(Rng& rng) const;

 private:
  double h(double x) const;
  double h_integral(double x) const;
  double h_integral_inverse(double x) const;
  std::int64_t n_;
  double a_;
  double h_integral_x1_, h_integral_n_, s_cut_;
};

// A bijection of [0, n) keyed by a seed: a 4-round Feistel network over the next even power of
// two, with cycle walking to stay inside [0, n). Maps ranks to scattered rows.
class RowPermutation {
 public:
  RowPermutation(std::int64_t n, std::uint64_t seed);
  std::int64_t operator()(std::int64_t i) const;

 private:
  std::uint64_t encrypt(std::uint64_t x) const;
  std::int64_t n_;
  int half_bits_;
  std::uint64_t mask_;
  std::uint64_t keys_[4];
};

}  // namespace embflow
