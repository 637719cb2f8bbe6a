// Runs a whole model's batch on the calling thread, one flow per table, into an output of
// [B, sum of dims] floats (= [B, T, E] when every table has dim E).
#pragma once
#include <cstddef>
#include <optional>
#include <vector>

#include "embflow/kernels.h"
#include "embflow/validate.h"

namespace embflow {

struct RunnerOptions {
  KernelOptions kernel;                     // pooling is taken from each table's spec
  std::size_t resident_budget = 2u << 20;   // bytes per resident copy
  // When the whole model (tables and the batch's output) takes at most this many bytes, its
  // tables are gathered without software prefetch: their rows stay in the core's caches from one
  // batch to the next, where the prefetch is pure overhead (measured: 1.7 -> 1.1 ns per look-up
  // for a 91 KiB table alone, bags of 20). A small table of a larger model is prefetched: the
  // other tables evict it between batches (criteo-kaggle batch 2048, one thread: 2-6% faster
  // than without prefetch for its tables under 2 MiB), but for the rows of tables of at most
  // KernelOptions::prefetch_rows_above, which stay in L1 while served. Default: the L2 size.
  std::size_t prefetch_above_bytes = 2u << 20;
  BoundsPolicy bounds = BoundsPolicy::kError;
  Isa isa = Isa::kGeneric;                  // set from active_isa() by default_runner_options()
  // Outputs of more bytes than this are written with non-temporal (streaming) stores by the
  // gather flows, for tables whose output columns are whole cache lines: such an output cannot
  // stay in a core's caches anyway, and streaming stores skip reading each line before writing
  // it. Measured on the development VM: criteo-kaggle batch 65536 (104 MiB of output) 40 -> 24 ms;
  // dlrm-v2 batch 2048 (26 MiB) 47 -> 41 ms; criteo dim 64 batch 2048 (13 MiB) 2.2 -> 2.0 ms;
  // criteo dim 16 batch 2048 (3.2 MiB) unchanged, and there the next layer may still find it in L3.
  std::size_t stream_output_above = std::size_t{8} << 20;
};
RunnerOptions default_runner_options();

// Whether the gather flows write a table's column of a batch's output with streaming stores: the
// output ([batch_size, total_dim] floats) is larger than `stream_output_above`, and the column's
// rows are whole, aligned cache lines (dim, its first column and total_dim are multiples of 16
// floats; the caller's buffer is 64-byte aligned). The cost model prices such bags apart.
bool output_streamed(int dim, int column, int total_dim, std::int64_t batch_size, std::size_t stream_output_above);

// A resident flow for a table above the budget falls back to its streaming counterpart
// (resident -> gather, resident-tile-scan -> tile-scan); `fallback` says whether it did.
Flow fit_flow(Flow wanted, std::size_t table_bytes, std::size_t budget, bool* fallback = nullptr);

class ModelRunner {
 public:
  // `tables` must outlive the runner. Resident copies are made here, by the calling thread;
  // a resident flow for a table above the budget throws CapacityError naming the table.
  ModelRunner(const ModelSpec& model, const std::vector<const TableView*>& tables, std::vector<Flow> flows,
              const RunnerOptions& options);

  // Pools every table into out: float[batch_size * total_dim]. Bad input throws InvalidInput
  // naming table, sample and value (the first bad table in model order; the kernels find bad
  // offsets and indices as they read them, so out may then hold some tables' results already),
  // or is repaired under BoundsPolicy kSkip / kClamp. When table_seconds is given, adds each
  // table's kernel time (seconds) to it.
  void run(const BatchView& batch, float* out, std::vector<double>* table_seconds = nullptr);
  void run(const Batch& batch, float* out, std::vector<double>* table_seconds = nullptr) {
    run(batch.view(), out, table_seconds);
  }

  const std::vector<Flow>& flows() const { return flows_; }

 private:
  const ModelSpec& model_;
  std::vector<TableView> views_;  // the table, or its resident copy
  std::vector<ResidentCopy> copies_;
  std::vector<Flow> flows_;
  std::vector<int> column_;  // first output column of each table
  RunnerOptions options_;
  std::vector<std::optional<TableBatch>> repaired_;  // repaired copies (kSkip, kClamp), reused
};

}  // namespace embflow
