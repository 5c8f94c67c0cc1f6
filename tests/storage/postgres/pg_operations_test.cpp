// Backup and restore with pg_dump / pg_restore, full-text search, the read replica, statistics
// and hostile input on the PostgreSQL backend.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gmock/gmock.h>

#include "nemori/core/error.h"
#include "nemori/storage/dump.h"
#include "nemori/storage/factory.h"
#include "nemori/storage/postgres_tools.h"
#include "pg_test_support.h"

namespace nemori::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

RawEvent raw(const std::string& id, const std::string& owner, nlohmann::json content,
             Timestamp t = make_timestamp(2024, 3, 1)) {
  RawEvent e;
  e.data_id = id;
  e.owner_id = owner;
  e.data_type = DataType::kConversation;
  e.content = std::move(content);
  e.source = "chat";
  e.temporal_info.timestamp = t;
  e.metadata = {{"lang", "en"}};
  return e;
}

Episode episode(const std::string& id, const std::string& owner, const std::string& title,
                const std::string& content, Timestamp t = make_timestamp(2024, 3, 1)) {
  Episode e;
  e.episode_id = id;
  e.owner_id = owner;
  e.episode_type = EpisodeType::kConversational;
  e.title = title;
  e.content = content;
  e.summary = title;
  e.temporal_info.timestamp = t;
  e.metadata.processing_timestamp = t;
  return e;
}

// The record lines of a dump: without the header and the end line, whose created_at and
// checksums differ from one dump to the next.
std::string dump_without_date(Storage& s) {
  std::ostringstream out;
  write_dump(s, out);
  std::string text = out.str();
  text.erase(0, text.find('\n') + 1);
  text.pop_back();
  text.erase(text.rfind('\n') + 1);
  return text;
}

fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() / (unique_schema("file") + "_" + name);
}

void fill(Storage& s) {
  std::vector<RawEvent> events;
  for (int i = 0; i < 20; ++i) {
    events.push_back(
        raw("r" + std::to_string(i), i % 2 ? "alice" : "bob",
            {{"speaker_id", "alice"}, {"content", "message ☕ 'quoted' " + std::to_string(i)}},
            make_timestamp(2024, 1, 1 + i)));
  }
  s.raw_data().store_batch(events);
  std::vector<Episode> episodes;
  for (int i = 0; i < 5; ++i) {
    Episode e = episode("e" + std::to_string(i), "alice", "Title " + std::to_string(i),
                        "Content; DROP TABLE episodes; -- " + std::to_string(i));
    e.search_keywords = {"k" + std::to_string(i)};
    e.embedding_vector = std::vector<float>{0.25f, -1.5f};
    e.metadata.custom_fields = {{"n", i}};
    episodes.push_back(e);
  }
  s.episodes().store_batch(episodes);
  const std::vector<std::string> ids = {"r1", "r3"};
  s.episodes().link("e0", ids);
}

// ---- pg_dump / pg_restore ---------------------------------------------------------------------

TEST(PostgresBackup, PgDumpBackupRestoresIntoAFreshDatabaseWithAnIdenticalLogicalDump) {
  const std::string schema = unique_schema("bk");
  const StorageConfig source_config = pg_config(schema);
  auto source = open_storage(source_config);
  fill(*source);
  const std::string expected = dump_without_date(*source);

  const fs::path archive = temp_file("backup.pgdump");
  pg_backup(source_config, archive);
  ASSERT_GT(fs::file_size(archive), 0u);

  const std::string database = unique_schema("restoredb");
  auto admin = admin_connection();
  admin->exec_simple("CREATE DATABASE " + pg::quote_ident(database));
  {
    StorageConfig target_config = source_config;
    target_config.url = with_database(pg_url(), database);
    pg_restore(target_config, archive);
    auto restored = open_storage(target_config);
    EXPECT_EQ(dump_without_date(*restored), expected);
    EXPECT_EQ(restored->stats().details["schema_version"], 4);
    // Restoring again over the restored copy replaces it (clean + single transaction).
    restored->close();
    pg_restore(target_config, archive);
    EXPECT_EQ(dump_without_date(*open_storage(target_config)), expected);
  }
  admin->exec_simple("DROP DATABASE " + pg::quote_ident(database) + " WITH (FORCE)");
  fs::remove(archive);
}

TEST(PostgresBackup, AFailedRestoreIsAStorageErrorCarryingTheToolsMessage) {
  const fs::path garbage = temp_file("garbage.pgdump");
  std::ofstream(garbage) << "this is not a pg_dump archive";
  try {
    pg_restore(pg_config(unique_schema()), garbage);
    ADD_FAILURE() << "expected pg_restore to fail";
  } catch (const StorageError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("pg_restore failed (exit status 1)"),
                                HasSubstr("does not appear to be a valid archive"),
                                ::testing::Not(HasSubstr(":nemori@"))));
  }
  fs::remove(garbage);
  EXPECT_THROW(pg_restore(pg_config(unique_schema()), "/nonexistent/backup"), ConfigError);
  StorageConfig duck;
  duck.backend = "duckdb";
  EXPECT_THROW(pg_backup(duck, temp_file("x")), ConfigError);
}

TEST(PostgresBackup, BackupOfAnUnreachableServerReportsPgDumpsError) {
  StorageConfig config = pg_config(unique_schema());
  config.url = "postgresql://nemori:TopSecret99@127.0.0.1:1/nemori_test";
  try {
    pg_backup(config, temp_file("never.pgdump"));
    ADD_FAILURE() << "expected pg_dump to fail";
  } catch (const StorageError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("pg_dump failed"), HasSubstr("127.0.0.1"),
                                ::testing::Not(HasSubstr("TopSecret99"))));
  }
}

// ---- full-text search -------------------------------------------------------------------------

TEST(PostgresFullText, RanksTheObviouslyBestEpisodeFirstWithScores) {
  auto s = open_storage(pg_config(unique_schema()));
  std::vector<Episode> episodes = {
      episode("weak", "alice", "Weekend plans", "Alice mentioned she might go hiking someday."),
      episode("best", "alice", "Hiking in the mountains",
              "Alice went hiking in the mountains; the mountain hike took all day and she loves "
              "hiking in mountains."),
      episode("none", "alice", "Cooking", "Alice baked bread with her sister."),
      episode("other", "bob", "Hiking in the mountains", "Bob hiked mountains too.")};
  s->episodes().store_batch(episodes);

  EpisodeQuery q;
  q.full_text = "hiking mountains";
  q.owner_ids = {"alice"};
  const EpisodeSearchResult r = s->episodes().search(q);
  ASSERT_EQ(r.episodes.size(), 1u + 0u) << "only episodes with both words match";
  EXPECT_EQ(r.episodes[0].episode_id, "best");

  q.full_text = "hiking OR mountains";  // websearch syntax
  const EpisodeSearchResult any = s->episodes().search(q);
  ASSERT_EQ(any.episodes.size(), 2u);
  EXPECT_EQ(any.episodes[0].episode_id, "best");
  EXPECT_EQ(any.episodes[1].episode_id, "weak");
  ASSERT_EQ(any.scores.size(), 2u);
  EXPECT_GT(any.scores[0], any.scores[1]);
  EXPECT_GT(any.scores[1], 0.0);
  EXPECT_EQ(any.total_count, 2u);

  q.full_text = "the";  // only stop words: matches nothing, no error
  EXPECT_EQ(s->episodes().search(q).total_count, 0u);
  q.full_text = "hike";  // stemming: hike ~ hiking ~ hiked
  q.owner_ids = {};
  EXPECT_EQ(s->episodes().search(q).total_count, 3u);
  EpisodeQuery plain;  // without full_text there are no scores
  EXPECT_TRUE(s->episodes().search(plain).scores.empty());
}

// ---- read replica, statistics, health -------------------------------------------------------

TEST(PostgresReplica, SearchesGoToTheReplicaAndFallBackToThePrimaryWhenItIsDown) {
  StorageConfig config = pg_config(unique_schema());
  config.read_replica_url = pg_url();  // the same server stands in for a replica
  auto s = open_storage(config);
  s->raw_data().store(raw("r1", "alice", "hello"));
  s->episodes().store(episode("e1", "alice", "T", "C"));
  EXPECT_EQ(s->raw_data().search(RawDataQuery{}).total_count, 1u);
  EXPECT_EQ(s->episodes().by_owner("alice", 10, 0).total_count, 1u);
  const auto details = s->stats().details;
  EXPECT_GE(details["replica_pool"]["checkouts"].get<int>(), 2);
  EXPECT_EQ(details["replica_fallbacks"], 0);

  StorageConfig down = config;
  down.read_replica_url = "postgresql://nemori:x@127.0.0.1:1/nemori_test";
  auto t = open_storage(down);
  EXPECT_EQ(t->raw_data().search(RawDataQuery{}).total_count, 1u);
  EXPECT_GE(t->stats().details["replica_fallbacks"].get<int>(), 1);
}

TEST(PostgresReplica, ExportAndMigrateReadThePrimaryNotALaggingReplica) {
  // A "replica" that lags: another database of the same server holding an older copy of the
  // schema (one raw event where the primary has three).
  const std::string schema = unique_schema("lag");
  const std::string database = schema + "_replica";
  admin_connection()->exec_simple("CREATE DATABASE " + database);
  const std::string replica_url = with_database(pg_url(), database);
  {
    StorageConfig stale = pg_config(schema);
    stale.url = replica_url;
    auto replica = open_storage(stale);
    replica->raw_data().store(raw("r1", "alice", "old"));
  }
  StorageConfig config = pg_config(schema);
  config.read_replica_url = replica_url;
  {
    auto s = open_storage(config);
    for (const char* id : {"r1", "r2", "r3"}) s->raw_data().store(raw(id, "alice", id));
    s->episodes().store(episode("e1", "alice", "T", "C"));
    s->episodes().link("e1", std::vector<std::string>{"r2"});
    ASSERT_EQ(s->raw_data().search(RawDataQuery{}).total_count, 1u);  // the replica lags

    std::ostringstream dump;
    EXPECT_EQ(write_dump(*s, dump), (DumpCounts{3, 1, 1}));
    EXPECT_THAT(dump.str(), AllOf(HasSubstr(R"("data_id":"r2")"), HasSubstr(R"("data_id":"r3")")));
    auto target = open_storage("memory://");
    EXPECT_EQ(copy_storage(*s, *target), (DumpCounts{3, 1, 1}));
    EXPECT_EQ(target->raw_data().count(""), 3u);
    // The scope ends with the call: searches use the replica again.
    EXPECT_EQ(s->raw_data().search(RawDataQuery{}).total_count, 1u);
  }
  admin_connection()->exec_simple("DROP DATABASE " + database);
}

TEST(PostgresStats, ReportSizesFromTheServerAndThePoolState) {
  auto s = open_storage(pg_config(unique_schema()));
  fill(*s);
  const StorageStats stats = s->stats();
  EXPECT_EQ(stats.backend, "postgresql");
  EXPECT_EQ(stats.total_raw_data, 20u);
  EXPECT_EQ(stats.total_episodes, 5u);
  EXPECT_EQ(stats.total_links, 2u);
  EXPECT_EQ(stats.owners, 2u);
  EXPECT_GT(stats.storage_size_bytes, stats.index_size_bytes);
  EXPECT_GT(stats.index_size_bytes, 0u);
  const auto& tables = stats.details["tables"];
  EXPECT_EQ(tables["raw_data"]["rows"], 20);
  EXPECT_GT(tables["episodes"]["total_bytes"].get<std::uint64_t>(), 0u);
  const auto& pool = stats.details["pool"];
  EXPECT_EQ(pool["size"], 4);
  for (const char* key : {"in_use", "idle", "waiting"}) EXPECT_TRUE(pool.contains(key)) << key;
  EXPECT_EQ(pool["waiting"], 0);
  EXPECT_GE(stats.details["server_version"].get<int>(), 120000);
  const HealthStatus health = s->health();
  EXPECT_TRUE(health.healthy) << health.reason;
  EXPECT_GT(health.latency_ms, 0.0);
}

// ---- hostile input ---------------------------------------------------------------------------

TEST(PostgresHostileInput, QuotesWildcardsAndSqlAreStoredAndFoundVerbatim) {
  auto s = open_storage(pg_config(unique_schema()));
  const std::vector<std::string> hostile = {"it's \"quoted\"",
                                            "100%",
                                            "user_1",
                                            "back\\slash",
                                            "'; DROP TABLE raw_data; --",
                                            "emoji 😀👍🏽",
                                            "tab\tnew\nline",
                                            "$1 ? :name {{x}} \\N \\."};
  for (std::size_t i = 0; i < hostile.size(); ++i) {
    const std::string& h = hostile[i];
    RawEvent r =
        raw("raw'" + std::to_string(i) + "\"%_\\", "owner '" + std::to_string(i) + "\"%_", h);
    r.source = h;
    r.metadata = {{"k", h}, {h, "v"}};
    Episode e = episode("ep;" + std::to_string(i) + "--", r.owner_id, h, h);
    e.search_keywords = {h};
    e.metadata.entities = {h};
    e.metadata.custom_fields = {{"k", h}, {h, {1, h}}};
    e.structured_data = {{h, h}};
    // Batches go through COPY, single rows through parameters: both must keep the text.
    std::vector<RawEvent> batch = {r, raw("filler" + std::to_string(i), "z", "filler")};
    s->raw_data().store_batch(batch);
    s->episodes().store(e);
    EXPECT_EQ(*s->raw_data().get(r.data_id), r) << h;
    EXPECT_EQ(*s->episodes().get(e.episode_id), e) << h;

    RawDataQuery by_content;
    by_content.content_contains = h;
    by_content.sources = {h};
    by_content.metadata = {{"k", h}};
    EXPECT_EQ(s->raw_data().search(by_content).total_count, 1u) << h;
    EpisodeQuery q;
    q.text_search = h;
    q.keywords = {h};
    q.entities = {h};
    q.metadata = {{h, {1, h}}};
    EXPECT_EQ(s->episodes().search(q).total_count, 1u) << h;
  }
  EXPECT_EQ(s->raw_data().count(""), 2 * hostile.size());

  RawEvent nul = raw("nul", "alice", std::string("a\0b", 3));
  EXPECT_THROW(s->raw_data().store(nul), ValidationError);
  EXPECT_FALSE(s->raw_data().get(std::string("a\0b", 3)).has_value());
  EXPECT_FALSE(s->raw_data().get("\xff\xfe").has_value());
}

// The right to erasure on PostgreSQL: a delete leaves dead row versions in the table's files
// until VACUUM FULL (purge()) rewrites them; VACUUM keeps the versions a transaction older than
// the purge may still read, so purge() waits for such transactions (up to purge_wait).
class PostgresErasure : public ::testing::Test {
 protected:
  static constexpr const char* kSecret = "Zanzibar-harbour-secret-4711";

  // A store in a fresh schema holding 50 events of "gone" (with the secret) and 50 of "kept".
  void SetUp() override {
    schema_ = unique_schema("purge");
    config_ = pg_config(schema_);
  }

  void open_with_secret() {
    storage_ = open_storage(config_);
    std::vector<RawEvent> events;
    for (int i = 0; i < 50; ++i) {
      for (const std::string owner : {"gone", "kept"}) {
        RawEvent e;
        e.data_id = owner + "-" + std::to_string(i);
        e.owner_id = owner;
        e.data_type = DataType::kConversation;
        e.content = {{"speaker_id", "u"},
                     {"content", (owner == "gone" ? std::string(kSecret) : "plain words") +
                                     std::string(" ") + std::to_string(i)}};
        e.temporal_info.timestamp = make_timestamp(2024, 3, 1) + std::chrono::minutes(i);
        events.push_back(std::move(e));
      }
    }
    storage_->raw_data().store_batch(events);
    admin_ = admin_connection();
    data_dir_ = admin_->exec_simple("SHOW data_directory").str(0, 0);
  }

  // True when a file of the schema's tables (or their TOAST tables) holds the secret.
  bool files_hold_secret() {
    admin_->exec_simple("CHECKPOINT");  // dirty pages reach the files
    const pg::Result files = admin_->exec(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = "
        "c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' UNION ALL "
        "SELECT pg_relation_filepath(c.reltoastrelid) FROM pg_class c JOIN pg_namespace n ON "
        "n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r' AND c.reltoastrelid <> 0",
        pg::Params().add(schema_));
    for (int row = 0; row < files.rows(); ++row) {
      std::ifstream in(fs::path(data_dir_) / files.str(row, 0), std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      if (bytes.str().find(kSecret) != std::string::npos) return true;
    }
    return false;
  }

  // A second session with an open REPEATABLE READ transaction whose snapshot predates the
  // deletion (it takes no lock on the store's tables, which VACUUM FULL would wait for).
  std::unique_ptr<pg::Connection> open_reader() {
    auto reader = admin_connection();
    reader->exec_simple("BEGIN ISOLATION LEVEL REPEATABLE READ");
    reader->exec_simple("SELECT 1");
    return reader;
  }

  std::string schema_;
  StorageConfig config_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<pg::Connection> admin_;
  std::string data_dir_;
};

TEST_F(PostgresErasure, PurgeLeavesNoDeletedTextInTheTablesFiles) {
  open_with_secret();
  if (!fs::exists(data_dir_)) GTEST_SKIP() << "the server's data directory is not on this machine";
  ASSERT_TRUE(files_hold_secret()) << "the stored text is not in the table files";
  storage_->delete_owner("gone");
  ASSERT_TRUE(files_hold_secret()) << "a plain delete already leaves no trace here";
  const PurgeReport report = storage_->purge();
  EXPECT_THAT(report.method, HasSubstr("VACUUM FULL"));
  EXPECT_EQ(report.incomplete, "");
  EXPECT_FALSE(files_hold_secret());
  EXPECT_EQ(storage_->raw_data().count("kept"), 50u);
}

TEST_F(PostgresErasure, PurgeWaitsForATransactionOlderThanItThatMayStillReadTheRows) {
  open_with_secret();
  if (!fs::exists(data_dir_)) GTEST_SKIP() << "the server's data directory is not on this machine";
  auto reader = open_reader();
  storage_->delete_owner("gone");
  std::thread finish([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    reader->exec_simple("COMMIT");
  });
  const PurgeReport report = storage_->purge();
  finish.join();
  EXPECT_GE(report.seconds, 0.5) << "the purge did not wait for the older transaction";
  EXPECT_EQ(report.incomplete, "");
  EXPECT_FALSE(files_hold_secret());
}

TEST_F(PostgresErasure, PurgeSaysWhatKeptRowsWhenAnOlderTransactionOutlastsItsWait) {
  config_.purge_wait = std::chrono::milliseconds(200);
  open_with_secret();
  if (!fs::exists(data_dir_)) GTEST_SKIP() << "the server's data directory is not on this machine";
  auto reader = open_reader();
  const std::string reader_pid = reader->exec_simple("SELECT pg_backend_pid()").str(0, 0);
  storage_->delete_owner("gone");
  // Other tests' transactions may be open beside ours, so the count is not asserted.
  const PurgeReport held = storage_->purge();
  EXPECT_THAT(held.incomplete, AllOf(HasSubstr("older transaction(s) still open after 200 ms"),
                                     HasSubstr("transaction of pid " + reader_pid + " "),
                                     HasSubstr("run the purge again")));
  EXPECT_TRUE(files_hold_secret()) << "VACUUM FULL removed rows an open snapshot could read";
  reader->exec_simple("COMMIT");
  // Again with the default wait, which outlasts the other tests' short transactions.
  storage_->close();
  config_.purge_wait = StorageConfig{}.purge_wait;
  storage_ = open_storage(config_);
  const PurgeReport again = storage_->purge();
  EXPECT_EQ(again.incomplete, "");
  EXPECT_FALSE(files_hold_secret());
}

// Two processes on one database: an owner held by one is not given to the other, and is
// given once the holder is killed (the server drops its session and its advisory lock).
TEST(PostgresOwnerLock, AnOwnerHeldByAKilledProcessIsReleasedByTheServer) {
  const std::string schema = unique_schema("lock");
  auto storage = open_storage(pg_config(schema));
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto mine = open_storage(pg_config(schema));
    std::shared_ptr<void> held = mine->lock_owner("alice");
    char c = 'x';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    pause();  // held until killed
    _exit(0);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    std::shared_ptr<void> mine = storage->lock_owner("alice");
    acquired = true;
  });
  EXPECT_NE(storage->lock_owner("bob"), nullptr);  // other owners are free
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(acquired) << "alice was given while another process held her";
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  waiter.join();  // returns once the server has noticed the dead session
  EXPECT_TRUE(acquired);
  close(ready[0]);
  close(ready[1]);
}

}  // namespace
}  // namespace nemori::testing
