// A DuckDB connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <duckdb.h>

#include "storage/duckdb/database.h"
#include "storage/duckdb/result.h"
#include "storage/duckdb/statement.h"
#include "storage/duckdb/statement_cache.h"

namespace nemori::detail::duck {

/// One connection (RAII over duckdb_connection). Not thread-safe: one thread uses it at a
/// time (the pool and the writer lock see to that). Keeps its database open.
///
/// A reader connection (made with `cache_statements`) keeps its prepared statements in a
/// StatementCache and reuses them while no write has happened; the writer prepares every
/// statement afresh inside its transaction.
class Connection {
 public:
  /// Connects to `database`; a connection made with `cache_statements` reuses its prepared
  /// statements (see StatementCache). Throws StorageError.
  explicit Connection(std::shared_ptr<Database> database, bool cache_statements = false);
  /// Disconnects.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// The C API handle.
  duckdb_connection handle() const { return handle_; }
  /// Runs SQL without parameters (DDL, transaction control). Throws EngineError.
  Result execute(const std::string& sql);
  /// Prepares `sql` (or takes it from the cache), binds `params` to its placeholders in order
  /// and runs it. Throws EngineError.
  Result run(const std::string& sql, const std::vector<Param>& params = {});

 private:
  std::shared_ptr<Database> database_;
  duckdb_connection handle_ = nullptr;
  std::unique_ptr<StatementCache> cache_;  // null on the writer
};

}  // namespace nemori::detail::duck
