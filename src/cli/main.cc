// embflow: the command-line front end. One file per subcommand (cmd_*.cc).
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "embflow/error.h"

int main(int argc, char** argv) {
  CLI::App app{"embflow: embedding look-ups for DLRM inference, with the paper's four data flows"};
  app.require_subcommand(1);
  embflow::cli::register_info(app);
  embflow::cli::register_run(app);
  embflow::cli::register_bench(app);
  embflow::cli::register_compare(app);
  embflow::cli::register_calibrate(app);
  embflow::cli::register_plan(app);
  embflow::cli::register_simulate(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const embflow::Error& e) {
    std::fprintf(stderr, "embflow: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "embflow: internal error: %s\n", e.what());
    return 2;
  }
  return embflow::cli::exit_code();
}
