// The executable definition of a pooled look-up (see include/embflow/kernels.h). Plain loops,
// float accumulation in index order; every optimized flow is tested against it.
#include <vector>

#include "kernels/ref/row_element.h"
#include "embflow/kernels.h"

namespace embflow {

void pooled_lookup_ref(const TableView& table, const BagsView& bags, BagRange slice, RowRange rows, OutputView out,
                       const KernelOptions& opt) {
  std::vector<float> acc(static_cast<std::size_t>(table.dim));
  for (std::int64_t b = slice.begin; b < slice.end; ++b) {
    std::fill(acc.begin(), acc.end(), 0.0f);
    const std::int64_t s = bags.offset(b), e = bags.offset(b + 1);
    for (std::int64_t k = s; k < e; ++k) {
      const std::int64_t r = bags.index(k);
      if (r < rows.begin || r >= rows.end) continue;
      const float w = bags.weights ? bags.weights[k] : 1.0f;
      for (int j = 0; j < table.dim; ++j) {
        acc[j] += w * row_element(table, r, j);
      }
    }
    const float scale = e > s ? 1.0f / static_cast<float>(e - s) : 0.0f;
    float* o = out.data + b * out.row_stride;
    for (int j = 0; j < table.dim; ++j) {
      const float v = opt.pooling == Pooling::kMean ? acc[j] * scale : acc[j];
      o[j] = opt.accumulate ? o[j] + v : v;
    }
  }
}

}  // namespace embflow
