#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <sched.h>

#include <fmt/format.h>

#include "embflow/error.h"
#include "embflow/executor.h"
#include "embflow/measure.h"
#include "embflow/table.h"
#include "embflow/topology.h"
#include "runtime/batch_prep.h"

namespace embflow {
namespace {

// One item as its worker runs it.
struct Task {
  WorkItem item;
  TableView view;      // the table, or the worker's resident copy of item.rows
  ResidentCopy copy;
  bool partial = false;        // a row range: partial sums go to `scratch`, added up by the last worker
  FloatBuffer scratch;         // [item.bags size, dim], 64-byte aligned, first touched by the worker
  double seconds = 0;          // in the last run
  LookupReport report;         // of the last run
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
  // Hand-off between the caller and the workers: spin (spin_until), then sleep in a futex on the
  // atomic itself (std::atomic::wait). Not a condition variable: after notify_all its sleepers
  // each take the mutex back in turn, so the last of 16 workers woke after 15 wake-ups in a row,
  // and waking a sleeping thread costs tens of microseconds on a VM (16-core machine, criteo-kaggle
  // batch 2048: 370 us a batch, workers busy 56-68 us).
  std::atomic<std::uint32_t> generation{0};  // bumped for every batch and to stop; wraps harmlessly
  std::atomic<int> pending{0};
  std::atomic<int> finished{0};  // workers done with their items in this dispatch
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable ready_cv;  // the workers' start-up, once
  int ready = 0;                     // guarded by mu
  std::exception_ptr error;          // guarded by mu
  // The batch being run (set by run() before it wakes the workers): the caller's bags, or for a
  // table whose kernels reported bad input, a repaired copy's (kSkip, kClamp).
  std::vector<BagsView> bags;
  std::vector<std::optional<TableBatch>> repaired;
  std::int64_t batch_size = 0;
  float* out = nullptr;

  void run_task(Task& task) {
    const WorkItem& it = task.item;
    const auto t = static_cast<std::size_t>(it.table);
    KernelOptions k = runtime::table_kernel_options(options, model, t, column[t], batch_size);
    if (task.partial) {
      k.stream_output = false;
      task.report = run_flow(it.flow, task.view, runtime::sub_bags(bags[t], it.bags), {0, it.bags.end - it.bags.begin},
                             it.rows, {task.scratch.data(), task.view.dim}, k, options.isa);
    } else {
      task.report =
          run_flow(it.flow, task.view, bags[t], it.bags, it.rows, {out + column[t], model.total_dim()}, k, options.isa);
    }
  }

  // The tables whose items, together, did not serve each of their look-ups exactly once.
  std::vector<std::size_t> tables_not_served() const {
    std::vector<LookupReport> seen(model.tables.size());
    for (const Worker& w : workers) {
      for (const Task& task : w.tasks) runtime::add_report(seen[static_cast<std::size_t>(task.item.table)], task.report);
    }
    std::vector<std::size_t> bad;
    for (std::size_t t = 0; t < seen.size(); ++t) {
      if (!runtime::served_all(seen[t], bags[t])) bad.push_back(t);
    }
    return bad;
  }

  // Wakes the workers on the current batch and waits until all are done.
  void dispatch() {
    {
      std::lock_guard<std::mutex> lock(mu);
      error = nullptr;
    }
    pending.store(static_cast<int>(workers.size()), std::memory_order_relaxed);
    finished.store(0, std::memory_order_relaxed);
    generation.fetch_add(1, std::memory_order_release);
    generation.notify_all();
    if (!spin_until([&] { return pending.load(std::memory_order_acquire) == 0; }, kCallerSpin)) {
      for (int left; (left = pending.load(std::memory_order_acquire)) != 0;) pending.wait(left);
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
        if (task.partial) task.scratch = FloatBuffer(static_cast<std::size_t>(task.item.bags.size()) * task.view.dim);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      if (!error) error = std::current_exception();
    }
    std::uint32_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(mu);
      ++ready;
    }
    ready_cv.notify_all();
    while (true) {
      if (!spin_until([&] { return generation.load(std::memory_order_acquire) != seen; }, kWorkerSpin)) {
        generation.wait(seen, std::memory_order_acquire);
      }
      if (stop.load()) return;
      seen = generation.load(std::memory_order_acquire);
      const double t0 = now_seconds();
      try {
        for (Task& task : w.tasks) {
          const double start = now_seconds();
          run_task(task);
          task.seconds = now_seconds() - start;
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
      w.seconds = now_seconds() - t0;
      // The last worker to finish adds up the row-range partial sums, before the batch counts as
      // done. On the caller's core, the reads of every scratch line left it to be fetched back
      // by its worker's next write: one core, a table in two row halves, batch 8192, one hot
      // row: the halves took 545 + 263 us, against 37 + 18 us without those reads.
      if (finished.fetch_add(1, std::memory_order_acq_rel) + 1 == static_cast<int>(workers.size())) reduce_partials();
      if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) pending.notify_one();
    }
  }

  // How long a thread spins before it sleeps on a condition variable. The caller spins through
  // any batch under kCallerSpin: woken from sleep, it came back 35-90 us late on the development
  // VM (criteo-kaggle capped at 1000 rows, one worker: batch 2048 505 us against 420-445 us
  // spinning through, which is the single-thread runner's time); beyond that the wake-up is
  // small beside the batch. Workers spin kWorkerSpin for the next batch of a serving loop.
  static constexpr std::chrono::microseconds kCallerSpin{2000}, kWorkerSpin{200};
  static constexpr int kYieldEvery = 16;
  // Spins until `ready` holds or `budget` has passed (false then). Every kYieldEvery pauses it
  // offers its core to another runnable thread there: with a worker pinned to every core, the
  // caller shares a core with one, and a spinning caller (or a worker spinning for the next batch)
  // held the core the other needed until the scheduler took it away. Same model, symmetric plan
  // on both cores: batch 256 73 -> 16 us, batch 2048 257-271 -> 209-219 us.
  template <class Pred>
  static bool spin_until(Pred ready, std::chrono::microseconds budget) {
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (int i = 1;; ++i) {
      if (ready()) return true;
      __builtin_ia32_pause();
      if (i % kYieldEvery == 0) {
        sched_yield();
        if (std::chrono::steady_clock::now() > deadline) return ready();
      }
    }
  }

  void stop_workers() {
    stop.store(true);
    generation.fetch_add(1, std::memory_order_release);
    generation.notify_all();
    for (Worker& w : workers) {
      if (w.thread.joinable()) w.thread.join();
    }
  }

  void rethrow_worker_error() {
    std::lock_guard<std::mutex> lock(mu);
    if (error) std::rethrow_exception(error);
  }

  // Adds the row-range partial sums into the output: the last worker to finish a dispatch, once
  // every other worker is done (their scratch published by the acquire on `finished`).
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
  if (s.plan.l2_prefetch_lead) s.options.kernel.l2_lead = *s.plan.l2_prefetch_lead;
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
      task.partial = !it.rows.whole(task.view.rows);
      if (is_resident(it.flow)) resident_bytes += static_cast<std::size_t>(it.rows.size()) * task.view.row_stride;
      worker.tasks.push_back(std::move(task));
    }
    if (resident_bytes > options.resident_budget) {
      throw CapacityError(fmt::format("plan: core {} holds {} bytes of resident copies, above its budget of {} bytes",
                                      worker.core, resident_bytes, options.resident_budget));
    }
  }
  s.repaired.resize(model.tables.size());
  for (std::size_t w = 0; w < s.workers.size(); ++w) {
    s.workers[w].thread = std::thread([&s, w] { s.worker_main(s.workers[w]); });
  }
  std::unique_lock<std::mutex> lock(s.mu);
  s.ready_cv.wait(lock, [&] { return s.ready == static_cast<int>(s.workers.size()); });
  if (s.error) {  // e.g. a resident copy that does not fit
    const std::exception_ptr e = s.error;
    lock.unlock();
    s.stop_workers();
    std::rethrow_exception(e);
  }
}

PlanExecutor::~PlanExecutor() { state_->stop_workers(); }

void PlanExecutor::run(const BatchView& batch, float* out) {
  State& s = *state_;
  std::lock_guard<std::mutex> call(s.call_mutex);
  if (batch.batch_size != s.plan.batch_size) {
    throw InvalidInput(fmt::format("batch of {} samples, the plan is for batches of {}", batch.batch_size,
                                   s.plan.batch_size));
  }
  runtime::check_batch_shape(s.model, batch, s.options.bounds);
  {
    std::lock_guard<std::mutex> lock(s.mu);
    s.bags = batch.tables;
    s.batch_size = batch.batch_size;
    s.out = out;
  }
  s.dispatch();
  s.rethrow_worker_error();
  const std::vector<std::size_t> bad = s.tables_not_served();
  if (!bad.empty()) {  // in model order: the first bad table decides under kError
    {
      std::lock_guard<std::mutex> lock(s.mu);
      for (std::size_t t : bad) {
        s.bags[t] = runtime::recheck_table(s.model.tables[t], batch.tables[t], batch.batch_size, s.options.bounds,
                                           s.repaired[t]);
      }
    }
    s.dispatch();
    s.rethrow_worker_error();
    if (!s.tables_not_served().empty()) throw std::logic_error("plan executor: repaired input still not served");
  }
}

std::vector<double> PlanExecutor::last_worker_seconds() const {
  std::lock_guard<std::mutex> call(state_->call_mutex);
  std::vector<double> out;
  for (const Worker& w : state_->workers) out.push_back(w.seconds);
  return out;
}

std::vector<std::vector<double>> PlanExecutor::last_item_seconds() const {
  std::lock_guard<std::mutex> call(state_->call_mutex);
  std::vector<std::vector<double>> out;
  for (const Worker& w : state_->workers) {
    out.emplace_back();
    for (const Task& t : w.tasks) out.back().push_back(t.seconds);
  }
  return out;
}

const Plan& PlanExecutor::plan() const { return state_->plan; }

}  // namespace embflow
