// Helpers shared by the PostgreSQL tests: where the test server is, a fresh schema per test,
// and a direct admin connection for poking at the server.
//
// The server URL comes from NEMORI_TEST_POSTGRES_URL, else from the url file written by
// scripts/pg-test-server.sh (the ctest fixture `postgres`). Without either, every test is
// skipped with a message, except under CI (env CI set), where that is a failure.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "nemori/storage/config.h"
#include "nemori/storage/repository.h"
#include "storage/postgres/pg_client.h"

namespace nemori::testing {

/// The test server's URL, or nullopt when there is none.
std::optional<std::string> pg_test_url();

/// The URL of the test server; only call once the environment has checked it exists.
std::string pg_url();

/// A new schema name, unique across processes and runs ("nemori_t_<pid>_<n>_<rand>"); it is
/// dropped when the test program ends.
std::string unique_schema(const std::string& label = "t");

/// A config for the test server using `schema`.
StorageConfig pg_config(const std::string& schema);

/// Opens the test server with a fresh schema.
std::unique_ptr<Storage> open_fresh_pg();
/// Opens the schema of the last open_fresh_pg() again.
std::unique_ptr<Storage> reopen_pg();

/// A direct connection to the test server (for admin statements in tests).
std::unique_ptr<pg::Connection> admin_connection(const std::string& url = "");

/// `url` with an extra query parameter ("key=value").
std::string with_param(const std::string& url, const std::string& param);

/// `url` with its database name replaced.
std::string with_database(const std::string& url, const std::string& database);

}  // namespace nemori::testing
