// A fresh, empty store of one backend for one test: memory, a new DuckDB file, or a new schema
// on the PostgreSQL test server named by NEMORI_TEST_POSTGRES_URL. Removed afterwards.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "nemori/storage/config.h"

namespace nemori::test {

/// Why a PostgreSQL case skips: the message GTEST_SKIP gives (CTest shows the test skipped).
inline constexpr const char* kNoPostgresServer =
    "no PostgreSQL test server: set NEMORI_TEST_POSTGRES_URL (start one with "
    "scripts/pg-test-server.sh start DIR; `make test` does)";

/// One test's store. Not copyable: it owns the file or schema it names.
class TestStore {
 public:
  /// `backend` is "memory", "duckdb" or "postgresql"; `name` (letters, digits, '_') tags the
  /// file or schema, which also carries the process id and a counter, so parallel tests and
  /// processes never share one.
  TestStore(const std::string& backend, const std::string& name) {
    static std::atomic<int> counter{0};
    const std::string tag =
        name + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter.fetch_add(1));
    config_.backend = backend;
    if (backend == "duckdb") {
      path_ = std::filesystem::temp_directory_path() / ("nemori_" + tag + ".duckdb");
      std::filesystem::remove(path_);
      config_.path = path_.string();
    } else if (backend == "postgresql") {
      const char* url = std::getenv("NEMORI_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') return;
      base_url_ = url;
      config_ = parse_storage_url(base_url_);
      config_.schema = "t_" + tag;
    }
  }
  ~TestStore() {
    if (!path_.empty()) {
      std::filesystem::remove(path_);
      std::filesystem::remove(path_.string() + ".wal");
    }
    if (!base_url_.empty()) {
      const std::string drop = "psql -q '" + base_url_ + "' -c 'DROP SCHEMA IF EXISTS " +
                               config_.schema + " CASCADE' >/dev/null 2>&1";
      EXPECT_EQ(std::system(drop.c_str()), 0) << drop;
    }
  }
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;

  /// True when the backend cannot be reached here (PostgreSQL without a test server): the
  /// test should GTEST_SKIP() << kNoPostgresServer.
  bool unavailable() const { return config_.backend == "postgresql" && base_url_.empty(); }
  /// Whether a second MemorySystem opened later sees the first one's data (not memory://).
  bool persistent() const { return config_.backend != "memory"; }
  /// The store for MemoryConfig::storage or open_storage().
  const StorageConfig& config() const { return config_; }
  /// The store as a `--storage` URL for the nemori command.
  std::string url() const {
    if (config_.backend == "duckdb") return "duckdb://" + path_.string();
    if (config_.backend == "postgresql")
      return base_url_ + (base_url_.find('?') == std::string::npos ? "?" : "&") +
             "schema=" + config_.schema;
    return "memory://";
  }

 private:
  StorageConfig config_;
  std::filesystem::path path_;
  std::string base_url_;
};

}  // namespace nemori::test
