#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/runner.h"
#include "embflow/topology.h"

namespace embflow {

RunnerOptions default_runner_options() {
  RunnerOptions o;
  o.isa = active_isa();
  const MachineInfo m = describe_machine();
  if (m.l2_bytes != 0) o.resident_budget = o.prefetch_above_bytes = m.l2_bytes;
  return o;
}

Flow fit_flow(Flow wanted, std::size_t table_bytes, std::size_t budget, bool* fallback) {
  const bool fits = !is_resident(wanted) || table_bytes <= budget;
  if (fallback) *fallback = !fits;
  if (fits) return wanted;
  return wanted == Flow::kResident ? Flow::kGather : Flow::kTileScan;
}

ModelRunner::ModelRunner(const ModelSpec& model, const std::vector<const TableView*>& tables, std::vector<Flow> flows,
                         const RunnerOptions& options)
    : model_(model), flows_(std::move(flows)), options_(options) {
  const std::size_t n = model.tables.size();
  if (tables.size() != n || flows_.size() != n) {
    throw InvalidInput(fmt::format("model '{}' has {} tables, got {} tables and {} flows", model.name, n, tables.size(),
                                   flows_.size()));
  }
  int col = 0;
  copies_.resize(n);
  for (std::size_t t = 0; t < n; ++t) {
    const TableSpec& spec = model.tables[t];
    const TableView& v = *tables[t];
    if (v.rows != spec.rows || v.dim != spec.dim || v.row_type != spec.row_type) {
      throw InvalidInput(fmt::format("table '{}': storage is [{}, {}] {}, the spec says [{}, {}] {}", spec.name, v.rows,
                                     v.dim, to_string(v.row_type), spec.rows, spec.dim, to_string(spec.row_type)));
    }
    views_.push_back(v);
    if (is_resident(flows_[t])) {
      try {
        copies_[t] = ResidentCopy::make(v, {0, v.rows}, options.resident_budget);
      } catch (const CapacityError& e) {
        throw CapacityError(fmt::format("table '{}': flow {}: {}", spec.name, to_string(flows_[t]), e.what()));
      }
      views_[t] = copies_[t].view();
    }
    column_.push_back(col);
    col += spec.dim;
  }
  repaired_.resize(n);
}

void ModelRunner::run(const Batch& batch, float* out, std::vector<double>* table_seconds) {
  const std::size_t n = model_.tables.size();
  if (batch.tables.size() != n) {
    throw InvalidInput(fmt::format("batch has {} tables, model '{}' has {}", batch.tables.size(), model_.name, n));
  }
  if (table_seconds) table_seconds->assign(n, 0.0);
  bags_.resize(n);
  for (std::size_t t = 0; t < n; ++t) {
    bags_[t] = batch.tables[t].view();
    repaired_[t] = validate_bags(model_.tables[t], bags_[t], batch.batch_size, options_.bounds);
    if (repaired_[t]) bags_[t] = repaired_[t]->view();
  }
  const std::int64_t stride = model_.total_dim();
  const bool large_output =
      static_cast<double>(batch.batch_size) * static_cast<double>(stride) * sizeof(float) >
      static_cast<double>(options_.stream_output_above);
  for (std::size_t t = 0; t < n; ++t) {
    KernelOptions k = options_.kernel;
    k.pooling = model_.tables[t].pooling;
    if (views_[t].bytes() <= options_.prefetch_above_bytes) k.prefetch_distance = 0;
    k.stream_output = large_output && (model_.tables[t].dim * sizeof(float)) % 64 == 0 &&
                      (column_[t] * sizeof(float)) % 64 == 0;
    const auto start = table_seconds ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    run_flow(flows_[t], views_[t], bags_[t], {0, batch.batch_size}, {views_[t].first_row, views_[t].end_row()},
             {out + column_[t], stride}, k, options_.isa);
    if (table_seconds) {
      (*table_seconds)[t] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
}

}  // namespace embflow
