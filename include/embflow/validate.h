// Validation of a table's bags. The runtime checks the shape of each table's bags (O(1)) before
// anything runs and lets the kernels check offsets and indices as they read them (LookupReport in
// kernels.h); validate_bags, the precise check, runs only on a table whose kernels reported a
// problem, to name it (or repair it).
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

// The checks that cost O(1) per table (bag count, offsets and indices present, weights length,
// offsets[0] == 0, offsets[num_bags] == num_indices); throws the errors validate_bags throws.
void check_bags_shape(const TableSpec& table, const BagsView& bags, std::int64_t expected_bags);

}  // namespace embflow
