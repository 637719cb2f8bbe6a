// Presets carry the public models' facts; overrides say what they changed.
#include <gmock/gmock.h>

#include "embflow/error.h"
#include "embflow/model.h"

namespace embflow {
namespace {

using ::testing::HasSubstr;

std::int64_t total_rows(const ModelSpec& m) {
  std::int64_t r = 0;
  for (const auto& t : m.tables) r += t.rows;
  return r;
}

TEST(Presets, CriteoKaggle) {
  const ModelSpec m = preset_model("criteo-kaggle");
  ASSERT_EQ(m.tables.size(), 26u);
  EXPECT_EQ(total_rows(m), 33762577);
  EXPECT_EQ(m.tables[2].rows, 10131227);
  for (const auto& t : m.tables) {
    EXPECT_EQ(t.dim, 16);
    EXPECT_EQ(t.bag_size.min, 1);
    EXPECT_EQ(t.bag_size.max, 1);
  }
}

TEST(Presets, DlrmV2IsMultiHot) {
  const ModelSpec m = preset_model("dlrm-v2");
  ASSERT_EQ(m.tables.size(), 26u);
  EXPECT_EQ(total_rows(m), 204184588);
  int lookups = 0;
  for (const auto& t : m.tables) lookups += t.bag_size.min;
  EXPECT_EQ(lookups, 214);
  EXPECT_EQ(m.tables[20].bag_size.min, 100);
  EXPECT_EQ(m.tables[0].dim, 128);
}

TEST(Presets, CriteoTerabyte) {
  const ModelSpec m = preset_model("criteo-terabyte");
  ASSERT_EQ(m.tables.size(), 26u);
  EXPECT_EQ(m.tables[0].dim, 128);
}

TEST(Presets, UnknownNameListsTheKnownOnes) {
  try {
    resolve_model("criteo-kagle");
    FAIL();
  } catch (const InvalidInput& e) {
    EXPECT_THAT(e.what(), HasSubstr("criteo-kaggle, criteo-terabyte, dlrm-v2"));
  }
}

TEST(Overrides, CapRowsAndSayWhich) {
  ModelSpec m = preset_model("criteo-kaggle");
  apply_overrides(m, {.dim = 64, .max_rows = 1000000});
  EXPECT_EQ(m.tables[2].rows, 1000000);
  EXPECT_EQ(m.tables[0].rows, 1460);  // small tables keep their shape
  EXPECT_EQ(m.tables[0].dim, 64);
  std::string notes;
  for (const auto& n : m.notes) notes += n + "\n";
  EXPECT_THAT(notes, HasSubstr("table t02 capped from 10131227 to 1000000 rows"));
  EXPECT_THAT(notes, HasSubstr("dim set to 64"));
}

TEST(Overrides, RejectAnImpossibleDim) {
  ModelSpec m = preset_model("criteo-kaggle");
  EXPECT_THROW(apply_overrides(m, {.dim = 0}), InvalidInput);
}

}  // namespace
}  // namespace embflow
