// The portable dump: writing, checking, restoring and copying between stores.
#include "nemori/storage/dump.h"

#include <algorithm>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/core/sha256.h"
#include "nemori/core/time.h"
#include "nemori/storage/factory.h"

namespace nemori {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Ids = std::vector<std::string>;

RawEvent raw(const std::string& id, const std::string& owner, unsigned day) {
  RawEvent e;
  e.data_id = id;
  e.owner_id = owner;
  e.content = "text of " + id;
  e.temporal_info.timestamp = make_timestamp(2024, 3, day);
  return e;
}

Episode episode(const std::string& id, const std::string& owner, unsigned day) {
  Episode e;
  e.episode_id = id;
  e.owner_id = owner;
  e.title = "Episode " + id;
  e.content = "Content of " + id;
  e.temporal_info.timestamp = make_timestamp(2024, 3, day);
  e.metadata.processing_timestamp = e.temporal_info.timestamp;
  return e;
}

// bob: 2 raw events, 1 episode, 2 links; alice: 1 raw event, 1 episode, 1 link.
std::unique_ptr<Storage> populated() {
  auto s = open_storage("memory://");
  s->raw_data().store(raw("r-b2", "bob", 1));
  s->raw_data().store(raw("r-b1", "bob", 2));
  s->raw_data().store(raw("r-a1", "alice", 3));
  s->episodes().store(episode("e-b", "bob", 4));
  s->episodes().store(episode("e-a", "alice", 5));
  s->episodes().link("e-b", Ids{"r-b1", "r-b2"});
  s->episodes().link("e-a", Ids{"r-a1"});
  return s;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::string dump_of(Storage& s, const std::string& owner = "") {
  std::ostringstream out;
  write_dump(s, out, owner);
  return out.str();
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  return text;
}

// The ValidationError message of restoring `text` into a new memory store, which must stay
// empty. Structural checks are tested without checksum verification (an edited line would
// fail its checksum first).
std::string restore_error(const std::string& text, bool verify = false) {
  auto target = open_storage("memory://");
  std::istringstream in(text);
  try {
    restore_dump(*target, in, false, 1000, {}, verify);
  } catch (const ValidationError& e) {
    EXPECT_EQ(target->raw_data().count(""), 0u);
    EXPECT_EQ(target->episodes().count(""), 0u);
    return e.what();
  }
  ADD_FAILURE() << "expected a ValidationError";
  return "";
}

// A stream buffer that cannot seek, like a pipe.
class PipeBuffer : public std::streambuf {
 public:
  explicit PipeBuffer(std::string text) : text_(std::move(text)) {
    setg(text_.data(), text_.data(), text_.data() + text_.size());
  }

 private:
  std::string text_;
};

TEST(WriteDump, HeaderCountsThenRecordsByOwnerAndId) {
  auto s = populated();
  std::ostringstream out;
  const DumpCounts counts = write_dump(*s, out);
  EXPECT_EQ(counts, (DumpCounts{3, 2, 3}));
  const auto lines = lines_of(out.str());
  ASSERT_EQ(lines.size(), 10u);
  const auto header = parse_json(lines[0]);
  EXPECT_EQ(header["format"], "nemori-dump");
  EXPECT_EQ(header["version"], 3);
  EXPECT_EQ(header["raw_events"], 3);
  EXPECT_EQ(header["episodes"], 2);
  EXPECT_EQ(header["links"], 3);
  EXPECT_EQ(header["statements"], 0);
  EXPECT_EQ(header["statement_sources"], 0);
  EXPECT_EQ(header["semantic_progress"], 0);
  EXPECT_TRUE(parse_iso8601(header["created_at"].get<std::string>()).has_value());
  EXPECT_THAT(lines[0], ::testing::StartsWith(R"({"format":"nemori-dump","version":3,)"));
  const auto end = parse_json(lines.back());
  EXPECT_EQ(end["type"], "end");
  EXPECT_EQ(end["lines"], 9);
  std::string before_end;
  for (std::size_t i = 0; i + 1 < lines.size(); ++i) before_end += lines[i] + "\n";
  EXPECT_EQ(end["dump_sha256"], sha256_hex(before_end));
  for (const std::string& line : lines) {
    const std::size_t at = line.rfind(R"(,"sha256":")");
    ASSERT_NE(at, std::string::npos) << line;
    EXPECT_EQ(parse_json(line)["sha256"], sha256_hex(line.substr(0, at))) << line;
  }

  std::vector<std::string> order;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i) {
    const auto line = parse_json(lines[i]);
    const std::string type = line["type"];
    EXPECT_THAT(lines[i], ::testing::StartsWith("{\"type\":\"" + type + "\""));
    if (type == "raw_event") order.push_back(line["data"]["data_id"]);
    if (type == "episode") order.push_back(line["data"]["episode_id"]);
    if (type == "link")
      order.push_back(line["episode_id"].get<std::string>() + ">" +
                      line["raw_data_id"].get<std::string>());
  }
  EXPECT_THAT(
      order, ElementsAre("r-a1", "r-b1", "r-b2", "e-a", "e-b", "e-a>r-a1", "e-b>r-b1", "e-b>r-b2"));
}

TEST(WriteDump, OneOwnerOnly) {
  auto s = populated();
  std::ostringstream out;
  EXPECT_EQ(write_dump(*s, out, "bob"), (DumpCounts{2, 1, 2}));
  EXPECT_THAT(out.str(), ::testing::Not(HasSubstr("alice")));
  std::ostringstream none;
  EXPECT_EQ(write_dump(*s, none, "nobody"), (DumpCounts{0, 0, 0}));
  EXPECT_EQ(lines_of(none.str()).size(), 2u);  // the header and the end line
}

TEST(WriteDump, ProgressReachesTheTotal) {
  auto s = populated();
  std::ostringstream out;
  std::size_t last_done = 0, last_total = 0, calls = 0;
  write_dump(*s, out, "", [&](std::size_t done, std::size_t total) {
    EXPECT_GE(done, last_done);
    last_done = done;
    last_total = total;
    ++calls;
  });
  EXPECT_GT(calls, 0u);
  EXPECT_EQ(last_done, 8u);
  EXPECT_EQ(last_total, 8u);
}

TEST(RestoreDump, RestoresEverythingAndVerifiesCounts) {
  auto source = populated();
  const std::string text = dump_of(*source);
  auto target = open_storage("memory://");
  std::istringstream in(text);
  std::size_t last_done = 0;
  const DumpCounts counts =
      restore_dump(*target, in, false, 2, [&](std::size_t done, std::size_t) { last_done = done; });
  EXPECT_EQ(counts, (DumpCounts{3, 2, 3}));
  EXPECT_EQ(last_done, 8u);
  EXPECT_EQ(target->raw_data().count(""), 3u);
  EXPECT_THAT(target->episodes().raw_ids_for_episode("e-b"), ElementsAre("r-b2", "r-b1"));
  EXPECT_EQ(*target->episodes().get("e-a"), *source->episodes().get("e-a"));
}

TEST(RestoreDump, ReadsAStreamThatCannotSeek) {
  auto source = populated();
  PipeBuffer pipe(dump_of(*source));
  std::istream in(&pipe);
  auto target = open_storage("memory://");
  EXPECT_EQ(restore_dump(*target, in, false), (DumpCounts{3, 2, 3}));
  EXPECT_EQ(target->episodes().links("").size(), 3u);
}

TEST(RestoreDump, IgnoresBlankLines) {
  auto source = populated();
  auto lines = lines_of(dump_of(*source));
  lines.insert(lines.begin() + 3, "");
  lines.push_back("   ");
  auto target = open_storage("memory://");
  std::istringstream in(join_lines(lines));
  EXPECT_EQ(restore_dump(*target, in, false), (DumpCounts{3, 2, 3}));
}

TEST(RestoreDump, MalformedLineIsNamedAndNothingIsWritten) {
  auto source = populated();
  const auto lines = lines_of(dump_of(*source));
  auto with_line = [&](std::size_t index, const std::string& text) {
    auto copy = lines;
    copy[index] = text;
    return join_lines(copy);
  };
  EXPECT_THAT(restore_error(with_line(3, "{not json")), HasSubstr("dump line 4"));
  EXPECT_THAT(restore_error(with_line(2, R"({"type":"photo","data":{}})")),
              HasSubstr("dump line 3: unknown record type \"photo\""));
  EXPECT_THAT(
      restore_error(with_line(1, R"({"type":"raw_event","data":{"owner_id":"x","content":1}})")),
      HasSubstr("dump line 2: \"data_id\""));
  EXPECT_THAT(
      restore_error(with_line(1, R"({"type":"raw_event","data":{"data_id":"x","owner_id":"o"}})")),
      HasSubstr("dump line 2: raw_event.content: is required"));
  EXPECT_THAT(restore_error(with_line(
                  4, R"({"type":"episode","data":{"episode_id":"e","owner_id":"o","title":"t",)"
                     R"("importance_score":3}})")),
              HasSubstr("dump line 5: episode.importance_score"));
  EXPECT_THAT(
      restore_error(with_line(8, R"({"type":"link","episode_id":"e-b","raw_data_id":"nope"})")),
      HasSubstr("dump line 9: link to raw event \"nope\""));
  EXPECT_THAT(
      restore_error(with_line(8, R"({"type":"link","episode_id":"ghost","raw_data_id":"r-b2"})")),
      HasSubstr("dump line 9: link to episode \"ghost\""));
  EXPECT_THAT(restore_error(with_line(8, lines[7])),
              HasSubstr("dump line 9: link e-b -> r-b1 appears twice"));
  EXPECT_THAT(restore_error(with_line(2, lines[1])),
              HasSubstr("dump line 3: raw event \"r-a1\" appears twice (first on line 2)"));
  EXPECT_THAT(restore_error(with_line(1, lines[4])), HasSubstr("out of order"));
}

TEST(RestoreDump, BadHeaderOrCountsAreRejected) {
  auto source = populated();
  const auto lines = lines_of(dump_of(*source));
  EXPECT_THAT(restore_error(""), HasSubstr("dump line 1: the dump is empty"));
  EXPECT_THAT(restore_error(R"({"format":"other"})"
                            "\n"),
              HasSubstr("not a nemori dump"));
  EXPECT_THAT(
      restore_error(R"({"format":"nemori-dump","version":4,"raw_events":0,"episodes":0,"links":0})"
                    "\n"),
      HasSubstr("unsupported dump version 4"));
  auto truncated = lines;
  truncated.pop_back();
  EXPECT_THAT(restore_error(join_lines(truncated), true),
              HasSubstr("dump line 10: the dump has no end line (is the file truncated?)"));
  truncated.pop_back();
  EXPECT_THAT(restore_error(join_lines(truncated)),
              HasSubstr("announces 3 raw events, 2 episodes, 3 links, 0 statements, 0 statement "
                        "sources and 0 progress rows but the dump holds 3 raw events, 2 "
                        "episodes, 2 links, 0 statements"));
}

TEST(RestoreDump, NonEmptyTargetIsRefusedUnlessReplace) {
  auto source = populated();
  const std::string text = dump_of(*source);
  auto target = open_storage("memory://");
  target->raw_data().store(raw("c1", "carol", 1));
  std::istringstream in(text);
  EXPECT_THROW(restore_dump(*target, in, false), ConfigError);
  EXPECT_EQ(target->raw_data().count(""), 1u);

  std::istringstream again(text);
  EXPECT_EQ(restore_dump(*target, again, true), (DumpCounts{3, 2, 3}));
  EXPECT_FALSE(target->raw_data().get("c1").has_value());
  EXPECT_THAT(target->list_owners(), ElementsAre("alice", "bob"));
}

TEST(RestoreDump, ReplaceKeepsTheOldDataWhenTheDumpIsMalformed) {
  auto target = open_storage("memory://");
  target->raw_data().store(raw("c1", "carol", 1));
  std::istringstream in("{\"format\":\"nemori-dump\"}\n");
  EXPECT_THROW(restore_dump(*target, in, true), ValidationError);
  EXPECT_TRUE(target->raw_data().get("c1").has_value());
}

TEST(RestoreDump, ZeroBatchSizeIsInvalid) {
  auto target = open_storage("memory://");
  std::istringstream in("");
  EXPECT_THROW(restore_dump(*target, in, false, 0), ValidationError);
}

TEST(CopyStorage, MemoryToMemoryCopiesAndVerifiesCounts) {
  auto source = populated();
  source->raw_data().mark_processed("r-a1", "9.9");
  auto target = open_storage("memory://");
  std::size_t last_done = 0;
  const DumpCounts counts =
      copy_storage(*source, *target, 1, [&](std::size_t done, std::size_t) { last_done = done; });
  EXPECT_EQ(counts, (DumpCounts{3, 2, 3}));
  EXPECT_EQ(last_done, 8u);
  EXPECT_EQ(target->raw_data().count(""), 3u);
  EXPECT_EQ(target->episodes().count(""), 2u);
  EXPECT_EQ(target->episodes().links("").size(), 3u);
  EXPECT_EQ(target->raw_data().get("r-a1")->processing_version, "9.9");
  // Without the header and the end line (created_at and the checksums covering it).
  auto strip = [](std::string text) {
    text = text.substr(text.find('\n'));
    text.pop_back();
    return text.substr(0, text.rfind('\n'));
  };
  EXPECT_EQ(strip(dump_of(*target)), strip(dump_of(*source)));
}

TEST(CopyStorage, RefusesANonEmptyTargetOrItself) {
  auto source = populated();
  auto target = open_storage("memory://");
  target->episodes().store(episode("x", "carol", 1));
  EXPECT_THROW(copy_storage(*source, *target), ConfigError);
  EXPECT_EQ(target->episodes().count(""), 1u);
  EXPECT_THROW(copy_storage(*source, *source), ConfigError);
}

// ---- checksums -------------------------------------------------------------------------

// Restores `text` into a store holding carol's one raw event; expects a ValidationError and
// returns its message, checking that the store was left as it was.
std::string tampered_error(const std::string& text) {
  auto target = open_storage("memory://");
  target->raw_data().store(raw("c1", "carol", 1));
  std::istringstream in(text);
  std::string message;
  try {
    restore_dump(*target, in, true);
    ADD_FAILURE() << "expected a ValidationError";
  } catch (const ValidationError& e) {
    message = e.what();
  }
  EXPECT_THAT(target->list_owners(), ElementsAre("carol"));
  EXPECT_EQ(target->raw_data().count(""), 1u);
  return message;
}

std::string replace_first(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(DumpChecksums, SingleByteEditsAreRefusedNamingTheLine) {
  auto source = open_storage("memory://");
  RawEvent r = raw("r1", "bob", 1);
  r.content = "We met on Tuesday";
  source->raw_data().store(r);
  source->raw_data().store(raw("r2", "alice", 2));
  source->episodes().store(episode("e1", "bob", 3));
  source->episodes().link("e1", Ids{"r1"});
  const std::string text = dump_of(*source);
  // lines: 1 header, 2 r2 (alice), 3 r1 (bob), 4 e1, 5 link, 6 end
  EXPECT_THAT(tampered_error(replace_first(text, "Tuesday", "Quesday")),
              HasSubstr("dump line 3: checksum mismatch"));
  EXPECT_THAT(tampered_error(replace_first(text, "2024-03-01", "2025-03-01")),
              HasSubstr("dump line 3: checksum mismatch"));
  const std::size_t episode_line = text.find(R"({"type":"episode")");
  const std::string moved =
      text.substr(0, episode_line) +
      replace_first(text.substr(episode_line), R"("owner_id":"bob")", R"("owner_id":"alice")");
  EXPECT_THAT(tampered_error(moved), HasSubstr("dump line 4: checksum mismatch"));
  EXPECT_THAT(tampered_error(replace_first(text, R"("raw_events":2)", R"("raw_events":3)")),
              HasSubstr("dump line 1: checksum mismatch"));
  // Whole lines swapped keep their own checksums; the dump's checksum catches it.
  auto lines = lines_of(text);
  std::swap(lines[1], lines[2]);
  EXPECT_THAT(tampered_error(join_lines(lines)), HasSubstr("dump line 6: dump checksum mismatch"));
  lines = lines_of(text);
  lines.erase(lines.begin() + 4);  // the link, and its count in the header
  EXPECT_THAT(tampered_error(join_lines(lines)), HasSubstr("dump line 5: dump checksum mismatch"));

  // Without verification the owner check on links still refuses the moved episode.
  EXPECT_THAT(restore_error(moved),
              HasSubstr("dump line 5: link from episode \"e1\" of owner \"alice\" (line 4) to "
                        "raw event \"r1\" of owner \"bob\" (line 3): links never cross owners"));
  // The intact dump restores with verification.
  auto target = open_storage("memory://");
  std::istringstream in(text);
  EXPECT_EQ(restore_dump(*target, in, false), (DumpCounts{2, 1, 1}));
  EXPECT_EQ(target->raw_data().get("r1")->content, "We met on Tuesday");
}

TEST(DumpChecksums, VersionOneDumpsNeedVerificationTurnedOff) {
  const std::string v1 =
      R"({"format":"nemori-dump","version":1,"raw_events":1,"episodes":0,"links":0,)"
      R"("created_at":"2024-01-01T00:00:00+00:00"})"
      "\n"
      R"({"type":"raw_event","data":{"data_id":"r1","owner_id":"o","data_type":"custom",)"
      R"("content":"hi","source":"","temporal_info":{"timestamp":"2024-01-01T00:00:00+00:00"}}})"
      "\n";
  EXPECT_THAT(tampered_error(v1),
              HasSubstr("dump line 1: dump version 1 carries no checksums, so it cannot be "
                        "verified; import it without verification (nemori import --no-verify)"));
  auto target = open_storage("memory://");
  std::istringstream in(v1);
  EXPECT_EQ(restore_dump(*target, in, false, 1000, {}, false), (DumpCounts{1, 0, 0}));
  EXPECT_EQ(target->raw_data().get("r1")->content, "hi");
}

TEST(DumpChecksums, Sha256MatchesTheStandardVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  Sha256 pieces;
  const std::string million(1000000, 'a');
  for (std::size_t i = 0; i < million.size(); i += 999) pieces.update(million.substr(i, 999));
  EXPECT_EQ(pieces.hex_digest(),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// ---- statements, sources and progress (version 3) -----------------------------------------

Statement statement(const std::string& id, const std::string& owner, unsigned day,
                    Ids sources) {
  Statement s;
  s.statement_id = id;
  s.owner_id = owner;
  s.category = StatementCategory::kPreference;
  s.subject = "Caroline";
  s.content = "Statement " + id + ".";
  s.confidence = 0.75;
  s.valid_from = make_timestamp(2024, 3, day);
  s.recorded_at = make_timestamp(2024, 4, 1);
  s.updated_at = make_timestamp(2024, 4, 2);
  s.source_episode_ids = std::move(sources);
  return s;
}

// populated() plus: bob's "s-b1" closed by "s-b0" (a closer whose id sorts first), supported
// by two episodes in an order that is not sorted; alice's "s-a" with a vector; progress rows.
std::unique_ptr<Storage> with_statements() {
  auto s = populated();
  WriteBatch batch;
  batch.episodes = {episode("e-b0", "bob", 6)};
  Statement closed = statement("s-b1", "bob", 1, {"e-b0", "e-b"});
  closed.valid_to = make_timestamp(2024, 3, 6);
  closed.superseded_by = "s-b0";
  closed.metadata = {{"evidence", {"r-b1"}}, {"extraction", "direct"}};
  Statement alice = statement("s-a", "alice", 5, {"e-a"});
  alice.embedding_vector = std::vector<float>{0.5f, -0.25f};
  alice.embedding_model = "test-embedder";
  batch.statements = {closed, statement("s-b0", "bob", 6, {"e-b"}), alice};
  SemanticProgress done;
  done.episode_id = "e-b";
  done.owner_id = "bob";
  done.state = SemanticState::kDone;
  done.version = "semantic-1";
  done.semantic_calls = 2;
  done.semantic_tokens = 345;
  done.updated_at = make_timestamp(2024, 4, 3);
  SemanticProgress dropped = done;
  dropped.episode_id = "e-a";
  dropped.owner_id = "alice";
  dropped.state = SemanticState::kDropped;
  dropped.detail = "no JSON twice";
  batch.semantic_progress = {done, dropped};
  s->apply(batch);
  return s;
}

// The lines of a dump without the ones that hold created_at (the header) or a checksum
// covering it (the end line).
std::vector<std::string> record_lines(const std::string& dump) {
  auto lines = lines_of(dump);
  return std::vector<std::string>(lines.begin() + 1, lines.end() - 1);
}

TEST(StatementDump, StatementSourceAndProgressLinesFollowTheLinks) {
  auto s = with_statements();
  std::ostringstream out;
  EXPECT_EQ(write_dump(*s, out), (DumpCounts{3, 3, 3, 3, 4, 2}));
  const auto lines = lines_of(out.str());
  const auto header = parse_json(lines[0]);
  EXPECT_EQ(header["statements"], 3);
  EXPECT_EQ(header["statement_sources"], 4);
  EXPECT_EQ(header["semantic_progress"], 2);
  std::vector<std::string> types;
  for (std::size_t i = 1; i + 1 < lines.size(); ++i)
    types.push_back(parse_json(lines[i])["type"].get<std::string>());
  EXPECT_THAT(types, ElementsAre("raw_event", "raw_event", "raw_event", "episode", "episode",
                                 "episode", "link", "link", "link", "statement", "statement",
                                 "statement", "statement_source", "statement_source",
                                 "statement_source", "statement_source", "semantic_progress",
                                 "semantic_progress"));
  // Statements by owner, then id; sources statement by statement in the order they were added.
  EXPECT_EQ(parse_json(lines[10])["data"]["statement_id"], "s-a");
  EXPECT_EQ(parse_json(lines[11])["data"]["statement_id"], "s-b0");
  EXPECT_EQ(parse_json(lines[12])["data"]["statement_id"], "s-b1");
  EXPECT_FALSE(parse_json(lines[12])["data"].contains("source_episode_ids"));
  EXPECT_EQ(parse_json(lines[12])["data"]["superseded_by"], "s-b0");
  EXPECT_EQ(parse_json(lines[10])["data"]["embedding_model"], "test-embedder");
  EXPECT_FALSE(parse_json(lines[11])["data"].contains("embedding_model"));
  const auto source = [&](std::size_t i) {
    const auto j = parse_json(lines[i]);
    return j["statement_id"].get<std::string>() + "<-" + j["episode_id"].get<std::string>();
  };
  EXPECT_EQ(source(13), "s-a<-e-a");
  EXPECT_EQ(source(14), "s-b0<-e-b");
  EXPECT_EQ(source(15), "s-b1<-e-b0");
  EXPECT_EQ(source(16), "s-b1<-e-b");
  EXPECT_EQ(parse_json(lines[17])["data"]["episode_id"], "e-a");
  EXPECT_EQ(parse_json(lines[18])["data"]["episode_id"], "e-b");
  // One owner: only its statements and progress.
  EXPECT_EQ(write_dump(*s, out, "alice"), (DumpCounts{1, 1, 1, 1, 1, 1}));
}

TEST(StatementDump, DumpWithStatementsRestoredIntoAFreshStoreDumpsIdentically) {
  auto source = with_statements();
  const std::string first = dump_of(*source);
  auto target = open_storage("memory://");
  std::istringstream in(first);
  EXPECT_EQ(restore_dump(*target, in, false), (DumpCounts{3, 3, 3, 3, 4, 2}));
  EXPECT_EQ(record_lines(dump_of(*target)), record_lines(first));
  for (const std::string id : {"s-a", "s-b0", "s-b1"}) {
    EXPECT_EQ(target->statements().get(id), source->statements().get(id)) << id;
  }
  EXPECT_EQ(target->statements().get("s-b1")->source_episode_ids, (Ids{"e-b0", "e-b"}));
  EXPECT_EQ(target->statements().progress_rows(""), source->statements().progress_rows(""));
  // Progress is restored, so only the episode without a row is pending.
  EXPECT_THAT(target->statements().pending_episodes("bob", std::nullopt), ElementsAre("e-b0"));
  EXPECT_THAT(target->statements().pending_episodes("alice", std::nullopt), ::testing::IsEmpty());
}

// `lines` as a dump of `version`, each line sealed with its checksum and an end line added.
std::string sealed_dump(const std::vector<std::string>& lines) {
  std::string text;
  const auto seal = [](std::string object) {
    object.pop_back();
    return object + R"(,"sha256":")" + sha256_hex(object) + "\"}";
  };
  for (const std::string& line : lines) text += seal(line) + "\n";
  nlohmann::ordered_json end;
  end["type"] = "end";
  end["lines"] = lines.size();
  end["dump_sha256"] = sha256_hex(text);
  return text + seal(end.dump()) + "\n";
}

TEST(StatementDump, VersionTwoDumpStillRestores) {
  const std::string v2 = sealed_dump({
      R"({"format":"nemori-dump","version":2,"raw_events":1,"episodes":1,"links":1,)"
      R"("created_at":"2024-01-01T00:00:00+00:00"})",
      R"({"type":"raw_event","data":{"data_id":"r1","owner_id":"o","data_type":"custom",)"
      R"("content":"hi","source":"","temporal_info":{"timestamp":"2024-01-01T00:00:00+00:00"}}})",
      R"({"type":"episode","data":{"episode_id":"e1","owner_id":"o","title":"T","content":"C",)"
      R"("summary":"S","temporal_info":{"timestamp":"2024-01-02T00:00:00+00:00"}}})",
      R"({"type":"link","episode_id":"e1","raw_data_id":"r1"})",
  });
  auto target = open_storage("memory://");
  std::istringstream in(v2);
  EXPECT_EQ(restore_dump(*target, in, false), (DumpCounts{1, 1, 1}));
  EXPECT_EQ(target->episodes().get("e1")->title, "T");
  EXPECT_EQ(target->statements().count("", StatementState::kAll), 0u);
  // Every episode of a version 2 dump is pending for the semantic pass.
  EXPECT_THAT(target->statements().pending_episodes("o", std::nullopt), ElementsAre("e1"));
  // A version 2 dump cannot hold statement lines.
  const std::string with_statement = sealed_dump({
      R"({"format":"nemori-dump","version":2,"raw_events":0,"episodes":0,"links":0,)"
      R"("created_at":"2024-01-01T00:00:00+00:00"})",
      R"({"type":"statement","data":{}})",
  });
  EXPECT_THAT(restore_error(with_statement, true),
              HasSubstr("dump line 2: unknown record type \"statement\" (valid in a version 2 "
                        "dump: raw_event, episode, link)"));
}

TEST(StatementDump, RestoreChecksSourcesProgressAndSupersession) {
  auto source = with_statements();
  const auto lines = lines_of(dump_of(*source));
  // lines: 0 header, 1-3 raw, 4-6 episodes (e-a, e-b, e-b0), 7-9 links, 10 s-a, 11 s-b0,
  // 12 s-b1, 13-16 sources, 17-18 progress, 19 end
  auto without = [&](std::initializer_list<std::size_t> drop, const std::string& header_from,
                     const std::string& header_to) {
    std::vector<std::string> kept;
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (std::find(drop.begin(), drop.end(), i) != drop.end()) continue;
      kept.push_back(i == 0 ? replace_first(lines[0], header_from, header_to) : lines[i]);
    }
    return join_lines(kept);
  };
  // A statement without any source line.
  EXPECT_THAT(restore_error(without({13}, R"("statement_sources":4)", R"("statement_sources":3)")),
              HasSubstr("dump line 11: statement \"s-a\" has no statement_source line"));
  // A source naming an episode the dump does not hold (the episode and its link dropped).
  EXPECT_THAT(restore_error(without({6}, R"("episodes":3)", R"("episodes":2)")),
              HasSubstr("which the dump does not hold"));
  // superseded_by naming a statement the dump does not hold.
  EXPECT_THAT(
      restore_error(without({11, 14}, R"("statements":3,"statement_sources":4)",
                            R"("statements":2,"statement_sources":3)")),
      HasSubstr("dump line 12: statement \"s-b1\" is superseded by statement \"s-b0\", which "
                "the dump does not hold"));
  // A source across owners: alice's statement supported by bob's episode.
  auto cross = lines;
  cross[13] = replace_first(cross[13], R"("episode_id":"e-a")", R"("episode_id":"e-b")");
  EXPECT_THAT(restore_error(join_lines(cross)), HasSubstr("sources never cross owners"));
  // Progress of an episode of another owner.
  auto progress = lines;
  progress[17] = replace_first(progress[17], R"("episode_id":"e-a")", R"("episode_id":"e-b0")");
  EXPECT_THAT(restore_error(join_lines(progress)),
              HasSubstr("dump line 18: semantic progress of owner \"alice\" for episode "
                        "\"e-b0\" of owner \"bob\""));
  // A statement after its sources.
  auto order = lines;
  std::swap(order[12], order[13]);
  EXPECT_THAT(restore_error(join_lines(order)), HasSubstr("out of order"));
  // A statement line carrying sources of its own.
  auto carrying = lines;
  carrying[10] = replace_first(carrying[10], R"("statement_id":"s-a")",
                               R"("statement_id":"s-a","source_episode_ids":["e-a"])");
  EXPECT_THAT(restore_error(join_lines(carrying)), HasSubstr("carries no sources"));
  // A broken statement names its line and field.
  auto broken = lines;
  broken[11] = replace_first(broken[11], R"("confidence":0.75)", R"("confidence":7.5)");
  EXPECT_THAT(restore_error(join_lines(broken)),
              HasSubstr("dump line 12: statement.confidence"));
}

TEST(CopyStorage, CopiesStatementsSourcesAndProgressInSmallBatches) {
  auto source = with_statements();
  auto target = open_storage("memory://");
  // Batches of one: s-b1 is copied before the statement that closed it.
  EXPECT_EQ(copy_storage(*source, *target, 1), (DumpCounts{3, 3, 3, 3, 4, 2}));
  for (const std::string id : {"s-a", "s-b0", "s-b1"}) {
    EXPECT_EQ(target->statements().get(id), source->statements().get(id)) << id;
  }
  EXPECT_EQ(target->statements().progress_rows(""), source->statements().progress_rows(""));
  EXPECT_EQ(record_lines(dump_of(*target)), record_lines(dump_of(*source)));
}

}  // namespace
}  // namespace nemori
