// Validation of a table's bags before they reach a kernel: once per batch, outside the hot loop.
#pragma once
#include <optional>
#include <string_view>

#include "embflow/batch.h"
#include "embflow/model.h"

namespace embflow {

// What to do with an index outside [0, rows) (FBGEMM's bounds-check modes).
enum class BoundsPolicy {
  kError,  // throw InvalidInput naming table, sample and value (default)
  kSkip,   // drop the index, as if it were not in the bag (mean divides by what is left)
  kClamp,  // replace it by the nearest valid row
};
BoundsPolicy parse_bounds_policy(std::string_view s);
std::string_view to_string(BoundsPolicy p);

// Checks offsets (start at 0, never decrease, end at num_indices), weights length, and every
// index against `table.rows`. Throws InvalidInput for structural errors, and for bad indices
// under kError. Under kSkip / kClamp returns a repaired copy when any index was bad, else nullopt.
std::optional<TableBatch> validate_bags(const TableSpec& table, const BagsView& bags,
                                        std::int64_t expected_bags, BoundsPolicy policy);

// The structural half of validate_bags (bag count, offsets, weights length), which throws the
// same errors; the index half is indices_in_range.
void check_bags_structure(const TableSpec& table, const BagsView& bags, std::int64_t expected_bags);

// True when every index at positions [begin, end) of `bags` is in [0, rows): the part of
// validate_bags that grows with the look-ups, for callers that split it over threads.
bool indices_in_range(const BagsView& bags, std::int64_t begin, std::int64_t end, std::int64_t rows);

}  // namespace embflow
