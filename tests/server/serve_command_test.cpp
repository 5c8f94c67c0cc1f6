// `nemori serve` as a real child process: refusing to start without keys, graceful shutdown on
// SIGTERM with requests in flight, two servers on one PostgreSQL.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "serve_process.h"
#include "server_test_support.h"

namespace nemori::test {
namespace {

namespace fs = std::filesystem;

const std::string kKeys = std::string(kAdminKey) + "=admin";

TEST(ServeCommandTest, RefusesToStartWithoutKeysOrOffLoopbackUnauthenticated) {
  {
    ServeProcess serve({"--storage", "memory://"}, "");
    EXPECT_EQ(serve.port(), 0);
    EXPECT_EQ(serve.wait(std::chrono::seconds(20)), 1);
    EXPECT_NE(serve.log().find("NEMORI_API_KEYS"), std::string::npos) << serve.log();
  }
  {
    ServeProcess serve({"--storage", "memory://", "--unauthenticated", "--host", "0.0.0.0"}, "");
    EXPECT_EQ(serve.wait(std::chrono::seconds(20)), 1);
    EXPECT_NE(serve.log().find("loopback only"), std::string::npos) << serve.log();
  }
  {
    ServeProcess serve({"--storage", "memory://"}, "tooshort=admin");
    EXPECT_EQ(serve.wait(std::chrono::seconds(20)), 1);
    EXPECT_EQ(serve.log().find("tooshort"), std::string::npos) << serve.log();
  }
}

TEST(ServeCommandTest, KeysComeFromTheConfigFile) {
  const fs::path config =
      fs::temp_directory_path() / ("nemori_serve_" + std::to_string(::getpid()) + ".toml");
  {
    std::ofstream out(config);
    out << "[server]\napi_keys = [\"" << kAliceKey << "=alice\"]\n";
  }
  ServeProcess serve({"--storage", "memory://", "--config", config.string()}, "");
  ASSERT_GT(serve.port(), 0) << serve.log();
  EXPECT_EQ(call_server(serve.port(), "GET", "/v1/owners/alice/stats", "", kAliceKey).status, 200);
  EXPECT_EQ(call_server(serve.port(), "GET", "/v1/owners/bob/stats", "", kAliceKey).status, 404);
  EXPECT_EQ(call_server(serve.port(), "GET", "/v1/owners/alice/stats", "", "").status, 401);
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(std::chrono::seconds(30)), 0);
  fs::remove(config);
}

TEST(ServeCommandTest, SigtermFinishesRequestsInFlightAndKeepsWhatWasAcknowledged) {
  const fs::path db = fs::temp_directory_path() /
                      ("nemori_serve_sigterm_" + std::to_string(::getpid()) + ".duckdb");
  fs::remove(db);
  std::set<std::string> acknowledged;
  {
    ServeProcess serve({"--storage", "duckdb://" + db.string(), "--build-after", "50"}, kKeys);
    ASSERT_GT(serve.port(), 0) << serve.log();
    std::mutex mutex;
    std::atomic<bool> signalled{false};
    std::atomic<int> answered_after_signal{0}, server_errors{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 6; ++t) {
      clients.emplace_back([&, t] {
        for (int batch = 0; batch < 1000; ++batch) {
          const Answer answer = call_server(
              serve.port(), "POST", "/v1/owners/o" + std::to_string(t) + "/messages",
              messages_body("ann", "batch " + std::to_string(batch), 100, batch * 100), kAdminKey,
              /*expect_answer=*/false);
          if (answer.status == 0) return;  // refused: the server stopped accepting
          if (answer.status >= 500) ++server_errors;
          if (signalled) ++answered_after_signal;
          if (answer.status == 202) {
            std::lock_guard lock(mutex);
            for (const auto& id : answer.json["message_ids"]) acknowledged.insert(id);
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    signalled = true;
    serve.signal(SIGTERM);
    for (auto& c : clients) c.join();
    EXPECT_EQ(serve.wait(std::chrono::seconds(30)), 0) << serve.log();
    EXPECT_EQ(server_errors, 0);
    EXPECT_GT(answered_after_signal, 0) << "no request was in flight at SIGTERM";
    EXPECT_NE(serve.log().find("\"stopped\""), std::string::npos);
    ASSERT_FALSE(acknowledged.empty());
  }
  // Every acknowledged message is stored, and nothing else; what was not built stays pending.
  MemoryConfig config;
  config.storage = parse_storage_url("duckdb://" + db.string());
  auto memory = MemorySystem::open(config);
  std::size_t stored = 0;
  for (int t = 0; t < 6; ++t) stored += memory->storage().raw_data().count("o" + std::to_string(t));
  EXPECT_EQ(stored, acknowledged.size());
  for (const auto& id : acknowledged) {
    ASSERT_TRUE(memory->storage().raw_data().get(id).has_value()) << id;
  }
  const auto pending = pending_by_owner(memory->storage());
  std::size_t pending_total = 0;
  for (const auto& [owner, n] : pending) pending_total += n;
  RawDataQuery built;
  built.processed = true;
  const auto processed = memory->storage().raw_data().search(built);
  EXPECT_EQ(pending_total + processed.total_count, stored);
  memory.reset();
  fs::remove(db);
  fs::remove(db.string() + ".wal");
}

TEST(ServeCommandTest, TwoServersOnOnePostgresqlSeeEachOthersWrites) {
  const char* base = std::getenv("NEMORI_TEST_POSTGRES_URL");
  if (base == nullptr || *base == '\0') {
    GTEST_SKIP() << "no PostgreSQL test server: set NEMORI_TEST_POSTGRES_URL (start one with "
                    "scripts/pg-test-server.sh start DIR)";
  }
  const std::string schema = "serve_" + std::to_string(::getpid());
  const std::string url = std::string(base) +
                          (std::string(base).find('?') == std::string::npos ? "?" : "&") +
                          "schema=" + schema;
  {
    ServeProcess a({"--storage", url}, kKeys);
    ServeProcess b({"--storage", url}, kKeys);
    ASSERT_GT(a.port(), 0) << a.log();
    ASSERT_GT(b.port(), 0) << b.log();
    ASSERT_EQ(call_server(a.port(), "POST", "/v1/owners/shared/messages",
                          messages_body("ann", "the lighthouse keeper waved", 3))
                  .status,
              202);
    ASSERT_EQ(call_server(a.port(), "POST", "/v1/owners/shared/flush", "{}").status, 200);
    // Through B, within the index check interval (docs/api.md).
    Answer found;
    for (int i = 0; i < 100; ++i) {
      found =
          call_server(b.port(), "POST", "/v1/owners/shared/search", R"({"query": "lighthouse"})");
      if (!found.json["hits"].empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_EQ(found.json["hits"].size(), 1u) << found.body;
    // Deleted through B, gone through A.
    ASSERT_EQ(call_server(b.port(), "DELETE", "/v1/owners/shared").status, 200);
    for (int i = 0; i < 100; ++i) {
      found =
          call_server(a.port(), "POST", "/v1/owners/shared/search", R"({"query": "lighthouse"})");
      if (found.json["hits"].empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    EXPECT_TRUE(found.json["hits"].empty()) << found.body;
    EXPECT_EQ(call_server(a.port(), "GET", "/v1/owners/shared/stats").json["raw_events"], 0);
    a.signal(SIGTERM);
    b.signal(SIGTERM);
    EXPECT_EQ(a.wait(std::chrono::seconds(30)), 0);
    EXPECT_EQ(b.wait(std::chrono::seconds(30)), 0);
  }
  const std::string drop = "psql -q '" + std::string(base) + "' -c 'DROP SCHEMA IF EXISTS " +
                           schema + " CASCADE' >/dev/null 2>&1";
  EXPECT_EQ(std::system(drop.c_str()), 0) << drop;
}

}  // namespace
}  // namespace nemori::test
