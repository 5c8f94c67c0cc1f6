// Connecting, the pool, and recovering from dropped connections.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include <gmock/gmock.h>

#include "nemori/core/error.h"
#include "nemori/storage/factory.h"
#include "pg_test_support.h"
#include "storage/postgres/pg_pool.h"

namespace nemori::testing {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// The error message open_storage gives for `config`, or "" when it opens.
std::string open_error(const StorageConfig& config) {
  try {
    open_storage(config);
  } catch (const StorageError& e) {
    return e.what();
  }
  return "";
}

std::string with_password(const std::string& url, const std::string& password) {
  const auto scheme = url.find("://") + 3;
  const auto at = url.find('@', scheme);
  const auto colon = url.find(':', scheme);
  return url.substr(0, colon + 1) + password + url.substr(at);
}

RawEvent raw(const std::string& id) {
  RawEvent e;
  e.data_id = id;
  e.owner_id = "alice";
  e.content = "payload " + std::string(200, 'x') + " " + id;
  e.temporal_info.timestamp = make_timestamp(2024, 1, 1);
  return e;
}

// Terminates every server process whose application_name is `app`; returns how many.
int terminate(const std::string& app, const std::string& query_prefix = "") {
  auto admin = admin_connection();
  pg::Params p;
  p.add(app).add(query_prefix + "%");
  return static_cast<int>(admin
                              ->exec("SELECT count(pg_terminate_backend(pid)) FROM "
                                     "pg_stat_activity WHERE application_name = $1 AND "
                                     "query LIKE $2 AND pid <> pg_backend_pid()",
                                     p)
                              .int64(0, 0));
}

TEST(PostgresConnection, WrongPasswordUnreachableHostAndMissingDatabaseGiveDistinctErrors) {
  const std::string url = pg_url();
  StorageConfig wrong_password = pg_config(unique_schema());
  wrong_password.url = with_password(url, "Wr0ng-S3cret");
  StorageConfig unreachable = pg_config(unique_schema());
  unreachable.url = "postgresql://nemori:Wr0ng-S3cret@127.0.0.1:1/nemori_test";
  StorageConfig missing_db = pg_config(unique_schema());
  missing_db.url = with_database(url, "no_such_database_here");

  const std::string auth = open_error(wrong_password);
  const std::string reach = open_error(unreachable);
  const std::string db = open_error(missing_db);
  EXPECT_THAT(auth, AllOf(HasSubstr("authentication failed for user \"nemori\""),
                          HasSubstr("PGPASSWORD"), Not(HasSubstr("Wr0ng-S3cret"))));
  EXPECT_THAT(reach, AllOf(HasSubstr("cannot reach the PostgreSQL server at nemori@127.0.0.1:1"),
                           Not(HasSubstr("Wr0ng-S3cret"))));
  EXPECT_THAT(db, AllOf(HasSubstr("database \"no_such_database_here\" does not exist"),
                        HasSubstr("createdb")));
}

TEST(PostgresConnection, PasswordMayComeFromPgpasswordAndSslSettingsPassThroughTheUrl) {
  const std::string url = pg_url();
  const auto scheme = url.find("://") + 3;
  const std::string no_password =
      url.substr(0, url.find(':', scheme)) + url.substr(url.find('@', scheme));
  StorageConfig config = pg_config(unique_schema());
  config.url = no_password;
  ::setenv("PGPASSWORD", "nemori", 1);
  std::string error;
  try {
    open_storage(config)->raw_data().count("");
  } catch (const std::exception& e) {
    error = e.what();
  }
  ::unsetenv("PGPASSWORD");
  EXPECT_EQ(error, "");

  // The test server has no SSL: sslmode=require reaches libpq and is refused with its reason.
  config.url = with_param(url, "sslmode=require");
  EXPECT_THAT(open_error(config),
              AllOf(HasSubstr("SSL"), HasSubstr("sslmode"), Not(HasSubstr("cannot reach"))));
}

TEST(PostgresConnection, TheOriginalsAsyncpgUrlFormIsAccepted) {
  std::string url = pg_url();
  url.replace(0, url.find("://"), "postgresql+asyncpg");
  StorageConfig config = parse_storage_url(url);
  config.schema = unique_schema();
  auto s = open_storage(config);
  EXPECT_TRUE(s->health().healthy);
}

TEST(PostgresConnection, PoolWaitsForAFreeConnectionThenTimesOutWithAClearError) {
  pg::PoolOptions options;
  options.connect.url = pg_url();
  options.size = 2;
  options.acquire_timeout = std::chrono::milliseconds(200);
  pg::Pool pool(options);
  auto a = std::make_unique<pg::Pool::Lease>(pool.acquire("first"));
  auto b = std::make_unique<pg::Pool::Lease>(pool.acquire("second"));
  EXPECT_EQ(pool.counters().in_use, 2u);
  try {
    pool.acquire("third");
    ADD_FAILURE() << "expected the pool to be exhausted";
  } catch (const StorageError& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("pool 'primary' exhausted"), HasSubstr("third"),
                                HasSubstr("raise pool_size")));
  }
  // A waiter gets the connection as soon as one is returned.
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    a.reset();
  });
  pg::Pool::Lease c = pool.acquire("fourth");
  release.join();
  c->exec("SELECT 1");
  const pg::PoolCounters counters = pool.counters();
  EXPECT_EQ(counters.in_use, 2u);
  EXPECT_EQ(counters.connects, 2u);  // the connection was reused, not reopened
}

// Waits until no server process of `app` is left.
void wait_until_gone(const std::string& app) {
  auto admin = admin_connection();
  for (int i = 0; i < 500; ++i) {
    pg::Params p;
    p.add(app);
    if (admin->exec("SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", p)
            .int64(0, 0) == 0) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

TEST(PostgresConnection, PoolReplacesConnectionsTheServerKilled) {
  const std::string app = "nemori_kill_" + unique_schema("app");
  StorageConfig config = pg_config(unique_schema());
  config.url = with_param(pg_url(), "application_name=" + app);
  auto s = open_storage(config);
  s->raw_data().store(raw("before"));
  ASSERT_GE(terminate(app), 1);
  wait_until_gone(app);  // as after a server restart: every pooled connection is dead
  // Every pooled connection is dead now; the next calls get fresh ones.
  EXPECT_EQ(s->raw_data().count(""), 1u);
  s->raw_data().store(raw("after"));
  EXPECT_EQ(s->raw_data().count(""), 2u);
  EXPECT_GE(s->stats().details["pool"]["replaced"].get<int>(), 1);
}

TEST(PostgresConnection, AConnectionKilledDuringACopyLeavesTheBatchWholeOrAbsent) {
  const std::string app = "nemori_copy_" + unique_schema("app");
  StorageConfig config = pg_config(unique_schema());
  config.url = with_param(pg_url(), "application_name=" + app);
  auto s = open_storage(config);
  constexpr int kRows = 30000;
  int interrupted = 0;
  for (int attempt = 0; attempt < 3 && interrupted == 0; ++attempt) {
    std::vector<RawEvent> batch;
    batch.reserve(kRows);
    for (int i = 0; i < kRows; ++i)
      batch.push_back(raw(std::to_string(attempt) + "-" + std::to_string(i)));
    const std::size_t before = s->raw_data().count("");
    std::atomic<bool> done{false};
    std::thread killer([&] {
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (!done.load() && std::chrono::steady_clock::now() < deadline) {
        if (terminate(app, "COPY") > 0) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    bool failed = false;
    try {
      s->raw_data().store_batch(batch);
    } catch (const StorageError& e) {
      failed = true;
      EXPECT_THAT(e.what(), HasSubstr("connection lost"));
    }
    done.store(true);
    killer.join();
    const std::size_t after = s->raw_data().count("");  // the pool reconnects by itself
    if (failed) {
      ++interrupted;
      EXPECT_EQ(after, before) << "a killed COPY must leave nothing behind";
    } else {
      EXPECT_EQ(after, before + kRows);
    }
  }
  EXPECT_GE(interrupted, 1) << "the COPY always finished before it could be killed";
  s->raw_data().store(raw("still-works"));
  EXPECT_TRUE(s->raw_data().get("still-works").has_value());
}

TEST(PostgresConnection, ClosedStorageRefusesCallsWithStorageError) {
  auto s = open_storage(pg_config(unique_schema()));
  s->close();
  EXPECT_THROW(s->raw_data().count(""), StorageError);
  EXPECT_FALSE(s->health().healthy);
  EXPECT_THAT(s->health().reason, HasSubstr("closed"));
}

}  // namespace
}  // namespace nemori::testing
