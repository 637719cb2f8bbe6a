// A batch of look-ups: per table, CSR bags (offsets + indices) and optional per-index weights.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace embflow {

enum class IndexType { kInt32, kInt64 };

// Non-owning view of one table's bags. Bag b holds indices[offsets[b] .. offsets[b+1]).
// offsets: index_type[num_bags + 1]; indices: index_type[num_indices];
// weights: float[num_indices] or null (per index, as torch's per_sample_weights).
struct BagsView {
  IndexType index_type = IndexType::kInt64;
  const void* offsets = nullptr;
  const void* indices = nullptr;
  const float* weights = nullptr;
  std::int64_t num_bags = 0;
  std::int64_t num_indices = 0;
  std::int64_t num_weights = 0;  // must equal num_indices when weights is set

  std::int64_t offset(std::int64_t b) const {
    return index_type == IndexType::kInt32 ? static_cast<const std::int32_t*>(offsets)[b]
                                           : static_cast<const std::int64_t*>(offsets)[b];
  }
  std::int64_t index(std::int64_t k) const {
    return index_type == IndexType::kInt32 ? static_cast<const std::int32_t*>(indices)[k]
                                           : static_cast<const std::int64_t*>(indices)[k];
  }
};

// Owning storage for one table's bags. Exactly one of the 32/64-bit vector pairs is used.
struct TableBatch {
  IndexType index_type = IndexType::kInt64;
  std::vector<std::int64_t> offsets64, indices64;
  std::vector<std::int32_t> offsets32, indices32;
  std::vector<float> weights;  // empty: unweighted

  std::int64_t num_bags() const;
  std::int64_t num_indices() const;
  BagsView view() const;

  // Builds from 64-bit offsets and indices, converting to `type` (checks that values fit).
  static TableBatch from_vectors(std::vector<std::int64_t> offsets, std::vector<std::int64_t> indices,
                                 IndexType type, std::vector<float> weights = {});
};

// Non-owning view of a whole batch, one BagsView per table: what the runtime runs, so that a
// caller's own arrays (numpy, torch) are read in place rather than copied per call.
struct BatchView {
  std::int64_t batch_size = 0;
  std::vector<BagsView> tables;
};

struct Batch {
  std::int64_t batch_size = 0;
  std::vector<TableBatch> tables;
  std::int64_t num_indices() const;
  BatchView view() const;
};
std::vector<BatchView> batch_views(const std::vector<Batch>& batches);

}  // namespace embflow
