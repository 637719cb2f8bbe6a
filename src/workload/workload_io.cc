#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/npy.h"
#include "embflow/error.h"
#include "embflow/workload.h"

namespace embflow {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kFormat = "embflow-workload";
constexpr int kVersion = 1;

template <class T>
void write_vector(const fs::path& path, const char* descr, const std::vector<T>& v) {
  write_npy(path.string(), descr, {static_cast<std::int64_t>(v.size())}, v.data(), v.size() * sizeof(T));
}

}  // namespace

void save_workload(const ModelSpec& model, const Batch& batch, const std::string& dir) {
  if (batch.tables.size() != model.tables.size()) {
    throw InvalidInput(fmt::format("save_workload: batch has {} tables, model '{}' has {}", batch.tables.size(),
                                   model.name, model.tables.size()));
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError(fmt::format("{}: cannot create directory: {}", dir, ec.message()));
  json tables = json::array();
  for (std::size_t t = 0; t < batch.tables.size(); ++t) {
    const TableBatch& tb = batch.tables[t];
    const std::string stem = fmt::format("t{:03}", t);
    json entry{{"name", model.tables[t].name}, {"offsets", stem + "_offsets.npy"}, {"indices", stem + "_indices.npy"}};
    if (tb.index_type == IndexType::kInt32) {
      write_vector(fs::path(dir) / (stem + "_offsets.npy"), "<i4", tb.offsets32);
      write_vector(fs::path(dir) / (stem + "_indices.npy"), "<i4", tb.indices32);
    } else {
      write_vector(fs::path(dir) / (stem + "_offsets.npy"), "<i8", tb.offsets64);
      write_vector(fs::path(dir) / (stem + "_indices.npy"), "<i8", tb.indices64);
    }
    if (!tb.weights.empty()) {
      entry["weights"] = stem + "_weights.npy";
      write_vector(fs::path(dir) / (stem + "_weights.npy"), "<f4", tb.weights);
    }
    tables.push_back(entry);
  }
  json manifest{{"format", kFormat},
                {"version", kVersion},
                {"model", model.name},
                {"batch_size", batch.batch_size},
                {"tables", tables}};
  std::ofstream out(fs::path(dir) / "workload.json");
  out << manifest.dump(1) << "\n";
  if (!out) throw IoError(fmt::format("{}/workload.json: write failed", dir));
}

Batch load_workload(const ModelSpec& model, const std::string& dir) {
  const fs::path manifest_path = fs::path(dir) / "workload.json";
  std::ifstream in(manifest_path);
  if (!in) throw IoError(fmt::format("{}: cannot open (is '{}' a saved workload?)", manifest_path.string(), dir));
  json m;
  try {
    m = json::parse(in);
  } catch (const json::parse_error& e) {
    throw IoError(fmt::format("{}: not valid JSON: {}", manifest_path.string(), e.what()));
  }
  const std::string where = manifest_path.string();
  try {
    if (m.value("format", "") != kFormat) throw IoError(fmt::format("{}: field 'format' is not '{}'", where, kFormat));
    if (m.value("version", 0) != kVersion) {
      throw IoError(fmt::format("{}: field 'version' is {}, this build reads version {}", where, m.value("version", 0), kVersion));
    }
    Batch batch;
    batch.batch_size = m.at("batch_size").get<std::int64_t>();
    const json& tables = m.at("tables");
    if (!tables.is_array() || tables.size() != model.tables.size()) {
      throw InvalidInput(fmt::format("{}: holds {} tables, model '{}' has {}", where, tables.size(), model.name,
                                     model.tables.size()));
    }
    for (std::size_t t = 0; t < tables.size(); ++t) {
      const json& e = tables[t];
      const std::string name = e.at("name").get<std::string>();
      if (name != model.tables[t].name) {
        throw InvalidInput(fmt::format("{}: tables[{}] is '{}', model '{}' has '{}' there", where, t, name, model.name,
                                       model.tables[t].name));
      }
      std::string offsets_descr, indices_descr;
      auto offsets = read_npy_int_vector((fs::path(dir) / e.at("offsets").get<std::string>()).string(), &offsets_descr);
      auto indices = read_npy_int_vector((fs::path(dir) / e.at("indices").get<std::string>()).string(), &indices_descr);
      if (offsets_descr != indices_descr) {
        throw InvalidInput(fmt::format("{}: table '{}': offsets are '{}' but indices are '{}'; use one index type", where,
                                       name, offsets_descr, indices_descr));
      }
      if (static_cast<std::int64_t>(offsets.size()) != batch.batch_size + 1) {
        throw InvalidInput(fmt::format("{}: table '{}': {} offsets, expected batch_size + 1 = {}", where, name,
                                       offsets.size(), batch.batch_size + 1));
      }
      std::vector<float> weights;
      if (e.contains("weights") && !e["weights"].is_null()) {
        weights = read_npy_float_vector((fs::path(dir) / e["weights"].get<std::string>()).string());
      }
      batch.tables.push_back(TableBatch::from_vectors(std::move(offsets), std::move(indices),
                                                      offsets_descr == "<i4" ? IndexType::kInt32 : IndexType::kInt64,
                                                      std::move(weights)));
    }
    return batch;
  } catch (const json::exception& e) {
    throw IoError(fmt::format("{}: malformed: {}", where, e.what()));
  }
}

void save_workloads(const ModelSpec& model, const std::vector<Batch>& batches, const std::string& dir) {
  // A workload saved there before would otherwise leave stale batches that load_workloads reads.
  std::error_code ec;
  if (fs::is_directory(dir, ec)) {
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string name = entry.path().filename().string();
      const bool ours = name == "workload.json" || (name.rfind("batch", 0) == 0 && entry.is_directory()) ||
                        (name.size() > 4 && name[0] == 't' && name.substr(name.size() - 4) == ".npy");
      if (ours) fs::remove_all(entry.path(), ec);
    }
  }
  if (batches.size() == 1) {
    save_workload(model, batches[0], dir);
    return;
  }
  for (std::size_t i = 0; i < batches.size(); ++i) {
    save_workload(model, batches[i], (fs::path(dir) / fmt::format("batch{:03}", i)).string());
  }
}

std::vector<Batch> load_workloads(const ModelSpec& model, const std::string& dir) {
  if (fs::exists(fs::path(dir) / "workload.json")) return {load_workload(model, dir)};
  std::vector<Batch> out;
  for (std::size_t i = 0; fs::exists(fs::path(dir) / fmt::format("batch{:03}", i) / "workload.json"); ++i) {
    out.push_back(load_workload(model, (fs::path(dir) / fmt::format("batch{:03}", i)).string()));
  }
  if (out.empty()) throw IoError(fmt::format("{}: holds neither workload.json nor batch000/workload.json", dir));
  return out;
}

}  // namespace embflow
