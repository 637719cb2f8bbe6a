// The subcommands. Each registers itself on the app; its callback runs after parsing.
#pragma once
#include <CLI/CLI.hpp>

namespace embflow::cli {

void register_info(CLI::App& app);
void register_run(CLI::App& app);
void register_bench(CLI::App& app);
void register_compare(CLI::App& app);
void register_calibrate(CLI::App& app);
void register_plan(CLI::App& app);
void register_simulate(CLI::App& app);

// Non-zero when a subcommand found a problem it reported itself (e.g. a failed --check).
int exit_code();
void set_exit_code(int code);

}  // namespace embflow::cli
