#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/executor.h"
#include "embflow/topology.h"
#include "runtime/batch_prep.h"

namespace embflow {
namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// One item as its worker runs it.
struct Task {
  WorkItem item;
  TableView view;      // the table, or the worker's resident copy of item.rows
  ResidentCopy copy;
  bool partial = false;        // a row range: partial sums go to `scratch`, added up after the run
  std::vector<float> scratch;  // [item.bags size, dim], first touched by the worker
};

struct Worker {
  int core = 0;
  std::vector<Task> tasks;
  std::thread thread;
  double seconds = 0;
};

}  // namespace

struct PlanExecutor::State {
  State(const ModelSpec& m, Plan p, const RunnerOptions& o) : model(m), plan(std::move(p)), options(o) {}

  const ModelSpec& model;
  Plan plan;
  RunnerOptions options;
  std::vector<TableView> tables;
  std::vector<int> column;
  std::vector<Worker> workers;  // sized once, before any thread starts

  std::mutex call_mutex;  // one batch at a time
  std::mutex mu;          // guards what follows
  std::condition_variable start_cv, done_cv;
  std::uint64_t generation = 0;
  int pending = 0;
  int ready = 0;
  bool stop = false;
  std::exception_ptr error;
  // The batch being run (set by run() before it wakes the workers).
  std::vector<std::optional<TableBatch>> repaired;
  std::vector<BagsView> bags;
  std::int64_t batch_size = 0;
  float* out = nullptr;

  void run_task(Task& task) {
    const WorkItem& it = task.item;
    const auto t = static_cast<std::size_t>(it.table);
    KernelOptions k = runtime::table_kernel_options(options, model, t, task.view, column[t], batch_size);
    if (task.partial) {
      k.stream_output = false;
      run_flow(it.flow, task.view, runtime::sub_bags(bags[t], it.bags), {0, it.bags.end - it.bags.begin}, it.rows,
               {task.scratch.data(), task.view.dim}, k, options.isa);
    } else {
      run_flow(it.flow, task.view, bags[t], it.bags, it.rows, {out + column[t], model.total_dim()}, k, options.isa);
    }
  }

  void worker_main(Worker& w) {
    try {
      pin_current_thread(w.core);
      for (Task& task : w.tasks) {
        if (is_resident(task.item.flow)) {
          task.copy = ResidentCopy::make(task.view, task.item.rows, options.resident_budget);
          task.view = task.copy.view();
        }
        if (task.partial) task.scratch.assign(static_cast<std::size_t>(task.item.bags.size()) * task.view.dim, 0.0f);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
    std::uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++ready;
    }
    done_cv.notify_all();
    while (true) {
      {
        std::unique_lock<std::mutex> lock(mu);
        start_cv.wait(lock, [&] { return stop || generation != seen; });
        if (stop) return;
        seen = generation;
      }
      const double t0 = now();
      try {
        for (Task& task : w.tasks) run_task(task);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
      w.seconds = now() - t0;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (--pending == 0) done_cv.notify_all();
      }
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    start_cv.notify_all();
    for (Worker& w : workers) {
      if (w.thread.joinable()) w.thread.join();
    }
  }

  // Adds the row-range partial sums into the output (after every worker is done).
  void reduce_partials() {
    const std::int64_t stride = model.total_dim();
    for (Worker& w : workers) {
      for (Task& task : w.tasks) {
        if (!task.partial) continue;
        const int dim = task.view.dim;
        float* o = out + column[static_cast<std::size_t>(task.item.table)];
        for (std::int64_t b = task.item.bags.begin; b < task.item.bags.end; ++b) {
          std::memset(o + b * stride, 0, sizeof(float) * static_cast<std::size_t>(dim));
        }
      }
    }
    for (Worker& w : workers) {
      for (Task& task : w.tasks) {
        if (!task.partial) continue;
        const int dim = task.view.dim;
        float* o = out + column[static_cast<std::size_t>(task.item.table)];
        const float* p = task.scratch.data();
        for (std::int64_t b = task.item.bags.begin; b < task.item.bags.end; ++b, p += dim) {
          for (int j = 0; j < dim; ++j) o[b * stride + j] += p[j];
        }
      }
    }
  }
};

PlanExecutor::PlanExecutor(const ModelSpec& model, const std::vector<const TableView*>& tables, Plan plan,
                           const RunnerOptions& options)
    : state_(std::make_unique<State>(model, std::move(plan), options)) {
  State& s = *state_;
  runtime::check_storage(model, tables);
  validate_plan(s.plan, model, describe_machine().physical_cores);
  for (const TableView* v : tables) s.tables.push_back(*v);
  s.column = runtime::output_columns(model);
  s.workers.resize(s.plan.workers());
  for (std::size_t w = 0; w < s.plan.workers(); ++w) {
    Worker& worker = s.workers[w];
    worker.core = s.plan.cores[w];
    std::size_t resident_bytes = 0;
    for (const WorkItem& it : s.plan.items[w]) {
      Task task;
      task.item = it;
      task.view = s.tables[static_cast<std::size_t>(it.table)];
      task.partial = it.rows.begin != 0 || it.rows.end != task.view.rows;
      if (is_resident(it.flow)) resident_bytes += static_cast<std::size_t>(it.rows.size()) * task.view.row_stride;
      worker.tasks.push_back(std::move(task));
    }
    if (resident_bytes > options.resident_budget) {
      throw CapacityError(fmt::format("plan: core {} holds {} bytes of resident copies, above its budget of {} bytes",
                                      worker.core, resident_bytes, options.resident_budget));
    }
  }
  for (Worker& w : s.workers) w.thread = std::thread([&s, &w] { s.worker_main(w); });
  std::unique_lock<std::mutex> lock(s.mu);
  s.done_cv.wait(lock, [&] { return s.ready == static_cast<int>(s.workers.size()); });
  if (s.error) {  // e.g. a resident copy that does not fit
    const std::exception_ptr e = s.error;
    lock.unlock();
    s.stop_workers();
    std::rethrow_exception(e);
  }
}

PlanExecutor::~PlanExecutor() { state_->stop_workers(); }

void PlanExecutor::run(const Batch& batch, float* out) {
  State& s = *state_;
  std::lock_guard<std::mutex> call(s.call_mutex);
  if (batch.batch_size != s.plan.batch_size) {
    throw InvalidInput(fmt::format("batch of {} samples, the plan is for batches of {}", batch.batch_size,
                                   s.plan.batch_size));
  }
  runtime::prepare_batch(s.model, batch, s.options.bounds, s.repaired, s.bags);  // before any work
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.batch_size = batch.batch_size;
    s.out = out;
    s.error = nullptr;
    s.pending = static_cast<int>(s.workers.size());
    ++s.generation;
  }
  s.start_cv.notify_all();
  {
    std::unique_lock<std::mutex> lock(s.mu);
    s.done_cv.wait(lock, [&] { return s.pending == 0; });
    if (s.error) std::rethrow_exception(s.error);
  }
  s.reduce_partials();
}

std::vector<double> PlanExecutor::last_worker_seconds() const {
  std::lock_guard<std::mutex> call(state_->call_mutex);
  std::vector<double> out;
  for (const Worker& w : state_->workers) out.push_back(w.seconds);
  return out;
}

const Plan& PlanExecutor::plan() const { return state_->plan; }

}  // namespace embflow
