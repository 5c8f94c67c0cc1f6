// Behaviour specific to the DuckDB backend: the file, its schema migrations, sharing and
// locking, index maintenance under updates, and concurrency. (What every backend must do is
// in the conformance suite.)
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include <duckdb.h>
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/core/time.h"
#include "nemori/storage/factory.h"
#include "storage/duckdb/schema.h"

namespace nemori {
namespace {

Timestamp at(int minute) {
  return make_timestamp(2024, 3, 1) + std::chrono::minutes(minute);
}

RawEvent make_raw(const std::string& id, const std::string& owner, int minute,
                  const std::string& text = "hello") {
  RawEvent e;
  e.data_id = id;
  e.owner_id = owner;
  e.data_type = DataType::kConversation;
  e.content = {{"speaker_id", "u"}, {"content", text}};
  e.source = "chat";
  e.temporal_info.timestamp = at(minute);
  return e;
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

// Runs SQL on a closed database file through the C API; returns the first BIGINT, if any.
std::int64_t query_file(const std::string& path, const std::string& sql) {
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
  EXPECT_EQ(duckdb_open(path.c_str(), &db), DuckDBSuccess);
  EXPECT_EQ(duckdb_connect(db, &con), DuckDBSuccess);
  duckdb_result result;
  std::int64_t value = -1;
  if (duckdb_query(con, sql.c_str(), &result) == DuckDBSuccess) {
    if (duckdb_data_chunk chunk = duckdb_fetch_chunk(result)) {
      if (duckdb_data_chunk_get_size(chunk) > 0 && duckdb_data_chunk_get_column_count(chunk) > 0) {
        value = static_cast<const std::int64_t*>(
            duckdb_vector_get_data(duckdb_data_chunk_get_vector(chunk, 0)))[0];
      }
      duckdb_destroy_data_chunk(&chunk);
    }
  } else {
    ADD_FAILURE() << duckdb_result_error(&result);
  }
  duckdb_destroy_result(&result);
  duckdb_disconnect(&con);
  duckdb_close(&db);
  return value;
}

class DuckDbBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("nemori-duckdb-backend-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "sub" / "store.duckdb").string();  // the parent directory is created
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::unique_ptr<Storage> open() { return open_storage("duckdb://" + path_); }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(DuckDbBackendTest, CreatesTheFileAndItsDirectory) {
  auto storage = open();
  EXPECT_EQ(storage->backend(), "duckdb");
  EXPECT_TRUE(std::filesystem::exists(path_));
  const StorageStats stats = storage->stats();
  EXPECT_GT(stats.storage_size_bytes, 0u);
  EXPECT_EQ(stats.details.at("schema_version"), 3);
  EXPECT_EQ(stats.details.at("path"), std::filesystem::weakly_canonical(path_).string());
  EXPECT_EQ(stats.details.at("duckdb_version"), "v1.4.4");
}

TEST_F(DuckDbBackendTest, EveryValueSurvivesCloseAndReopenBitForBit) {
  RawEvent raw = make_raw("r1", "alice", 0, "Ünïcödé ☕ 'quoted' \"double\" \\ %_");
  raw.temporal_info.timestamp = from_micros(1709251200123457);
  raw.temporal_info.duration = 0.9;
  raw.temporal_info.timezone = "Europe/Paris";
  raw.metadata = {
      {"big", 9007199254740993LL}, {"neg", -1}, {"f", 0.1}, {"u", 18446744073709551615ULL}};
  Episode episode = make_episode("e1", "alice", 1);
  episode.importance_score = 0.9;
  episode.temporal_info.duration = 1e-300;
  episode.embedding_vector = std::vector<float>{1.0f / 3.0f, -0.0f, 3.4e38f};
  episode.last_accessed = from_micros(-62135596800000000);  // 0001-01-01
  episode.metadata.custom_fields = {{"k", {{"nested", {1, 2.5, "x"}}}}};
  {
    auto storage = open();
    storage->raw_data().store(raw);
    storage->episodes().store(episode);
    const std::vector<std::string> ids{"r1"};
    storage->episodes().link("e1", ids);
  }  // the destructor closes
  auto storage = open();
  EXPECT_EQ(storage->raw_data().get("r1"), raw);
  EXPECT_EQ(storage->episodes().get("e1"), episode);
  EXPECT_EQ(storage->episodes().raw_ids_for_episode("e1"), std::vector<std::string>{"r1"});
  EXPECT_EQ(storage->episodes().get("e1")->importance_score, 0.9);
}

TEST_F(DuckDbBackendTest, MigrationsAreAppliedOnceAndRecorded) {
  for (int i = 0; i < 3; ++i) open()->close();
  const auto known = static_cast<std::int64_t>(detail::duck::migrations().size());
  EXPECT_EQ(query_file(path_, "SELECT count(*) FROM schema_migrations"), known);
  EXPECT_EQ(query_file(path_, "SELECT count(DISTINCT version) FROM schema_migrations"), known);
  EXPECT_EQ(query_file(path_, "SELECT max(version)::BIGINT FROM schema_migrations"), known);
  // Every table carries the owner.
  EXPECT_EQ(query_file(path_,
                       "SELECT count(*) FROM information_schema.columns WHERE column_name = "
                       "'owner_id' AND table_name IN ('raw_data', 'episodes', "
                       "'episode_raw_data', 'statements', 'statement_sources', "
                       "'semantic_progress')"),
            6);
}

TEST_F(DuckDbBackendTest, AVersionOneFileGainsEmbeddingModelAndKeepsItsVectors) {
  Episode episode = make_episode("e1", "alice", 1);
  episode.embedding_vector = std::vector<float>{0.25f, -1.5f};
  open()->episodes().store(episode);
  // Back to version 1, as a nemori of before stored embeddings left the file.
  // (DuckDB drops no column under an index: the index goes first and comes back after.)
  query_file(path_,
             "DROP TABLE statements; DROP TABLE statement_sources; DROP TABLE semantic_progress; "
             "DROP INDEX ix_episodes_owner_id; ALTER TABLE episodes DROP COLUMN embedding_model; "
             "CREATE INDEX ix_episodes_owner_id ON episodes (owner_id); "
             "DELETE FROM schema_migrations WHERE version >= 2");
  ASSERT_EQ(query_file(path_, "SELECT max(version)::BIGINT FROM schema_migrations"), 1);
  auto storage = open();
  EXPECT_EQ(storage->episodes().get("e1"), episode);  // the vector kept, its model unknown ("")
  episode.embedding_model = "text-embedding-3-small";
  EXPECT_TRUE(storage->episodes().update(episode));
  storage->close();
  EXPECT_EQ(query_file(path_, "SELECT max(version)::BIGINT FROM schema_migrations"),
            detail::duck::migrations().back().version);
  EXPECT_EQ(open()->episodes().get("e1")->embedding_model, "text-embedding-3-small");
}

TEST_F(DuckDbBackendTest, DatabaseOfANewerSchemaIsRefused) {
  open()->close();
  query_file(path_,
             "INSERT INTO schema_migrations VALUES (999, 'from the future', now()::TIMESTAMP)");
  try {
    open();
    FAIL() << "expected StorageError";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(DuckDbBackendTest, TwoOpensOfOneFileShareItSafely) {
  auto first = open();
  auto second = open();  // same process, same file: one DuckDB instance behind both
  first->raw_data().store(make_raw("r1", "alice", 0));
  EXPECT_TRUE(second->raw_data().get("r1").has_value());
  first->close();
  second->raw_data().store(make_raw("r2", "alice", 1));
  EXPECT_EQ(second->raw_data().count(""), 2u);
  second->close();
  EXPECT_EQ(open()->raw_data().count(""), 2u);
}

TEST_F(DuckDbBackendTest, FileLockedByAnotherProcessGivesAClearStorageError) {
  open()->close();  // create it
  int ready[2];
  int done[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(done), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int status = 1;
    try {
      auto holder = open();
      status = 0;
      char c = 'x';
      if (write(ready[1], &c, 1) != 1) status = 2;
      if (read(done[0], &c, 1) != 1) status = 3;
    } catch (...) {
      status = 4;
    }
    _exit(status);
  }
  char c = 0;
  ASSERT_EQ(read(ready[0], &c, 1), 1);
  try {
    open();
    ADD_FAILURE() << "expected StorageError while another process holds the file";
  } catch (const StorageError& e) {
    EXPECT_NE(std::string(e.what()).find("PostgreSQL"), std::string::npos) << e.what();
  }
  ASSERT_EQ(write(done[1], &c, 1), 1);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  for (int fd : {ready[0], ready[1], done[0], done[1]}) close(fd);
  EXPECT_NO_THROW(open());
}

TEST_F(DuckDbBackendTest, UpdatesOfIndexedColumnsKeepLookupsRightAcrossReopens) {
  for (int round = 0; round < 2; ++round) {
    auto storage = open();
    if (round == 0) {
      std::vector<Episode> episodes;
      std::vector<RawEvent> events;
      for (int i = 0; i < 40; ++i) {
        episodes.push_back(make_episode("e" + std::to_string(i), "alice", i));
        events.push_back(make_raw("r" + std::to_string(i), "alice", i));
      }
      storage->episodes().store_batch(episodes);
      storage->raw_data().store_batch(events);
    }
    // Move the even ones to bob and back and forth (owner_id and the ids carry ART indexes).
    for (int pass = 0; pass < 3; ++pass) {
      const std::string owner = pass % 2 == 0 ? "bob" : "carol";
      for (int i = 0; i < 40; i += 2) {
        Episode e = *storage->episodes().get("e" + std::to_string(i));
        e.owner_id = owner;
        e.title = "moved " + std::to_string(pass);
        ASSERT_TRUE(storage->episodes().update(e));
        RawEvent r = *storage->raw_data().get("r" + std::to_string(i));
        r.owner_id = owner;
        ASSERT_TRUE(storage->raw_data().update(r));
      }
      EXPECT_EQ(storage->episodes().count("alice"), 20u);
      EXPECT_EQ(storage->episodes().count(owner), 20u);
      EXPECT_EQ(storage->raw_data().count(owner), 20u);
      EXPECT_EQ(storage->episodes().by_owner(owner, std::nullopt, 0).total_count, 20u);
      EXPECT_EQ(storage->episodes().get("e0")->owner_id, owner);
      EXPECT_EQ(storage->episodes().get("e0")->title, "moved " + std::to_string(pass));
      EXPECT_EQ(storage->episodes().count(""), 40u);
    }
    // Deleted ids can be stored again.
    ASSERT_TRUE(storage->episodes().remove("e1"));
    storage->episodes().store(make_episode("e1", "alice", 1));
    ASSERT_TRUE(storage->raw_data().remove("r1"));
    storage->raw_data().store(make_raw("r1", "alice", 1));
    EXPECT_EQ(storage->episodes().count(""), 40u);
  }
}

TEST_F(DuckDbBackendTest, LinksFollowTheEpisodeOwnerThroughUpdates) {
  auto storage = open();
  storage->raw_data().store(make_raw("r1", "alice", 0));
  storage->episodes().store(make_episode("e1", "alice", 0));
  const std::vector<std::string> ids{"r1"};
  storage->episodes().link("e1", ids);
  Episode moved = *storage->episodes().get("e1");
  moved.owner_id = "bob";
  ASSERT_TRUE(storage->episodes().update(moved));
  EXPECT_TRUE(storage->episodes().links("alice").empty());
  ASSERT_EQ(storage->episodes().links("bob").size(), 1u);
  // Deleting alice removes her raw event and the link bob's episode had to it.
  const OwnerDeletion deleted = storage->delete_owner("alice");
  EXPECT_EQ(deleted.raw_events, 1u);
  EXPECT_EQ(deleted.links, 1u);
  EXPECT_TRUE(storage->episodes().links("").empty());
}

TEST_F(DuckDbBackendTest, MetadataKeysWithPointerCharactersAreMatchedLiterally) {
  auto storage = open();
  RawEvent a = make_raw("a", "o", 0);
  a.metadata = {{"a/b", 1}, {"x~y", "v"}, {"", true}, {"deep", {{"list", {1, 2.0}}}}};
  RawEvent b = make_raw("b", "o", 1);
  b.metadata = {{"a", {{"b", 1}}}, {"x~y", "V"}, {"deep", {{"list", {1, 2.5}}}}};
  storage->raw_data().store_batch(std::vector<RawEvent>{a, b});
  auto find = [&](nlohmann::json filter) {
    RawDataQuery q;
    q.metadata = std::move(filter);
    std::vector<std::string> ids;
    for (const RawEvent& e : storage->raw_data().search(q).events) ids.push_back(e.data_id);
    return ids;
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(find({{"a/b", 1.0}}), Ids{"a"});
  EXPECT_EQ(find({{"x~y", "v"}}), Ids{"a"});
  EXPECT_EQ(find({{"", true}}), Ids{"a"});
  EXPECT_EQ(find({{"deep", {{"list", {1.0, 2}}}}}), Ids{"a"});
  EXPECT_EQ(find({{"a", {{"b", 1}}}}), Ids{"b"});
  EXPECT_EQ(find({{"x~y", "v"}, {"a/b", "1"}}), Ids{});
}

TEST_F(DuckDbBackendTest, ABatchFailingOnItsLastRowLeavesNothingBehind) {
  auto storage = open();
  storage->raw_data().store(make_raw("existing", "alice", 0));
  std::vector<RawEvent> batch;
  for (int i = 0; i < 20000; ++i) batch.push_back(make_raw("b" + std::to_string(i), "alice", i));
  batch.push_back(make_raw("existing", "alice", 1));
  EXPECT_THROW(storage->raw_data().store_batch(batch), DuplicateError);
  EXPECT_EQ(storage->raw_data().count(""), 1u);
  batch.pop_back();
  storage->raw_data().store_batch(batch);  // the same rows go in once the duplicate is gone
  EXPECT_EQ(storage->raw_data().count(""), 20001u);
  storage->close();
  EXPECT_EQ(open()->raw_data().count("alice"), 20001u);
}

TEST_F(DuckDbBackendTest, ConcurrentBatchWritersLoseNothingAndReadersSeeWholeBatches) {
  auto storage = open();
  constexpr int kWriters = 4;
  constexpr int kBatches = 15;
  constexpr int kBatchSize = 50;
  std::atomic<bool> writing{true};
  std::atomic<int> torn_reads{0};
  std::thread reader([&] {
    while (writing) {
      if (storage->raw_data().count("") % kBatchSize != 0) ++torn_reads;
      RawDataQuery q;
      q.owner_ids = {"w0"};
      q.limit = 10;
      const RawDataSearchResult page = storage->raw_data().search(q);
      if (page.total_count % kBatchSize != 0) ++torn_reads;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<RawEvent> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          const std::string id =
              "w" + std::to_string(w) + "-" + std::to_string(b) + "-" + std::to_string(i);
          batch.push_back(make_raw(id, "w" + std::to_string(w), i));
        }
        storage->raw_data().store_batch(batch);
      }
    });
  }
  for (std::thread& t : writers) t.join();
  writing = false;
  reader.join();
  EXPECT_EQ(torn_reads, 0);
  EXPECT_EQ(storage->raw_data().count(""),
            static_cast<std::size_t>(kWriters * kBatches * kBatchSize));
}

TEST_F(DuckDbBackendTest, IdsCanBeDeletedAndStoredAgainWhileReadersRun) {
  auto storage = open();
  for (int i = 0; i < 200; ++i)
    storage->episodes().store(make_episode("e" + std::to_string(i), "o", i));
  std::atomic<bool> running{true};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (running) {
        EpisodeQuery q;
        q.text_search = "content";
        storage->episodes().search(q);
      }
    });
  }
  EXPECT_NO_THROW({
    for (int round = 0; round < 60; ++round) {
      ASSERT_TRUE(storage->episodes().remove("e7"));
      storage->episodes().store(make_episode("e7", "o", 7));
    }
  });
  running = false;
  for (std::thread& t : readers) t.join();
  EXPECT_EQ(storage->episodes().count(""), 200u);
}

TEST_F(DuckDbBackendTest, InMemoryDatabaseNeedsNoFile) {
  auto storage = open_storage("duckdb:///:memory:");
  storage->raw_data().store(make_raw("r1", "alice", 0));
  EXPECT_EQ(storage->raw_data().count(""), 1u);
  EXPECT_EQ(storage->stats().details.at("path"), ":memory:");
  // Each in-memory open is its own database.
  EXPECT_EQ(open_storage("duckdb:///:memory:")->raw_data().count(""), 0u);
}

TEST_F(DuckDbBackendTest, FullTextPointsToPostgresAndBm25) {
  auto storage = open();
  EpisodeQuery q;
  q.full_text = "coffee";
  try {
    storage->episodes().search(q);
    FAIL() << "expected UnsupportedBackendError";
  } catch (const UnsupportedBackendError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("PostgreSQL"), std::string::npos) << message;
    EXPECT_NE(message.find("BM25"), std::string::npos) << message;
  }
}

// Every byte of a file, as text (for looking for deleted content).
std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

TEST_F(DuckDbBackendTest, PurgeLeavesNoTraceOfDeletedContentInTheFile) {
  const std::string secret = "Zanzibar-harbour-secret-4711";
  {
    auto storage = open();
    std::vector<RawEvent> events;
    for (int i = 0; i < 300; ++i) {
      events.push_back(
          make_raw("gone-" + std::to_string(i), "gone", i, secret + " " + std::to_string(i)));
      events.push_back(
          make_raw("kept-" + std::to_string(i), "kept", i, "ordinary words " + std::to_string(i)));
    }
    storage->raw_data().store_batch(events);
    Episode episode = make_episode("ep-gone", "gone", 1);
    episode.content = secret;
    storage->episodes().store(episode);
  }
  ASSERT_NE(file_bytes(path_).find(secret), std::string::npos)
      << "the test text is not in the file";
  auto storage = open();
  storage->delete_owner("gone");
  storage->close();
  // Deleting alone leaves the text in the file: that is what purge() is for.
  ASSERT_NE(file_bytes(path_).find(secret), std::string::npos)
      << "DuckDB now erases on delete: purge() may have become unnecessary";
  storage = open();
  const PurgeReport report = storage->purge();
  EXPECT_FALSE(report.method.empty());
  EXPECT_LT(report.bytes_after, report.bytes_before);
  // The store goes on working on the new file, with everything else intact.
  EXPECT_EQ(storage->raw_data().count("kept"), 300u);
  EXPECT_EQ(storage->raw_data().count("gone"), 0u);
  EXPECT_TRUE(storage->check_integrity(true).consistent());
  storage->raw_data().store(make_raw("after", "kept", 500));
  storage->close();
  EXPECT_EQ(file_bytes(path_).find(secret), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".wal"));
  EXPECT_FALSE(std::filesystem::exists(path_ + ".rewrite"));
  EXPECT_EQ(open()->raw_data().count("kept"), 301u);
}

TEST_F(DuckDbBackendTest, PurgeAndLockOwnerOfAClosedStoreThrowStorageError) {
  auto storage = open();
  storage->close();
  EXPECT_THROW(storage->purge(), StorageError);
  EXPECT_THROW(storage->lock_owner("o"), StorageError);
}

TEST_F(DuckDbBackendTest, PurgeRefusesWhileAnotherStoreOfTheProcessHasTheFile) {
  auto first = open();
  auto second = open();
  first->raw_data().store(make_raw("a", "o", 1));
  EXPECT_THROW(first->purge(), StorageError);
  // Both still work after the refusal.
  EXPECT_EQ(second->raw_data().count("o"), 1u);
  EXPECT_EQ(first->raw_data().count("o"), 1u);
}

TEST_F(DuckDbBackendTest, ReadsAfterEachWriteSeeItThroughReusedStatements) {
  // Reader connections keep their prepared statements between reads; every write must still
  // show at once, also when it widens what the table held before (longer ids and texts, later
  // times, new keywords).
  auto storage = open();
  for (int i = 0; i < 30; ++i) {
    Episode e = make_episode("e" + std::string(static_cast<std::size_t>(i) + 1, 'x'), "o", i * 97);
    e.content += std::string(static_cast<std::size_t>(i) * 50, 'c');
    e.search_keywords = {"k" + std::to_string(i)};
    storage->episodes().store(e);
    const EpisodeSearchResult newest = storage->episodes().by_owner("o", 3, 0);
    ASSERT_FALSE(newest.episodes.empty());
    EXPECT_EQ(newest.episodes.front().episode_id, e.episode_id) << "after write " << i;
    EXPECT_EQ(newest.total_count, static_cast<std::size_t>(i) + 1);
    EpisodeQuery by_keyword;
    by_keyword.owner_ids = {"o"};
    by_keyword.keywords = {"K" + std::to_string(i)};
    by_keyword.limit = 5;
    const EpisodeSearchResult found = storage->episodes().search(by_keyword);
    ASSERT_EQ(found.episodes.size(), 1u) << "after write " << i;
    EXPECT_EQ(found.episodes.front().content, e.content);
    ASSERT_TRUE(storage->episodes().get(e.episode_id).has_value());
  }
}

TEST_F(DuckDbBackendTest, PagesAndBatchesAgreeWhetherReadByKeyOrInOneStatement) {
  // Pages of up to 256 rows and batches of up to 256 ids are read by key through the primary
  // index, larger ones in one statement: both must give the same rows in the same order.
  auto storage = open();
  std::vector<Episode> episodes;
  for (int i = 0; i < 400; ++i) {
    Episode e = make_episode("e" + std::to_string(i), i % 3 == 0 ? "a" : "b", i / 2);
    e.importance_score = (i % 7) / 7.0;
    episodes.push_back(e);
  }
  storage->episodes().store_batch(episodes);
  EpisodeQuery all;
  all.owner_ids = {"b"};
  all.sort_by = SortBy::kRelevance;
  all.limit = 1000;  // one statement
  const EpisodeSearchResult whole = storage->episodes().search(all);
  ASSERT_EQ(whole.episodes.size(), 266u);
  std::vector<std::string> paged;
  for (std::size_t offset = 0;; offset += 37) {
    EpisodeQuery page = all;
    page.limit = 37;  // keys first, then rows by key
    page.offset = offset;
    const EpisodeSearchResult part = storage->episodes().search(page);
    EXPECT_EQ(part.total_count, 266u);
    for (const Episode& e : part.episodes) paged.push_back(e.episode_id);
    if (!part.has_more) break;
  }
  std::vector<std::string> expected;
  for (const Episode& e : whole.episodes) expected.push_back(e.episode_id);
  EXPECT_EQ(paged, expected);

  std::vector<std::string> ids{"e5", "missing", "e5", "e399"};
  for (int i = 0; i < 300; ++i) ids.push_back("e" + std::to_string((i * 7) % 400));
  const auto big = storage->episodes().get_batch(ids);  // more than 256 ids: one join
  const auto small =
      storage->episodes().get_batch(std::span<const std::string>(ids).first(100));  // by key
  ASSERT_EQ(big.size(), ids.size());
  ASSERT_EQ(small.size(), 100u);
  EXPECT_FALSE(big[1].has_value());
  EXPECT_FALSE(small[1].has_value());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i == 1) continue;
    ASSERT_TRUE(big[i].has_value()) << ids[i];
    EXPECT_EQ(big[i]->episode_id, ids[i]);
    if (i < small.size()) {
      ASSERT_TRUE(small[i].has_value()) << ids[i];
      EXPECT_EQ(*small[i], *big[i]);
    }
  }
}

}  // namespace
}  // namespace nemori
