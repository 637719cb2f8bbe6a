#include <limits>

#include <fmt/format.h>

#include "embflow/batch.h"
#include "embflow/error.h"

namespace embflow {

std::int64_t TableBatch::num_bags() const {
  const std::size_t n = index_type == IndexType::kInt32 ? offsets32.size() : offsets64.size();
  return n == 0 ? 0 : static_cast<std::int64_t>(n) - 1;
}

std::int64_t TableBatch::num_indices() const {
  return static_cast<std::int64_t>(index_type == IndexType::kInt32 ? indices32.size() : indices64.size());
}

BagsView TableBatch::view() const {
  BagsView v;
  v.index_type = index_type;
  if (index_type == IndexType::kInt32) {
    v.offsets = offsets32.data();
    v.indices = indices32.data();
  } else {
    v.offsets = offsets64.data();
    v.indices = indices64.data();
  }
  v.weights = weights.empty() ? nullptr : weights.data();
  v.num_bags = num_bags();
  v.num_indices = num_indices();
  v.num_weights = static_cast<std::int64_t>(weights.size());
  return v;
}

TableBatch TableBatch::from_vectors(std::vector<std::int64_t> offsets, std::vector<std::int64_t> indices,
                                    IndexType type, std::vector<float> weights) {
  TableBatch t;
  t.index_type = type;
  t.weights = std::move(weights);
  if (type == IndexType::kInt64) {
    t.offsets64 = std::move(offsets);
    t.indices64 = std::move(indices);
    return t;
  }
  auto narrow = [](const std::vector<std::int64_t>& in, std::vector<std::int32_t>& out, const char* what) {
    out.resize(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      if (in[i] < std::numeric_limits<std::int32_t>::min() || in[i] > std::numeric_limits<std::int32_t>::max()) {
        throw InvalidInput(fmt::format("{}[{}] = {} does not fit in int32", what, i, in[i]));
      }
      out[i] = static_cast<std::int32_t>(in[i]);
    }
  };
  narrow(offsets, t.offsets32, "offsets");
  narrow(indices, t.indices32, "indices");
  return t;
}

std::int64_t Batch::num_indices() const {
  std::int64_t n = 0;
  for (const auto& t : tables) n += t.num_indices();
  return n;
}

BatchView Batch::view() const {
  BatchView v{batch_size, {}};
  v.tables.reserve(tables.size());
  for (const auto& t : tables) v.tables.push_back(t.view());
  return v;
}

std::vector<BatchView> batch_views(const std::vector<Batch>& batches) {
  std::vector<BatchView> out;
  out.reserve(batches.size());
  for (const Batch& b : batches) out.push_back(b.view());
  return out;
}

}  // namespace embflow
