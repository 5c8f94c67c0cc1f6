// Memory commands: ingest, process, search, episodes, delete-owner, demo.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "command.h"
#include "nemori/core/error.h"
#include "nemori/core/input_formats.h"
#include "nemori/core/json.h"
#include "nemori/eval/locomo.h"
#include "nemori/memory/memory_system.h"
#include "nemori/storage/factory.h"

namespace nemori::cli {

namespace {

std::unique_ptr<MemorySystem> open_memory(const StorageOption& storage, const LlmOption& llm) {
  return MemorySystem::open(memory_config(storage, llm));
}

// Says on stderr how many raw events of `owner` wait for 'nemori flush', if any.
// "built 14 episodes from 41 raw events", then what the semantic pass and merging did when
// they did anything.
std::string build_summary(const ProcessResult& r) {
  std::string line = "built " + std::to_string(r.episodes) + " episodes from " +
                     std::to_string(r.raw_events) + " raw events";
  if (r.semantic_episodes > 0 || r.statements_added > 0) {
    line += "; " + std::to_string(r.statements_added) + " new statements from " +
            std::to_string(r.semantic_episodes) + " episodes";
  }
  if (r.merges > 0) line += "; " + std::to_string(r.merges) + " episode pairs merged";
  return line;
}

void note_pending(MemorySystem& memory, const std::string& owner, const StorageOption& storage) {
  const std::size_t pending = pending_raw_events(memory.storage(), owner);
  if (pending == 0) return;
  std::string command = "nemori flush --owner " + owner;
  if (!storage.url.empty()) command += " --storage " + mask_password(storage.url);
  std::fprintf(stderr,
               "nemori: note: %zu raw event%s of %s %s not in episodes yet, so search does not "
               "see %s: run '%s' to build them\n",
               pending, pending == 1 ? "" : "s", owner.c_str(), pending == 1 ? "is" : "are",
               pending == 1 ? "it" : "them", command.c_str());
}

SearchMode parse_mode(const std::string& mode) {
  if (mode == "bm25") return SearchMode::kBm25;
  if (mode == "vector") return SearchMode::kVector;
  if (mode == "hybrid") return SearchMode::kHybrid;
  throw ValidationError("--mode", "unknown value \"" + mode + "\" (valid: bm25, vector, hybrid)");
}

// The words of `text` as [begin, end) byte ranges: runs of letters, digits and non-ASCII bytes.
std::vector<std::pair<std::size_t, std::size_t>> word_spans(const std::string& text) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  const auto in_word = [](unsigned char c) { return std::isalnum(c) || c >= 0x80 || c == '\''; };
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !in_word(static_cast<unsigned char>(text[i]))) ++i;
    const std::size_t begin = i;
    while (i < text.size() && in_word(static_cast<unsigned char>(text[i]))) ++i;
    if (i > begin) spans.emplace_back(begin, i);
  }
  return spans;
}

// How the text of a hit is shown: which query terms count and whether to mark them.
struct HitPrinter {
  const Tokenizer& tokenizer;
  std::unordered_set<std::string> terms;  ///< the query's tokens
  bool highlight = false;                 ///< bold the matching words (stdout is a terminal)

  HitPrinter(const Tokenizer& t, const std::string& query) : tokenizer(t) {
    for (auto& term : t.tokenize(query)) terms.insert(std::move(term));
    const char* no_color = std::getenv("NO_COLOR");
    highlight = ::isatty(STDOUT_FILENO) == 1 && (no_color == nullptr || *no_color == '\0');
  }

  // How many distinct query terms `text` holds.
  std::size_t matches(const std::string& text) const { return matched(text).size(); }

  // The distinct query terms in `text`.
  std::unordered_set<std::string> matched(const std::string& text) const {
    std::unordered_set<std::string> seen;
    for (const auto& token : tokenizer.tokenize(text)) {
      if (terms.count(token) != 0) seen.insert(token);
    }
    return seen;
  }

  // The lines that answer the query, in conversation order, at most two: the line of the
  // episode (a message "Speaker: text", else a sentence) that holds the most query terms and,
  // when it lacks some of them, the line that adds the most of them (else the next best match).
  // A question is answered by the message after it, so that reply is shown instead of a
  // question chosen second. A long line is narrowed to its best sentence.
  std::vector<std::string> best_lines(const Episode& e) const {
    std::vector<std::string> lines;
    std::string line;
    for (std::size_t i = 0; i <= e.content.size(); ++i) {
      if (i == e.content.size() || e.content[i] == '\n') {
        if (!line.empty()) lines.push_back(line);
        line.clear();
      } else {
        line += e.content[i];
      }
    }
    if (lines.size() > 1) lines.erase(lines.begin());  // the "On DATE, A talked with B." frame
    if (lines.empty()) return {e.summary};
    std::vector<std::unordered_set<std::string>> found;
    for (const auto& l : lines) found.push_back(matched(l));
    std::size_t best = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (found[i].size() > found[best].size()) best = i;
    }
    std::vector<std::size_t> picks{best};
    if (found[best].size() < terms.size()) {
      std::size_t second = lines.size(), second_new = 0, second_score = 0;
      for (std::size_t i = 0; i < lines.size(); ++i) {
        if (i == best || found[i].empty()) continue;
        std::size_t added = 0;
        for (const auto& t : found[i]) added += found[best].count(t) == 0 ? 1 : 0;
        if (second == lines.size() || added > second_new ||
            (added == second_new && found[i].size() > second_score)) {
          second = i, second_new = added, second_score = found[i].size();
        }
      }
      if (second < lines.size()) {
        const bool question = !lines[second].empty() && lines[second].back() == '?';
        if (question && second + 1 < lines.size()) ++second;
        if (second != best) picks.push_back(second);
      }
    }
    std::sort(picks.begin(), picks.end());
    std::vector<std::string> shown;
    for (const std::size_t i : picks) shown.push_back(narrowed(lines[i]));
    return shown;
  }

  // A line of at most about 220 bytes: a long one keeps "Speaker: " and its sentence with the
  // most query terms.
  std::string narrowed(std::string chosen) const {
    constexpr std::size_t kLong = 220;
    if (chosen.size() <= kLong) return chosen;
    std::string speaker;
    if (const auto colon = chosen.find(": "); colon != std::string::npos && colon < 40) {
      speaker = chosen.substr(0, colon + 2);
      chosen = chosen.substr(colon + 2);
    }
    std::vector<std::string> sentences;
    std::size_t from = 0;
    for (std::size_t i = 0; i < chosen.size(); ++i) {
      const char c = chosen[i];
      if ((c == '.' || c == '!' || c == '?') && (i + 1 == chosen.size() || chosen[i + 1] == ' ')) {
        sentences.push_back(chosen.substr(from, i + 1 - from));
        from = i + 2;
      }
    }
    if (from < chosen.size()) sentences.push_back(chosen.substr(from));
    std::size_t pick = 0, pick_score = 0;
    for (std::size_t i = 0; i < sentences.size(); ++i) {
      const std::size_t score = matches(sentences[i]);
      if (score > pick_score) pick = i, pick_score = score;
    }
    std::string sentence = sentences.empty() ? chosen : sentences[pick];
    if (sentence.size() > kLong) sentence = sentence.substr(0, kLong) + "...";
    return speaker + (pick > 0 ? "... " : "") + sentence;
  }

  // `text` with each word that matches a query term in bold (on a terminal only).
  std::string marked(const std::string& text) const {
    if (!highlight || terms.empty()) return text;
    std::string out;
    std::size_t last = 0;
    for (const auto& [begin, end] : word_spans(text)) {
      const std::string word = text.substr(begin, end - begin);
      bool hit = false;
      for (const auto& token : tokenizer.tokenize(word)) hit = hit || terms.count(token) != 0;
      if (!hit) continue;
      out += text.substr(last, begin - last) + "\033[1;33m" + word + "\033[0m";
      last = end;
    }
    return out + text.substr(last);
  }
};

// "2025-03-09 09:30 UTC" for an episode's start.
std::string short_time(Timestamp t) {
  std::string iso = format_iso8601(t);  // 2025-03-09T09:30:00.000000+00:00
  if (iso.size() < 16) return iso;
  iso[10] = ' ';
  return iso.substr(0, 16) + " UTC";
}

// Prints hits as text (one block per episode: time, title, the best-matching lines with the
// query's terms marked on a terminal) or JSON.
void print_hits(const MemorySearchResponse& response, bool as_json, const Tokenizer& tokenizer,
                const std::string& query) {
  if (as_json) {
    nlohmann::json hits = nlohmann::json::array();
    for (const auto& h : response.hits) {
      hits.push_back({{"episode", to_json(h.episode)},
                      {"score", h.score},
                      {"bm25_score", h.bm25_score},
                      {"vector_score", h.vector_score},
                      {"raw_event_ids", h.raw_event_ids},
                      {"neighbour", h.neighbour}});
    }
    nlohmann::json statements = nlohmann::json::array();
    for (const auto& h : response.statements) {
      statements.push_back({{"statement", to_json(h.statement)},
                            {"score", h.score},
                            {"current", h.current},
                            {"words", h.words}});
    }
    std::printf("%s\n", nlohmann::json{{"hits", hits},
                                       {"words", response.words},
                                       {"statements", statements},
                                       {"statement_words", response.statement_words},
                                       {"took_ms", response.took_ms}}
                             .dump(2)
                             .c_str());
    return;
  }
  if (response.hits.empty()) std::printf("  (no episode matches)\n");
  const HitPrinter printer(tokenizer, query);
  for (std::size_t i = 0; i < response.hits.size(); ++i) {
    const auto& h = response.hits[i];
    std::string shown;
    for (const auto& line : printer.best_lines(h.episode)) {
      shown += "     " + printer.marked(line) + "\n";
    }
    std::printf("  %zu. %s  %s  [%.3f]%s\n%s     (%zu raw events)\n", i + 1,
                short_time(h.episode.temporal_info.timestamp).c_str(), h.episode.title.c_str(),
                h.score, h.neighbour ? " (neighbour)" : "", shown.c_str(), h.raw_event_ids.size());
  }
  if (response.statements.empty()) return;
  std::printf("statements:\n");
  for (const auto& h : response.statements) {
    const Statement& st = h.statement;
    const std::string until =
        st.valid_to ? format_iso8601(*st.valid_to).substr(0, 10) : std::string("now");
    std::printf("  - [%s … %s] %s  [%.3f]\n", format_iso8601(st.valid_from).substr(0, 10).c_str(),
                until.c_str(), st.content.c_str(), h.score);
  }
}

// True when `path` holds LoCoMo JSON (by its shape; a malformed conversation is then reported
// by read_locomo_files). False when it cannot be read or parsed: read_records_file reports it.
bool is_locomo_file(const std::string& path) {
  std::string text;
  try {
    text = read_text_file(path);
  } catch (const Error&) {
    return false;
  }
  if (text.find("\"conversation\"") == std::string::npos) return false;
  try {
    return is_locomo(parse_json(text, path));
  } catch (const Error&) {
    return false;
  }
}

// What the files of one `ingest` hold, read and checked, nothing written yet.
struct IngestInput {
  std::vector<Message> messages;
  std::vector<RawEvent> events;
  // Where each record came from, in the order MemorySystem::add() stores them: messages, then
  // events ("PATH:LINE").
  std::vector<std::string> message_places, event_places;
};

// One LoCoMo conversation to ingest: its owner and messages.
struct LocomoOwner {
  std::string owner;
  std::string file;
  std::vector<Message> messages;
};

// Reads every LoCoMo file: one owner per conversation, named by its sample_id, after
// "PREFIX:" when --owner is given. Throws ValidationError naming the file (nothing stored).
std::vector<LocomoOwner> read_locomo_files(const std::vector<std::string>& paths,
                                           const std::string& prefix) {
  std::vector<LocomoOwner> out;
  std::unordered_map<std::string, std::string> seen;  // owner -> file
  for (const auto& path : paths) {
    for (const auto& conv : load_locomo(path)) {
      if (conv.sample_id.empty()) {
        throw ValidationError(path +
                              ": a conversation has no sample_id (it names the owner); "
                              "nothing was stored");
      }
      LocomoOwner o{prefix.empty() ? conv.sample_id : prefix + ":" + conv.sample_id, path,
                    conv.messages()};
      if (const auto [it, fresh] = seen.emplace(o.owner, path); !fresh) {
        throw ValidationError(path + ": sample_id \"" + conv.sample_id +
                              "\" appears twice (also in " + it->second + "); nothing was stored");
      }
      out.push_back(std::move(o));
    }
  }
  return out;
}

// Reads and checks every file before anything is stored. Each problem is printed as
// "PATH:LINE: reason"; when there is any, throws ValidationError (nothing was stored).
IngestInput read_ingest_files(const std::vector<std::string>& paths, const std::string& owner) {
  IngestInput input;
  std::size_t problems = 0;
  std::vector<std::string> bad_files;
  const auto report = [&](const std::string& path, const std::string& place,
                          const std::string& message) {
    std::fprintf(stderr, "%s: %s\n", place.c_str(), message.c_str());
    ++problems;
    if (bad_files.empty() || bad_files.back() != path) bad_files.push_back(path);
  };
  std::unordered_map<std::string, std::string> raw_places;  // data_id -> "PATH:LINE"
  bool record_problems = false;
  for (const auto& path : paths) {
    InputFile file;
    try {
      file = read_records_file(path);
    } catch (const ValidationError& e) {  // cannot be read
      std::fprintf(stderr, "%s\n", e.what());
      ++problems;
      bad_files.push_back(path);
      continue;
    }
    record_problems = record_problems || !file.errors.empty();
    for (const auto& e : file.errors) report(path, path + ":" + std::to_string(e.line), e.message);
    for (const auto& r : file.records) {
      const std::string place = path + ":" + std::to_string(r.line);
      if (r.kind == RecordKind::kMessage) {
        input.messages.push_back(std::get<Message>(r.value));
        input.message_places.push_back(place);
      } else if (r.kind == RecordKind::kRawEvent) {
        RawEvent e = std::get<RawEvent>(r.value);
        if (e.owner_id.empty()) e.owner_id = owner;
        if (e.owner_id != owner) {
          report(path, place,
                 "raw_event.owner_id: \"" + e.owner_id + "\" is not the --owner \"" + owner +
                     "\" the files are ingested for (ingest it with --owner " + e.owner_id +
                     ", or drop owner_id to store it under --owner)");
          continue;
        }
        try {
          validate(e);
        } catch (const ValidationError& err) {
          report(path, place, std::string("raw_event.") + err.what());
          continue;
        }
        const auto [it, fresh] = raw_places.emplace(e.data_id, place);
        if (!fresh) {
          report(path, place,
                 "raw_event.data_id: \"" + e.data_id + "\" appears twice (first at " + it->second +
                     ")");
          continue;
        }
        input.events.push_back(std::move(e));
        input.event_places.push_back(place);
      } else {
        report(path, place, "episodes are restored with 'nemori import', not ingested");
      }
    }
  }
  if (problems > 0) {
    std::string files;
    for (const auto& f : bad_files) files += (files.empty() ? "" : ", ") + f;
    throw ValidationError(std::to_string(problems) + (problems == 1 ? " problem" : " problems") +
                          " in " + files +
                          "; nothing was stored (the files of one ingest are "
                          "stored together or not at all" +
                          (record_problems ? "; run 'nemori validate FILE')" : ")"));
  }
  return input;
}

// Rethrows a storage failure of the one ingest transaction with what it means: nothing of any
// file was stored; an "item N" is turned into the file and line of that record.
[[noreturn]] void rethrow_store_error(const Error& e, const IngestInput& input) {
  std::string message = e.what();
  std::size_t item = 0;
  if (std::sscanf(message.c_str(), "item %zu: ", &item) == 1) {
    const std::string* place = nullptr;
    if (item < input.message_places.size()) {
      place = &input.message_places[item];
    } else if (item - input.message_places.size() < input.event_places.size()) {
      place = &input.event_places[item - input.message_places.size()];
    }
    if (place != nullptr) message = *place + ": " + message.substr(message.find(": ") + 2);
  }
  if (message.find("nothing was stored") == std::string::npos)
    message += "; nothing was stored (the files of one ingest are one transaction)";
  switch (e.kind()) {
    case ErrorKind::kDuplicate:
      throw DuplicateError(message);
    case ErrorKind::kValidation:
      throw ValidationError(message);
    case ErrorKind::kNotFound:
      throw NotFoundError(message);
    case ErrorKind::kConfig:
      throw ConfigError(message);
    default:
      throw StorageError(message);
  }
}

// Stores what read_ingest_files() read, in one transaction; returns how many of the records
// were stored already (and skipped).
std::size_t store_ingest_input(MemorySystem& memory, const IngestInput& input,
                               const std::string& owner, const std::string& source) {
  try {
    return memory.add(owner, input.messages, input.events, source).already_stored;
  } catch (const Error& e) {
    rethrow_store_error(e, input);
  }
}

// The line `ingest` prints once the records are committed, flushed at once so that it is out
// even when the process is killed later (while closing the store, or processing).
void print_stored(const IngestInput& input, const std::string& owner, std::size_t already) {
  const std::size_t total = input.messages.size() + input.events.size();
  std::printf(
      "stored %zu records for %s (%zu messages, %zu raw events): %zu new, %zu already "
      "stored\n",
      total, owner.c_str(), input.messages.size(), input.events.size(), total - already, already);
  std::fflush(stdout);
}

// Stores LoCoMo conversations, one owner and one transaction each (a re-run skips what is
// stored already), building their episodes when asked. A bar on a terminal, a line per
// conversation otherwise, and a summary.
template <typename Options>
void ingest_locomo(MemorySystem& memory, const std::vector<LocomoOwner>& conversations,
                   const Options& o) {
  const bool bar = stderr_is_terminal();
  std::size_t messages = 0, fresh = 0;
  ProcessResult built;
  for (std::size_t i = 0; i < conversations.size(); ++i) {
    const LocomoOwner& c = conversations[i];
    std::size_t already = 0;
    try {
      already = memory.add(c.owner, c.messages, {}, o.source.empty() ? "locomo" : o.source)
                    .already_stored;
    } catch (const Error& e) {
      throw StorageError(c.file + ": conversation " + c.owner + ": " + e.what() + " (" +
                         std::to_string(i) + " of " + std::to_string(conversations.size()) +
                         " conversations were stored before it; run the same ingest again to "
                         "store the rest)");
    }
    messages += c.messages.size();
    fresh += c.messages.size() - already;
    std::string line = "stored " + c.owner + ": " + std::to_string(c.messages.size()) +
                       " messages, " + std::to_string(c.messages.size() - already) + " new";
    if (o.process) {
      const auto r = memory.process(c.owner);
      built.raw_events += r.raw_events;
      built.episodes += r.episodes;
      built.semantic_episodes += r.semantic_episodes;
      built.statements_added += r.statements_added;
      built.merges += r.merges;
      line += ", built " + std::to_string(r.episodes) + " episodes";
    }
    if (bar) {
      show_progress("conversations", i + 1, conversations.size());
    } else {
      std::printf("%s\n", line.c_str());
      std::fflush(stdout);
    }
  }
  const auto count = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  const std::string owners =
      conversations.size() == 1 ? conversations.front().owner
                                : conversations.front().owner + " .. " + conversations.back().owner;
  std::printf("ingested %s (%s): %s, %zu new, %zu already stored\n",
              count(conversations.size(), "conversation").c_str(), owners.c_str(),
              count(messages, "message").c_str(), fresh, messages - fresh);
  if (o.process) {
    std::printf("%s\n", build_summary(built).c_str());
  } else if (!is_ephemeral(o.storage.resolved())) {
    std::size_t pending = 0;
    for (const auto& c : conversations) pending += pending_raw_events(memory.storage(), c.owner);
    if (pending > 0) {
      std::string command = "nemori flush";
      if (!o.storage.url.empty()) command += " --storage " + mask_password(o.storage.url);
      std::fprintf(stderr,
                   "nemori: note: %s of %s %s not in episodes yet, so search does not see "
                   "them: run '%s' to build them\n",
                   count(pending, "raw event").c_str(), owners.c_str(), pending == 1 ? "is" : "are",
                   command.c_str());
    }
  }
}

}  // namespace

void register_memory_commands(CLI::App& app) {
  {
    struct Options {
      StorageOption storage;
      LlmOption llm;
      std::vector<std::string> files;
      std::string owner;
      std::string source;
      bool process = false;
      std::vector<std::string> record_files, locomo_files;  // the files, sorted by kind
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "ingest",
        "Store messages or raw events from JSON/JSONL files for one owner, or LoCoMo files "
        "(one owner per conversation)");
    add_storage_option(*cmd, o->storage);
    add_llm_options(*cmd, o->llm);
    cmd->add_option("files", o->files, "Files to ingest (see docs/formats.md)")->required();
    cmd->add_option("--owner", o->owner,
                    "Owner (tenant) of the data; required for JSON/JSONL files. For LoCoMo files "
                    "a prefix: --owner x stores conversation conv-26 as owner x:conv-26 "
                    "(default: the sample_id alone)")
        ->check(owner_id_check());
    cmd->add_option("--source", o->source, "Source label stored with each event");
    cmd->add_flag("--process", o->process,
                  "Build episodes right after storing (else 'nemori flush' builds them)");
    cmd->parse_complete_callback([o] {
      o->record_files.clear();
      o->locomo_files.clear();
      for (const auto& f : o->files)
        (is_locomo_file(f) ? o->locomo_files : o->record_files).push_back(f);
      if (o->owner.empty() && !o->record_files.empty()) {
        throw CLI::ValidationError("--owner",
                                   "is required for JSON/JSONL files (" + o->record_files.front() +
                                       "); only LoCoMo files name their owners (by sample_id)");
      }
    });
    set_action(*cmd, [o]() -> int {
      // Every file is read and checked before the store is opened; JSON/JSONL files are then
      // stored in one transaction, each LoCoMo conversation in one of its own.
      const IngestInput input =
          o->record_files.empty() ? IngestInput{} : read_ingest_files(o->record_files, o->owner);
      const std::vector<LocomoOwner> conversations = read_locomo_files(o->locomo_files, o->owner);
      const MemoryConfig config = memory_config(o->storage, o->llm);
      auto memory = MemorySystem::open(config);
      if (!o->record_files.empty()) {
        const std::size_t already = store_ingest_input(*memory, input, o->owner, o->source);
        print_stored(input, o->owner, already);
        if (o->process) {
          const auto r = memory->process(o->owner);
          std::printf("%s\n", build_summary(r).c_str());
        } else if (!is_ephemeral(o->storage.resolved())) {
          note_pending(*memory, o->owner, o->storage);
        }
      }
      if (!conversations.empty()) ingest_locomo(*memory, conversations, *o);
      print_llm_usage(config.llm);
      note_if_ephemeral(o->storage.resolved(), "what was stored");
      return 0;
    });
  }
  {
    struct Options {
      StorageOption storage;
      LlmOption llm;
      std::string owner;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "flush",
        "Build episodes from what is pending: raw events not in an episode yet (one owner, or "
        "all)");
    cmd->alias("process");
    add_storage_option(*cmd, o->storage);
    add_llm_options(*cmd, o->llm);
    cmd->add_option("--owner", o->owner, "Only this owner (default: every owner)")
        ->check(owner_id_check());
    set_action(*cmd, [o]() -> int {
      const MemoryConfig config = memory_config(o->storage, o->llm);
      auto memory = MemorySystem::open(config);
      const auto r = o->owner.empty() ? memory->process_all() : memory->process(o->owner);
      std::printf("%s\n", build_summary(r).c_str());
      print_llm_usage(config.llm);
      return 0;
    });
  }
  {
    struct Options {
      StorageOption storage;
      LlmOption llm;
      std::string owner, query, mode;
      std::size_t limit = 5, neighbours = 0, budget = 0, statements = 5;
      std::string as_of;
      bool json = false, messages = false, history = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("search", "Find an owner's episodes for a query");
    add_storage_option(*cmd, o->storage);
    add_llm_options(*cmd, o->llm);
    cmd->add_option("query", o->query, "What to look for")->required();
    cmd->add_option("--owner", o->owner, "Owner to search")->required()->check(owner_id_check());
    cmd->add_option("-k,--limit", o->limit, "Episodes to return (at least 1)")
        ->check(at_least_one());
    cmd->add_option("--mode", o->mode,
                    "bm25, vector or hybrid (default: hybrid with an embedding model, else bm25)")
        ->check(one_of({"bm25", "vector", "hybrid"}));
    cmd->add_option("--neighbours", o->neighbours, "Add N episodes before/after each hit");
    cmd->add_option("--budget", o->budget, "Word budget of the whole result (0 = none)");
    cmd->add_flag("--messages", o->messages, "Search raw messages instead of episodes");
    cmd->add_option("--statements", o->statements,
                    "Statements (semantic memory) shown under the episodes (0 = none)");
    cmd->add_option("--as-of", o->as_of, "Statements true at this date or time (ISO 8601)");
    cmd->add_flag("--history", o->history, "Superseded statements too");
    cmd->add_flag("--json", o->json, "Print JSON");
    set_action(*cmd, [o]() -> int {
      auto memory = open_memory(o->storage, o->llm);
      if (!o->mode.empty() && o->mode != "bm25" && !memory->retrieval().options().embedder)
        return embedding_model_required("--mode " + o->mode);
      if (o->messages) {
        for (const auto& h : memory->search_messages(o->owner, o->query, o->limit)) {
          // Any kind of raw event the index holds, not only conversation messages.
          const Message m = message_of(h.event);
          std::printf("[%.3f] %s %s: %s\n", h.score,
                      format_iso8601(m.timestamp.value_or(h.event.temporal_info.timestamp)).c_str(),
                      m.speaker_label().c_str(), m.content.c_str());
        }
        return 0;
      }
      MemorySearchRequest request;
      request.owner_id = o->owner;
      request.query = o->query;
      request.limit = o->limit;
      if (!o->mode.empty()) request.mode = parse_mode(o->mode);
      request.neighbours = o->neighbours;
      request.word_budget = o->budget;
      request.statement_limit = o->statements;
      request.include_superseded = o->history;
      if (!o->as_of.empty()) {
        std::string problem;
        const auto t = parse_iso8601(o->as_of, problem);
        if (!t) throw ValidationError("--as-of", problem);
        request.as_of = *t;
      }
      print_hits(memory->search(request), o->json, memory->tokenizer(), o->query);
      note_pending(*memory, o->owner, o->storage);
      return 0;
    });
  }
  {
    struct Options {
      StorageOption storage;
      LlmOption llm;
      std::string owner;
      std::size_t limit = 20, offset = 0;
      bool json = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand("episodes", "List an owner's episodes, newest first");
    add_storage_option(*cmd, o->storage);
    add_llm_options(*cmd, o->llm);
    cmd->add_option("--owner", o->owner, "Owner")->required()->check(owner_id_check());
    cmd->add_option("-n,--limit", o->limit, "How many (at least 1)")->check(at_least_one());
    cmd->add_option("--offset", o->offset, "Skip this many (below the owner's episode count)");
    cmd->add_flag("--json", o->json, "Print JSONL, one episode a line");
    set_action(*cmd, [o]() -> int {
      auto memory = open_memory(o->storage, o->llm);
      const auto page = memory->list_episodes(o->owner, o->limit, o->offset);
      if (page.empty()) {
        EpisodeQuery query;
        query.owner_ids = {o->owner};
        query.limit = 0;
        const std::size_t total = memory->storage().episodes().search(query).total_count;
        if (o->offset > 0 && total > 0 && o->offset >= total) {
          throw ValidationError("--offset", std::to_string(o->offset) +
                                                " is past the end: " + o->owner + " has " +
                                                std::to_string(total) + " episodes (use an " +
                                                "offset below " + std::to_string(total) + ")");
        }
        if (!o->json) std::printf("(no episodes of %s)\n", o->owner.c_str());
        note_pending(*memory, o->owner, o->storage);
      }
      for (const auto& e : page) {
        if (o->json) {
          std::printf("%s\n", to_json(e).dump().c_str());
        } else {
          std::printf("%s  %s\n", format_iso8601(e.temporal_info.timestamp).c_str(),
                      e.title.c_str());
        }
      }
      return 0;
    });
  }
  {
    struct Options {
      StorageOption storage;
      LlmOption llm;
      std::string owner;
      bool purge = false;
    };
    auto o = std::make_shared<Options>();
    auto* cmd =
        app.add_subcommand("delete-owner", "Delete every raw event, episode and link of one owner");
    add_storage_option(*cmd, o->storage);
    add_llm_options(*cmd, o->llm);
    cmd->add_option("owner", o->owner, "Owner to delete")->required()->check(owner_id_check());
    cmd->add_flag("--purge", o->purge,
                  "PostgreSQL: also VACUUM FULL the tables so no file keeps the deleted text "
                  "(DuckDB files are always rewritten)");
    set_action(*cmd, [o]() -> int {
      auto memory = open_memory(o->storage, o->llm);
      const auto d = memory->delete_owner(o->owner);
      std::printf("deleted %zu raw events, %zu episodes, %zu links of %s\n", d.raw_events,
                  d.episodes, d.links, o->owner.c_str());
      std::fflush(stdout);
      // Forgetting is real: the deleted content must not stay readable in the store's files.
      if (memory->storage().backend() == "duckdb" || o->purge) {
        const PurgeReport p = memory->storage().purge();
        if (!p.method.empty()) {
          std::printf("erased: %s (%.1f MiB -> %.1f MiB, %.2f s)\n", p.method.c_str(),
                      static_cast<double>(p.bytes_before) / 1048576.0,
                      static_cast<double>(p.bytes_after) / 1048576.0, p.seconds);
        }
        if (!p.incomplete.empty()) {
          std::fprintf(stderr, "nemori: erasure incomplete: %s\n", p.incomplete.c_str());
          return 1;
        }
      }
      return 0;
    });
  }
  {
    struct Options {
      StorageOption storage;
      LlmOption llm;
      std::string file = "data/samples/maya.jsonl";
      std::string owner = "maya";
      std::vector<std::string> queries = {
          "What is the dog called and where is he from?", "pottery class teacher",
          "When does Maya start the new job?", "Lisbon birthday dinner"};
    };
    auto o = std::make_shared<Options>();
    auto* cmd = app.add_subcommand(
        "demo", "Ingest a sample conversation, build its episodes and answer a few queries");
    add_storage_option(*cmd, o->storage);
    add_llm_options(*cmd, o->llm);
    cmd->add_option("--file", o->file, "Conversation to ingest (JSONL of messages)");
    cmd->add_option("--owner", o->owner, "Owner to use (its previous data is replaced)")
        ->check(owner_id_check());
    cmd->add_option("--query", o->queries, "Queries to run (repeatable)");
    set_action(*cmd, [o]() -> int {
      if (!std::filesystem::exists(o->file)) {
        throw ValidationError(o->file +
                              ": no such file (run the demo from the repository root "
                              "or pass --file)");
      }
      const MemoryConfig config = memory_config(o->storage, o->llm);
      auto memory = MemorySystem::open(config);
      std::printf("storage: %s\n", mask_password(o->storage.resolved()).c_str());
      const auto removed = memory->delete_owner(o->owner);
      if (removed.raw_events + removed.episodes > 0) {
        std::printf("replaced the previous demo data of %s\n", o->owner.c_str());
      }
      const auto t0 = std::chrono::steady_clock::now();
      const IngestInput input = read_ingest_files({o->file}, o->owner);
      store_ingest_input(*memory, input, o->owner, "demo");
      const std::size_t stored = input.messages.size() + input.events.size();
      const auto processed = memory->process(o->owner);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      std::printf("ingested %zu messages from %s and built %zu episodes in %.1f ms\n\n", stored,
                  o->file.c_str(), processed.episodes, ms);
      std::printf("episodes of %s:\n", o->owner.c_str());
      auto episodes = memory->list_episodes(o->owner, 100, 0);
      std::reverse(episodes.begin(), episodes.end());
      for (const auto& e : episodes) std::printf("  - %s\n", e.title.c_str());
      for (const auto& q : o->queries) {
        MemorySearchRequest request;
        request.owner_id = o->owner;
        request.query = q;
        request.limit = 2;
        const auto response = memory->search(request);
        std::printf("\nquery: %s  (%.2f ms)\n", q.c_str(), response.took_ms);
        print_hits(response, false, memory->tokenizer(), q);
      }
      const auto stats = memory->storage().stats();
      std::printf("\nstore: %zu raw events, %zu episodes, %zu links\n", stats.total_raw_data,
                  stats.total_episodes, stats.total_links);
      print_llm_usage(config.llm);  // nothing in the LLM-free mode
      return 0;
    });
  }
}

}  // namespace nemori::cli
