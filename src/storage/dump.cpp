#include "nemori/storage/dump.h"

#include <algorithm>
#include <cstdlib>
#include <istream>
#include <limits>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/core/sha256.h"
#include "nemori/core/statement.h"
#include "nemori/core/time.h"
#include "storage/record_validation.h"

namespace nemori {

namespace {

using nlohmann::json;

constexpr std::string_view kFormat = "nemori-dump";
constexpr std::int64_t kVersion = 3;
// The version before statements, sources and progress: still restored (with checksums).
constexpr std::int64_t kVersionWithoutStatements = 2;
// The last version without checksums, still read when verification is turned off.
constexpr std::int64_t kUnverifiedVersion = 1;
// Every line of a version 2 or 3 dump ends with this field: the SHA-256 of the text before it.
constexpr std::string_view kLineCheck = R"(,"sha256":")";
// Rows per search page while listing what to dump.
constexpr std::size_t kListPage = 5000;
// Records per read while writing a dump.
constexpr std::size_t kWriteBatch = 1000;

// ---------------------------------------------------------------------------------------------
// Reading a store in dump order
// ---------------------------------------------------------------------------------------------

// Everything a dump or copy will hold, listed (as ids) before anything is written.
struct DumpPlan {
  std::vector<std::string> raw_ids;        // by owner, then data_id
  std::vector<std::string> episode_ids;    // by owner, then episode_id
  std::vector<EpisodeLink> links;          // by owner, then episode_id, then raw_data_id
  std::vector<std::string> statement_ids;  // by owner, then statement_id
  std::size_t statement_sources = 0;       // source rows of those statements
  std::vector<SemanticProgress> progress;  // by owner, then episode_id
  std::size_t total() const {
    return raw_ids.size() + episode_ids.size() + links.size() + statement_ids.size() +
           statement_sources + progress.size();
  }
  DumpCounts counts() const {
    return DumpCounts{raw_ids.size(),       episode_ids.size(), links.size(),
                      statement_ids.size(), statement_sources,  progress.size()};
  }
};

std::vector<std::string> sorted_unique(std::vector<std::string> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

std::vector<std::string> raw_ids_of(Storage& storage, const std::string& owner) {
  std::vector<std::string> ids;
  RawDataQuery query;
  query.owner_ids = {owner};
  query.sort_by = SortBy::kTimestamp;
  query.sort_order = SortOrder::kAsc;
  query.limit = kListPage;
  while (true) {
    const RawDataSearchResult page = storage.raw_data().search(query);
    for (const RawEvent& event : page.events) ids.push_back(event.data_id);
    if (!page.has_more || page.events.empty()) break;
    query.offset += page.events.size();
  }
  return sorted_unique(std::move(ids));
}

std::vector<std::string> episode_ids_of(Storage& storage, const std::string& owner) {
  std::vector<std::string> ids;
  EpisodeQuery query;
  query.owner_ids = {owner};
  query.sort_by = SortBy::kTimestamp;
  query.sort_order = SortOrder::kAsc;
  query.limit = kListPage;
  while (true) {
    const EpisodeSearchResult page = storage.episodes().search(query);
    for (const Episode& episode : page.episodes) ids.push_back(episode.episode_id);
    if (!page.has_more || page.episodes.empty()) break;
    query.offset += page.episodes.size();
  }
  return sorted_unique(std::move(ids));
}

std::vector<std::string> statement_ids_of(Storage& storage, const std::string& owner) {
  std::vector<std::string> ids;
  StatementQuery query;
  query.owner_ids = {owner};
  query.state = StatementState::kAll;
  query.sort = StatementQuery::Sort::kValidFromAsc;
  query.limit = kListPage;
  while (true) {
    const StatementSearchResult page = storage.statements().search(query);
    for (const Statement& statement : page.statements) ids.push_back(statement.statement_id);
    if (!page.has_more || page.statements.empty()) break;
    query.offset += page.statements.size();
  }
  return sorted_unique(std::move(ids));
}

DumpPlan plan_dump(Storage& storage, const std::string& owner_id) {
  const std::vector<std::string> owners =
      owner_id.empty() ? storage.list_owners() : std::vector<std::string>{owner_id};
  DumpPlan plan;
  for (const std::string& owner : owners) {
    for (std::string& id : raw_ids_of(storage, owner)) plan.raw_ids.push_back(std::move(id));
  }
  for (const std::string& owner : owners) {
    for (std::string& id : episode_ids_of(storage, owner)) {
      plan.episode_ids.push_back(std::move(id));
    }
  }
  for (const std::string& owner : owners) {
    for (EpisodeLink& link : storage.episodes().links(owner)) plan.links.push_back(std::move(link));
  }
  for (const std::string& owner : owners) {
    for (std::string& id : statement_ids_of(storage, owner)) {
      plan.statement_ids.push_back(std::move(id));
    }
    plan.statement_sources += storage.statements().sources(owner).size();
    for (SemanticProgress& row : storage.statements().progress_rows(owner)) {
      plan.progress.push_back(std::move(row));
    }
  }
  return plan;
}

[[noreturn]] void changed_during_read(std::string_view what, const std::string& id) {
  throw StorageError(std::string(what) + " \"" + id +
                     "\" disappeared while it was being read; the store changed during the "
                     "dump or copy, retry it");
}

// Reads the records of `ids` in chunks and hands each chunk to `sink`.
template <typename Sink>
void for_each_raw_batch(Storage& storage, const std::vector<std::string>& ids, std::size_t batch,
                        Sink sink) {
  for (std::size_t i = 0; i < ids.size(); i += batch) {
    const std::span<const std::string> chunk(ids.data() + i, std::min(batch, ids.size() - i));
    std::vector<RawEvent> events;
    events.reserve(chunk.size());
    auto found = storage.raw_data().get_batch(chunk);
    for (std::size_t k = 0; k < found.size(); ++k) {
      if (!found[k]) changed_during_read("raw event", chunk[k]);
      events.push_back(std::move(*found[k]));
    }
    sink(events);
  }
}

template <typename Sink>
void for_each_episode_batch(Storage& storage, const std::vector<std::string>& ids,
                            std::size_t batch, Sink sink) {
  for (std::size_t i = 0; i < ids.size(); i += batch) {
    const std::span<const std::string> chunk(ids.data() + i, std::min(batch, ids.size() - i));
    std::vector<Episode> episodes;
    episodes.reserve(chunk.size());
    auto found = storage.episodes().get_batch(chunk);
    for (std::size_t k = 0; k < found.size(); ++k) {
      if (!found[k]) changed_during_read("episode", chunk[k]);
      episodes.push_back(std::move(*found[k]));
    }
    sink(episodes);
  }
}

template <typename Sink>
void for_each_statement_batch(Storage& storage, const std::vector<std::string>& ids,
                              std::size_t batch, Sink sink) {
  for (std::size_t i = 0; i < ids.size(); i += batch) {
    const std::span<const std::string> chunk(ids.data() + i, std::min(batch, ids.size() - i));
    std::vector<Statement> statements;
    statements.reserve(chunk.size());
    auto found = storage.statements().get_batch(chunk);
    for (std::size_t k = 0; k < found.size(); ++k) {
      if (!found[k]) changed_during_read("statement", chunk[k]);
      statements.push_back(std::move(*found[k]));
    }
    sink(statements);
  }
}

// Links `links` (sorted by episode) with one link() call per episode and at most `batch` raw
// ids per call; `done` is called with the number of links after each call.
template <typename Done>
void write_links(Storage& storage, const std::vector<EpisodeLink>& links, std::size_t batch,
                 Done done) {
  std::size_t i = 0;
  while (i < links.size()) {
    const std::string& episode_id = links[i].episode_id;
    std::vector<std::string> raw_ids;
    std::size_t j = i;
    while (j < links.size() && links[j].episode_id == episode_id && raw_ids.size() < batch) {
      raw_ids.push_back(links[j].raw_data_id);
      ++j;
    }
    storage.episodes().link(episode_id, raw_ids);
    done(j - i);
    i = j;
  }
}

// ---------------------------------------------------------------------------------------------
// Dump lines
// ---------------------------------------------------------------------------------------------

// `object` (the text of a JSON object) with its checksum field appended.
std::string sealed(std::string object) {
  object.pop_back();  // the closing brace
  const std::string check = sha256_hex(object);
  object += kLineCheck;
  object += check;
  object += "\"}";
  return object;
}

// Writes dump lines and hashes them for the trailer.
class DumpWriter {
 public:
  explicit DumpWriter(std::ostream& out) : out_(out) {}
  // Writes one line (the text of a JSON object), sealed with its checksum.
  void line(std::string object) {
    const std::string text = sealed(std::move(object));
    out_ << text << '\n';
    dump_hash_.update(text);
    dump_hash_.update("\n");
    ++lines_;
  }
  // Writes the trailer: the number of lines before it and the SHA-256 of their text.
  void finish() {
    nlohmann::ordered_json trailer;
    trailer["type"] = "end";
    trailer["lines"] = lines_;
    trailer["dump_sha256"] = dump_hash_.hex_digest();
    out_ << sealed(trailer.dump()) << '\n';
  }

 private:
  std::ostream& out_;
  Sha256 dump_hash_;
  std::size_t lines_ = 0;
};

std::string header_line(const DumpCounts& counts) {
  nlohmann::ordered_json header;
  header["format"] = kFormat;
  header["version"] = kVersion;
  header["raw_events"] = counts.raw_events;
  header["episodes"] = counts.episodes;
  header["links"] = counts.links;
  header["statements"] = counts.statements;
  header["statement_sources"] = counts.statement_sources;
  header["semantic_progress"] = counts.semantic_progress;
  header["created_at"] = format_iso8601(now_utc());
  return header.dump();
}

std::string link_line(const EpisodeLink& link) {
  nlohmann::ordered_json line;
  line["type"] = "link";
  line["episode_id"] = link.episode_id;
  line["raw_data_id"] = link.raw_data_id;
  return line.dump();
}

// A statement line: the statement without its sources, which follow as statement_source lines.
std::string statement_line(const Statement& statement) {
  json data = to_json(statement);
  data.erase("source_episode_ids");
  return R"({"type":"statement","data":)" + data.dump() + "}";
}

std::string statement_source_line(const std::string& statement_id, const std::string& episode_id) {
  nlohmann::ordered_json line;
  line["type"] = "statement_source";
  line["statement_id"] = statement_id;
  line["episode_id"] = episode_id;
  return line.dump();
}

// Exactly the stored episode: episode_from_json() fills an empty title or summary, a dump
// must not.
Episode episode_from_dump(const json& data, std::string_view path) {
  Episode episode = episode_from_json(data, path);
  if (const auto it = data.find("title"); it != data.end() && it->is_string()) {
    episode.title = it->get<std::string>();
  }
  if (const auto it = data.find("summary"); it != data.end() && it->is_string()) {
    episode.summary = it->get<std::string>();
  }
  detail::validate_for_storage(episode);
  return episode;
}

RawEvent raw_event_from_dump(const json& data, std::string_view path) {
  RawEvent event = raw_event_from_json(data, path);
  detail::validate_for_storage(event, std::numeric_limits<std::size_t>::max());
  return event;
}

// One parsed line of a dump. Kinds are listed in the order of the dump's sections.
struct DumpRecord {
  enum class Kind {
    kRawEvent,
    kEpisode,
    kLink,
    kStatement,
    kStatementSource,
    kProgress
  } kind = Kind::kRawEvent;
  RawEvent raw_event;
  Episode episode;
  EpisodeLink link;
  Statement statement;
  StatementSource source;
  SemanticProgress progress;
};

std::string line_prefix(std::size_t line) {
  return "dump line " + std::to_string(line) + ": ";
}

[[noreturn]] void bad_line(std::size_t line, const std::string& problem) {
  throw ValidationError(line_prefix(line) + problem);
}

const std::string& required_id(const json& object, std::string_view key, std::size_t line) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    bad_line(line, "\"" + std::string(key) + "\" must be a non-empty string");
  }
  return it->get_ref<const std::string&>();
}

// Parses one record line of a dump of `version`; throws ValidationError naming the line.
DumpRecord parse_record(const std::string& text, std::size_t line, std::int64_t version) {
  const json j = parse_json(text, "dump line " + std::to_string(line));
  if (!j.is_object()) bad_line(line, "expected a JSON object");
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string()) bad_line(line, "\"type\" must be a string");
  const std::string& kind = type->get_ref<const std::string&>();
  DumpRecord record;
  try {
    if (kind == "link") {
      record.kind = DumpRecord::Kind::kLink;
      record.link =
          EpisodeLink{required_id(j, "episode_id", line), required_id(j, "raw_data_id", line)};
      return record;
    }
    const bool statements = version >= kVersion;
    if (statements && kind == "statement_source") {
      record.kind = DumpRecord::Kind::kStatementSource;
      record.source = StatementSource{required_id(j, "statement_id", line),
                                      required_id(j, "episode_id", line)};
      return record;
    }
    const auto data = j.find("data");
    if (kind != "raw_event" && kind != "episode" &&
        !(statements && (kind == "statement" || kind == "semantic_progress"))) {
      bad_line(line, "unknown record type \"" + kind + "\" (valid in a version " +
                         std::to_string(version) + " dump: raw_event, episode, link" +
                         (statements ? ", statement, statement_source, semantic_progress" : "") +
                         ")");
    }
    if (data == j.end() || !data->is_object()) bad_line(line, "\"data\" must be a JSON object");
    if (kind == "raw_event") {
      record.kind = DumpRecord::Kind::kRawEvent;
      required_id(*data, "data_id", line);
      required_id(*data, "owner_id", line);
      record.raw_event = raw_event_from_dump(*data, "raw_event");
    } else if (kind == "statement") {
      record.kind = DumpRecord::Kind::kStatement;
      if (data->contains("source_episode_ids")) {
        bad_line(line,
                 "statement.source_episode_ids: a statement line carries no sources (they are "
                 "the statement_source lines that follow)");
      }
      record.statement = statement_from_json(*data, "statement");
    } else if (kind == "semantic_progress") {
      record.kind = DumpRecord::Kind::kProgress;
      record.progress = semantic_progress_from_json(*data, "semantic_progress");
    } else {
      record.kind = DumpRecord::Kind::kEpisode;
      required_id(*data, "episode_id", line);
      record.episode = episode_from_dump(*data, "episode");
    }
  } catch (const ValidationError& e) {
    const std::string message = e.what();
    if (message.starts_with("dump line ")) throw;
    bad_line(line, message);
  }
  return record;
}

// Header counts of a dump, checked against its content.
DumpCounts parse_header(const std::string& text, bool verify, std::int64_t* version_out) {
  const auto readable = [verify](std::int64_t v) {
    return v == kVersion || v == kVersionWithoutStatements || (!verify && v == kUnverifiedVersion);
  };
  const json j = parse_json(text, "dump line 1");
  const auto format = j.is_object() ? j.find("format") : j.end();
  if (!j.is_object() || format == j.end() || !format->is_string() ||
      format->get_ref<const std::string&>() != kFormat) {
    bad_line(1, "not a nemori dump (the first line must be a header with \"format\": \"" +
                    std::string(kFormat) + "\")");
  }
  const auto version = j.find("version");
  const bool known =
      version != j.end() && version->is_number_integer() && readable(version->get<std::int64_t>());
  if (!known) {
    if (verify && version != j.end() && version->is_number_integer() &&
        version->get<std::int64_t>() == kUnverifiedVersion) {
      bad_line(1,
               "dump version 1 carries no checksums, so it cannot be verified; import it "
               "without verification (nemori import --no-verify) if you trust the file");
    }
    bad_line(1, "unsupported dump version " + (version == j.end() ? "(none)" : version->dump()) +
                    " (this build reads versions " + std::to_string(kVersion) + " and " +
                    std::to_string(kVersionWithoutStatements) +
                    ", and version 1 without verification)");
  }
  *version_out = version->get<std::int64_t>();
  auto count = [&](std::string_view key) -> std::size_t {
    const auto it = j.find(key);
    if (it == j.end() || !(it->is_number_unsigned() || it->is_number_integer()) ||
        it->get<std::int64_t>() < 0) {
      bad_line(1, "\"" + std::string(key) + "\" must be a non-negative integer");
    }
    return it->get<std::size_t>();
  };
  DumpCounts counts{count("raw_events"), count("episodes"), count("links")};
  if (*version_out >= kVersion) {
    counts.statements = count("statements");
    counts.statement_sources = count("statement_sources");
    counts.semantic_progress = count("semantic_progress");
  }
  return counts;
}

bool is_blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

// Reads the next non-blank line; false at the end.
bool next_line(std::istream& in, std::string& text, std::size_t& line) {
  while (std::getline(in, text)) {
    ++line;
    if (!is_blank(text)) return true;
  }
  return false;
}

std::string plural(std::size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// Verifies the checksum that ends a version 2 or 3 line; throws naming the line.
void verify_line(const std::string& text, std::size_t line) {
  const std::size_t at = text.rfind(kLineCheck);
  const std::size_t hex_at = at + kLineCheck.size();
  if (at == std::string::npos || text.size() != hex_at + 64 + 2 ||
      text.compare(hex_at + 64, 2, "\"}") != 0) {
    bad_line(line,
             "the line has no checksum (a version 2 or 3 dump ends every line with "
             "\"sha256\"); the file was edited or is not a nemori dump");
  }
  if (text.compare(hex_at, 64, sha256_hex(std::string_view(text).substr(0, at))) != 0) {
    bad_line(line, "checksum mismatch: the line was changed after the dump was written");
  }
}

// A dump read whole and checked, as one WriteBatch, with the line of every item.
struct LoadedDump {
  DumpCounts header;
  WriteBatch batch;
  std::vector<std::size_t> raw_lines, episode_lines, link_lines, statement_lines, progress_lines;
};

// "N raw events, M episodes, L links, S statements, T statement sources and P progress rows".
std::string describe(const DumpCounts& counts) {
  return plural(counts.raw_events, "raw event") + ", " + plural(counts.episodes, "episode") +
         ", " + plural(counts.links, "link") + ", " + plural(counts.statements, "statement") +
         ", " + plural(counts.statement_sources, "statement source") + " and " +
         plural(counts.semantic_progress, "progress row");
}

// Every superseded_by of the dump's statements names a statement of the dump with the same
// owner; throws naming the line.
void check_closers(
    const LoadedDump& dump,
    const std::unordered_map<std::string, std::pair<std::size_t, std::size_t>>& statements) {
  for (std::size_t i = 0; i < dump.batch.statements.size(); ++i) {
    const Statement& statement = dump.batch.statements[i];
    if (statement.superseded_by.empty()) continue;
    const auto closer = statements.find(statement.superseded_by);
    if (closer == statements.end()) {
      bad_line(dump.statement_lines[i], "statement \"" + statement.statement_id +
                                            "\" is superseded by statement \"" +
                                            statement.superseded_by +
                                            "\", which the dump does not hold");
    }
    const Statement& other = dump.batch.statements[closer->second.second];
    if (other.owner_id != statement.owner_id) {
      bad_line(dump.statement_lines[i],
               "statement \"" + statement.statement_id + "\" of owner \"" + statement.owner_id +
                   "\" is superseded by statement \"" + other.statement_id + "\" of owner \"" +
                   other.owner_id + "\" (line " + std::to_string(closer->second.first) +
                   "): statements never cross owners");
    }
  }
}

// Reads a whole dump without writing anything and checks it: checksums of every line and of
// the whole dump (when `verify`), every line decodes, sections come in order, ids are
// unique, links point at records of the dump of the same owner, counts match the header.
LoadedDump load_dump(std::istream& in, bool verify) {
  std::string text;
  std::size_t line = 0;
  if (!next_line(in, text, line)) {
    throw ValidationError("dump line 1: the dump is empty (expected a nemori-dump header)");
  }
  std::int64_t version = kVersion;
  LoadedDump dump;
  dump.header = parse_header(text, verify, &version);
  const bool checked = verify && version >= kVersionWithoutStatements;
  if (checked) verify_line(text, line);
  Sha256 dump_hash;
  std::size_t hashed_lines = 0;
  auto hash_line = [&] {
    dump_hash.update(text);
    dump_hash.update("\n");
    ++hashed_lines;
  };
  hash_line();
  DumpCounts seen;
  WriteBatch& batch = dump.batch;
  // id -> (line, owner)
  std::unordered_map<std::string, std::pair<std::size_t, std::string>> raw_seen, episode_seen;
  std::set<std::pair<std::string, std::string>> links;
  // statement_id -> (line, index in batch.statements); the episodes a progress row names.
  std::unordered_map<std::string, std::pair<std::size_t, std::size_t>> statement_seen;
  std::set<std::pair<std::string, std::string>> sources;
  std::unordered_map<std::string, std::size_t> progress_seen;
  int section = 0;  // the DumpRecord::Kind of the previous record
  bool ended = false;
  while (next_line(in, text, line)) {
    if (ended) bad_line(line, "text after the end of the dump");
    if (checked) verify_line(text, line);
    if (version >= kVersionWithoutStatements && text.starts_with(R"({"type":"end")")) {
      const json trailer = parse_json(text, line_prefix(line));
      const auto lines = trailer.find("lines");
      const auto hash = trailer.find("dump_sha256");
      if (lines == trailer.end() || !lines->is_number_unsigned() || hash == trailer.end() ||
          !hash->is_string()) {
        bad_line(line, "the end line needs \"lines\" and \"dump_sha256\"");
      }
      if (verify && (lines->get<std::size_t>() != hashed_lines ||
                     hash->get_ref<const std::string&>() != dump_hash.hex_digest())) {
        bad_line(line,
                 "dump checksum mismatch: lines were added, removed or reordered after "
                 "the dump was written");
      }
      ended = true;
      continue;
    }
    hash_line();
    DumpRecord record = parse_record(text, line, version);
    const int record_section = static_cast<int>(record.kind);
    if (record_section < section) {
      bad_line(line,
               "records are out of order (raw events, then episodes, then links, then "
               "statements, then statement sources, then semantic progress)");
    }
    if (section <= static_cast<int>(DumpRecord::Kind::kStatement) &&
        record_section > static_cast<int>(DumpRecord::Kind::kStatement)) {
      check_closers(dump, statement_seen);
    }
    section = record_section;
    switch (record.kind) {
      case DumpRecord::Kind::kRawEvent: {
        const auto [it, inserted] = raw_seen.try_emplace(
            record.raw_event.data_id, std::make_pair(line, record.raw_event.owner_id));
        if (!inserted) {
          bad_line(line, "raw event \"" + it->first + "\" appears twice (first on line " +
                             std::to_string(it->second.first) + ")");
        }
        ++seen.raw_events;
        batch.raw_events.push_back(std::move(record.raw_event));
        dump.raw_lines.push_back(line);
        break;
      }
      case DumpRecord::Kind::kEpisode: {
        const auto [it, inserted] = episode_seen.try_emplace(
            record.episode.episode_id, std::make_pair(line, record.episode.owner_id));
        if (!inserted) {
          bad_line(line, "episode \"" + it->first + "\" appears twice (first on line " +
                             std::to_string(it->second.first) + ")");
        }
        ++seen.episodes;
        batch.episodes.push_back(std::move(record.episode));
        dump.episode_lines.push_back(line);
        break;
      }
      case DumpRecord::Kind::kLink: {
        const EpisodeLink& link = record.link;
        const auto episode = episode_seen.find(link.episode_id);
        if (episode == episode_seen.end()) {
          bad_line(line,
                   "link to episode \"" + link.episode_id + "\", which the dump does not hold");
        }
        const auto raw = raw_seen.find(link.raw_data_id);
        if (raw == raw_seen.end()) {
          bad_line(line,
                   "link to raw event \"" + link.raw_data_id + "\", which the dump does not hold");
        }
        if (episode->second.second != raw->second.second) {
          bad_line(line, "link from episode \"" + link.episode_id + "\" of owner \"" +
                             episode->second.second + "\" (line " +
                             std::to_string(episode->second.first) + ") to raw event \"" +
                             link.raw_data_id + "\" of owner \"" + raw->second.second +
                             "\" (line " + std::to_string(raw->second.first) +
                             "): links never cross owners");
        }
        if (!links.emplace(link.episode_id, link.raw_data_id).second) {
          bad_line(line, "link " + link.episode_id + " -> " + link.raw_data_id + " appears twice");
        }
        ++seen.links;
        batch.links.push_back(std::move(record.link));
        dump.link_lines.push_back(line);
        break;
      }
      case DumpRecord::Kind::kStatement: {
        const Statement& statement = record.statement;
        const auto [it, inserted] = statement_seen.try_emplace(
            statement.statement_id, std::make_pair(line, batch.statements.size()));
        if (!inserted) {
          bad_line(line, "statement \"" + it->first + "\" appears twice (first on line " +
                             std::to_string(it->second.first) + ")");
        }
        ++seen.statements;
        batch.statements.push_back(std::move(record.statement));
        dump.statement_lines.push_back(line);
        break;
      }
      case DumpRecord::Kind::kStatementSource: {
        const StatementSource& source = record.source;
        const auto statement = statement_seen.find(source.statement_id);
        if (statement == statement_seen.end()) {
          bad_line(line, "source of statement \"" + source.statement_id +
                             "\", which the dump does not hold");
        }
        Statement& target = batch.statements[statement->second.second];
        const auto episode = episode_seen.find(source.episode_id);
        if (episode == episode_seen.end()) {
          bad_line(line, "statement \"" + source.statement_id + "\" is supported by episode \"" +
                             source.episode_id + "\", which the dump does not hold");
        }
        if (episode->second.second != target.owner_id) {
          bad_line(line, "statement \"" + source.statement_id + "\" of owner \"" +
                             target.owner_id + "\" (line " +
                             std::to_string(statement->second.first) + ") supported by episode \"" +
                             source.episode_id + "\" of owner \"" + episode->second.second +
                             "\" (line " + std::to_string(episode->second.first) +
                             "): sources never cross owners");
        }
        if (!sources.emplace(source.statement_id, source.episode_id).second) {
          bad_line(line, "statement source " + source.statement_id + " <- " + source.episode_id +
                             " appears twice");
        }
        ++seen.statement_sources;
        target.source_episode_ids.push_back(source.episode_id);
        break;
      }
      case DumpRecord::Kind::kProgress: {
        const SemanticProgress& progress = record.progress;
        const auto episode = episode_seen.find(progress.episode_id);
        if (episode == episode_seen.end()) {
          bad_line(line, "semantic progress of episode \"" + progress.episode_id +
                             "\", which the dump does not hold");
        }
        if (episode->second.second != progress.owner_id) {
          bad_line(line, "semantic progress of owner \"" + progress.owner_id +
                             "\" for episode \"" + progress.episode_id + "\" of owner \"" +
                             episode->second.second + "\" (line " +
                             std::to_string(episode->second.first) + ")");
        }
        const auto [it, inserted] = progress_seen.try_emplace(progress.episode_id, line);
        if (!inserted) {
          bad_line(line, "semantic progress of episode \"" + it->first +
                             "\" appears twice (first on line " + std::to_string(it->second) +
                             ")");
        }
        ++seen.semantic_progress;
        batch.semantic_progress.push_back(std::move(record.progress));
        dump.progress_lines.push_back(line);
        break;
      }
    }
  }
  if (section <= static_cast<int>(DumpRecord::Kind::kStatement)) check_closers(dump, statement_seen);
  for (std::size_t i = 0; i < batch.statements.size(); ++i) {
    if (batch.statements[i].source_episode_ids.empty()) {
      bad_line(dump.statement_lines[i], "statement \"" + batch.statements[i].statement_id +
                                            "\" has no statement_source line (every statement "
                                            "needs an episode supporting it)");
    }
  }
  if (in.bad()) throw StorageError("reading the dump failed");
  if (seen != dump.header) {
    bad_line(1, "the header announces " + describe(dump.header) + " but the dump holds " +
                    describe(seen) + " (is the file truncated?)");
  }
  if (version >= kVersionWithoutStatements && !ended && verify) {
    bad_line(line + 1, "the dump has no end line (is the file truncated?)");
  }
  return dump;
}

// Rethrows an error of Storage::apply() on a dump's batch with the dump line of the item it
// names ("raw_events[12]: ..." -> "dump line 14: raw_events[12]: ...").
[[noreturn]] void rethrow_with_line(const LoadedDump& dump) {
  try {
    throw;
  } catch (const Error& e) {
    const std::string message = e.what();
    std::string prefix;
    for (const auto& [step, lines] : {std::pair<std::string_view, const std::vector<std::size_t>*>{
                                          "raw_events[", &dump.raw_lines},
                                      {"episodes[", &dump.episode_lines},
                                      {"links[", &dump.link_lines},
                                      {"statements[", &dump.statement_lines},
                                      {"semantic_progress[", &dump.progress_lines}}) {
      if (!message.starts_with(step)) continue;
      const std::size_t index = std::strtoull(message.c_str() + step.size(), nullptr, 10);
      if (index < lines->size()) prefix = line_prefix((*lines)[index]);
    }
    const std::string text = prefix + message + " (the target store is unchanged)";
    switch (e.kind()) {
      case ErrorKind::kValidation:
        throw ValidationError(text);
      case ErrorKind::kDuplicate:
        throw DuplicateError(text);
      case ErrorKind::kNotFound:
        throw NotFoundError(text);
      default:
        throw;
    }
  }
}

void require_positive_batch(std::size_t batch_size) {
  if (batch_size == 0) throw ValidationError("batch_size", "must be positive");
}

DumpCounts counts_of(Storage& storage) {
  SemanticMemoryRepository& statements = storage.statements();
  return DumpCounts{storage.raw_data().count(""),
                    storage.episodes().count(""),
                    storage.episodes().links("").size(),
                    statements.count("", StatementState::kAll),
                    statements.sources("").size(),
                    statements.progress_rows("").size()};
}

void verify_counts(Storage& storage, const DumpCounts& expected, std::string_view operation) {
  const DumpCounts actual = counts_of(storage);
  if (actual == expected) return;
  throw StorageError(std::string(operation) + " wrote " + describe(actual) + " but expected " +
                     describe(expected) + "; another writer may be using the target store");
}

// Copies the planned statements (with their sources) and progress rows in batches of
// `batch_size`. A statement may be closed by one of a later batch, so they are stored without
// superseded_by first and closed again by statement updates once all exist.
template <typename Report>
void copy_statements(Storage& from, Storage& to, const DumpPlan& plan, std::size_t batch_size,
                     Report report) {
  std::vector<Statement> closed;
  std::size_t sources = 0;
  for_each_statement_batch(from, plan.statement_ids, batch_size,
                           [&](const std::vector<Statement>& statements) {
                             WriteBatch batch;
                             batch.statements = statements;
                             for (Statement& statement : batch.statements) {
                               sources += statement.source_episode_ids.size();
                               if (statement.superseded_by.empty()) continue;
                               closed.push_back(statement);
                               statement.superseded_by.clear();
                             }
                             to.apply(batch);
                             report(statements.size());
                           });
  for (std::size_t i = 0; i < closed.size(); i += batch_size) {
    WriteBatch batch;
    const auto end = closed.begin() + static_cast<std::ptrdiff_t>(std::min(closed.size(), i + batch_size));
    batch.statement_updates.assign(closed.begin() + static_cast<std::ptrdiff_t>(i), end);
    to.apply(batch);
  }
  report(sources);
  for (std::size_t i = 0; i < plan.progress.size(); i += batch_size) {
    WriteBatch batch;
    const auto end = plan.progress.begin() +
                     static_cast<std::ptrdiff_t>(std::min(plan.progress.size(), i + batch_size));
    batch.semantic_progress.assign(plan.progress.begin() + static_cast<std::ptrdiff_t>(i), end);
    to.apply(batch);
    report(batch.semantic_progress.size());
  }
}

}  // namespace

DumpCounts write_dump(Storage& storage, std::ostream& out, const std::string& owner_id,
                      const DumpProgress& progress) {
  const std::shared_ptr<void> primary = storage.read_from_primary();
  const DumpPlan plan = plan_dump(storage, owner_id);
  const DumpCounts counts = plan.counts();
  const std::size_t total = plan.total();
  std::size_t done = 0;
  auto report = [&](std::size_t n) {
    done += n;
    if (progress) progress(done, total);
  };
  DumpWriter writer(out);
  writer.line(header_line(counts));
  for_each_raw_batch(storage, plan.raw_ids, kWriteBatch, [&](const std::vector<RawEvent>& batch) {
    for (const RawEvent& event : batch) {
      writer.line(R"({"type":"raw_event","data":)" + to_json(event).dump() + "}");
    }
    report(batch.size());
  });
  for_each_episode_batch(
      storage, plan.episode_ids, kWriteBatch, [&](const std::vector<Episode>& batch) {
        for (const Episode& episode : batch) {
          writer.line(R"({"type":"episode","data":)" + to_json(episode).dump() + "}");
        }
        report(batch.size());
      });
  for (std::size_t i = 0; i < plan.links.size(); ++i) {
    writer.line(link_line(plan.links[i]));
    if ((i + 1) % kWriteBatch == 0 || i + 1 == plan.links.size()) {
      report(i % kWriteBatch + 1);
    }
  }
  // The statements are read once: their lines first, then their sources in the order they
  // were added (the order get() returns), statement by statement.
  std::vector<std::string> source_lines;
  source_lines.reserve(plan.statement_sources);
  for_each_statement_batch(
      storage, plan.statement_ids, kWriteBatch, [&](const std::vector<Statement>& batch) {
        for (const Statement& statement : batch) {
          writer.line(statement_line(statement));
          for (const std::string& episode_id : statement.source_episode_ids)
            source_lines.push_back(statement_source_line(statement.statement_id, episode_id));
        }
        report(batch.size());
      });
  if (source_lines.size() != plan.statement_sources) {
    throw StorageError("the statements' sources changed while they were being read (" +
                       plural(plan.statement_sources, "source row") + " listed, " +
                       std::to_string(source_lines.size()) +
                       " read); the store changed during the dump, retry it");
  }
  for (std::string& text : source_lines) writer.line(std::move(text));
  report(source_lines.size());
  for (const SemanticProgress& row : plan.progress) {
    writer.line(R"({"type":"semantic_progress","data":)" + to_json(row).dump() + "}");
  }
  report(plan.progress.size());
  writer.finish();
  out.flush();
  if (!out) throw StorageError("writing the dump failed (disk full or stream closed?)");
  return counts;
}

DumpCounts restore_dump(Storage& storage, std::istream& in, bool replace, std::size_t batch_size,
                        const DumpProgress& progress, bool verify) {
  require_positive_batch(batch_size);
  const std::vector<std::string> owners = storage.list_owners();
  if (!owners.empty() && !replace) {
    throw ConfigError("the target storage is not empty (" + plural(owners.size(), "owner") +
                      "); restore into an empty store, or pass replace to delete its data first");
  }
  LoadedDump dump = load_dump(in, verify);
  const DumpCounts& header = dump.header;
  const std::size_t total = header.raw_events + header.episodes + header.links +
                            header.statements + header.statement_sources +
                            header.semantic_progress;
  // One unit of work: the old owners go and the dump comes in together, or nothing changes.
  if (replace) dump.batch.delete_owners = storage.list_owners();
  try {
    storage.apply(dump.batch);
  } catch (const Error&) {
    rethrow_with_line(dump);
  }
  if (progress) progress(total, total);
  verify_counts(storage, header, "restore");
  return header;
}

DumpCounts copy_storage(Storage& from, Storage& to, std::size_t batch_size,
                        const DumpProgress& progress) {
  require_positive_batch(batch_size);
  if (&from == &to) throw ConfigError("copy_storage: the source and the target are the same store");
  const std::vector<std::string> target_owners = to.list_owners();
  if (!target_owners.empty()) {
    throw ConfigError("the target storage is not empty (" + plural(target_owners.size(), "owner") +
                      "); copy into an empty store");
  }
  // Everything is read from the source's primary (never a lagging replica), and the target is
  // checked against the source's own counts at the end.
  const std::shared_ptr<void> primary = from.read_from_primary();
  const DumpPlan plan = plan_dump(from, "");
  const DumpCounts counts = plan.counts();
  const std::size_t total = plan.total();
  std::size_t done = 0;
  auto report = [&](std::size_t n) {
    done += n;
    if (progress) progress(done, total);
  };
  for_each_raw_batch(from, plan.raw_ids, batch_size, [&](const std::vector<RawEvent>& batch) {
    to.raw_data().store_batch(batch);
    report(batch.size());
  });
  for_each_episode_batch(from, plan.episode_ids, batch_size,
                         [&](const std::vector<Episode>& batch) {
                           to.episodes().store_batch(batch);
                           report(batch.size());
                         });
  write_links(to, plan.links, batch_size, report);
  copy_statements(from, to, plan, batch_size, report);
  verify_counts(to, counts, "copy");
  const DumpCounts source = counts_of(from);
  if (source != counts) {
    throw StorageError("the source changed during the copy: it now holds " + describe(source) +
                       ", the copy " + describe(counts) + "; stop the writers and migrate again");
  }
  return counts;
}

}  // namespace nemori
