// Checking a pooled look-up's output against exact arithmetic.
//
// Tolerance rule (used by `run --check` and every equivalence test): each output element must
// satisfy  |out - exact| <= (L + R) * FLT_EPSILON * s * sum_k |w_k * x_k| + FLT_MIN
// where exact = s * sum_k w_k * x_k is computed in double, L is the bag's number of look-ups in
// the row range, s is 1/len for mean pooling (else 1), and R (default 2) covers the final
// scaling and any extra roundings (one per partial sum when a row-range split accumulates).
// Float summation in any order stays within (L - 1) * eps * sum |terms| (Higham, "Accuracy and
// Stability of Numerical Algorithms", 2.3), so every correct flow and ISA passes, whatever
// its order of additions, FMA use or tiling.
#pragma once
#include <cstdint>

#include "embflow/kernels.h"

namespace embflow {

struct CheckResult {
  double max_abs_error = 0;
  double worst_ratio = 0;  // max over elements of error / bound; <= 1 passes
  std::int64_t worst_bag = -1;
  int worst_col = -1;
  bool ok() const { return worst_ratio <= 1.0; }
};

CheckResult check_pooled_lookup(const TableView& table, const BagsView& bags, BagRange slice, RowRange rows,
                                OutputView out, Pooling pooling, int extra_roundings = 2);

}  // namespace embflow
