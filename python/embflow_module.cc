// The Python module `embflow`: pooled embedding look-ups on the caller's numpy arrays or CPU
// torch tensors, with torch habits (per-table CSR indices + offsets, or TorchRec's jagged
// values + lengths), planned over cores by the asymmetric planner when asked. See python/README.md.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include <fmt/format.h>

#include "embflow/calibrate.h"
#include "embflow/error.h"
#include "embflow/executor.h"
#include "embflow/measure.h"
#include "embflow/plan_report.h"
#include "embflow/plan_tuner.h"
#include "embflow/planner.h"
#include "embflow/runner.h"
#include "embflow/table.h"
#include "embflow/topology.h"
#include "embflow/workload.h"
#include "core/memory.h"
#include "runtime/batch_prep.h"

namespace py = pybind11;

namespace embflow::python {
namespace {

// A C-contiguous numpy view of `obj` (a numpy array, or a CPU torch tensor: shared, not copied).
py::array as_array(const py::object& obj) {
  // A numpy array first: asking it for `detach` raises (and clears) an AttributeError, whose
  // message formatting cost 0.3 us an array, 15 of the 18 us of a criteo-kaggle call.
  if (py::isinstance<py::array>(obj)) return obj.cast<py::array>();
  // A CPU torch tensor: its numpy() view of the same memory, detached first only when it
  // requires grad (detach() made a tensor per call: 1.6 of the 3 us each tensor cost).
  py::object o = obj;
  if (py::hasattr(o, "numpy") && py::hasattr(o, "requires_grad")) {
    if (o.attr("requires_grad").cast<bool>()) o = o.attr("detach")();
    o = o.attr("numpy")();
  }
  if (!py::isinstance<py::array>(o)) {
    throw InvalidInput(fmt::format("expected a numpy array or a CPU torch tensor, got {}",
                                   py::str(py::type::of(o)).cast<std::string>()));
  }
  return o.cast<py::array>();
}

std::string describe(const py::array& a) {
  std::string shape;
  for (py::ssize_t d = 0; d < a.ndim(); ++d) shape += fmt::format("{}{}", d ? ", " : "", a.shape(d));
  return fmt::format("{} of shape ({}){}", py::str(a.dtype()).cast<std::string>(), shape,
                     (a.flags() & py::array::c_style) ? "" : ", not C-contiguous");
}

bool is_c_contiguous(const py::array& a) { return (a.flags() & py::array::c_style) != 0; }

// A C-contiguous array in memory of its own (Buffer: 64-byte aligned, huge pages when large,
// zero-filled), which the array keeps alive.
py::array aligned_array(const py::dtype& dtype, const std::vector<py::ssize_t>& shape) {
  std::size_t bytes = static_cast<std::size_t>(dtype.itemsize());
  for (py::ssize_t n : shape) bytes *= static_cast<std::size_t>(n);
  auto* storage = new Buffer(Buffer::allocate(bytes));
  py::capsule owner(storage, [](void* p) { delete static_cast<Buffer*>(p); });
  std::vector<py::ssize_t> strides(shape.size(), dtype.itemsize());
  for (std::size_t d = shape.size() - 1; d > 0; --d) strides[d - 1] = strides[d] * shape[d];
  return py::array(dtype, shape, strides, storage->data(), owner);
}

// A batch as views of the caller's arrays: nothing is copied per call. The arrays (and the
// offsets made here for the jagged layout) live as long as this.
struct ArrayBatch {
  BatchView view;
  std::vector<py::array> keep;
  std::vector<std::vector<std::int64_t>> offsets64;
  std::vector<std::vector<std::int32_t>> offsets32;
};

// `what`: where the weights were given, for the error ("table 'C3'", "forward_jagged").
void check_weights(const std::string& what, const py::array& w) {
  if (w.ndim() != 1 || !is_c_contiguous(w) || !w.dtype().is(py::dtype::of<float>())) {
    throw InvalidInput(fmt::format("{}: per_sample_weights must be a contiguous 1-D float32 array, got {}", what,
                                   describe(w)));
  }
}

// One table's index arrays (int32 or int64, 1-D, contiguous), checked and viewed in place.
BagsView bags_view(const std::string& table, const py::array& indices, const py::array& offsets,
                   const std::optional<py::array>& weights) {
  const bool i32 = indices.dtype().is(py::dtype::of<std::int32_t>());
  const bool i64 = indices.dtype().is(py::dtype::of<std::int64_t>());
  if (indices.ndim() != 1 || !is_c_contiguous(indices) || !(i32 || i64)) {
    throw InvalidInput(fmt::format("table '{}': indices must be a contiguous 1-D int32 or int64 array, got {}", table,
                                   describe(indices)));
  }
  if (offsets.ndim() != 1 || !is_c_contiguous(offsets) || !offsets.dtype().is(indices.dtype()) || offsets.size() < 1) {
    throw InvalidInput(fmt::format("table '{}': offsets must be a contiguous 1-D array of the indices' dtype ({}) with "
                                   "batch size + 1 entries, got {}",
                                   table, py::str(indices.dtype()).cast<std::string>(), describe(offsets)));
  }
  BagsView v;
  v.index_type = i32 ? IndexType::kInt32 : IndexType::kInt64;
  v.indices = indices.data();
  v.offsets = offsets.data();
  v.num_indices = indices.size();
  v.num_bags = offsets.size() - 1;
  if (weights) {
    check_weights(fmt::format("table '{}'", table), *weights);
    v.weights = static_cast<const float*>(weights->data());
    v.num_weights = weights->size();
  }
  return v;
}

// A plan together with what it was made for, as Python sees it.
struct PyPlan {
  Plan plan;
  ModelSpec model;
  PlanPrediction prediction;
  std::string describe() const { return describe_plan(plan, model, prediction); }
};

class EmbeddingBagCollection {
 public:
  // Tables given by the caller: kept alive, never copied.
  EmbeddingBagCollection(const py::list& tables, const py::object& pooling, const std::optional<std::vector<std::string>>& names,
                         const std::optional<std::vector<std::pair<int, int>>>& bag_sizes) {
    model_.name = "python";
    std::vector<std::string> off_lines;
    for (std::size_t t = 0; t < tables.size(); ++t) {
      const std::string name = names && t < names->size() ? (*names)[t] : fmt::format("t{}", t);
      py::array a = as_array(tables[t]);
      const bool f32 = a.dtype().is(py::dtype::of<float>());
      const bool f16 = a.dtype().kind() == 'f' && a.itemsize() == 2;
      if (a.ndim() != 2 || !is_c_contiguous(a) || !(f32 || f16) || a.shape(0) < 1 || a.shape(1) < 1) {
        throw InvalidInput(fmt::format("table '{}' (index {}): expected a C-contiguous [rows, dim] float32 or float16 "
                                       "array, got {}", name, t, describe(a)));
      }
      TableSpec s;
      s.name = name;
      s.rows = a.shape(0);
      s.dim = static_cast<int>(a.shape(1));
      s.row_type = f32 ? RowType::kFp32 : RowType::kFp16;
      s.pooling = pooling_for(pooling, t);
      if (bag_sizes && t < bag_sizes->size()) s.bag_size = {(*bag_sizes)[t].first, (*bag_sizes)[t].second};
      validate_table_spec(s);
      model_.tables.push_back(s);
      if (std::string m = misaligned(a, name, s.row_bytes()); !m.empty()) off_lines.push_back(std::move(m));
      TableView v;
      v.data = static_cast<const std::byte*>(a.data());
      v.rows = s.rows;
      v.dim = s.dim;
      v.row_type = s.row_type;
      v.row_stride = s.row_bytes();
      views_.push_back(v);
      keep_.push_back(a);
    }
    finish();
    warn_misaligned(off_lines, tables.size());
  }

  // Tables owned here, filled from a seed.
  EmbeddingBagCollection(ModelSpec model, std::uint64_t seed) : model_(std::move(model)) {
    for (const TableSpec& s : model_.tables) owned_.push_back(Table::random(s, seed));
    for (const Table& t : owned_) views_.push_back(t.view());
    finish();
  }

  static std::unique_ptr<EmbeddingBagCollection> from_preset(const std::string& name, std::optional<int> dim,
                                                             std::optional<std::int64_t> max_rows, std::uint64_t seed) {
    ModelSpec m = preset_model(name);
    ModelOverrides o;
    o.dim = dim;
    o.max_rows = max_rows;
    apply_overrides(m, o);
    return std::make_unique<EmbeddingBagCollection>(std::move(m), seed);
  }

  static std::unique_ptr<EmbeddingBagCollection> from_specs(const py::list& specs, std::uint64_t seed) {
    ModelSpec m;
    m.name = "python";
    for (std::size_t t = 0; t < specs.size(); ++t) {
      const py::dict d = specs[t].cast<py::dict>();
      TableSpec s;
      s.name = d.contains("name") ? d["name"].cast<std::string>() : fmt::format("t{}", t);
      if (!d.contains("rows") || !d.contains("dim")) {
        throw InvalidInput(fmt::format("spec {} ('{}'): needs 'rows' and 'dim'", t, s.name));
      }
      s.rows = d["rows"].cast<std::int64_t>();
      s.dim = d["dim"].cast<int>();
      if (d.contains("row_type")) s.row_type = parse_row_type(d["row_type"].cast<std::string>());
      if (d.contains("pooling")) s.pooling = parse_pooling(d["pooling"].cast<std::string>());
      validate_table_spec(s);
      m.tables.push_back(s);
    }
    return std::make_unique<EmbeddingBagCollection>(std::move(m), seed);
  }

  // Per-table CSR: indices[t], offsets[t] (B + 1 entries), optional per_sample_weights[t].
  py::array forward(const py::list& indices, const py::list& offsets, const std::optional<py::list>& weights,
                    const std::optional<py::object>& out) {
    return run(csr_batch("forward", indices, offsets, weights), out);
  }

  // TorchRec's jagged layout: one values array; lengths per (table, sample), table-major, as
  // [T * B] or [T, B]; optional weights beside values.
  py::array forward_jagged(const py::object& values_obj, const py::object& lengths_obj, const std::optional<py::object>& weights_obj,
                           const std::optional<py::object>& out) {
    const py::array values = as_array(values_obj);
    py::array lengths = as_array(lengths_obj);
    const std::size_t n = model_.tables.size();
    if (lengths.ndim() == 2) {
      if (static_cast<std::size_t>(lengths.shape(0)) != n) {
        throw InvalidInput(fmt::format("forward_jagged: lengths has {} rows, the collection {} tables", lengths.shape(0), n));
      }
      lengths = lengths.attr("reshape")(-1).cast<py::array>();
    }
    if (lengths.ndim() != 1 || !is_c_contiguous(lengths) || lengths.dtype().kind() != 'i' || lengths.size() % n != 0) {
      throw InvalidInput(fmt::format("forward_jagged: lengths must be an integer array of T * B = {} x B entries, got {}", n,
                                     describe(lengths)));
    }
    const bool i32 = values.dtype().is(py::dtype::of<std::int32_t>());
    if (values.ndim() != 1 || !is_c_contiguous(values) || !(i32 || values.dtype().is(py::dtype::of<std::int64_t>()))) {
      throw InvalidInput(fmt::format("forward_jagged: values must be a contiguous 1-D int32 or int64 array, got {}",
                                     describe(values)));
    }
    ArrayBatch b;
    b.keep = {values, lengths};
    const float* weights = nullptr;
    if (weights_obj && !weights_obj->is_none()) {
      const py::array w = as_array(*weights_obj);
      check_weights("forward_jagged", w);
      if (w.size() != values.size()) {
        throw InvalidInput(fmt::format("forward_jagged: {} weights for {} values (need one weight per value)", w.size(),
                                       values.size()));
      }
      weights = static_cast<const float*>(w.data());
      b.keep.push_back(w);
    }
    const py::ssize_t batch = lengths.size() / static_cast<py::ssize_t>(n);
    const py::array_t<std::int64_t> len64 = lengths.attr("astype")("int64").cast<py::array_t<std::int64_t>>();
    const std::int64_t* len = len64.data();
    const std::size_t item = i32 ? 4 : 8;
    b.view.batch_size = batch;
    b.offsets32.reserve(n);  // (pointers into them are kept)
    b.offsets64.reserve(n);
    if (i32 && values.size() > std::numeric_limits<std::int32_t>::max()) {
      throw InvalidInput(fmt::format("forward_jagged: {} int32 values: offsets would not fit in int32", values.size()));
    }
    std::int64_t pos = 0;
    for (std::size_t t = 0; t < n; ++t) {
      std::vector<std::int64_t> offsets{0};
      offsets.reserve(static_cast<std::size_t>(batch) + 1);
      for (py::ssize_t s = 0; s < batch; ++s) {
        const std::int64_t l = len[static_cast<py::ssize_t>(t) * batch + s];
        if (l < 0) {
          throw InvalidInput(fmt::format("forward_jagged: table '{}', sample {}: length {} is negative", model_.tables[t].name, s, l));
        }
        offsets.push_back(offsets.back() + l);
      }
      if (pos + offsets.back() > values.size()) {
        throw InvalidInput(fmt::format("forward_jagged: lengths add up to more than the {} values (at table '{}')",
                                       values.size(), model_.tables[t].name));
      }
      // This table's slice of values (and weights), viewed as a CSR of its own.
      BagsView v;
      v.index_type = i32 ? IndexType::kInt32 : IndexType::kInt64;
      v.indices = static_cast<const std::byte*>(values.data()) + static_cast<std::size_t>(pos) * item;
      v.num_indices = offsets.back();
      v.num_bags = batch;
      if (weights) {
        v.weights = weights + pos;
        v.num_weights = v.num_indices;
      }
      if (i32) {
        b.offsets32.emplace_back(offsets.begin(), offsets.end());  // (they fit: at most values.size())
        v.offsets = b.offsets32.back().data();
      } else {
        b.offsets64.push_back(std::move(offsets));
        v.offsets = b.offsets64.back().data();
      }
      b.view.tables.push_back(v);
      pos += v.num_indices;
    }
    if (pos != values.size()) {
      throw InvalidInput(fmt::format("forward_jagged: lengths add up to {}, values has {}", pos, values.size()));
    }
    return run(b, out);
  }

  // A batch from embflow's generators (workload.h): per-table (indices, offsets) numpy arrays.
  py::tuple generate(std::int64_t batch_size, const std::string& dist, std::uint64_t seed, const std::string& index_type,
                     std::optional<int> bag_size) {
    ModelSpec m = model_;
    if (bag_size) {
      ModelOverrides o;
      o.bag_size = BagSizeSpec{*bag_size, *bag_size};
      apply_overrides(m, o);
    }
    WorkloadOptions w;
    w.batch_size = batch_size;
    w.distribution = Distribution::parse(dist);
    w.seed = seed;
    if (index_type != "int32" && index_type != "int64") throw InvalidInput("index_type must be int32 or int64");
    w.index_type = index_type == "int32" ? IndexType::kInt32 : IndexType::kInt64;
    Batch b;
    {
      py::gil_scoped_release release;
      b = generate_batch(m, w);
    }
    py::list indices, offsets;
    for (const TableBatch& t : b.tables) {
      if (w.index_type == IndexType::kInt32) {
        indices.append(py::array_t<std::int32_t>(static_cast<py::ssize_t>(t.indices32.size()), t.indices32.data()));
        offsets.append(py::array_t<std::int32_t>(static_cast<py::ssize_t>(t.offsets32.size()), t.offsets32.data()));
      } else {
        indices.append(py::array_t<std::int64_t>(static_cast<py::ssize_t>(t.indices64.size()), t.indices64.data()));
        offsets.append(py::array_t<std::int64_t>(static_cast<py::ssize_t>(t.offsets64.size()), t.offsets64.data()));
      }
    }
    return py::make_tuple(indices, offsets);
  }

  // The roofline floor of a batch (engine issue's definition: per table, the lower of its look-ups
  // at this machine's measured random-gather rate for a table of its size and one sequential pass
  // over it; summed), with the rates measured on `cores` cores at once (measure_roofline): what
  // those cores achieve together, not one core's rate times their number. Seconds. Each table's
  // roofline is measured on the first call for a core count (seconds for a large model), then kept.
  double roofline_floor(const py::list& indices, const py::list& offsets, int cores) {
    const ArrayBatch batch = csr_batch("roofline_floor", indices, offsets, std::nullopt);
    const int have = describe_machine().physical_cores;
    if (cores < 1 || cores > have) {
      throw InvalidInput(fmt::format("roofline_floor: cores must be 1 to {} (this machine's), got {}", have, cores));
    }
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<RooflinePoint>& roof = roofline_[cores];
    if (roof.empty()) {
      for (const TableView& v : views_) roof.push_back(measure_roofline(v, default_runner_options().isa, 7, cores));
    }
    double floor = 0;
    for (std::size_t t = 0; t < model_.tables.size(); ++t) {
      floor += roofline_floor_seconds(batch.view.tables[t].num_indices, model_.tables[t].bytes(), roof[t]);
    }
    return floor;
  }

  // Plans the collection over cores from a sample batch (per-table CSR, as forward takes).
  // With tune > 0 the planner's candidates run side by side on this machine, `tune` times each on
  // the batches of tune_batches ((indices, offsets) pairs taken in turn; default: the sample), and
  // the fastest is kept (plan_tuner.h).
  PyPlan plan(const py::list& indices, const py::list& offsets, const std::string& profile, int cores,
              const std::string& mapper, double min_gain, int tune, const std::optional<py::list>& tune_batches) {
    const ArrayBatch batch = csr_batch("plan", indices, offsets, std::nullopt);
    std::vector<std::optional<TableBatch>> repaired(model_.tables.size());
    std::vector<BagsView> bags(model_.tables.size());
    runtime::prepare_batch(model_, batch.view, BoundsPolicy::kError, repaired, bags);
    std::vector<ArrayBatch> tuning;  // the arrays stay referenced while they are measured
    for (const py::handle pair : tune_batches.value_or(py::list())) {
      const auto t = pair.cast<py::tuple>();
      if (t.size() != 2) throw InvalidInput("plan: tune_batches must hold (indices, offsets) pairs");
      tuning.push_back(csr_batch("plan (tune_batches)", t[0].cast<py::list>(), t[1].cast<py::list>(), std::nullopt));
      runtime::prepare_batch(model_, tuning.back().view, BoundsPolicy::kError, repaired, bags);
    }
    const auto samples = sample_statistics(model_, batch.view);
    MachineProfile p;
    const std::string source = profile_source(profile);
    if (source.empty()) {
      CalibrateOptions o;
      o.quick = true;
      py::gil_scoped_release release;
      p = calibrate_machine(o);
    } else {
      p = load_profile(source);
    }
    const CostModel cost(p);
    PlannerOptions po;
    po.cores = cores > 0 ? cores : std::min(p.cores, describe_machine().physical_cores);
    po.min_gain = min_gain;
    po.resident_budget = std::min(p.resident_budget, default_runner_options().resident_budget);
    const Mapper m = parse_mapper(mapper);
    if (tune < 0) throw InvalidInput(fmt::format("plan: tune must be 0 (off) or a number of batches, got {}", tune));
    if (tune > 0 && m != Mapper::kAsymmetric) {
      throw InvalidInput("plan: tune measures the asymmetric mapper's candidates: use mapper='asymmetric'");
    }
    PyPlan out{{}, model_, {}};
    if (tune > 0) {
      std::vector<BatchView> measured_on;
      for (const ArrayBatch& b : tuning) measured_on.push_back(b.view);
      if (measured_on.empty()) measured_on.push_back(batch.view);
      py::gil_scoped_release release;
      out.plan = tune_plan(model_, view_pointers(views_), tuning_candidates(model_, samples, cost, po), measured_on,
                           default_runner_options(), tune).plan;
    } else {
      out.plan = make_plan(m, model_, samples, cost, po);
    }
    out.prediction = cost.predict(out.plan, model_, samples);
    return out;
  }

  // Runs forward on the plan's pinned workers from now on (None: the calling thread again).
  void use_plan(const std::optional<PyPlan>& p) {
    std::lock_guard<std::mutex> lock(mu_);
    executor_.reset();
    if (!p) return;
    if (p->plan.model != model_.name || p->model.tables.size() != model_.tables.size()) {
      throw InvalidInput("use_plan: the plan was made for another collection");
    }
    py::gil_scoped_release release;
    executor_ = std::make_unique<PlanExecutor>(model_, view_pointers(views_), p->plan, default_runner_options());
    plan_batch_ = p->plan.batch_size;
  }

  // Backs the caller's tables with 2 MiB pages now (advise_huge_pages): fewer TLB misses for
  // embflow and for anything else reading the same memory (torch included). Returns the bytes
  // collapsed; tables embflow allocated itself are huge-paged already and not counted.
  std::size_t collapse_huge_pages() {
    std::size_t done = 0;
    py::gil_scoped_release release;
    std::lock_guard<std::mutex> lock(mu_);
    if (!owned_.empty()) return 0;
    for (const TableView& v : views_) done += advise_huge_pages(v.data, v.bytes(), true);
    return done;
  }

  std::size_t num_tables() const { return model_.tables.size(); }
  std::vector<int> dims() const {
    std::vector<int> d;
    for (const auto& t : model_.tables) d.push_back(t.dim);
    return d;
  }
  std::vector<std::int64_t> rows() const {
    std::vector<std::int64_t> r;
    for (const auto& t : model_.tables) r.push_back(t.rows);
    return r;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> r;
    for (const auto& t : model_.tables) r.push_back(t.name);
    return r;
  }

  // A new output array for `b` samples in memory of its own: rows on 64-byte boundaries, huge
  // pages when large. A fresh 100 MiB numpy array faults in 25,000 small pages, which on the
  // development VM cost more than the look-ups (131 ms against 24 ms for criteo-kaggle at batch
  // 65536); and numpy's rows start on 16-byte boundaries, where every 64-byte output row
  // straddles two cache lines (criteo-kaggle dim 16 batch 2048 on two cores: 390-427 us against
  // 230-233 us, docs/BENCHMARKS.md).
  py::array empty_output(std::int64_t b) const {
    if (b < 0) throw InvalidInput(fmt::format("empty_output: batch size {} is negative", b));
    return aligned_array(py::dtype::of<float>(), output_shape(b));
  }

 private:
  // numpy's arrays start on 16-byte boundaries (torch's and empty_table's on 64), where a row of
  // 64 bytes spans two cache lines: two misses per row and split loads. Measured one thread on
  // the Zen 4 VM, batch 8192, dim 16: 400 against 130 us from a 1 GiB table, 36 against 16 us
  // from 64 KiB (docs/BENCHMARKS.md). Such tables are used in place as promised, and named in one
  // warning. (Rows that divide a line and start on their own size never straddle one.)
  static std::string misaligned(const py::array& a, const std::string& name, std::size_t row_bytes) {
    const auto offset = reinterpret_cast<std::uintptr_t>(a.data()) % 64;
    const bool tiles_lines = row_bytes < 64 && 64 % row_bytes == 0 && offset % row_bytes == 0;
    return offset == 0 || tiles_lines ? "" : fmt::format("'{}' ({} bytes)", name, offset);
  }
  static void warn_misaligned(const std::vector<std::string>& tables, std::size_t of) {
    if (tables.empty()) return;
    const std::string msg = fmt::format(
        "{} of {} tables start past a 64-byte boundary, so their rows straddle cache lines and gathers from them "
        "run up to 3x slower: {}; allocate tables with embflow.empty_table (or use torch tensors)",
        tables.size(), of, fmt::join(tables, ", "));
    if (PyErr_WarnEx(PyExc_UserWarning, msg.c_str(), 1) != 0) throw py::error_already_set();
  }

  static Pooling pooling_for(const py::object& pooling, std::size_t t) {
    if (py::isinstance<py::str>(pooling)) return parse_pooling(pooling.cast<std::string>());
    const auto list = pooling.cast<std::vector<std::string>>();
    if (t >= list.size()) throw InvalidInput(fmt::format("pooling: {} entries for more tables", list.size()));
    return parse_pooling(list[t]);
  }

  void finish() {
    if (model_.tables.empty()) throw InvalidInput("an EmbeddingBagCollection needs at least one table");
    runner_ = std::make_unique<ModelRunner>(model_, view_pointers(views_), std::vector<Flow>(model_.tables.size(), Flow::kGather),
                                            default_runner_options());
  }

  // Per-table CSR lists (one entry per table) viewed as a batch, its batch size set.
  ArrayBatch csr_batch(const char* what, const py::list& indices, const py::list& offsets,
                       const std::optional<py::list>& weights) const {
    const std::size_t n = model_.tables.size();
    if (indices.size() != n || offsets.size() != n || (weights && weights->size() != n)) {
      throw InvalidInput(fmt::format("{}: the collection has {} tables; got {} index arrays, {} offset arrays{}", what, n,
                                     indices.size(), offsets.size(),
                                     weights ? fmt::format(", {} weight arrays", weights->size()) : ""));
    }
    ArrayBatch batch;
    for (std::size_t t = 0; t < n; ++t) {
      std::optional<py::array> w;
      if (weights && !(*weights)[t].is_none()) w = as_array((*weights)[t]);
      const py::array ix = as_array(indices[t]), off = as_array(offsets[t]);
      batch.view.tables.push_back(bags_view(model_.tables[t].name, ix, off, w));
      batch.keep.push_back(ix);
      batch.keep.push_back(off);
      if (w) batch.keep.push_back(*w);
    }
    batch.view.batch_size = batch_size_of(batch.view);
    return batch;
  }

  std::int64_t batch_size_of(const BatchView& b) const {
    std::int64_t size = -1;
    for (std::size_t t = 0; t < b.tables.size(); ++t) {
      const std::int64_t bags = b.tables[t].num_bags;
      if (size >= 0 && bags != size) {
        throw InvalidInput(fmt::format("table '{}' has {} bags, table '{}' {}: one batch size for all tables",
                                       model_.tables[t].name, bags, model_.tables[0].name, size));
      }
      size = bags;
    }
    return std::max<std::int64_t>(size, 0);
  }

  // [B, T, E], or [B, sum of dims] when the tables' dims differ.
  std::vector<py::ssize_t> output_shape(std::int64_t b) const {
    const bool same_dim = std::all_of(model_.tables.begin(), model_.tables.end(),
                                      [&](const TableSpec& t) { return t.dim == model_.tables[0].dim; });
    if (same_dim) return {b, static_cast<py::ssize_t>(model_.tables.size()), model_.tables[0].dim};
    return {b, model_.total_dim()};
  }

  // The output: the caller's `out` (float32, C-contiguous, [B, T, E] or [B, sum of dims]), or a
  // new one (empty_output).
  py::array output(std::int64_t b, const std::optional<py::object>& out_obj) const {
    if (!out_obj || out_obj->is_none()) return empty_output(b);
    const int total = model_.total_dim();
    py::array out = as_array(*out_obj);
    const bool ok = out.dtype().is(py::dtype::of<float>()) && is_c_contiguous(out) && out.writeable() &&
                    out.size() == b * total && (out.ndim() == 2 || out.ndim() == 3) && out.shape(0) == b;
    if (!ok) {
      throw InvalidInput(fmt::format("out must be a writable C-contiguous float32 array of shape ({}, {}) or ({}, {}, {}), "
                                     "got {}", b, total, b, model_.tables.size(), model_.tables[0].dim, describe(out)));
    }
    return out;
  }

  py::array run(const ArrayBatch& batch, const std::optional<py::object>& out_obj) {
    const std::int64_t b = batch.view.batch_size;
    py::array out = output(b, out_obj);
    float* data = static_cast<float*>(out.mutable_data());
    {
      py::gil_scoped_release release;
      std::lock_guard<std::mutex> lock(mu_);
      if (executor_ && b == plan_batch_) {
        executor_->run(batch.view, data);
      } else {
        runner_->run(batch.view, data);
      }
    }
    return out;
  }

  ModelSpec model_;
  std::vector<py::array> keep_;  // the caller's arrays, alive as long as this
  std::vector<Table> owned_;
  std::vector<TableView> views_;
  std::unique_ptr<ModelRunner> runner_;  // the calling thread (not thread-safe: mu_)
  std::unique_ptr<PlanExecutor> executor_;
  std::int64_t plan_batch_ = -1;
  std::map<int, std::vector<RooflinePoint>> roofline_;  // [cores][table], measured on first use
  std::mutex mu_;
};

}  // namespace
}  // namespace embflow::python

PYBIND11_MODULE(embflow, m) {
  using namespace embflow;
  using namespace embflow::python;
  m.doc() = "embflow: pooled embedding look-ups (DLRM embedding layers) with the ICCD 2024 asymmetric data-flow planner";
  static py::exception<Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<InvalidInput> invalid(m, "InvalidInput", PyExc_ValueError);
  static py::exception<IoError> io(m, "IoError", PyExc_OSError);
  static py::exception<CapacityError> capacity(m, "CapacityError", PyExc_MemoryError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidInput& e) {
      invalid(e.what());
    } catch (const IoError& e) {
      io(e.what());
    } catch (const CapacityError& e) {
      capacity(e.what());
    } catch (const Error& e) {
      error(e.what());
    }
  });

  m.def(
      "preset",
      [](const std::string& name, std::optional<int> dim, std::optional<std::int64_t> max_rows) {
        ModelSpec spec = preset_model(name);
        ModelOverrides o;
        o.dim = dim;
        o.max_rows = max_rows;
        apply_overrides(spec, o);
        py::list out;
        for (const TableSpec& t : spec.tables) {
          py::dict d;
          d["name"] = t.name, d["rows"] = t.rows, d["dim"] = t.dim, d["pooling"] = std::string(to_string(t.pooling));
          d["bag_size"] = py::make_tuple(t.bag_size.min, t.bag_size.max);
          out.append(d);
        }
        return out;
      },
      py::arg("name"), py::arg("dim") = py::none(), py::arg("max_rows") = py::none(),
      "a built-in model's tables as dicts (name, rows, dim, pooling, bag_size): criteo-kaggle, criteo-terabyte, dlrm-v2");

  m.def(
      "empty_table",
      [](std::int64_t rows, std::int64_t dim, const py::object& dtype) {
        const py::dtype dt = py::dtype::from_args(dtype);
        const bool ok = dt.is(py::dtype::of<float>()) || (dt.kind() == 'f' && dt.itemsize() == 2);
        if (!ok) throw InvalidInput(fmt::format("empty_table: dtype {} is neither float32 nor float16", py::str(dtype).cast<std::string>()));
        if (rows < 1 || dim < 1) throw InvalidInput(fmt::format("empty_table: shape ({}, {}) is empty or negative", rows, dim));
        return aligned_array(dt, {rows, dim});
      },
      py::arg("rows"), py::arg("dim"), py::arg("dtype") = "float32",
      "a zero-filled [rows, dim] float32 or float16 table for an EmbeddingBagCollection to use in place: rows from a "
      "64-byte boundary (numpy's start on 16, where rows straddle cache lines), huge pages when large");

  py::class_<PyPlan>(m, "Plan", "a mapping of tables to cores: every table's flow, split and cores")
      .def("describe", &PyPlan::describe, "per core and per table tables, with predicted times and the imbalance")
      .def("to_json", [](const PyPlan& p) { return plan_to_json(p.plan); })
      .def("svg", [](const PyPlan& p) { return plan_svg(p.plan, p.model, p.prediction); }, "an SVG chart of per-core time")
      .def_property_readonly("predicted_makespan", [](const PyPlan& p) { return p.prediction.makespan; }, "seconds per batch")
      .def_property_readonly("mapper", [](const PyPlan& p) { return p.plan.mapper; })
      .def_property_readonly("batch_size", [](const PyPlan& p) { return p.plan.batch_size; })
      .def_property_readonly("notes", [](const PyPlan& p) { return p.plan.notes; })
      .def("__repr__", [](const PyPlan& p) {
        return fmt::format("<embflow.Plan {} on {} cores, batch {}, predicted {:.1f} us>", p.plan.mapper, p.plan.workers(),
                           p.plan.batch_size, p.prediction.makespan * 1e6);
      });

  py::class_<EmbeddingBagCollection>(m, "EmbeddingBagCollection",
                                     "tables of embeddings pooled by bag: sum or mean, optionally weighted")
      .def(py::init<const py::list&, const py::object&, const std::optional<std::vector<std::string>>&,
                    const std::optional<std::vector<std::pair<int, int>>>&>(),
           py::arg("tables"), py::arg("pooling") = "sum", py::arg("names") = py::none(), py::arg("bag_sizes") = py::none(),
           "from [rows, dim] float32 / float16 numpy arrays or CPU torch tensors, used in place (not copied); "
           "bag_sizes: (min, max) per table, for generate()")
      .def_static("from_preset", &EmbeddingBagCollection::from_preset, py::arg("name"), py::arg("dim") = py::none(),
                  py::arg("max_rows") = py::none(), py::arg("seed") = 1,
                  "criteo-kaggle, criteo-terabyte or dlrm-v2, random rows from the seed")
      .def_static("from_specs", &EmbeddingBagCollection::from_specs, py::arg("specs"), py::arg("seed") = 1,
                  "from dicts {'rows', 'dim', optional 'name', 'row_type', 'pooling'}, random rows from the seed")
      .def("forward", &EmbeddingBagCollection::forward, py::arg("indices"), py::arg("offsets"),
           py::arg("per_sample_weights") = py::none(), py::arg("out") = py::none(),
           "per-table CSR: lists of indices and offsets (B + 1 each, int32 or int64); returns float32 [B, T, E] "
           "([B, sum of dims] when dims differ), written into `out` when given (no allocation)")
      .def("__call__", &EmbeddingBagCollection::forward, py::arg("indices"), py::arg("offsets"),
           py::arg("per_sample_weights") = py::none(), py::arg("out") = py::none())
      .def("forward_jagged", &EmbeddingBagCollection::forward_jagged, py::arg("values"), py::arg("lengths"),
           py::arg("weights") = py::none(), py::arg("out") = py::none(),
           "TorchRec's layout: one values array, lengths per (table, sample), table-major ([T * B] or [T, B])")
      .def("empty_output", &EmbeddingBagCollection::empty_output, py::arg("batch_size"),
           "a float32 array to pass as forward's `out` in a serving loop, shaped as forward returns: rows on 64-byte "
           "boundaries (numpy's own start on 16, which splits every output row over two cache lines), huge pages "
           "when large; zero-filled")
      .def("generate", &EmbeddingBagCollection::generate, py::arg("batch_size"), py::arg("dist") = "uniform",
           py::arg("seed") = 1, py::arg("index_type") = "int64", py::arg("bag_size") = py::none(),
           "a batch from embflow's generators: (indices, offsets) lists; dist: uniform, zipf:A, hotset:F:P, "
           "hot-rows:K, heavy-table:L")
      .def("collapse_huge_pages", &EmbeddingBagCollection::collapse_huge_pages,
           "backs the tables given by the caller with 2 MiB pages now (Linux MADV_COLLAPSE; seconds per GiB); "
           "returns the bytes collapsed (0 where the kernel refuses)")
      .def("roofline_floor", &EmbeddingBagCollection::roofline_floor, py::arg("indices"), py::arg("offsets"),
           py::arg("cores") = 1,
           "seconds: the batch's roofline floor (docs/BENCHMARKS.md) with the rates of `cores` cores working at once; "
           "tables measured on the first call for a core count")
      .def("plan", &EmbeddingBagCollection::plan, py::arg("indices"), py::arg("offsets"), py::arg("profile") = "",
           py::arg("cores") = 0, py::arg("mapper") = "asymmetric", py::arg("min_gain") = 0.10, py::arg("tune") = 0,
           py::arg("tune_batches") = std::nullopt,
           "plans the tables over cores from a sample batch; profile: a file from `embflow calibrate` or a described "
           "one (default $EMBFLOW_PROFILE, else a quick calibration); tune=N: run the planner's candidates (the "
           "search's own plan, symmetric, table-wise) N times each and keep the fastest, on the (indices, offsets) pairs of tune_batches "
           "taken in turn (default: the sample batch, whose rows are then in cache)")
      .def("use_plan", &EmbeddingBagCollection::use_plan, py::arg("plan"),
           "forward batches of the plan's size on its pinned workers (None: the calling thread)")
      .def_property_readonly("num_tables", &EmbeddingBagCollection::num_tables)
      .def_property_readonly("dims", &EmbeddingBagCollection::dims)
      .def_property_readonly("rows", &EmbeddingBagCollection::rows)
      .def_property_readonly("names", &EmbeddingBagCollection::names);
}
