// Element j of row r of a table view, as a float (exact for both row types): the plain reading
// the reference and the checker share.
#pragma once
#include "core/half.h"
#include "embflow/table.h"

namespace embflow {

inline float row_element(const TableView& table, std::int64_t r, int j) {
  const std::byte* row = table.row(r);
  return table.row_type == RowType::kFp32 ? reinterpret_cast<const float*>(row)[j]
                                          : half_to_float(reinterpret_cast<const std::uint16_t*>(row)[j]);
}

}  // namespace embflow
