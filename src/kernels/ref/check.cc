#include "embflow/check.h"

#include <cfloat>
#include <cmath>
#include <vector>

#include "kernels/ref/row_element.h"

namespace embflow {

CheckResult check_pooled_lookup(const TableView& table, const BagsView& bags, BagRange slice, RowRange rows,
                                OutputView out, Pooling pooling, int extra_roundings) {
  CheckResult res;
  std::vector<double> sum(static_cast<std::size_t>(table.dim)), mag(static_cast<std::size_t>(table.dim));
  for (std::int64_t b = slice.begin; b < slice.end; ++b) {
    std::fill(sum.begin(), sum.end(), 0.0);
    std::fill(mag.begin(), mag.end(), 0.0);
    const std::int64_t s = bags.offset(b), e = bags.offset(b + 1);
    std::int64_t used = 0;
    for (std::int64_t k = s; k < e; ++k) {
      const std::int64_t r = bags.index(k);
      if (r < rows.begin || r >= rows.end) continue;
      ++used;
      const double w = bags.weights ? bags.weights[k] : 1.0;
      for (int j = 0; j < table.dim; ++j) {
        const double x = row_element(table, r, j);
        sum[j] += w * x;
        mag[j] += std::abs(w * x);
      }
    }
    const double scale = pooling == Pooling::kMean ? (e > s ? 1.0 / static_cast<double>(e - s) : 0.0) : 1.0;
    const float* o = out.data + b * out.row_stride;
    for (int j = 0; j < table.dim; ++j) {
      const double exact = scale * sum[j];
      const double bound =
          static_cast<double>(used + extra_roundings) * FLT_EPSILON * scale * mag[j] + static_cast<double>(FLT_MIN);
      const double err = std::isfinite(o[j]) ? std::abs(static_cast<double>(o[j]) - exact) : INFINITY;
      const double ratio = err / bound;
      if (err > res.max_abs_error) res.max_abs_error = err;
      if (ratio > res.worst_ratio || std::isnan(ratio)) {
        res.worst_ratio = std::isnan(ratio) ? INFINITY : ratio;
        res.worst_bag = b;
        res.worst_col = j;
      }
    }
  }
  return res;
}

}  // namespace embflow
