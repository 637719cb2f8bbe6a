// What the single-core runner and the multi-core executor share: checking a batch (cheap checks
// before it runs, the precise check only for a table whose kernels reported a problem), and the
// kernel options each table gets.
#pragma once
#include <optional>
#include <vector>

#include "embflow/batch.h"
#include "embflow/kernels.h"
#include "embflow/runner.h"

namespace embflow::runtime {

// Validates every table's bags against the model (throws InvalidInput naming table, sample and
// value) and fills `bags` with views of the batch, or of repaired copies kept in `repaired`. For
// callers that need valid indices before any kernel runs (sample statistics, the reference).
void prepare_batch(const ModelSpec& model, const BatchView& batch, BoundsPolicy bounds,
                   std::vector<std::optional<TableBatch>>& repaired, std::vector<BagsView>& bags);

// The checks before a batch runs: one entry per table, and each table's O(1) shape
// (check_bags_shape). When table t fails, the tables before it are checked precisely first, so
// that the error names the first bad table in model order, as validate_bags over the whole batch
// would. Nothing has run when this throws.
void check_batch_shape(const ModelSpec& model, const BatchView& batch, BoundsPolicy bounds);

// Whether a table's kernels, whose reports add up to `seen`, served every look-up of `bags` once.
bool served_all(const LookupReport& seen, const BagsView& bags);
// Adds one item's report into a table's.
void add_report(LookupReport& table, const LookupReport& item);

// For a table whose kernels did not serve every look-up: the precise check, which throws
// InvalidInput naming table, sample and value, or (kSkip, kClamp) returns a view of the repaired
// copy it keeps in `repaired`, to run again.
BagsView recheck_table(const TableSpec& spec, const BagsView& bags, std::int64_t batch_size, BoundsPolicy bounds,
                       std::optional<TableBatch>& repaired);

// The bags [range) of `bags` as a view of its own: bag 0 is bag range.begin (indices and weights
// stay shared, offsets keep pointing into them).
BagsView sub_bags(const BagsView& bags, BagRange range);

// Checks that there is one storage view per table and that each matches its spec (rows, dim, row
// type); throws InvalidInput naming the table.
void check_storage(const ModelSpec& model, const std::vector<const TableView*>& tables);

// The first output column of each table in a [B, sum of dims] output row.
std::vector<int> output_columns(const ModelSpec& model);

// Kernel options for table t: its pooling; no software prefetch when the whole model fits in L2;
// streaming stores when the whole output is large and the table's columns are whole cache lines.
KernelOptions table_kernel_options(const RunnerOptions& options, const ModelSpec& model, std::size_t t, int column,
                                   std::int64_t batch_size);

}  // namespace embflow::runtime
