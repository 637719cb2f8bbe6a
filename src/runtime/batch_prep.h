// What the single-core runner and the multi-core executor share: validating a batch once per
// call, and the kernel options each table gets.
#pragma once
#include <optional>
#include <vector>

#include "embflow/batch.h"
#include "embflow/runner.h"

namespace embflow::runtime {

// Validates every table's bags against the model (throws InvalidInput naming table, sample and
// value) and fills `bags` with views of the batch, or of repaired copies kept in `repaired`.
void prepare_batch(const ModelSpec& model, const BatchView& batch, BoundsPolicy bounds,
                   std::vector<std::optional<TableBatch>>& repaired, std::vector<BagsView>& bags);
// The same for table t alone (repaired and bags already sized to the model).
void prepare_table(const ModelSpec& model, std::size_t t, const BatchView& batch, BoundsPolicy bounds,
                   std::vector<std::optional<TableBatch>>& repaired, std::vector<BagsView>& bags);
// Throws unless the batch has one entry per table of the model.
void check_table_count(const ModelSpec& model, const BatchView& batch);

// The bags [range) of `bags` as a view of its own: bag 0 is bag range.begin (indices and weights
// stay shared, offsets keep pointing into them).
BagsView sub_bags(const BagsView& bags, BagRange range);

// Checks that there is one storage view per table and that each matches its spec (rows, dim, row
// type); throws InvalidInput naming the table.
void check_storage(const ModelSpec& model, const std::vector<const TableView*>& tables);

// The first output column of each table in a [B, sum of dims] output row.
std::vector<int> output_columns(const ModelSpec& model);

// Kernel options for table t: its pooling; no software prefetch for a table that fits in L2;
// streaming stores when the whole output is large and the table's columns are whole cache lines.
KernelOptions table_kernel_options(const RunnerOptions& options, const ModelSpec& model, std::size_t t,
                                   const TableView& view, int column, std::int64_t batch_size);

}  // namespace embflow::runtime
