#include <cstring>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/kernels.h"

namespace embflow {

ResidentCopy ResidentCopy::make(const TableView& source, RowRange rows, std::size_t budget_bytes) {
  if (rows.begin < source.first_row || rows.end > source.end_row() || rows.size() < 0) {
    throw InvalidInput(fmt::format("resident copy: rows [{}, {}) are not inside the table's rows [{}, {})", rows.begin,
                                   rows.end, source.first_row, source.end_row()));
  }
  const std::size_t bytes = static_cast<std::size_t>(rows.size()) * source.row_stride;
  if (bytes > budget_bytes) {
    throw CapacityError(fmt::format("resident copy of rows [{}, {}) needs {} bytes, above the budget of {} bytes",
                                    rows.begin, rows.end, bytes, budget_bytes));
  }
  ResidentCopy c;
  // Allocated and written here, by the calling (pinned) thread: first touch places the pages
  // near this core and warms its caches.
  c.storage_ = Buffer::allocate(std::max<std::size_t>(bytes, 64), Buffer::Pages::kSmall);
  if (bytes > 0) std::memcpy(c.storage_.data(), source.row(rows.begin), bytes);
  c.view_ = source;
  c.view_.data = c.storage_.data();
  c.view_.first_row = rows.begin;
  c.view_.rows = rows.size();
  return c;
}

}  // namespace embflow
