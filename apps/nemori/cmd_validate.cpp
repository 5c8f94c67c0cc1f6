// `nemori validate FILE`: checks a file of messages, raw events or episodes.
#include <cstdio>

#include "command.h"
#include "nemori/core/input_formats.h"
#include "nemori/core/json.h"
#include "nemori/eval/locomo.h"

namespace nemori::cli {

void register_validate(CLI::App& app) {
  struct Options {
    std::string file;
    std::string kind;
    bool quiet = false;
  };
  auto options = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "validate",
      "Check a JSON, JSONL or LoCoMo file of messages, raw events or episodes; report each bad "
      "record with its line number. Exit 0 when every record is valid, 1 otherwise.");
  cmd->add_option("file", options->file, "File to check")->required();
  cmd->add_option("--kind", options->kind, "Force the record kind: message, raw_event, episode");
  cmd->add_flag("-q,--quiet", options->quiet, "Print only the errors");
  set_action(*cmd, [options]() -> int {
    std::optional<RecordKind> kind;
    if (!options->kind.empty()) kind = parse_record_kind(options->kind);
    const std::string text = read_text_file(options->file);
    // A LoCoMo file is one JSON document with its own structure.
    if (!kind && !text.empty() && text.find("\"conversation\"") != std::string::npos) {
      try {
        auto j = parse_json(text, options->file);
        if (is_locomo(j)) {
          const auto conversations = parse_locomo(j);
          std::size_t turns = 0, questions = 0;
          for (const auto& c : conversations) {
            turns += c.messages().size();
            questions += c.questions.size();
          }
          if (!options->quiet) {
            std::printf("%s: locomo, %zu conversations, %zu messages, %zu questions: all valid\n",
                        options->file.c_str(), conversations.size(), turns, questions);
          }
          return 0;
        }
      } catch (const JsonParseError&) {
        // Fall through to the generic reader, which reports the error with its line.
      }
    }
    const InputFile file = read_records(text, kind);
    for (const auto& error : file.errors) {
      std::fprintf(stderr, "%s:%zu: %s\n", options->file.c_str(), error.line,
                   error.message.c_str());
    }
    if (!options->quiet) {
      std::size_t counts[3] = {0, 0, 0};
      for (const auto& r : file.records) ++counts[static_cast<int>(r.kind)];
      std::printf("%s: %s, %zu valid (%zu messages, %zu raw events, %zu episodes), %zu invalid\n",
                  options->file.c_str(), file.format.c_str(), file.records.size(), counts[0],
                  counts[1], counts[2], file.errors.size());
    }
    return file.errors.empty() ? 0 : 1;
  });
}

}  // namespace nemori::cli
