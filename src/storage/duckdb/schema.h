// The DuckDB schema and its versioned migrations.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "storage/duckdb/connection.h"

namespace nemori::detail::duck {

/// One schema change, applied once, in version order, inside one transaction.
struct Migration {
  int version;                          ///< 1, 2, ... (recorded in schema_migrations)
  std::string name;                     ///< What it does, for humans.
  std::vector<std::string> statements;  ///< DDL run in order.
};

/// Every migration this build knows, oldest first.
std::span<const Migration> migrations();

/// Brings the database behind `connection` to the newest schema: creates schema_migrations
/// when missing and applies, in one transaction, every migration not recorded there yet. The
/// caller holds the database's write mutex. Returns the schema version now in place. Throws
/// StorageError when the file was written by a newer nemori (unknown version).
int migrate(Connection& connection);

/// The schema version recorded in the database (0 when none).
int schema_version(Connection& connection);

}  // namespace nemori::detail::duck
