// The storage conformance cases of semantic memory (statements, their sources, the semantic
// pass's progress and the WriteBatch steps that write them), on the shared fixture: every
// backend's test binary runs them unchanged (docs/design/semantic-memory.md §1.7).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

#include "conformance_suite.h"
#include "nemori/core/error.h"
#include "nemori/core/statement.h"
#include "nemori/core/time.h"
#include "nemori/storage/dump.h"

namespace nemori::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using Ids = std::vector<std::string>;

// ---- building records ----

// 2024-01-<d> <hour>:00:00 UTC.
Timestamp day(unsigned d, unsigned hour = 0) {
  return make_timestamp(2024, 1, d, hour);
}

Episode episode(const std::string& id, const std::string& owner, Timestamp t) {
  Episode e;
  e.episode_id = id;
  e.owner_id = owner;
  e.episode_type = EpisodeType::kConversational;
  e.title = "Episode " + id;
  e.content = "Content of " + id;
  e.summary = "Summary";
  e.temporal_info.timestamp = t;
  e.metadata.processing_timestamp = t;
  return e;
}

Statement statement(const std::string& id, const std::string& owner, const std::string& content,
                    Timestamp valid_from, Ids sources) {
  Statement s;
  s.statement_id = id;
  s.owner_id = owner;
  s.category = StatementCategory::kFact;
  s.subject = "Caroline";
  s.content = content;
  s.confidence = 0.8;
  s.valid_from = valid_from;
  s.recorded_at = day(20);
  s.updated_at = day(20);
  s.source_episode_ids = std::move(sources);
  return s;
}

SemanticProgress progress(const std::string& episode_id, const std::string& owner,
                          SemanticState state) {
  SemanticProgress p;
  p.episode_id = episode_id;
  p.owner_id = owner;
  p.state = state;
  p.version = "semantic-1";
  p.updated_at = day(21);
  return p;
}

// Episodes e1 (day 1), e2 (day 2), e3 (day 3) of alice and b1 (day 1) of bob.
void store_episodes(Storage& storage) {
  WriteBatch batch;
  batch.episodes = {episode("e1", "alice", day(1)), episode("e2", "alice", day(2)),
                    episode("e3", "alice", day(3)), episode("b1", "bob", day(1))};
  storage.apply(batch);
}

WriteBatchResult store_statements(Storage& storage, std::vector<Statement> statements) {
  WriteBatch batch;
  batch.statements = std::move(statements);
  return storage.apply(batch);
}

Ids ids_of(const std::vector<Statement>& statements) {
  Ids out;
  for (const Statement& s : statements) out.push_back(s.statement_id);
  return out;
}

Ids ids_of(const StatementSearchResult& result) {
  return ids_of(result.statements);
}

StatementQuery all_of(const std::string& owner) {
  StatementQuery q;
  q.owner_ids = {owner};
  q.state = StatementState::kAll;
  q.sort = StatementQuery::Sort::kValidFromAsc;
  return q;
}

// The message of the `Error` type `apply` throws ("" when it throws nothing else).
template <typename Error, typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// ---- statements: storing and reading ----

TEST_P(StorageConformanceTest, StatementRoundTripsEveryField) {
  store_episodes(*storage);
  Statement closed = statement("s-old", "alice", "Caroline lives in Boston.",
                               day(1) + std::chrono::microseconds(123456), {"e2", "e1", "e3"});
  closed.category = StatementCategory::kRelationship;
  closed.subject = "Caroline";
  closed.confidence = 0.95;
  closed.valid_to = day(5, 13) + std::chrono::microseconds(7);
  closed.superseded_by = "s-new";
  closed.recorded_at = day(6) + std::chrono::microseconds(1);
  closed.updated_at = day(7) + std::chrono::microseconds(999999);
  closed.embedding_vector = std::vector<float>{0.25f, -1.5f, 3.0e-5f};
  closed.embedding_model = "test-embedder";
  closed.metadata = {{"evidence", {"r1", "r2"}},
                     {"extraction", "calibrate"},
                     {"nested", {{"a", {1, 2.5, nullptr, true}}}}};
  Statement current = statement("s-new", "alice", "Caroline lives in Denver.", day(5, 13) +
                                                                                  std::chrono::microseconds(7),
                                {"e3"});
  current.category = StatementCategory::kHabit;
  current.subject = "";
  const WriteBatchResult result = store_statements(*storage, {closed, current});
  EXPECT_EQ(result.statements_stored, 2u);

  const auto check = [&] {
    EXPECT_EQ(storage->statements().get("s-old"), closed);
    EXPECT_EQ(storage->statements().get("s-new"), current);
    const Ids ids{"s-new", "missing", "s-old"};
    const auto batch = storage->statements().get_batch(ids);
    ASSERT_EQ(batch.size(), 3u);
    EXPECT_EQ(batch[0], current);
    EXPECT_EQ(batch[1], std::nullopt);
    EXPECT_EQ(batch[2], closed);
    EXPECT_EQ(storage->statements().get("missing"), std::nullopt);
    EXPECT_THAT(storage->statements().sources("alice"),
                ElementsAre(StatementSource{"s-new", "e3"}, StatementSource{"s-old", "e1"},
                            StatementSource{"s-old", "e2"}, StatementSource{"s-old", "e3"}));
  };
  check();
  if (GetParam().reopen) {
    reopen();
    check();
  }
}

TEST_P(StorageConformanceTest, InvalidStatementsAreRejectedWithValidationError) {
  store_episodes(*storage);
  const Statement good = statement("s1", "alice", "Caroline likes tea.", day(1), {"e1"});
  struct Case {
    const char* field;
    void (*breaks)(Statement&);
  };
  const Case cases[] = {
      {"content", [](Statement& s) { s.content.clear(); }},
      {"content", [](Statement& s) { s.content = std::string(1001, 'a'); }},
      {"content", [](Statement& s) { s.content = std::string("tea\0coffee", 10); }},
      {"confidence", [](Statement& s) { s.confidence = 1.5; }},
      {"confidence", [](Statement& s) { s.confidence = std::nan(""); }},
      {"valid_to", [](Statement& s) { s.valid_to = s.valid_from - std::chrono::seconds(1); }},
      {"embedding_model", [](Statement& s) { s.embedding_model = "test-embedder"; }},
      {"owner_id", [](Statement& s) { s.owner_id.clear(); }},
      {"statement_id", [](Statement& s) { s.statement_id.clear(); }},
  };
  for (const Case& c : cases) {
    Statement bad = good;
    c.breaks(bad);
    const std::string message = error_of<ValidationError>([&] {
      store_statements(*storage, {statement("s0", "alice", "Fine.", day(1), {"e1"}), bad});
    });
    EXPECT_THAT(message, HasSubstr("statements[1]")) << c.field;
    EXPECT_THAT(message, HasSubstr(c.field)) << c.field;
  }
  EXPECT_EQ(storage->statements().count("", StatementState::kAll), 0u);
  // Exactly 1000 bytes is fine.
  Statement longest = good;
  longest.content = std::string(1000, 'a');
  EXPECT_NO_THROW(store_statements(*storage, {longest}));
  // An unknown category cannot even be decoded.
  nlohmann::json j = to_json(good);
  j["category"] = "opinion";
  EXPECT_THAT(error_of<ValidationError>([&] { statement_from_json(j); }),
              HasSubstr("statement.category"));
}

TEST_P(StorageConformanceTest, StatementWithoutSourceIsRejected) {
  store_episodes(*storage);
  const std::string message = error_of<ValidationError>([&] {
    store_statements(*storage, {statement("s1", "alice", "Caroline likes tea.", day(1), {})});
  });
  EXPECT_THAT(message, HasSubstr("statements[0] (statement_id \"s1\")"));
  EXPECT_THAT(message, HasSubstr("source_episode_ids"));
  EXPECT_THAT(error_of<ValidationError>([&] {
                store_statements(*storage,
                                 {statement("s1", "alice", "Caroline likes tea.", day(1),
                                            {"e1", "e1"})});
              }),
              HasSubstr("source_episode_ids[1]"));
  EXPECT_EQ(storage->statements().get("s1"), std::nullopt);
}

TEST_P(StorageConformanceTest, StatementSourceToAMissingEpisodeThrowsNotFoundAndStoresNothing) {
  store_episodes(*storage);
  const std::string message = error_of<NotFoundError>([&] {
    store_statements(*storage, {statement("s1", "alice", "One.", day(1), {"e1"}),
                                statement("s2", "alice", "Two.", day(1), {"e2", "nowhere"})});
  });
  EXPECT_THAT(message, HasSubstr("statements[1] (statement_id \"s2\")"));
  EXPECT_THAT(message, HasSubstr("\"nowhere\""));
  EXPECT_EQ(storage->statements().count("alice", StatementState::kAll), 0u);
  EXPECT_THAT(storage->statements().sources(""), IsEmpty());

  // Through statement_sources, and a source to a statement that does not exist.
  store_statements(*storage, {statement("s1", "alice", "One.", day(1), {"e1"})});
  WriteBatch batch;
  batch.statement_sources = {{"s1", "e2"}, {"s1", "nowhere"}};
  EXPECT_THAT(error_of<NotFoundError>([&] { storage->apply(batch); }),
              HasSubstr("statement_sources[1]"));
  batch.statement_sources = {{"s1", "e2"}, {"ghost", "e2"}};
  EXPECT_THAT(error_of<NotFoundError>([&] { storage->apply(batch); }), HasSubstr("\"ghost\""));
  EXPECT_EQ(storage->statements().get("s1")->source_episode_ids, Ids{"e1"});

  // An episode stored by the same batch is fine.
  WriteBatch together;
  together.episodes = {episode("e9", "alice", day(9))};
  together.statements = {statement("s9", "alice", "Nine.", day(9), {"e9"})};
  EXPECT_EQ(storage->apply(together).statements_stored, 1u);
}

TEST_P(StorageConformanceTest, StatementSourceOfAnotherOwnerIsRefusedNamingBothOwners) {
  store_episodes(*storage);
  std::string message = error_of<ValidationError>([&] {
    store_statements(*storage, {statement("s1", "alice", "One.", day(1), {"e1", "b1"})});
  });
  EXPECT_THAT(message, HasSubstr("\"alice\""));
  EXPECT_THAT(message, HasSubstr("\"bob\""));
  EXPECT_THAT(message, HasSubstr("\"b1\""));
  EXPECT_EQ(storage->statements().get("s1"), std::nullopt);

  store_statements(*storage, {statement("s1", "alice", "One.", day(1), {"e1"})});
  WriteBatch batch;
  batch.statement_sources = {{"s1", "b1"}};
  message = error_of<ValidationError>([&] { storage->apply(batch); });
  EXPECT_THAT(message, HasSubstr("statement_sources[0]"));
  EXPECT_THAT(message, HasSubstr("\"alice\""));
  EXPECT_THAT(message, HasSubstr("\"bob\""));

  WriteBatch progress_batch;
  progress_batch.semantic_progress = {progress("b1", "alice", SemanticState::kDone)};
  message = error_of<ValidationError>([&] { storage->apply(progress_batch); });
  EXPECT_THAT(message, HasSubstr("\"alice\""));
  EXPECT_THAT(message, HasSubstr("\"bob\""));

  WriteBatch move;
  move.source_moves = {{"e1", "b1"}};
  message = error_of<ValidationError>([&] { storage->apply(move); });
  EXPECT_THAT(message, HasSubstr("source_moves[0]"));
  EXPECT_THAT(message, HasSubstr("\"bob\""));

  // superseded_by naming a statement of another owner.
  store_statements(*storage, {statement("t1", "bob", "Bob's.", day(1), {"b1"})});
  Statement closing = statement("s2", "alice", "Two.", day(1), {"e1"});
  closing.valid_to = day(2);
  closing.superseded_by = "t1";
  message = error_of<ValidationError>([&] { store_statements(*storage, {closing}); });
  EXPECT_THAT(message, HasSubstr("superseded_by"));
  EXPECT_THAT(message, HasSubstr("\"bob\""));
  EXPECT_EQ(storage->statements().get("s1")->source_episode_ids, Ids{"e1"});
  EXPECT_EQ(storage->statements().progress("b1"), std::nullopt);
}

TEST_P(StorageConformanceTest, StoringAnExistingStatementIdThrowsDuplicateAndKeepsTheOriginal) {
  store_episodes(*storage);
  const Statement original = statement("s1", "alice", "Caroline likes tea.", day(1), {"e1"});
  store_statements(*storage, {original});
  std::string message = error_of<DuplicateError>([&] {
    store_statements(*storage, {statement("s2", "alice", "New.", day(2), {"e2"}),
                                statement("s1", "alice", "Caroline likes coffee.", day(2), {"e2"})});
  });
  EXPECT_THAT(message, HasSubstr("statements[1] (statement_id \"s1\")"));
  EXPECT_EQ(storage->statements().get("s1"), original);
  EXPECT_EQ(storage->statements().get("s2"), std::nullopt);

  message = error_of<DuplicateError>([&] {
    store_statements(*storage, {statement("s3", "alice", "Three.", day(2), {"e2"}),
                                statement("s3", "alice", "Three again.", day(2), {"e3"})});
  });
  EXPECT_THAT(message, HasSubstr("statements[1]"));
  EXPECT_THAT(message, HasSubstr("statements[0]"));
  EXPECT_EQ(storage->statements().get("s3"), std::nullopt);
  EXPECT_EQ(storage->statements().count("alice", StatementState::kAll), 1u);
}

TEST_P(StorageConformanceTest, StatementUpdateStrengthensAndClosesButCannotChangeContentOrOwner) {
  store_episodes(*storage);
  const Statement original = statement("s1", "alice", "Caroline lives in Boston.", day(1), {"e1"});
  store_statements(*storage, {original});

  // Strengthen: confidence, metadata, embedding, updated_at, plus a new source row.
  Statement strengthened = original;
  strengthened.confidence = 0.9;
  strengthened.updated_at = day(22);
  strengthened.metadata = {{"evidence", {"r7"}}};
  strengthened.embedding_vector = std::vector<float>{1.0f, 0.0f};
  strengthened.embedding_model = "test-embedder";
  strengthened.source_episode_ids = {"e3"};  // ignored by an update
  WriteBatch strengthen;
  strengthen.statement_updates = {strengthened};
  strengthen.statement_sources = {{"s1", "e2"}, {"s1", "e1"}};
  WriteBatchResult result = storage->apply(strengthen);
  EXPECT_EQ(result.statements_updated, 1u);
  EXPECT_EQ(result.sources_added, 1u);
  Statement expected = strengthened;
  expected.source_episode_ids = {"e1", "e2"};
  EXPECT_EQ(storage->statements().get("s1"), expected);

  // Close it with a new statement of the same batch.
  Statement closer = statement("s2", "alice", "Caroline lives in Denver.", day(3), {"e3"});
  Statement closed = expected;
  closed.valid_to = day(3);
  closed.superseded_by = "s2";
  closed.updated_at = day(23);
  WriteBatch close;
  close.statements = {closer};
  close.statement_updates = {closed};
  result = storage->apply(close);
  EXPECT_EQ(result.statements_stored, 1u);
  EXPECT_EQ(result.statements_updated, 1u);
  EXPECT_EQ(storage->statements().get("s1"), closed);
  EXPECT_FALSE(storage->statements().get("s1")->current());

  // What cannot change.
  Statement edited = closed;
  edited.content = "Caroline lives in Austin.";
  WriteBatch edit;
  edit.statement_updates = {edited};
  std::string message = error_of<ValidationError>([&] { storage->apply(edit); });
  EXPECT_THAT(message, HasSubstr("statement_updates[0] (statement_id \"s1\")"));
  EXPECT_THAT(message, HasSubstr("content cannot change; store a new statement and close this one"));
  edited = closed;
  edited.owner_id = "bob";
  edit.statement_updates = {edited};
  EXPECT_THAT(error_of<ValidationError>([&] { storage->apply(edit); }),
              HasSubstr("owner_id cannot change"));
  for (auto change : {+[](Statement& s) { s.category = StatementCategory::kGoal; },
                      +[](Statement& s) { s.subject = "Melanie"; },
                      +[](Statement& s) { s.valid_from = day(2); }}) {
    edited = closed;
    change(edited);
    edit.statement_updates = {edited};
    EXPECT_THAT(error_of<ValidationError>([&] { storage->apply(edit); }),
                HasSubstr("cannot change"));
  }
  EXPECT_EQ(storage->statements().get("s1"), closed);

  // Two updates of one statement in a batch are refused.
  WriteBatch twice;
  twice.statement_updates = {closed, closed};
  EXPECT_THROW(storage->apply(twice), DuplicateError);
}

TEST_P(StorageConformanceTest, StatementUpdateOfAMissingIdThrowsNotFoundAndWritesNothing) {
  store_episodes(*storage);
  WriteBatch batch;
  batch.statements = {statement("s1", "alice", "One.", day(1), {"e1"})};
  batch.statement_updates = {statement("ghost", "alice", "Ghost.", day(1), {"e1"})};
  batch.semantic_progress = {progress("e1", "alice", SemanticState::kDone)};
  const std::string message = error_of<NotFoundError>([&] { storage->apply(batch); });
  EXPECT_THAT(message, HasSubstr("statement_updates[0] (statement_id \"ghost\")"));
  EXPECT_EQ(storage->statements().get("s1"), std::nullopt);
  EXPECT_EQ(storage->statements().progress("e1"), std::nullopt);

  // A statement of the same batch is not "stored" for an update.
  batch.statement_updates = {statement("s1", "alice", "One.", day(1), {"e1"})};
  EXPECT_THROW(storage->apply(batch), NotFoundError);
  EXPECT_EQ(storage->statements().count("", StatementState::kAll), 0u);

  // superseded_by naming no statement.
  Statement closed = statement("s1", "alice", "One.", day(1), {"e1"});
  closed.valid_to = day(2);
  closed.superseded_by = "nobody";
  EXPECT_THAT(error_of<NotFoundError>([&] { store_statements(*storage, {closed}); }),
              HasSubstr("\"nobody\""));
}

// ---- queries ----

// A [day1, day5) closed by B [day5, -); C [day3, -); D [day2, day4) closed by hand.
void store_timeline(Storage& storage) {
  store_episodes(storage);
  Statement a = statement("A", "alice", "Caroline lives in Boston.", day(1), {"e1"});
  a.valid_to = day(5);
  a.superseded_by = "B";
  Statement b = statement("B", "alice", "Caroline lives in Denver.", day(5), {"e2"});
  Statement c = statement("C", "alice", "Caroline likes tea.", day(3), {"e2"});
  Statement d = statement("D", "alice", "Caroline is learning piano.", day(2), {"e3"});
  d.valid_to = day(4);
  store_statements(storage, {a, b, c, d});
}

TEST_P(StorageConformanceTest, CurrentSupersededAndAsOfQueriesAgree) {
  store_timeline(*storage);
  auto& statements = storage->statements();
  StatementQuery q = all_of("alice");
  q.state = StatementState::kCurrent;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("C", "B"));
  q.state = StatementState::kSuperseded;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("A", "D"));
  q.state = StatementState::kAll;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("A", "D", "C", "B"));
  EXPECT_EQ(statements.count("alice", StatementState::kCurrent), 2u);
  EXPECT_EQ(statements.count("alice", StatementState::kSuperseded), 2u);
  EXPECT_EQ(statements.count("alice", StatementState::kAll), 4u);
  EXPECT_EQ(statements.count("", StatementState::kAll), 4u);
  EXPECT_EQ(statements.count("bob", StatementState::kAll), 0u);

  q.state = StatementState::kCurrent;  // ignored with as_of
  const auto as_of = [&](Timestamp t) {
    q.as_of = t;
    return ids_of(statements.search(q));
  };
  EXPECT_THAT(as_of(day(1) - std::chrono::microseconds(1)), IsEmpty());
  EXPECT_THAT(as_of(day(1)), ElementsAre("A"));  // valid_from is in
  EXPECT_THAT(as_of(day(2)), ElementsAre("A", "D"));
  EXPECT_THAT(as_of(day(4) - std::chrono::microseconds(1)), ElementsAre("A", "D", "C"));
  EXPECT_THAT(as_of(day(4)), ElementsAre("A", "C"));  // valid_to is out
  EXPECT_THAT(as_of(day(5)), ElementsAre("C", "B"));
  EXPECT_THAT(as_of(make_timestamp(2030, 1, 1)), ElementsAre("C", "B"));
}

TEST_P(StorageConformanceTest, StatementSearchEachFilterAloneAndPagesWalkEveryRowOnce) {
  store_episodes(*storage);
  std::vector<Statement> all;
  const StatementCategory categories[] = {StatementCategory::kFact, StatementCategory::kGoal,
                                          StatementCategory::kHabit};
  for (int i = 0; i < 12; ++i) {
    const std::string id = "s" + std::string(1, static_cast<char>('a' + i));
    // valid_from ties in pairs, so the id decides inside a pair.
    Statement s = statement(id, "alice", "Fact number " + std::to_string(i) + ".",
                            day(static_cast<unsigned>(1 + i / 2)), {i % 2 == 0 ? "e1" : "e2"});
    s.category = categories[i % 3];
    s.updated_at = day(20) + std::chrono::hours(11 - i);  // reverse of valid_from
    all.push_back(s);
  }
  all.push_back(statement("bob-1", "bob", "Fact of bob.", day(1), {"b1"}));
  store_statements(*storage, all);
  auto& statements = storage->statements();

  StatementQuery q;
  q.state = StatementState::kAll;
  EXPECT_EQ(statements.search(q).total_count, 13u);
  q.owner_ids = {"bob"};
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("bob-1"));
  q.owner_ids = {"bob", "alice"};
  EXPECT_EQ(statements.search(q).total_count, 13u);
  q = StatementQuery{};
  q.categories = {StatementCategory::kGoal};
  q.sort = StatementQuery::Sort::kValidFromAsc;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("sb", "se", "sh", "sk"));
  q = StatementQuery{};
  q.text_contains = "NUMBER 1";
  q.sort = StatementQuery::Sort::kValidFromAsc;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("sb", "sk", "sl"));  // 1, 10, 11
  q = StatementQuery{};
  q.source_episode_id = "e2";
  q.sort = StatementQuery::Sort::kValidFromAsc;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("sb", "sd", "sf", "sh", "sj", "sl"));
  q.source_episode_id = "b1";
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("bob-1"));
  q = StatementQuery{};
  q.statement_ids = {"sc", "bob-1", "nothing"};
  q.sort = StatementQuery::Sort::kValidFromAsc;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("bob-1", "sc"));

  // Sorts: ties on valid_from broken by the id in the same direction.
  q = all_of("alice");
  q.limit = 4;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("sa", "sb", "sc", "sd"));
  q.sort = StatementQuery::Sort::kValidFromDesc;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("sl", "sk", "sj", "si"));
  q.sort = StatementQuery::Sort::kUpdatedDesc;
  EXPECT_THAT(ids_of(statements.search(q)), ElementsAre("sa", "sb", "sc", "sd"));

  // Pages of 5 walk every row once, in order, with exact totals.
  for (auto sort : {StatementQuery::Sort::kValidFromAsc, StatementQuery::Sort::kValidFromDesc,
                    StatementQuery::Sort::kUpdatedDesc}) {
    q = all_of("alice");
    q.sort = sort;
    const Ids expected = ids_of(statements.search(q));
    ASSERT_EQ(expected.size(), 12u);
    Ids walked;
    q.limit = 5;
    for (q.offset = 0;; q.offset += 5) {
      const StatementSearchResult page = statements.search(q);
      EXPECT_EQ(page.total_count, 12u);
      EXPECT_EQ(page.has_more, q.offset + page.statements.size() < 12u);
      for (const auto& id : ids_of(page)) walked.push_back(id);
      if (!page.has_more) break;
    }
    EXPECT_EQ(walked, expected);
  }
  q = all_of("alice");
  q.limit = 0;
  const StatementSearchResult none = statements.search(q);
  EXPECT_THAT(none.statements, IsEmpty());
  EXPECT_EQ(none.total_count, 12u);
  EXPECT_TRUE(none.has_more);
  q.limit = 5;
  q.offset = 40;
  EXPECT_THAT(statements.search(q).statements, IsEmpty());

  // Sources come with every hit.
  q = StatementQuery{};
  q.statement_ids = {"sa"};
  EXPECT_EQ(statements.search(q).statements.at(0).source_episode_ids, Ids{"e1"});

  // An empty owner in owner_ids is refused.
  q = StatementQuery{};
  q.owner_ids = {"alice", ""};
  EXPECT_THAT(error_of<ValidationError>([&] { statements.search(q); }), HasSubstr("owner_ids[1]"));
  q = StatementQuery{};
  q.text_contains = "\xff";
  EXPECT_THROW(statements.search(q), ValidationError);
}

TEST_P(StorageConformanceTest, StatementTextSearchIsCaseInsensitiveAndLiteral) {
  store_episodes(*storage);
  const std::vector<std::pair<std::string, std::string>> contents = {
      {"percent", "She is 100% sure."},
      {"underscore", "Her handle is snake_case."},
      {"backslash", "The path is C:\\Users\\caro."},
      {"accent", "Caroline teaches at the ÉCOLE in Lyon."},
      {"quote", "'; DROP TABLE statements; -- is her joke."},
      {"plain", "Caroline likes 100 percent cotton."},
  };
  std::vector<Statement> statements;
  for (const auto& [id, content] : contents)
    statements.push_back(statement(id, "alice", content, day(1), {"e1"}));
  store_statements(*storage, statements);

  const auto find = [&](const std::string& needle) {
    StatementQuery q = all_of("alice");
    q.text_contains = needle;
    Ids ids = ids_of(storage->statements().search(q));
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_THAT(find("%"), ElementsAre("percent"));
  EXPECT_THAT(find("100%"), ElementsAre("percent"));
  EXPECT_THAT(find("_"), ElementsAre("underscore"));
  EXPECT_THAT(find("e_c"), ElementsAre("underscore"));
  EXPECT_THAT(find("snake%"), IsEmpty());
  EXPECT_THAT(find("\\"), ElementsAre("backslash"));
  EXPECT_THAT(find("c:\\users"), ElementsAre("backslash"));
  EXPECT_THAT(find("école"), ElementsAre("accent"));
  EXPECT_THAT(find("ÉCOLE IN LYON"), ElementsAre("accent"));
  EXPECT_THAT(find("'; drop table"), ElementsAre("quote"));
  EXPECT_THAT(find("100"), ElementsAre("percent", "plain"));
  EXPECT_THAT(find("CAROLINE"), ElementsAre("accent", "plain"));
  EXPECT_EQ(find("").size(), contents.size());
}

// ---- history and removal ----

TEST_P(StorageConformanceTest, HistoryFollowsSupersessionBothWays) {
  store_episodes(*storage);
  // A -> B -> C (each closed by the next), E -> C, D unrelated.
  Statement a = statement("A", "alice", "Lives in Boston.", day(1), {"e1"});
  a.valid_to = day(2);
  a.superseded_by = "B";
  Statement b = statement("B", "alice", "Lives in Denver.", day(2), {"e2"});
  b.valid_to = day(4);
  b.superseded_by = "C";
  Statement e = statement("E", "alice", "Rents a flat.", day(3), {"e2"});
  e.valid_to = day(4);
  e.superseded_by = "C";
  Statement c = statement("C", "alice", "Owns a house in Austin.", day(4), {"e3"});
  Statement d = statement("D", "alice", "Likes tea.", day(1), {"e1"});
  store_statements(*storage, {c, b, a, e, d});

  for (const std::string id : {"A", "B", "C", "E"}) {
    EXPECT_THAT(ids_of(storage->statements().history(id)), ElementsAre("A", "B", "E", "C")) << id;
  }
  EXPECT_THAT(ids_of(storage->statements().history("D")), ElementsAre("D"));
  EXPECT_THAT(storage->statements().history("unknown"), IsEmpty());
  EXPECT_EQ(storage->statements().history("B").at(1), b);
}

TEST_P(StorageConformanceTest, RemovingAStatementReopensWhatItClosed) {
  store_timeline(*storage);
  Statement a_before = *storage->statements().get("A");
  EXPECT_TRUE(storage->statements().remove("B"));
  EXPECT_EQ(storage->statements().get("B"), std::nullopt);
  Statement a_after = *storage->statements().get("A");
  EXPECT_TRUE(a_after.current());
  EXPECT_EQ(a_after.superseded_by, "");
  a_before.valid_to.reset();
  a_before.superseded_by.clear();
  EXPECT_EQ(a_after, a_before);  // nothing else changed
  // D was closed by hand: removing something else leaves it closed.
  EXPECT_FALSE(storage->statements().get("D")->current());
  EXPECT_THAT(storage->statements().sources("alice"),
              ElementsAre(StatementSource{"A", "e1"}, StatementSource{"C", "e2"},
                          StatementSource{"D", "e3"}));
  EXPECT_FALSE(storage->statements().remove("B"));
  EXPECT_FALSE(storage->statements().remove("never"));
  EXPECT_THAT(storage->statements().history("A"), ElementsAre(a_after));
  if (GetParam().reopen) {
    reopen();
    EXPECT_EQ(storage->statements().get("A"), a_after);
    EXPECT_EQ(storage->statements().get("B"), std::nullopt);
  }
}

// ---- cascades from episodes ----

// S1 <- e1 only; S2 <- e1, e2; S3 <- e2; S0 <- e3, closed by S1. Progress rows for e1..e3.
void store_supported(Storage& storage) {
  store_episodes(storage);
  Statement s0 = statement("S0", "alice", "Zero.", day(1), {"e3"});
  s0.valid_to = day(2);
  s0.superseded_by = "S1";
  WriteBatch batch;
  batch.statements = {s0, statement("S1", "alice", "One.", day(2), {"e1"}),
                      statement("S2", "alice", "Two.", day(2), {"e1", "e2"}),
                      statement("S3", "alice", "Three.", day(3), {"e2"})};
  batch.semantic_progress = {progress("e1", "alice", SemanticState::kDone),
                             progress("e2", "alice", SemanticState::kDone),
                             progress("e3", "alice", SemanticState::kDone)};
  storage.apply(batch);
}

TEST_P(StorageConformanceTest, DeletingAnEpisodeRemovesOnlyStatementsNoOtherEpisodeSupports) {
  store_supported(*storage);
  EXPECT_TRUE(storage->episodes().remove("e1"));
  auto& statements = storage->statements();
  EXPECT_EQ(statements.get("S1"), std::nullopt);
  EXPECT_EQ(statements.get("S2")->source_episode_ids, Ids{"e2"});
  EXPECT_NE(statements.get("S3"), std::nullopt);
  const auto s0 = statements.get("S0");
  ASSERT_NE(s0, std::nullopt);
  EXPECT_TRUE(s0->current());  // its closer is gone
  EXPECT_EQ(s0->superseded_by, "");
  EXPECT_EQ(statements.progress("e1"), std::nullopt);
  EXPECT_NE(statements.progress("e2"), std::nullopt);
  EXPECT_THAT(statements.sources("alice"),
              ElementsAre(StatementSource{"S0", "e3"}, StatementSource{"S2", "e2"},
                          StatementSource{"S3", "e2"}));

  // Through a batch: the counts say what went.
  WriteBatch batch;
  batch.delete_episodes = {"e2"};
  const WriteBatchResult result = storage->apply(batch);
  EXPECT_EQ(result.episodes_deleted, 1u);
  EXPECT_EQ(result.statements_removed, 2u);  // S2, S3
  EXPECT_EQ(result.statements_reopened, 0u);
  EXPECT_THAT(ids_of(statements.search(all_of("alice"))), ElementsAre("S0"));

  WriteBatch missing;
  missing.delete_episodes = {"e3", "e2"};
  EXPECT_THAT(error_of<NotFoundError>([&] { storage->apply(missing); }),
              HasSubstr("delete_episodes[1]"));
  EXPECT_NE(storage->episodes().get("e3"), std::nullopt);
}

TEST_P(StorageConformanceTest, EpisodeCleanupBeforeCascadesToStatementsAndProgress) {
  store_supported(*storage);
  EXPECT_EQ(storage->episodes().cleanup_before(day(2, 12), "alice"), 2u);  // e1, e2
  auto& statements = storage->statements();
  EXPECT_THAT(ids_of(statements.search(all_of("alice"))), ElementsAre("S0"));
  EXPECT_TRUE(statements.get("S0")->current());
  EXPECT_THAT(statements.sources(""), ElementsAre(StatementSource{"S0", "e3"}));
  std::vector<std::string> rows;
  for (const SemanticProgress& p : statements.progress_rows("alice")) rows.push_back(p.episode_id);
  EXPECT_THAT(rows, ElementsAre("e3"));
}

TEST_P(StorageConformanceTest, SourceMovesAndEpisodeDeletionsInOneBatchRepointStatements) {
  store_supported(*storage);
  // Merge e2 into e1: S2 (e1, e2) keeps one e1 row, S3 (e2) moves to e1.
  Episode merged = episode("e1m", "alice", day(1));
  merged.metadata.custom_fields = {{"merged_from", {"e1", "e2"}}};
  WriteBatch batch;
  batch.episodes = {merged};
  batch.source_moves = {{"e2", "e1m"}, {"e1", "e1m"}};
  batch.delete_episodes = {"e1", "e2"};
  batch.semantic_progress = {progress("e1m", "alice", SemanticState::kDone)};
  const WriteBatchResult result = storage->apply(batch);
  EXPECT_EQ(result.episodes_deleted, 2u);
  EXPECT_EQ(result.statements_removed, 0u);
  EXPECT_EQ(result.statements_reopened, 0u);
  auto& statements = storage->statements();
  EXPECT_EQ(statements.get("S1")->source_episode_ids, Ids{"e1m"});
  EXPECT_EQ(statements.get("S2")->source_episode_ids, Ids{"e1m"});
  EXPECT_EQ(statements.get("S3")->source_episode_ids, Ids{"e1m"});
  EXPECT_EQ(statements.get("S0")->superseded_by, "S1");  // nothing reopened
  EXPECT_THAT(statements.sources("alice"),
              ElementsAre(StatementSource{"S0", "e3"}, StatementSource{"S1", "e1m"},
                          StatementSource{"S2", "e1m"}, StatementSource{"S3", "e1m"}));
  EXPECT_EQ(statements.progress("e1"), std::nullopt);
  EXPECT_EQ(statements.progress("e2"), std::nullopt);
  EXPECT_NE(statements.progress("e1m"), std::nullopt);
  EXPECT_EQ(storage->episodes().get("e2"), std::nullopt);

  // A move keeps the position of the source it replaces.
  store_statements(*storage, {statement("S4", "alice", "Four.", day(4), {"e3", "e1m"})});
  WriteBatch again;
  again.episodes = {episode("e5", "alice", day(5))};
  again.source_moves = {{"e3", "e5"}};
  storage->apply(again);
  EXPECT_EQ(statements.get("S4")->source_episode_ids, (Ids{"e5", "e1m"}));
}

TEST_P(StorageConformanceTest, MergeBatchFailingAtItsLastItemLeavesBothEpisodesAndTheirStatements) {
  store_supported(*storage);
  const auto before = storage->statements().search(all_of("alice"));
  const auto sources_before = storage->statements().sources("");
  const auto progress_before = storage->statements().progress_rows("");
  Statement closing = *storage->statements().get("S3");
  closing.valid_to = day(9);
  closing.updated_at = day(24);
  WriteBatch batch;
  batch.source_moves = {{"e2", "e1"}};
  batch.delete_episodes = {"e2"};
  batch.statements = {statement("S9", "alice", "Nine.", day(9), {"e1"})};
  batch.statement_updates = {closing};
  batch.statement_sources = {{"S9", "e3"}};
  batch.semantic_progress = {progress("e1", "alice", SemanticState::kDone),
                             progress("e2", "alice", SemanticState::kDone)};  // e2 is deleted
  const std::string message = error_of<NotFoundError>([&] { storage->apply(batch); });
  EXPECT_THAT(message, HasSubstr("semantic_progress[1]"));
  EXPECT_THAT(message, HasSubstr("\"e2\""));
  EXPECT_NE(storage->episodes().get("e1"), std::nullopt);
  EXPECT_NE(storage->episodes().get("e2"), std::nullopt);
  EXPECT_EQ(storage->statements().search(all_of("alice")).statements, before.statements);
  EXPECT_EQ(storage->statements().sources(""), sources_before);
  EXPECT_EQ(storage->statements().progress_rows(""), progress_before);
  EXPECT_EQ(storage->statements().get("S9"), std::nullopt);

  // A statement the batch's deletions leave without a source cannot be named later on.
  WriteBatch orphaning;
  orphaning.delete_episodes = {"e2"};  // S3 loses its only source
  orphaning.statement_sources = {{"S3", "e1"}};
  EXPECT_THAT(error_of<NotFoundError>([&] { storage->apply(orphaning); }),
              HasSubstr("statement_sources[0]"));
  EXPECT_NE(storage->episodes().get("e2"), std::nullopt);
}

// ---- progress ----

TEST_P(StorageConformanceTest, ProgressIsUpsertedAndPendingEpisodesAreOldestFirst) {
  WriteBatch episodes;
  // Ids out of time order, and a tie on the timestamp broken by the id.
  episodes.episodes = {episode("p-z", "alice", day(1)), episode("p-b", "alice", day(3)),
                       episode("p-a", "alice", day(3)), episode("p-m", "alice", day(2)),
                       episode("q-1", "bob", day(1)), episode("c-1", "carol", day(1))};
  storage->apply(episodes);
  auto& statements = storage->statements();
  EXPECT_THAT(statements.pending_episodes("alice", std::nullopt),
              ElementsAre("p-z", "p-m", "p-a", "p-b"));
  EXPECT_THAT(statements.pending_episodes("alice", 2), ElementsAre("p-z", "p-m"));
  EXPECT_THAT(statements.pending_owners(), ElementsAre("alice", "bob", "carol"));
  EXPECT_THAT(statements.pending_episodes("nobody", std::nullopt), IsEmpty());
  EXPECT_THROW(statements.pending_episodes("", std::nullopt), ValidationError);

  SemanticProgress retry = progress("p-m", "alice", SemanticState::kRetry);
  retry.attempts = 1;
  retry.detail = "timeout";
  WriteBatch first;
  first.semantic_progress = {progress("p-z", "alice", SemanticState::kDone), retry,
                             progress("p-a", "alice", SemanticState::kPending),
                             progress("q-1", "bob", SemanticState::kFailed),
                             progress("c-1", "carol", SemanticState::kSkipped)};
  storage->apply(first);
  EXPECT_THAT(statements.pending_episodes("alice", std::nullopt), ElementsAre("p-m", "p-a", "p-b"));
  EXPECT_THAT(statements.pending_owners(), ElementsAre("alice"));
  EXPECT_EQ(statements.progress("p-m"), retry);
  EXPECT_EQ(statements.progress("p-b"), std::nullopt);

  // Upsert: the row is replaced whole.
  SemanticProgress done = progress("p-m", "alice", SemanticState::kDone);
  done.attempts = 2;
  done.semantic_calls = 2;
  done.semantic_tokens = 1234;
  done.merge_calls = 1;
  done.merge_tokens = 56;
  done.updated_at = day(22) + std::chrono::microseconds(5);
  WriteBatch second;
  second.semantic_progress = {done, progress("p-a", "alice", SemanticState::kDropped),
                              progress("p-b", "alice", SemanticState::kDone)};
  storage->apply(second);
  EXPECT_EQ(statements.progress("p-m"), done);
  EXPECT_THAT(statements.pending_episodes("alice", std::nullopt), IsEmpty());
  EXPECT_THAT(statements.pending_owners(), IsEmpty());
  std::vector<std::string> rows;
  for (const SemanticProgress& p : statements.progress_rows("alice")) rows.push_back(p.episode_id);
  EXPECT_THAT(rows, ElementsAre("p-a", "p-b", "p-m", "p-z"));
  EXPECT_EQ(statements.progress_rows("").size(), 6u);

  WriteBatch twice;
  twice.semantic_progress = {done, done};
  EXPECT_THROW(storage->apply(twice), DuplicateError);
  WriteBatch missing;
  missing.semantic_progress = {progress("nowhere", "alice", SemanticState::kDone)};
  EXPECT_THROW(storage->apply(missing), NotFoundError);
  SemanticProgress negative = done;
  negative.attempts = -1;
  WriteBatch invalid;
  invalid.semantic_progress = {negative};
  EXPECT_THAT(error_of<ValidationError>([&] { storage->apply(invalid); }),
              HasSubstr("semantic_progress[0] (episode_id \"p-m\")"));
  if (GetParam().reopen) {
    reopen();
    EXPECT_EQ(storage->statements().progress("p-m"), done);
  }
}

// ---- owners and stats ----

TEST_P(StorageConformanceTest, DeleteOwnerRemovesStatementsSourcesAndProgressOfThatOwnerOnly) {
  store_supported(*storage);
  WriteBatch bob;
  bob.statements = {statement("T1", "bob", "Bob's.", day(1), {"b1"})};
  bob.semantic_progress = {progress("b1", "bob", SemanticState::kDone)};
  storage->apply(bob);

  const OwnerDeletion deleted = storage->delete_owner("alice");
  EXPECT_EQ(deleted.statements, 4u);
  EXPECT_EQ(deleted.episodes, 3u);
  auto& statements = storage->statements();
  EXPECT_EQ(statements.count("alice", StatementState::kAll), 0u);
  EXPECT_THAT(statements.sources(""), ElementsAre(StatementSource{"T1", "b1"}));
  EXPECT_THAT(statements.progress_rows("alice"), IsEmpty());
  EXPECT_EQ(statements.progress_rows("").size(), 1u);
  EXPECT_NE(statements.get("T1"), std::nullopt);
  EXPECT_THAT(storage->list_owners(), ElementsAre("bob"));

  // In a batch, the deleted owner's ids may be stored again.
  WriteBatch replace;
  replace.delete_owners = {"bob"};
  replace.episodes = {episode("b1", "bob", day(1))};
  replace.statements = {statement("T1", "bob", "Bob's again.", day(1), {"b1"})};
  const WriteBatchResult result = storage->apply(replace);
  EXPECT_EQ(result.deleted.statements, 1u);
  EXPECT_EQ(statements.get("T1")->content, "Bob's again.");
  EXPECT_EQ(statements.progress("b1"), std::nullopt);
}

TEST_P(StorageConformanceTest, StatsCountCurrentAndSupersededStatementsAndMergedEpisodes) {
  store_supported(*storage);
  Episode merged = episode("e-merged", "alice", day(4));
  merged.metadata.custom_fields = {{"merged_from", {"x", "y"}}, {"other", 1}};
  Episode plain = episode("e-plain", "alice", day(4));
  plain.metadata.custom_fields = {{"merged_into", "z"}};
  Statement goal = statement("G1", "alice", "Wants to adopt.", day(4), {"e-merged"});
  goal.category = StatementCategory::kGoal;
  SemanticProgress usage = progress("e-merged", "alice", SemanticState::kRetry);
  usage.semantic_calls = 3;
  usage.semantic_tokens = 300;
  usage.merge_calls = 2;
  usage.merge_tokens = 20;
  SemanticProgress more = progress("e3", "alice", SemanticState::kDone);
  more.semantic_calls = 1;
  more.semantic_tokens = 50;
  WriteBatch batch;
  batch.episodes = {merged, plain};
  batch.statements = {goal};
  batch.semantic_progress = {usage, more};
  storage->apply(batch);

  const StorageStats stats = storage->stats();
  EXPECT_EQ(stats.statements_current, 4u);     // S1, S2, S3, G1
  EXPECT_EQ(stats.statements_superseded, 1u);  // S0
  EXPECT_EQ(stats.statements_by_category,
            (std::map<std::string, std::size_t>{{"fact", 4}, {"goal", 1}}));
  EXPECT_EQ(stats.statement_sources, 6u);
  EXPECT_EQ(stats.merged_episodes, 1u);
  EXPECT_EQ(stats.semantic_progress,
            (std::map<std::string, std::size_t>{{"done", 3}, {"retry", 1}}));
  EXPECT_EQ(stats.semantic_usage.at("semantic_calls"), 4u);
  EXPECT_EQ(stats.semantic_usage.at("semantic_tokens"), 350u);
  EXPECT_EQ(stats.semantic_usage.at("merge_calls"), 2u);
  EXPECT_EQ(stats.semantic_usage.at("merge_tokens"), 20u);

  storage->episodes().remove("e-merged");
  const StorageStats after = storage->stats();
  EXPECT_EQ(after.merged_episodes, 0u);
  EXPECT_EQ(after.statements_current, 3u);
  EXPECT_EQ(after.statement_sources, 5u);
}

// ---- dump ----

// A dump's lines without the header and end lines (created_at, and the checksums covering it).
std::vector<std::string> record_lines(Storage& storage) {
  std::ostringstream out;
  write_dump(storage, out);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return std::vector<std::string>(lines.begin() + 1, lines.end() - 1);
}

TEST_P(StorageConformanceTest, DumpWithStatementsRestoredIntoAFreshStoreDumpsIdentically) {
  store_supported(*storage);
  Statement vector = statement("V1", "alice", "Has a vector.", day(3), {"e3", "e1"});
  vector.embedding_vector = std::vector<float>{0.5f, -0.25f, 1e-3f};
  vector.embedding_model = "test-embedder";
  vector.metadata = {{"evidence", {"r1"}}, {"extraction", "calibrate"}};
  WriteBatch batch;
  batch.statements = {vector, statement("T1", "bob", "Bob's.", day(1), {"b1"})};
  storage->apply(batch);
  std::ostringstream dump;
  const DumpCounts counts = write_dump(*storage, dump);
  EXPECT_EQ(counts, (DumpCounts{0, 4, 0, 6, 8, 3}));

  std::unique_ptr<Storage> restored = GetParam().open_fresh();
  std::istringstream in(dump.str());
  EXPECT_EQ(restore_dump(*restored, in, false), counts);
  EXPECT_EQ(record_lines(*restored), record_lines(*storage));
  std::unique_ptr<Storage> copied = GetParam().open_fresh();
  EXPECT_EQ(copy_storage(*storage, *copied, 2), counts);
  EXPECT_EQ(record_lines(*copied), record_lines(*storage));
  for (Storage* target : {restored.get(), copied.get()}) {
    for (const std::string id : {"S0", "S1", "S2", "S3", "V1", "T1"}) {
      EXPECT_EQ(target->statements().get(id), storage->statements().get(id)) << id;
    }
    EXPECT_EQ(target->statements().progress_rows(""), storage->statements().progress_rows(""));
  }
  restored->close();
  copied->close();
}

// ---- concurrency ----

TEST_P(StorageConformanceTest, StatementWritesFromEightThreadsLoseNoRows) {
  store_episodes(*storage);
  store_statements(*storage, {statement("shared", "alice", "Shared.", day(1), {"e1"})});
  constexpr int kThreads = 8, kPerThread = 12;
  WriteBatch episodes;
  for (int t = 0; t < kThreads; ++t)
    episodes.episodes.push_back(episode("t" + std::to_string(t), "alice", day(4)));
  storage->apply(episodes);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string ep = "t" + std::to_string(t);
      try {
        for (int i = 0; i < kPerThread; ++i) {
          WriteBatch batch;
          batch.statements = {statement(ep + "-" + std::to_string(i), "alice", "Fact.", day(4),
                                        {ep})};
          batch.statement_sources = {{"shared", ep}};
          batch.semantic_progress = {progress(ep, "alice", SemanticState::kDone)};
          storage->apply(batch);
        }
      } catch (const std::exception&) {
        ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(storage->statements().count("alice", StatementState::kAll),
            static_cast<std::size_t>(1 + kThreads * kPerThread));
  EXPECT_EQ(storage->statements().get("shared")->source_episode_ids.size(),
            static_cast<std::size_t>(1 + kThreads));
  EXPECT_EQ(storage->statements().progress_rows("alice").size(),
            static_cast<std::size_t>(kThreads));
}

}  // namespace
}  // namespace nemori::testing
