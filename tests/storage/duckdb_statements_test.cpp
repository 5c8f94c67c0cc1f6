// Statements on the DuckDB backend beyond the conformance suite: migration 3 on a file made
// at version 2, the new indexes under check_integrity and repair, the order of sources across
// batches and reopens, and replacements of statement rows while readers hold old snapshots.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <duckdb.h>
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/core/time.h"
#include "nemori/storage/dump.h"
#include "nemori/storage/factory.h"
#include "storage/duckdb/schema.h"

namespace nemori {
namespace {

Timestamp at(int minute) {
  return make_timestamp(2024, 3, 1) + std::chrono::minutes(minute);
}

Episode make_episode(const std::string& id, const std::string& owner, int minute) {
  Episode e;
  e.episode_id = id;
  e.owner_id = owner;
  e.title = "Title " + id;
  e.content = "Content of " + id;
  e.summary = "Summary";
  e.temporal_info.timestamp = at(minute);
  e.metadata.processing_timestamp = at(minute);
  return e;
}

Statement make_statement(const std::string& id, const std::string& owner,
                         std::vector<std::string> sources, int minute,
                         const std::string& content = "") {
  Statement s;
  s.statement_id = id;
  s.owner_id = owner;
  s.category = StatementCategory::kFact;
  s.subject = "Caroline";
  s.content = content.empty() ? "Statement " + id + "." : content;
  s.valid_from = at(minute);
  s.recorded_at = at(minute);
  s.updated_at = at(minute);
  s.source_episode_ids = std::move(sources);
  return s;
}

// Runs SQL on a closed database file through the C API; fails the test on an error.
void run_on_file(const std::string& path, const std::string& sql) {
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
  ASSERT_EQ(duckdb_open(path.c_str(), &db), DuckDBSuccess);
  ASSERT_EQ(duckdb_connect(db, &con), DuckDBSuccess);
  duckdb_result result;
  if (duckdb_query(con, sql.c_str(), &result) != DuckDBSuccess) {
    ADD_FAILURE() << sql << ": " << duckdb_result_error(&result);
  }
  duckdb_destroy_result(&result);
  duckdb_disconnect(&con);
  duckdb_close(&db);
}

class DuckDbStatementsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nemori-duckdb-statements-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "store.duckdb").string();
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::unique_ptr<Storage> open() { return open_storage("duckdb://" + path_); }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(DuckDbStatementsTest, AVersionTwoFileGainsTheSemanticTablesAndKeepsItsEpisodes) {
  // Episodes encoded by this build, in a scratch store, to copy into the old file.
  const std::string scratch = (dir_ / "scratch.duckdb").string();
  Episode old_one = make_episode("e1", "alice", 1);
  old_one.embedding_vector = std::vector<float>{0.5f, -2.0f};
  old_one.embedding_model = "m";
  const Episode newer_one = make_episode("e2", "alice", 2);
  {
    auto storage = open_storage("duckdb://" + scratch);
    storage->episodes().store_batch(std::vector<Episode>{old_one, newer_one});
  }
  // A file exactly as a nemori of schema version 2 made it: migrations 1 and 2, recorded.
  std::string sql =
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, "
      "applied_at TIMESTAMP NOT NULL);";
  for (const detail::duck::Migration& migration : detail::duck::migrations()) {
    if (migration.version > 2) continue;
    for (const std::string& statement : migration.statements) sql += statement + ";";
    sql += "INSERT INTO schema_migrations VALUES (" + std::to_string(migration.version) + ", 'v" +
           std::to_string(migration.version) + "', now()::TIMESTAMP);";
  }
  sql += "ATTACH '" + scratch +
         "' AS scratch (READ_ONLY);"
         "INSERT INTO episodes SELECT * FROM scratch.episodes;";
  run_on_file(path_, sql);

  auto storage = open();
  EXPECT_EQ(storage->stats().details.at("schema_version"), 3);
  EXPECT_EQ(storage->episodes().get("e1"), old_one);
  EXPECT_EQ(storage->statements().count("", StatementState::kAll), 0u);
  // Episodes stored before the semantic pass existed are its backlog, oldest first.
  EXPECT_EQ(storage->statements().pending_episodes("alice", std::nullopt),
            (std::vector<std::string>{"e1", "e2"}));
  EXPECT_EQ(storage->statements().pending_owners(), std::vector<std::string>{"alice"});

  WriteBatch batch;
  batch.statements.push_back(make_statement("s1", "alice", {"e1"}, 1));
  SemanticProgress done;
  done.episode_id = "e1";
  done.owner_id = "alice";
  done.state = SemanticState::kDone;
  done.version = "semantic-1";
  done.updated_at = at(5);
  batch.semantic_progress.push_back(done);
  storage->apply(batch);
  storage->close();

  storage = open();
  EXPECT_EQ(storage->statements().get("s1")->source_episode_ids, std::vector<std::string>{"e1"});
  EXPECT_EQ(storage->statements().progress("e1"), done);
  EXPECT_EQ(storage->statements().pending_episodes("alice", std::nullopt),
            std::vector<std::string>{"e2"});
}

TEST_F(DuckDbStatementsTest, TheNewIndexesAreCheckedAndRebuilt) {
  auto storage = open();
  storage->episodes().store(make_episode("e1", "alice", 1));
  WriteBatch batch;
  batch.statements.push_back(make_statement("s1", "alice", {"e1"}, 1));
  Statement closed = make_statement("s0", "alice", {"e1"}, 0);
  closed.valid_to = at(1);
  closed.superseded_by = "s1";
  batch.statements.push_back(closed);
  storage->apply(batch);

  const auto mentions = [](const std::vector<std::string>& lines, const std::string& index) {
    for (const std::string& line : lines) {
      if (line.find(index) != std::string::npos) return true;
    }
    return false;
  };
  const IntegrityReport checked = storage->check_integrity(true);
  EXPECT_TRUE(checked.consistent());
  const IntegrityReport repaired = storage->repair();
  EXPECT_TRUE(repaired.consistent());
  for (const std::string index :
       {"ix_statements_owner_id", "ix_statements_superseded_by", "ix_statement_sources_episode_id",
        "ix_semantic_progress_owner_id"}) {
    EXPECT_TRUE(mentions(checked.checked, index)) << index;
    EXPECT_TRUE(mentions(repaired.rebuilt, index)) << index;
  }
  // The statements still answer through the rebuilt indexes.
  EXPECT_EQ(storage->statements().count("alice", StatementState::kCurrent), 1u);
  EXPECT_EQ(storage->statements().history("s1").size(), 2u);
}

TEST_F(DuckDbStatementsTest, SourcesReadBackInTheOrderTheyWereAddedAcrossBatchesAndReopens) {
  auto storage = open();
  std::vector<Episode> episodes;
  for (int i = 1; i <= 5; ++i)
    episodes.push_back(make_episode("e" + std::to_string(i), "alice", i));
  storage->episodes().store_batch(episodes);
  WriteBatch first;
  // Not in id order, and all in one transaction: the order given is the order kept.
  first.statements.push_back(make_statement("s1", "alice", {"e3", "e1"}, 1));
  storage->apply(first);
  for (const char* next : {"e5", "e2"}) {
    WriteBatch more;
    more.statement_sources.push_back({"s1", next});
    more.statement_sources.push_back({"s1", "e3"});  // stored already: stays where it is
    EXPECT_EQ(storage->apply(more).sources_added, 1u);
  }
  using Ids = std::vector<std::string>;
  EXPECT_EQ(storage->statements().get("s1")->source_episode_ids, (Ids{"e3", "e1", "e5", "e2"}));
  // A merge moves e1's support to e4 in e1's place.
  WriteBatch merge;
  merge.source_moves.push_back({"e1", "e4"});
  merge.delete_episodes.push_back("e1");
  const WriteBatchResult merged = storage->apply(merge);
  EXPECT_EQ(merged.episodes_deleted, 1u);
  EXPECT_EQ(merged.statements_removed, 0u);
  storage->close();
  storage = open();
  EXPECT_EQ(storage->statements().get("s1")->source_episode_ids, (Ids{"e3", "e4", "e5", "e2"}));
  // sources() is ordered by statement, then episode, whatever the order of addition.
  EXPECT_EQ(storage->statements().sources("alice"),
            (std::vector<StatementSource>{{"s1", "e2"}, {"s1", "e3"}, {"s1", "e4"}, {"s1", "e5"}}));
}

TEST_F(DuckDbStatementsTest, StatementsClosedAndReopenedWhileReadersRunLoseNothing) {
  auto storage = open();
  storage->episodes().store(make_episode("e1", "alice", 1));
  WriteBatch setup;
  setup.statements.push_back(
      make_statement("old", "alice", {"e1"}, 1, "Caroline lives in Boston."));
  setup.statements.push_back(
      make_statement("new", "alice", {"e1"}, 2, "Caroline lives in Denver."));
  storage->apply(setup);
  const Statement old_one = *storage->statements().get("old");

  std::atomic<bool> running{true};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      StatementQuery query;
      query.state = StatementState::kAll;
      query.text_contains = "caroline";
      while (running) storage->statements().search(query);
    });
  }
  // Each round replaces the row of "old" twice (closed with a new vector, then reopened), and
  // each replacement moves its key while readers may still see the version before.
  EXPECT_NO_THROW({
    for (int round = 0; round < 30; ++round) {
      Statement closed = old_one;
      closed.valid_to = at(2);
      closed.superseded_by = "new";
      closed.embedding_vector = std::vector<float>(2, static_cast<float>(round));
      closed.updated_at = at(10 + round);
      WriteBatch close;
      close.statement_updates.push_back(closed);
      ASSERT_EQ(storage->apply(close).statements_updated, 1u);
      ASSERT_EQ(storage->statements().count("alice", StatementState::kCurrent), 1u);
      Statement reopened = old_one;
      reopened.updated_at = at(11 + round);
      WriteBatch reopen;
      reopen.statement_updates.push_back(reopened);
      ASSERT_EQ(storage->apply(reopen).statements_updated, 1u);
    }
  });
  running = false;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(storage->statements().count("alice", StatementState::kCurrent), 2u);
  Statement expected = old_one;
  expected.updated_at = at(40);
  EXPECT_EQ(storage->statements().get("old"), expected);
  EXPECT_TRUE(storage->check_integrity(true).consistent());
}

TEST_F(DuckDbStatementsTest, AProgressRowIsUpdatedInPlaceAndFollowsItsEpisodesOwner) {
  auto storage = open();
  Episode episode = make_episode("e1", "alice", 1);
  storage->episodes().store(episode);
  SemanticProgress progress;
  progress.episode_id = "e1";
  progress.owner_id = "alice";
  progress.state = SemanticState::kRetry;
  progress.attempts = 1;
  progress.version = "semantic-1";
  progress.detail = "timeout";
  progress.semantic_calls = 2;
  progress.updated_at = at(3);
  WriteBatch first;
  first.semantic_progress.push_back(progress);
  storage->apply(first);
  EXPECT_EQ(storage->statements().pending_episodes("alice", std::nullopt),
            std::vector<std::string>{"e1"});

  episode.owner_id = "bob";
  ASSERT_TRUE(storage->episodes().update(episode));
  progress.owner_id = "bob";
  progress.state = SemanticState::kDone;
  progress.attempts = 2;
  progress.detail = "";
  progress.semantic_tokens = 18446744073709551615ULL;  // every bit of the counter kept
  progress.updated_at = at(4);
  WriteBatch second;
  second.semantic_progress.push_back(progress);
  storage->apply(second);
  EXPECT_TRUE(storage->statements().progress_rows("alice").empty());
  EXPECT_EQ(storage->statements().progress_rows("bob"), std::vector<SemanticProgress>{progress});
  EXPECT_TRUE(storage->statements().pending_episodes("bob", std::nullopt).empty());
  EXPECT_TRUE(storage->statements().pending_owners().empty());
  EXPECT_EQ(storage->stats().semantic_progress, (std::map<std::string, std::size_t>{{"done", 1}}));
}

// The lines of a dump between its header and its end line (those carry the time of the dump).
std::vector<std::string> dump_body(Storage& storage) {
  std::ostringstream out;
  write_dump(storage, out);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_GE(lines.size(), 2u);
  return {lines.begin() + 1, lines.end() - 1};
}

TEST_F(DuckDbStatementsTest, DumpAndMigrateCarryStatementsSourcesAndProgressBetweenFiles) {
  auto storage = open();
  std::vector<Episode> episodes;
  for (int i = 1; i <= 3; ++i)
    episodes.push_back(make_episode("e" + std::to_string(i), "alice", i));
  storage->episodes().store_batch(episodes);
  WriteBatch batch;
  Statement boston = make_statement("s1", "alice", {"e2", "e1"}, 1, "Caroline lives in Boston.");
  boston.valid_to = at(3);
  boston.superseded_by = "s2";
  boston.embedding_vector = std::vector<float>{0.25f, -1.0f};
  boston.embedding_model = "m";
  boston.metadata = {{"evidence", {"r1"}}, {"extraction", "direct"}};
  batch.statements.push_back(boston);
  batch.statements.push_back(make_statement("s2", "alice", {"e3"}, 3, "Caroline lives in Denver."));
  SemanticProgress done;
  done.episode_id = "e3";
  done.owner_id = "alice";
  done.state = SemanticState::kDone;
  done.version = "semantic-1";
  done.semantic_calls = 2;
  done.semantic_tokens = 900;
  done.updated_at = at(4);
  batch.semantic_progress.push_back(done);
  storage->apply(batch);
  const std::vector<std::string> body = dump_body(*storage);

  std::ostringstream dumped;
  write_dump(*storage, dumped);
  auto restored = open_storage("duckdb://" + (dir_ / "restored.duckdb").string());
  std::istringstream in(dumped.str());
  const DumpCounts counts = restore_dump(*restored, in, false);
  EXPECT_EQ(counts.statements, 2u);
  EXPECT_EQ(counts.statement_sources, 3u);
  EXPECT_EQ(counts.semantic_progress, 1u);
  EXPECT_EQ(dump_body(*restored), body);
  EXPECT_EQ(restored->statements().get("s1"), storage->statements().get("s1"));

  auto migrated = open_storage("duckdb://" + (dir_ / "migrated.duckdb").string());
  EXPECT_EQ(copy_storage(*storage, *migrated), counts);
  EXPECT_EQ(dump_body(*migrated), body);
  EXPECT_EQ(migrated->statements().history("s2").size(), 2u);
  EXPECT_EQ(migrated->statements().progress("e3"), done);
}

}  // namespace
}  // namespace nemori
