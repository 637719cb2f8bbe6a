#include <algorithm>
#include <chrono>
#include <stdexcept>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/runner.h"
#include "embflow/topology.h"
#include "runtime/batch_prep.h"

namespace embflow {

RunnerOptions default_runner_options() {
  RunnerOptions o;
  o.isa = active_isa();
  const MachineInfo m = describe_machine();
  if (m.l2_bytes != 0) {
    o.resident_budget = o.prefetch_above_bytes = m.l2_bytes;
    o.kernel.prefetch_rows_beyond = rows_past_l2(m.l2_bytes);  // kPrefetchRowsAbove says why
  }
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
  runtime::check_storage(model, tables);
  if (flows_.size() != n) throw InvalidInput(fmt::format("model '{}' has {} tables, got {} flows", model.name, n, flows_.size()));
  copies_.resize(n);
  column_ = runtime::output_columns(model);
  for (std::size_t t = 0; t < n; ++t) {
    const TableSpec& spec = model.tables[t];
    const TableView& v = *tables[t];
    views_.push_back(v);
    if (is_resident(flows_[t])) {
      try {
        copies_[t] = ResidentCopy::make(v, {0, v.rows}, options.resident_budget);
      } catch (const CapacityError& e) {
        throw CapacityError(fmt::format("table '{}': flow {}: {}", spec.name, to_string(flows_[t]), e.what()));
      }
      views_[t] = copies_[t].view();
    }
  }
}

void ModelRunner::run(const BatchView& batch, float* out, std::vector<double>* table_seconds) {
  const std::size_t n = model_.tables.size();
  runtime::check_batch_shape(model_, batch, options_.bounds);
  repaired_.resize(n);
  if (table_seconds) table_seconds->assign(n, 0.0);
  const std::int64_t stride = model_.total_dim();
  for (std::size_t t = 0; t < n; ++t) {
    const KernelOptions k = runtime::table_kernel_options(options_, model_, t, column_[t], batch.batch_size);
    const auto start = table_seconds ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    auto run_table = [&](const BagsView& bags) {
      return run_flow(flows_[t], views_[t], bags, {0, batch.batch_size}, {views_[t].first_row, views_[t].end_row()},
                      {out + column_[t], stride}, k, options_.isa);
    };
    if (!runtime::served_all(run_table(batch.tables[t]), batch.tables[t])) {
      const BagsView fixed =
          runtime::recheck_table(model_.tables[t], batch.tables[t], batch.batch_size, options_.bounds, repaired_[t]);
      if (!runtime::served_all(run_table(fixed), fixed)) {
        throw std::logic_error(fmt::format("table '{}': repaired input still not served", model_.tables[t].name));
      }
    }
    if (table_seconds) {
      (*table_seconds)[t] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    }
  }
}

}  // namespace embflow
