// The one conformance suite every storage backend must pass: same input, same rows, same
// order, same errors. It is parametrised over a description of the backend.
//
// A backend instantiates it in its own test file, e.g. tests/storage/duckdb_conformance_test.cpp:
//
//   #include "conformance_suite.h"
//   namespace nemori::testing {
//   INSTANTIATE_TEST_SUITE_P(DuckDb, StorageConformanceTest,
//       ::testing::Values(StorageBackendParam{
//           "duckdb",
//           [] { return open_storage(fresh_duckdb_path_url()); },  // a new, empty store
//           [] { return open_storage(last_duckdb_path_url()); }}),  // the same store again
//       [](const auto& info) { return info.param.name; });
//   }  // namespace nemori::testing
//
// (tests/storage/postgres/ compiles ../conformance_suite.cpp into its own binary and
// includes "../conformance_suite.h".)
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "nemori/storage/repository.h"

namespace nemori::testing {

/// Describes one backend under test.
struct StorageBackendParam {
  /// What Storage::backend() reports ("memory", "duckdb", "postgresql"); also the test name.
  std::string name;
  /// Opens a new, empty store.
  std::function<std::unique_ptr<Storage>()> open_fresh;
  /// Opens the store last returned by open_fresh again (persistence check); null when the
  /// backend keeps nothing after close (memory).
  std::function<std::unique_ptr<Storage>()> reopen;
};

/// Prints the backend name in test output.
inline void PrintTo(const StorageBackendParam& param, std::ostream* os) {
  *os << param.name;
}

/// Fixture: a fresh store per test, in `storage`.
class StorageConformanceTest : public ::testing::TestWithParam<StorageBackendParam> {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// Closes the store and opens it again (only when the backend has `reopen`).
  void reopen();

  std::unique_ptr<Storage> storage;
};

}  // namespace nemori::testing
