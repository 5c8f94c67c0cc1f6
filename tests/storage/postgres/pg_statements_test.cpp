// Statements on PostgreSQL beyond the conformance suite: the migration of a version-3 schema,
// the cascade's single-statement reopening, and concurrent writers of different owners.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

#include "nemori/core/error.h"
#include "nemori/storage/factory.h"
#include "pg_test_support.h"

namespace nemori::testing {
namespace {

using ::testing::ElementsAre;

Episode episode(const std::string& id, const std::string& owner, Timestamp t) {
  Episode e;
  e.episode_id = id;
  e.owner_id = owner;
  e.title = "Episode " + id;
  e.content = "Content of " + id;
  e.temporal_info.timestamp = t;
  return e;
}

Statement statement(const std::string& id, const std::string& owner,
                    std::vector<std::string> sources, Timestamp from) {
  Statement s;
  s.statement_id = id;
  s.owner_id = owner;
  s.category = StatementCategory::kFact;
  s.subject = "Caroline";
  s.content = "Statement " + id + " about Caroline.";
  s.valid_from = from;
  s.recorded_at = from;
  s.updated_at = from;
  s.source_episode_ids = std::move(sources);
  return s;
}

SemanticProgress done(const std::string& episode_id, const std::string& owner) {
  SemanticProgress p;
  p.episode_id = episode_id;
  p.owner_id = owner;
  p.state = SemanticState::kDone;
  p.version = "semantic-1";
  p.semantic_calls = 2;
  p.semantic_tokens = 100;
  p.updated_at = make_timestamp(2024, 2, 1);
  return p;
}

std::vector<std::int64_t> migration_versions(const std::string& schema) {
  auto conn = admin_connection();
  pg::Result r = conn->exec("SELECT version FROM " + pg::quote_ident(schema) +
                            ".schema_migrations ORDER BY version");
  std::vector<std::int64_t> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.int64(i, 0));
  return out;
}

TEST(PostgresStatements, ASchemaOfVersionThreeGainsTheSemanticTablesAndKeepsItsEpisodes) {
  const std::string schema = unique_schema("sem");
  const Episode e = episode("e1", "alice", make_timestamp(2024, 1, 1));
  {
    auto s = open_storage(pg_config(schema));
    s->episodes().store(e);
    s->close();
  }
  // Back to version 3, as a nemori of before semantic memory left it.
  auto admin = admin_connection();
  admin->exec_simple("DROP TABLE " + schema + ".statement_sources, " + schema +
                     ".semantic_progress, " + schema + ".statements; DELETE FROM " + schema +
                     ".schema_migrations WHERE version = 4");
  auto s = open_storage(pg_config(schema));
  EXPECT_THAT(migration_versions(schema), ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(s->stats().details["schema_version"], 4);
  EXPECT_EQ(s->episodes().get("e1"), e);
  EXPECT_THAT(s->statements().pending_episodes("alice", std::nullopt), ElementsAre("e1"));

  WriteBatch batch;
  batch.statements.push_back(statement("s1", "alice", {"e1"}, make_timestamp(2024, 1, 1)));
  batch.semantic_progress.push_back(done("e1", "alice"));
  s->apply(batch);
  EXPECT_EQ(s->statements().get("s1"), batch.statements[0]);
  EXPECT_TRUE(s->statements().pending_episodes("alice", std::nullopt).empty());
  EXPECT_EQ(s->statements().progress("e1"), batch.semantic_progress[0]);
}

TEST(PostgresStatements, AProgressRowIsUpdatedInPlaceFollowsItsEpisodesOwnerAndKeepsEveryBit) {
  auto s = open_fresh_pg();
  Episode e = episode("e1", "alice", make_timestamp(2024, 1, 1));
  s->episodes().store(e);
  SemanticProgress progress = done("e1", "alice");
  progress.state = SemanticState::kRetry;
  progress.attempts = 1;
  progress.detail = "timeout";
  WriteBatch first;
  first.semantic_progress.push_back(progress);
  s->apply(first);
  EXPECT_THAT(s->statements().pending_episodes("alice", std::nullopt), ElementsAre("e1"));
  EXPECT_THAT(s->statements().pending_owners(), ElementsAre("alice"));

  e.owner_id = "bob";
  ASSERT_TRUE(s->episodes().update(e));
  progress.owner_id = "bob";
  progress.state = SemanticState::kDone;
  progress.attempts = 2;
  progress.detail = "";
  progress.semantic_tokens = 18446744073709551615ULL;  // every bit of the counter kept
  progress.merge_tokens = (1ULL << 63) + 5;
  progress.updated_at = make_timestamp(2024, 3, 1);
  WriteBatch second;
  second.semantic_progress.push_back(progress);
  s->apply(second);
  EXPECT_TRUE(s->statements().progress_rows("alice").empty());
  EXPECT_THAT(s->statements().progress_rows("bob"), ElementsAre(progress));
  EXPECT_TRUE(s->statements().pending_owners().empty());
  const StorageStats stats = s->stats();
  EXPECT_EQ(stats.semantic_progress, (std::map<std::string, std::size_t>{{"done", 1}}));
  EXPECT_EQ(stats.semantic_usage.at("semantic_tokens"), 18446744073709551615ULL);
  EXPECT_EQ(stats.semantic_usage.at("merge_tokens"), (1ULL << 63) + 5);
  EXPECT_EQ(stats.semantic_usage.at("semantic_calls"), 2u);
}

TEST(PostgresStatements, TheTablesRefuseRowsThatBreakTheModelEvenWrittenByHand) {
  const std::string schema = unique_schema("semck");
  auto s = open_storage(pg_config(schema));
  s->episodes().store(episode("e1", "alice", make_timestamp(2024, 1, 1)));
  auto admin = admin_connection();
  const std::string insert = "INSERT INTO " + schema +
                             ".statements (statement_id, owner_id, category, content, "
                             "confidence, valid_from, valid_to, recorded_at, updated_at) VALUES ";
  EXPECT_THROW(admin->exec_simple(insert +
                                  "('x', 'alice', 'opinion', 'c', 0.5, now(), NULL, now(), now())"),
               Error);  // unknown category
  EXPECT_THROW(admin->exec_simple(insert +
                                  "('x', 'alice', 'fact', 'c', 1.5, now(), NULL, now(), now())"),
               Error);  // confidence above 1
  EXPECT_THROW(admin->exec_simple(insert + "('x', 'alice', 'fact', 'c', 0.5, now(), "
                                           "now() - interval '1 day', now(), now())"),
               Error);  // valid_to before valid_from
  EXPECT_THROW(admin->exec_simple("INSERT INTO " + schema +
                                  ".semantic_progress (episode_id, owner_id, state, version) "
                                  "VALUES ('missing', 'alice', 'done', 'v')"),
               Error);  // progress of an episode that does not exist
}

TEST(PostgresStatements, CleanupBeforeRemovesOrphansAndReopensWhatTheyClosedInOneStatement) {
  auto s = open_fresh_pg();
  const Timestamp jan = make_timestamp(2024, 1, 1), feb = make_timestamp(2024, 2, 1),
                  mar = make_timestamp(2024, 3, 1);
  WriteBatch batch;
  batch.episodes = {episode("old", "alice", jan), episode("new", "alice", mar)};
  // s_old (from the kept episode "new" only) was closed by s_jan (from "old" only); s_both is
  // supported by both and survives the cleanup.
  Statement s_old = statement("s_old", "alice", {"new"}, jan);
  Statement s_jan = statement("s_jan", "alice", {"old"}, feb);
  Statement s_both = statement("s_both", "alice", {"old", "new"}, jan);
  s_old.valid_to = feb;
  s_old.superseded_by = "s_jan";
  batch.statements = {s_jan, s_old, s_both};
  s->apply(batch);
  EXPECT_EQ(s->statements().history("s_old").size(), 2u);

  EXPECT_EQ(s->episodes().cleanup_before(feb, "alice"), 1u);
  EXPECT_FALSE(s->statements().get("s_jan"));
  const auto reopened = s->statements().get("s_old");
  ASSERT_TRUE(reopened);
  EXPECT_TRUE(reopened->current());
  EXPECT_EQ(reopened->superseded_by, "");
  EXPECT_THAT(s->statements().get("s_both")->source_episode_ids, ElementsAre("new"));
  EXPECT_EQ(s->statements().count("alice", StatementState::kCurrent), 2u);
}

TEST(PostgresStatements, SearchesReadTheReplicaUnlessReadFromPrimaryAndLookupsReadThePrimary) {
  // A "replica" that lags: another database of the same server holding the schema without the
  // statement the primary has.
  const std::string schema = unique_schema("semrep");
  const std::string database = schema + "_replica";
  admin_connection()->exec_simple("CREATE DATABASE " + database);
  const std::string replica_url = with_database(pg_url(), database);
  const Timestamp t = make_timestamp(2024, 1, 1);
  {
    StorageConfig stale = pg_config(schema);
    stale.url = replica_url;
    open_storage(stale)->episodes().store(episode("e1", "alice", t));
  }
  StorageConfig config = pg_config(schema);
  config.read_replica_url = replica_url;
  {
    auto s = open_storage(config);
    WriteBatch batch;
    batch.episodes.push_back(episode("e1", "alice", t));
    batch.statements.push_back(statement("s1", "alice", {"e1"}, t));
    s->apply(batch);
    StatementQuery query;
    query.owner_ids = {"alice"};
    EXPECT_EQ(s->statements().search(query).total_count, 0u);  // the replica lags
    EXPECT_TRUE(s->statements().get("s1"));
    EXPECT_EQ(s->statements().history("s1").size(), 1u);
    EXPECT_EQ(s->statements().count("alice", StatementState::kAll), 1u);
    {
      auto primary = s->read_from_primary();
      EXPECT_EQ(s->statements().search(query).total_count, 1u);
    }
    EXPECT_EQ(s->statements().search(query).total_count, 0u);
  }
  admin_connection()->exec_simple("DROP DATABASE " + database);
}

// Two Storage objects (two pools, so two server connections) write statements for two owners
// at the same time, one batch per episode as the semantic pass does: every row arrives.
TEST(PostgresStatements, TwoConnectionsWritingStatementsForDifferentOwnersLoseNothing) {
  const std::string schema = unique_schema("semconc");
  constexpr int kEpisodes = 40;
  constexpr int kPerEpisode = 3;
  const std::vector<std::string> owners = {"alice", "bob"};
  {
    auto s = open_storage(pg_config(schema));
    for (const std::string& owner : owners) {
      WriteBatch batch;
      for (int i = 0; i < kEpisodes; ++i) {
        batch.episodes.push_back(episode(owner + "-e" + std::to_string(i), owner,
                                         make_timestamp(2024, 1, 1) + std::chrono::hours(i)));
      }
      s->apply(batch);
    }
  }
  std::atomic<int> failures{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (const std::string& owner : owners) {
    threads.emplace_back([&, owner] {
      auto s = open_storage(pg_config(schema));
      ready.fetch_add(1);
      while (ready.load() < static_cast<int>(owners.size())) std::this_thread::yield();
      try {
        std::string previous;
        for (int i = 0; i < kEpisodes; ++i) {
          const std::string e = owner + "-e" + std::to_string(i);
          const Timestamp t = make_timestamp(2024, 1, 1) + std::chrono::hours(i);
          WriteBatch batch;
          for (int k = 0; k < kPerEpisode; ++k) {
            batch.statements.push_back(statement(e + "-s" + std::to_string(k), owner, {e}, t));
          }
          if (!previous.empty()) {
            // Close the previous episode's first statement and support its second one again.
            Statement closed = *s->statements().get(previous + "-s0");
            closed.valid_to = t;
            closed.superseded_by = e + "-s0";
            closed.updated_at = t;
            batch.statement_updates.push_back(closed);
            batch.statement_sources.push_back({previous + "-s1", e});
          }
          batch.semantic_progress.push_back(done(e, owner));
          s->apply(batch);
          previous = e;
        }
      } catch (const std::exception& ex) {
        ADD_FAILURE() << owner << ": " << ex.what();
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(failures.load(), 0);
  auto s = open_storage(pg_config(schema));
  for (const std::string& owner : owners) {
    EXPECT_EQ(s->statements().count(owner, StatementState::kAll),
              static_cast<std::size_t>(kEpisodes * kPerEpisode));
    EXPECT_EQ(s->statements().count(owner, StatementState::kSuperseded),
              static_cast<std::size_t>(kEpisodes - 1));
    EXPECT_EQ(s->statements().sources(owner).size(),
              static_cast<std::size_t>(kEpisodes * kPerEpisode + kEpisodes - 1));
    EXPECT_EQ(s->statements().progress_rows(owner).size(), static_cast<std::size_t>(kEpisodes));
    EXPECT_TRUE(s->statements().pending_episodes(owner, std::nullopt).empty());
    // The chain of closings runs through every episode's first statement.
    EXPECT_EQ(s->statements().history(owner + "-e0-s0").size(),
              static_cast<std::size_t>(kEpisodes));
  }
  const StorageStats stats = s->stats();
  EXPECT_EQ(stats.statements_current + stats.statements_superseded,
            static_cast<std::size_t>(2 * kEpisodes * kPerEpisode));
  EXPECT_EQ(stats.semantic_progress.at("done"), static_cast<std::size_t>(2 * kEpisodes));
  EXPECT_EQ(stats.semantic_usage.at("semantic_calls"), static_cast<std::uint64_t>(4 * kEpisodes));
  EXPECT_TRUE(s->statements().pending_owners().empty());
}

}  // namespace
}  // namespace nemori::testing
