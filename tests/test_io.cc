// Readers fed good, truncated and malformed files: .npy tables and vectors, model JSON, workloads.
#include <gmock/gmock.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/half.h"
#include "core/npy.h"
#include "embflow/error.h"
#include "test_util.h"

namespace embflow {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() / fmt_name();
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static std::string fmt_name() {
    return "embflow_test_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  }
  fs::path path_;
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(Npy, TableRoundTripsInBothRowTypes) {
  TempDir dir;
  for (RowType type : {RowType::kFp32, RowType::kFp16}) {
    const TableSpec spec = testing::small_spec(37, 5, type);
    const Table t = Table::random(spec, 9, 1);
    save_npy_table(t.view(), dir.file("t.npy"));
    const Table back = Table::map_npy(spec, dir.file("t.npy"));
    ASSERT_EQ(back.view().bytes(), t.view().bytes());
    EXPECT_EQ(0, std::memcmp(back.view().data, t.view().data, t.view().bytes()));
  }
}

TEST(Npy, HeaderChecksAgainstTheSpec) {
  TempDir dir;
  const TableSpec spec = testing::small_spec(10, 4);
  save_npy_table(Table::random(spec, 1, 1).view(), dir.file("t.npy"));
  TableSpec wrong_rows = spec;
  wrong_rows.rows = 11;
  EXPECT_THAT(testing::message_of([&] { Table::map_npy(wrong_rows, dir.file("t.npy")); }), HasSubstr("expects shape [11, 4]"));
  TableSpec wrong_type = spec;
  wrong_type.row_type = RowType::kFp16;
  EXPECT_THAT(testing::message_of([&] { Table::map_npy(wrong_type, dir.file("t.npy")); }), HasSubstr("'<f4'"));
}

TEST(Npy, TruncatedAndMalformedFilesAreIoErrors) {
  TempDir dir;
  const TableSpec spec = testing::small_spec(10, 4);
  save_npy_table(Table::random(spec, 1, 1).view(), dir.file("good.npy"));
  const std::string good = read_bytes(dir.file("good.npy"));
  // Writes `bytes` as NAME and expects mapping it to fail with a message holding `what`.
  auto expect_refused = [&](const std::string& name, const std::string& bytes, const std::string& what) {
    write_bytes(dir.file(name), bytes);
    EXPECT_THAT(testing::message_of([&] { Table::map_npy(spec, dir.file(name)); }), HasSubstr(what)) << name;
  };
  // Changes the first `from` in the good file to `to` (same length).
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  expect_refused("short_data.npy", good.substr(0, good.size() - 1), "truncated");
  expect_refused("short_header.npy", good.substr(0, 30), "truncated .npy header");
  expect_refused("tiny.npy", good.substr(0, 5), "not a .npy file");
  expect_refused("magic.npy", edited("NUMPY", "NXMPY"), "bad magic");
  expect_refused("dict.npy", edited("'shape'", "'shope'"), "malformed .npy header");
  expect_refused("fortran.npy", edited("False", "True "), "Fortran order");
  expect_refused("be.npy", edited("<f4", ">f4"), "little-endian");
  EXPECT_THAT(testing::message_of([&] { Table::map_npy(spec, dir.file("missing.npy")); }), HasSubstr("cannot open"));
}

TEST(Npy, Version2HeaderAndIntVectors) {
  TempDir dir;
  // A version 2.0 header by hand: 4-byte length.
  std::string dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (3,), }";
  dict.append(64 - (12 + dict.size() + 1) % 64, ' ');
  dict.push_back('\n');
  std::string file = std::string("\x93NUMPY\x02\x00", 8);
  const auto len = static_cast<std::uint32_t>(dict.size());
  file.append(reinterpret_cast<const char*>(&len), 4);
  file += dict;
  const std::int32_t values[] = {5, -2, 7};
  file.append(reinterpret_cast<const char*>(values), sizeof values);
  write_bytes(dir.file("v2.npy"), file);
  EXPECT_EQ(read_npy_int_vector(dir.file("v2.npy")), (std::vector<std::int64_t>{5, -2, 7}));
  EXPECT_THAT(testing::message_of([&] { read_npy_float_vector(dir.file("v2.npy")); }), HasSubstr("float32"));
}

TEST(ModelJson, ErrorsNameTheBadField) {
  EXPECT_THAT(testing::message_of([] { parse_model_json("{", "m.json"); }), HasSubstr("m.json: not valid JSON"));
  EXPECT_THAT(testing::message_of([] { parse_model_json("[]", "m.json"); }), HasSubstr("expected a JSON object"));
  EXPECT_THAT(testing::message_of([] { parse_model_json(R"({"tables": [{"rows": 10}]})", "m.json"); }),
              HasSubstr("field 'tables[0].dim': missing"));
  EXPECT_THAT(testing::message_of([] { parse_model_json(R"({"tables": [{"rows": "10", "dim": 4}]})", "m.json"); }),
              HasSubstr("field 'tables[0].rows': expected an integer"));
  EXPECT_THAT(testing::message_of([] { parse_model_json(R"({"tables": [{"rows": 10, "dim": 2000}]})", "m.json"); }),
              HasSubstr("dim must be in [1, 1024]"));
  EXPECT_THAT(testing::message_of([] { parse_model_json(R"({"tables": [{"rows": 10, "dim": 4, "row_type": "int3"}]})", "m.json"); }),
              HasSubstr("unknown row type 'int3'"));
  EXPECT_THAT(testing::message_of([] { parse_model_json(R"({"tables": [{"rows": 10, "dim": 4, "bag_size": {"min": 3}}]})", "m.json"); }),
              HasSubstr("tables[0].bag_size"));
  EXPECT_THAT(testing::message_of([] { parse_model_json(R"({"embedding_dim": 4, "rows": [3, 4], "bag_sizes": [1]})", "m.json"); }),
              HasSubstr("field 'bag_sizes'"));
  EXPECT_THAT(testing::message_of([] { load_model_file("/nonexistent/model.json"); }), HasSubstr("cannot open"));
}

TEST(ModelJson, ExplicitFormRoundTrips) {
  ModelSpec m;
  m.name = "mine";
  TableSpec a = testing::small_spec(10, 4, RowType::kFp16, 2, 5);
  a.name = "a";
  a.pooling = Pooling::kMean;
  TableSpec b = testing::small_spec(3, 7, RowType::kFp32, 1, 1);
  b.name = "b";
  m.tables = {a, b};
  const ModelSpec back = parse_model_json(model_to_json(m), "round trip");
  ASSERT_EQ(back.tables.size(), 2u);
  EXPECT_EQ(back.name, "mine");
  EXPECT_EQ(back.tables[0].row_type, RowType::kFp16);
  EXPECT_EQ(back.tables[0].pooling, Pooling::kMean);
  EXPECT_EQ(back.tables[0].bag_size.max, 5);
  EXPECT_EQ(back.tables[1].dim, 7);
}

TEST(WorkloadFiles, SaveAndLoadReplayExactlyTheSameIndices) {
  TempDir dir;
  ModelSpec model = preset_model("criteo-kaggle");
  apply_overrides(model, {.max_rows = 5000});
  for (IndexType it : {IndexType::kInt32, IndexType::kInt64}) {
    WorkloadOptions w;
    w.batch_size = 64;
    w.index_type = it;
    w.weighted = true;
    w.distribution = Distribution::parse("zipf:1.05");
    const Batch batch = generate_batch(model, w);
    save_workload(model, batch, dir.file("wl"));
    const Batch back = load_workload(model, dir.file("wl"));
    ASSERT_EQ(back.tables.size(), batch.tables.size());
    for (std::size_t t = 0; t < batch.tables.size(); ++t) {
      EXPECT_EQ(back.tables[t].index_type, it);
      EXPECT_EQ(back.tables[t].offsets64, batch.tables[t].offsets64);
      EXPECT_EQ(back.tables[t].indices64, batch.tables[t].indices64);
      EXPECT_EQ(back.tables[t].offsets32, batch.tables[t].offsets32);
      EXPECT_EQ(back.tables[t].indices32, batch.tables[t].indices32);
      EXPECT_EQ(back.tables[t].weights, batch.tables[t].weights);
    }
  }
}

TEST(WorkloadFiles, SavingOverAnOlderWorkloadLeavesNoStaleBatches) {
  TempDir dir;
  ModelSpec model = preset_model("criteo-kaggle");
  apply_overrides(model, {.max_rows = 1000});
  WorkloadOptions w;
  w.batch_size = 8;
  std::vector<Batch> three;
  for (int i = 0; i < 3; ++i) {
    w.seed = i + 1;
    three.push_back(generate_batch(model, w));
  }
  save_workloads(model, three, dir.file("wl"));
  EXPECT_EQ(load_workloads(model, dir.file("wl")).size(), 3u);
  save_workloads(model, {three[1]}, dir.file("wl"));
  const auto back = load_workloads(model, dir.file("wl"));
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].tables[4].indices64, three[1].tables[4].indices64);
  save_workloads(model, {three[0], three[2]}, dir.file("wl"));
  EXPECT_EQ(load_workloads(model, dir.file("wl")).size(), 2u);
}

TEST(WorkloadFiles, MismatchesAndDamageAreClearErrors) {
  TempDir dir;
  ModelSpec model = preset_model("criteo-kaggle");
  apply_overrides(model, {.max_rows = 1000});
  WorkloadOptions w;
  w.batch_size = 16;
  save_workload(model, generate_batch(model, w), dir.file("wl"));
  ModelSpec other = model;
  other.tables.pop_back();
  EXPECT_THAT(testing::message_of([&] { load_workload(other, dir.file("wl")); }), HasSubstr("holds 26 tables"));
  other = model;
  other.tables[3].name = "renamed";
  EXPECT_THAT(testing::message_of([&] { load_workload(other, dir.file("wl")); }), HasSubstr("tables[3] is 't03'"));
  const std::string idx = dir.file("wl/t005_indices.npy");
  const std::string bytes = read_bytes(idx);
  write_bytes(idx, bytes.substr(0, bytes.size() - 3));
  EXPECT_THAT(testing::message_of([&] { load_workload(model, dir.file("wl")); }), HasSubstr("t005_indices.npy: truncated"));
  write_bytes(dir.file("wl/workload.json"), "{\"format\": \"embflow-workload\", \"version\": 1}");
  EXPECT_THAT(testing::message_of([&] { load_workload(model, dir.file("wl")); }), HasSubstr("malformed"));
  EXPECT_THAT(testing::message_of([&] { load_workload(model, dir.file("nothing")); }), HasSubstr("cannot open"));
}

TEST(Half, ConversionRoundTripsEveryHalf) {
  for (std::uint32_t h = 0; h < 65536; ++h) {
    const float f = half_to_float(static_cast<std::uint16_t>(h));
    if (f != f) continue;  // NaN payloads
    ASSERT_EQ(float_to_half(f), h) << h;
  }
  EXPECT_EQ(float_to_half(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(float_to_half(1.0f + 0x1.0p-11f), 0x3c00);  // a tie rounds to even
}

}  // namespace
}  // namespace embflow
