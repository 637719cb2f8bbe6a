// A program outside embflow's tree, built against an installed embflow through
// find_package(embflow): it pools a small Criteo-shaped batch with the runner and checks every
// output float against the scalar reference (one-row bags: the same single row, so bit-equal).
#include <cstdio>
#include <vector>

#include "embflow/batch.h"
#include "embflow/kernels.h"
#include "embflow/model.h"
#include "embflow/runner.h"
#include "embflow/table.h"
#include "embflow/workload.h"

int main() {
  using namespace embflow;
  ModelSpec model = preset_model("criteo-kaggle");
  ModelOverrides overrides;
  overrides.max_rows = 1000;
  apply_overrides(model, overrides);
  std::vector<Table> tables;
  std::vector<TableView> views;
  for (const TableSpec& spec : model.tables) tables.push_back(Table::random(spec, 1));
  for (const Table& t : tables) views.push_back(t.view());
  WorkloadOptions w;
  w.batch_size = 64;
  w.seed = 2;
  const Batch batch = generate_batch(model, w);

  const auto width = static_cast<std::size_t>(model.total_dim());
  FloatBuffer out(64 * width), expected(64 * width);
  ModelRunner runner(model, view_pointers(views), std::vector<Flow>(model.tables.size(), Flow::kGather),
                     default_runner_options());
  runner.run(batch, out.data());
  int column = 0;
  for (std::size_t t = 0; t < model.tables.size(); ++t) {
    pooled_lookup_ref(views[t], batch.tables[t].view(), {0, w.batch_size}, {0, views[t].rows},
                      {expected.data() + column, static_cast<std::int64_t>(width)}, KernelOptions{});
    column += model.tables[t].dim;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out.data()[i] != expected.data()[i]) {
      std::printf("consumer: output float %zu is %g, the reference %g\n", i, out.data()[i], expected.data()[i]);
      return 1;
    }
  }
  std::printf("consumer: %zu output floats equal to the reference\n", out.size());
  return 0;
}
