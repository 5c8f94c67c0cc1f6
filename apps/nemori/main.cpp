// The `nemori` command: ingest, search, evaluate and operate an episodic memory store.
//
// Exit codes: 0 success, 1 runtime error (bad data, unreachable backend...), 2 usage error.
// Errors are printed on stderr as one line starting with "nemori: error: ".
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "command.h"
#include "nemori/core/error.h"

int main(int argc, char** argv) {
  CLI::App app{
      "nemori: episodic memory for LLM agents. Stores what an agent lives through, "
      "cuts it into episodes and finds them again.",
      "nemori"};
  app.set_version_flag("--version", std::string("nemori ") + NEMORI_VERSION);
  app.require_subcommand(1);
  app.fallthrough(false);
  nemori::cli::register_validate(app);
  nemori::cli::register_storage_commands(app);
  nemori::cli::register_memory_commands(app);
  nemori::cli::register_eval(app);
  nemori::cli::register_bench(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "nemori: usage error: %s\nRun 'nemori --help' for usage.\n", e.what());
    return 2;
  }
  try {
    auto& action = nemori::cli::chosen_action();
    return action ? action() : 0;
  } catch (const nemori::Error& e) {
    std::fprintf(stderr, "nemori: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nemori: error: %s\n", e.what());
    return 1;
  }
}
