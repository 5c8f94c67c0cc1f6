// A DuckDB connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <duckdb.h>

#include "storage/duckdb/database.h"
#include "storage/duckdb/result.h"
#include "storage/duckdb/statement.h"

namespace nemori::detail::duck {

/// One connection (RAII over duckdb_connection). Not thread-safe: one thread uses it at a
/// time (the pool and the writer lock see to that). Keeps its database open.
///
/// Statements are prepared afresh for every execution, inside the caller's transaction, and
/// never cached: DuckDB plans a statement with the table statistics of the moment (it drops
/// filters the statistics prove always true and packs sort keys to the lengths seen), so a
/// statement prepared earlier and executed after other commits can return wrong rows
/// (observed with DuckDB 1.4.4). Preparing inside the transaction that executes guarantees
/// the plan's statistics cover the snapshot being read.
class Connection {
 public:
  /// Connects to `database`. Throws StorageError.
  explicit Connection(std::shared_ptr<Database> database);
  /// Disconnects.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The C API handle.
  duckdb_connection handle() const { return handle_; }
  /// Runs SQL without parameters (DDL, transaction control). Throws EngineError.
  Result execute(const std::string& sql);
  /// Prepares `sql`, binds `params` to its placeholders in order and runs it. Call inside a
  /// transaction (see above). Throws EngineError.
  Result run(const std::string& sql, const std::vector<Param>& params = {});

 private:
  std::shared_ptr<Database> database_;
  duckdb_connection handle_ = nullptr;
};

}  // namespace nemori::detail::duck
