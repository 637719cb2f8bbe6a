// Set-up shared by the subcommands that time a model: its tables, its batches, and the order in
// which timed runs take the batches.
#pragma once
#include <string>
#include <vector>

#include "embflow/profile.h"
#include "embflow/table.h"
#include "embflow/workload.h"

namespace embflow::cli {

// What the machine's transparent huge pages mean for embflow's tables (MachineInfo::huge_pages),
// with what to do when they are off.
std::string describe_huge_pages(const std::string& mode);

// Random tables from the seed, or DIR/<table name>.npy memory-mapped. Prints how long it took, and
// a note when a table of 2 MiB or more cannot have huge pages (the machine turned them off).
std::vector<Table> make_tables(const ModelSpec& model, const std::string& tables_dir, std::uint64_t seed);

// Distinct batches to use in turn (one batch repeated would find its rows in cache): loaded from
// load_dir, or generated, `count` of them (0: enough to touch 256 MiB of rows); saved to
// save_dir when given. All of one batch size. Prints what it did.
std::vector<Batch> make_batches(const ModelSpec& model, const WorkloadOptions& opt, int count,
                                const std::string& load_dir, const std::string& save_dir);

// Every timed run, of any strategy, takes the next batch in turn: a batch comes back only after
// all the others have been used, so no strategy finds rows that another just pulled into cache.
class BatchRotation {
 public:
  explicit BatchRotation(const std::vector<Batch>& batches) : batches_(batches) {}
  const Batch& next() { return batches_[next_++ % batches_.size()]; }

 private:
  const std::vector<Batch>& batches_;
  std::size_t next_ = 0;
};

// The machine profile a planning command uses: `name_or_path` (a built-in described profile or a
// file); else $EMBFLOW_PROFILE; else, when `may_calibrate`, a quick calibration of this machine
// (said so in the output). Prints which.
MachineProfile resolve_profile(const std::string& name_or_path, bool may_calibrate);

// --check for a whole model's output [B, sum of dims]: every table against exact arithmetic. A
// table outside the tolerance is one line on stderr (prefixed with `what`) and exit code 3.
// Returns whether all passed.
bool check_model_output(const ModelSpec& model, const std::vector<TableView>& views, const Batch& batch, const float* out,
                        const std::string& what);

// Writes `text` to `path`; throws IoError naming `what` ("plan", "chart") and the path.
void write_text_file(const std::string& path, const std::string& text, const std::string& what);

}  // namespace embflow::cli
