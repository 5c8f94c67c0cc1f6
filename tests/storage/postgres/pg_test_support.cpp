#include "pg_test_support.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <vector>

#include "nemori/storage/factory.h"

namespace nemori::testing {

namespace {

std::mutex g_mu;
std::vector<std::string> g_schemas;  // created by this process, dropped at exit
std::string g_last_schema;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// Checks for the server once per test program; drops the schemas at the end.
class PgEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    if (pg_test_url()) return;
    const std::string message =
        "no PostgreSQL test server: the PostgreSQL server binaries are missing or the server was "
        "not started (install postgresql-15, then run the tests through ctest, whose `postgres` "
        "fixture runs scripts/pg-test-server.sh, or set NEMORI_TEST_POSTGRES_URL)";
    const char* ci = std::getenv("CI");
    if (ci != nullptr && *ci != '\0') {
      FAIL() << message << "; under CI this is an error, never a skip";
    }
    GTEST_SKIP() << message;
  }

  void TearDown() override {
    std::vector<std::string> schemas;
    {
      std::lock_guard lock(g_mu);
      schemas.swap(g_schemas);
    }
    if (schemas.empty() || !pg_test_url()) return;
    try {
      auto conn = admin_connection();
      for (const auto& s : schemas) {
        conn->exec_simple("DROP SCHEMA IF EXISTS " + pg::quote_ident(s) + " CASCADE");
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warning: could not drop test schemas: %s\n", e.what());
    }
  }
};

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new PgEnvironment);

}  // namespace

std::optional<std::string> pg_test_url() {
  if (const char* env = std::getenv("NEMORI_TEST_POSTGRES_URL"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  std::ifstream in(NEMORI_PG_TEST_URL_FILE);
  std::string url;
  if (in && std::getline(in, url) && !trim(url).empty()) return trim(url);
  return std::nullopt;
}

std::string pg_url() {
  auto url = pg_test_url();
  if (!url) throw std::runtime_error("no PostgreSQL test server");
  return *url;
}

std::string unique_schema(const std::string& label) {
  static std::atomic<int> counter{0};
  static const unsigned salt = std::random_device{}();
  const std::string name = "nemori_" + label + "_" + std::to_string(::getpid()) + "_" +
                           std::to_string(counter++) + "_" + std::to_string(salt % 100000);
  std::lock_guard lock(g_mu);
  g_schemas.push_back(name);
  return name;
}

StorageConfig pg_config(const std::string& schema) {
  StorageConfig config = parse_storage_url(pg_url());
  config.schema = schema;
  config.pool_size = 4;
  return config;
}

std::unique_ptr<Storage> open_fresh_pg() {
  const std::string schema = unique_schema();
  {
    std::lock_guard lock(g_mu);
    g_last_schema = schema;
  }
  return open_storage(pg_config(schema));
}

std::unique_ptr<Storage> reopen_pg() {
  std::string schema;
  {
    std::lock_guard lock(g_mu);
    schema = g_last_schema;
  }
  return open_storage(pg_config(schema));
}

std::unique_ptr<pg::Connection> admin_connection(const std::string& url) {
  pg::ConnectOptions options;
  options.url = url.empty() ? pg_url() : url;
  options.application_name = "nemori_test_admin";
  return std::make_unique<pg::Connection>(options);
}

std::string with_param(const std::string& url, const std::string& param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
}

std::string with_database(const std::string& url, const std::string& database) {
  const auto scheme = url.find("://");
  const auto slash = url.find('/', scheme + 3);
  const auto query = url.find('?', scheme + 3);
  std::string out = url.substr(0, slash) + "/" + database;
  if (query != std::string::npos) out += url.substr(query);
  return out;
}

}  // namespace nemori::testing
