// The storage conformance suite on the DuckDB backend: a fresh database file per test.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include "conformance_suite.h"
#include "nemori/storage/factory.h"

namespace nemori::testing {
namespace {

// A directory of this process for the test databases, removed at exit.
class TestDirectory {
 public:
  TestDirectory()
      : path_(std::filesystem::temp_directory_path() /
              ("nemori-duckdb-conformance-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ~TestDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

const std::filesystem::path& test_directory() {
  static const TestDirectory directory;
  return directory.path();
}

std::string& last_path() {
  static std::string path;
  return path;
}

std::unique_ptr<Storage> open_fresh_duckdb() {
  static std::atomic<int> counter{0};
  if (!last_path().empty()) {  // the previous test's store is closed by now
    std::error_code ignored;
    std::filesystem::remove(last_path(), ignored);
    std::filesystem::remove(last_path() + ".wal", ignored);
  }
  last_path() = (test_directory() / ("store-" + std::to_string(++counter) + ".duckdb")).string();
  return open_storage("duckdb://" + last_path());
}

std::unique_ptr<Storage> reopen_duckdb() {
  return open_storage("duckdb://" + last_path());
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(DuckDb, StorageConformanceTest,
                         ::testing::Values(StorageBackendParam{"duckdb", open_fresh_duckdb,
                                                               reopen_duckdb}),
                         [](const auto& info) { return info.param.name; });

}  // namespace nemori::testing
