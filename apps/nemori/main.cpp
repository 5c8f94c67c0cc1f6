// The `nemori` command: ingest, search, evaluate and operate an episodic memory store.
//
// Exit codes: 0 success, 1 runtime error (bad data, unreachable backend...), 2 usage error.
// Errors are printed on stderr as one line starting with "nemori: error: ".
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "command.h"
#include "nemori/core/error.h"

namespace {

// The message on one line: each line break, with the white space around it, becomes "; "
// (libpq and other libraries report over several lines).
std::string one_line(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n' || c == '\r') {
      while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
      while (i < text.size() && std::string_view(" \t\r\n").find(text[i]) != std::string_view::npos)
        ++i;
      if (i < text.size() && !out.empty()) out += "; ";
      continue;
    }
    out += c == '\t' ? ' ' : c;
    ++i;
  }
  return out;
}

// The names of a command's subcommands, comma-separated.
std::string subcommand_names(CLI::App& app) {
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  return names;
}

// The first word of argv that should name a subcommand but names none ("nemori frobnicate",
// "nemori eval frob"); empty when every such word is known. The command it belongs to is
// stored in `parent`.
std::string unknown_subcommand(CLI::App& app, int argc, char** argv, CLI::App*& parent) {
  CLI::App* current = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return {};
    if (current->get_subcommands([](CLI::App*) { return true; }).empty()) return {};
    CLI::App* next = nullptr;
    try {
      next = current->get_subcommand(word);
    } catch (const CLI::OptionNotFound&) {
      parent = current;
      return word;
    }
    current = next;
  }
  return {};
}

// The deepest subcommand parsed (`app` when none was); its path ("nemori eval") in `path`.
CLI::App* deepest_parsed(CLI::App& app, std::string& path) {
  path = "nemori";
  CLI::App* current = &app;
  for (;;) {
    const auto parsed = current->get_subcommands();
    if (parsed.empty()) return current;
    current = parsed.front();
    path += " " + current->get_name();
  }
}

}  // namespace

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
  nemori::cli::register_facts(app);
  nemori::cli::register_eval(app);
  nemori::cli::register_bench(app);
  nemori::cli::register_serve(app);
  nemori::cli::register_mcp(app);
  nemori::cli::register_reembed(app);
  CLI::App* parent = nullptr;
  if (const std::string word = unknown_subcommand(app, argc, argv, parent); !word.empty()) {
    const std::string where = parent == &app ? "nemori" : "nemori " + parent->get_name();
    std::fprintf(stderr,
                 "nemori: usage error: unknown command \"%s\" (%s has: %s; run '%s --help')\n",
                 word.c_str(), where.c_str(), subcommand_names(*parent).c_str(), where.c_str());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string path;
    CLI::App* command = deepest_parsed(app, path);
    std::string message = e.what();
    if (message == "A subcommand is required") {
      message = "'" + path + "' needs a command: " + subcommand_names(*command);
    }
    std::fprintf(stderr, "nemori: usage error: %s (run '%s --help')\n", one_line(message).c_str(),
                 path.c_str());
    return 2;
  }
  try {
    auto& action = nemori::cli::chosen_action();
    return action ? action() : 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nemori: error: %s\n", one_line(e.what()).c_str());
    return 1;
  }
}
