// Schema creation, migrations and monthly partitioning of the PostgreSQL backend.
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

#include "nemori/core/error.h"
#include "nemori/storage/factory.h"
#include "pg_test_support.h"

namespace nemori::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct MigrationRow {
  std::int64_t version;
  std::string applied_at;
  bool operator==(const MigrationRow&) const = default;
};

std::vector<MigrationRow> migration_rows(const std::string& schema) {
  auto conn = admin_connection();
  pg::Result r = conn->exec("SELECT version, applied_at::text FROM " + pg::quote_ident(schema) +
                            ".schema_migrations ORDER BY version");
  std::vector<MigrationRow> rows;
  for (int i = 0; i < r.rows(); ++i) rows.push_back({r.int64(i, 0), r.str(i, 1)});
  return rows;
}

std::vector<std::int64_t> versions(const std::vector<MigrationRow>& rows) {
  std::vector<std::int64_t> out;
  for (const auto& r : rows) out.push_back(r.version);
  return out;
}

RawEvent raw(const std::string& id, const std::string& owner, Timestamp t) {
  RawEvent e;
  e.data_id = id;
  e.owner_id = owner;
  e.data_type = DataType::kConversation;
  e.content = "message " + id;
  e.temporal_info.timestamp = t;
  return e;
}

Episode episode(const std::string& id, const std::string& owner, Timestamp t) {
  Episode e;
  e.episode_id = id;
  e.owner_id = owner;
  e.title = "Episode " + id;
  e.content = "Content of " + id;
  e.temporal_info.timestamp = t;
  return e;
}

TEST(PostgresSchema, OpeningTwiceAppliesEachMigrationOnce) {
  const std::string schema = unique_schema("mig");
  open_storage(pg_config(schema))->close();
  const auto first = migration_rows(schema);
  EXPECT_THAT(versions(first), ElementsAre(1, 2, 3, 4));

  auto again = open_storage(pg_config(schema));
  EXPECT_EQ(migration_rows(schema), first);  // same rows, same applied_at: nothing re-ran
  EXPECT_EQ(again->stats().details["schema_version"], 4);
}

TEST(PostgresSchema, ASchemaOfVersionTwoGainsEmbeddingModelAndKeepsItsVectors) {
  const std::string schema = unique_schema("emb");
  Episode e = episode("e1", "alice", make_timestamp(2024, 1, 1));
  e.embedding_vector = std::vector<float>{0.25f, -1.5f};
  {
    auto s = open_storage(pg_config(schema));
    s->episodes().store(e);
    s->close();
  }
  // Back to version 2, as a nemori of before stored embeddings left it.
  auto admin = admin_connection();
  admin->exec_simple("ALTER TABLE " + schema +
                     ".episodes DROP COLUMN embedding_model; DELETE FROM " + schema +
                     ".schema_migrations WHERE version = 3");
  auto s = open_storage(pg_config(schema));
  EXPECT_THAT(versions(migration_rows(schema)), ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(s->episodes().get("e1"), e);  // the vector kept, its model unknown ("")
  e.embedding_model = "text-embedding-3-small";
  EXPECT_TRUE(s->episodes().update(e));
  EXPECT_EQ(s->episodes().get("e1")->embedding_model, "text-embedding-3-small");
}

TEST(PostgresSchema, EightStoragesMigratingTheSameNewSchemaAtOnceApplyItOnce) {
  const std::string schema = unique_schema("race");
  constexpr int kThreads = 8;
  std::atomic<int> ready{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();
      try {
        auto s = open_storage(pg_config(schema));  // each with its own pool
        s->raw_data().store(raw("r" + std::to_string(i), "alice", make_timestamp(2024, 1, 1)));
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_THAT(versions(migration_rows(schema)), ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(open_storage(pg_config(schema))->raw_data().count(""), 8u);
}

TEST(PostgresSchema, FourProcessesMigratingTheSameNewSchemaAtOnceApplyItOnce) {
  const std::string schema = unique_schema("procs");
  std::vector<pid_t> children;
  const auto start = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  for (int i = 0; i < 4; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // child: open (and so migrate) at the same moment as the others
      std::this_thread::sleep_until(start);
      int code = 0;
      try {
        auto s = open_storage(pg_config(schema));
        s->raw_data().store(raw("p" + std::to_string(i), "alice", make_timestamp(2024, 1, 1)));
        s->close();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d: %s\n", i, e.what());
        code = 1;
      }
      std::_Exit(code);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  EXPECT_THAT(versions(migration_rows(schema)), ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(open_storage(pg_config(schema))->raw_data().count(""), 4u);
}

TEST(PostgresSchema, TwoSchemasInOneDatabaseAreIndependentTenants) {
  auto a = open_storage(pg_config(unique_schema("tenant")));
  auto b = open_storage(pg_config(unique_schema("tenant")));
  a->raw_data().store(raw("same-id", "alice", make_timestamp(2024, 1, 1)));
  b->raw_data().store(raw("same-id", "bob", make_timestamp(2024, 1, 1)));  // no duplicate
  EXPECT_EQ(a->raw_data().get("same-id")->owner_id, "alice");
  EXPECT_EQ(b->raw_data().get("same-id")->owner_id, "bob");
  EXPECT_THAT(a->list_owners(), ElementsAre("alice"));
}

TEST(PostgresSchema, SchemaNamesThatAreNotPlainIdentifiersAreRejected) {
  for (const std::string bad : {"x\"; DROP SCHEMA public; --", "1abc", "pg_catalog", ""}) {
    StorageConfig config = pg_config("public");
    config.schema = bad;
    EXPECT_THROW(open_storage(config), ConfigError) << bad;
  }
}

TEST(PostgresSchema, IdsCompareByteWiseWhateverTheDatabaseCollation) {
  auto s = open_storage(pg_config(unique_schema()));
  const Timestamp t = make_timestamp(2024, 1, 1);
  for (const std::string id : {"b", "B", "a", "_x", "é", "Z"}) s->raw_data().store(raw(id, "o", t));
  RawDataQuery q;
  q.sort_order = SortOrder::kAsc;
  std::vector<std::string> ids;
  for (const auto& e : s->raw_data().search(q).events) ids.push_back(e.data_id);
  EXPECT_THAT(ids, ElementsAre("B", "Z", "_x", "a", "b", "é"));
}

// ---- monthly partitioning -------------------------------------------------------------------

class PartitionedRawData : public ::testing::Test {
 protected:
  void SetUp() override {
    schema = unique_schema("part");
    StorageConfig config = pg_config(schema);
    config.partition_raw_data_by_month = true;
    storage = open_storage(config);
  }

  std::int64_t partitions() {
    return storage->stats().details["tables"]["raw_data"].value("partitions", std::int64_t{0});
  }

  std::string schema;
  std::unique_ptr<Storage> storage;
};

TEST_F(PartitionedRawData, RowsLandInMonthlyPartitionsAndBehaveAsUsual) {
  std::vector<RawEvent> batch = {raw("jan", "alice", make_timestamp(2024, 1, 31, 23)),
                                 raw("feb", "alice", make_timestamp(2024, 2, 1)),
                                 raw("mar", "bob", make_timestamp(2024, 3, 15))};
  storage->raw_data().store_batch(batch);
  storage->raw_data().store(raw("mar2", "bob", make_timestamp(2024, 3, 16)));
  EXPECT_EQ(partitions(), 3);
  EXPECT_EQ(storage->stats().details["partitioned_raw_data"], true);

  RawDataQuery q;
  q.time_range = TimeRange{make_timestamp(2024, 2, 1), make_timestamp(2024, 3, 15)};
  q.sort_order = SortOrder::kAsc;
  const auto found = storage->raw_data().search(q);
  ASSERT_EQ(found.total_count, 2u);
  EXPECT_EQ(found.events[0].data_id, "feb");
  EXPECT_EQ(*storage->raw_data().get("jan"), batch[0]);
}

TEST_F(PartitionedRawData, IdsStayUniqueAcrossPartitions) {
  storage->raw_data().store(raw("r1", "alice", make_timestamp(2024, 1, 1)));
  EXPECT_THROW(storage->raw_data().store(raw("r1", "alice", make_timestamp(2024, 6, 1))),
               DuplicateError);
  std::vector<RawEvent> batch = {raw("r2", "alice", make_timestamp(2024, 2, 1)),
                                 raw("r1", "alice", make_timestamp(2024, 7, 1))};
  EXPECT_THROW(storage->raw_data().store_batch(batch), DuplicateError);
  EXPECT_EQ(storage->raw_data().count(""), 1u);
}

TEST_F(PartitionedRawData, UpdateMovesARowToAnotherMonthAndKeepsItsLinks) {
  storage->raw_data().store(raw("r1", "alice", make_timestamp(2024, 1, 1)));
  storage->episodes().store(episode("e1", "alice", make_timestamp(2024, 1, 1)));
  const std::vector<std::string> ids = {"r1"};
  storage->episodes().link("e1", ids);

  RawEvent moved = raw("r1", "bob", make_timestamp(2025, 5, 5));
  ASSERT_TRUE(storage->raw_data().update(moved));
  EXPECT_EQ(*storage->raw_data().get("r1"), moved);
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), ElementsAre("r1"));
  EXPECT_EQ(storage->raw_data().count("bob"), 1u);
  EXPECT_EQ(partitions(), 2);
}

TEST_F(PartitionedRawData, DeletesCascadeToLinksAndLayoutSurvivesReopenWithoutTheFlag) {
  storage->raw_data().store(raw("old", "alice", make_timestamp(2023, 1, 1)));
  storage->raw_data().store(raw("new", "alice", make_timestamp(2024, 1, 1)));
  storage->episodes().store(episode("e1", "alice", make_timestamp(2024, 1, 1)));
  const std::vector<std::string> ids = {"old", "new"};
  storage->episodes().link("e1", ids);
  EXPECT_EQ(storage->raw_data().cleanup_before(make_timestamp(2023, 6, 1), "alice"), 1u);
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), ElementsAre("new"));
  EXPECT_TRUE(storage->raw_data().remove("new"));
  EXPECT_TRUE(storage->episodes().links("").empty());
  storage->close();

  storage = open_storage(pg_config(schema));  // flag off: the existing layout wins
  EXPECT_EQ(storage->stats().details["partitioned_raw_data"], true);
  storage->raw_data().store(raw("x", "carol", make_timestamp(2030, 12, 31)));
  EXPECT_EQ(storage->delete_owner("carol").raw_events, 1u);
}

}  // namespace
}  // namespace nemori::testing
