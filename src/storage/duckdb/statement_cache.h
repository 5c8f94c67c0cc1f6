// The prepared statements of one reader connection, kept for reuse between reads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include <duckdb.h>

#include "storage/duckdb/statement.h"

namespace nemori::detail::duck {

/// Prepared statements by SQL text, valid for one data version of the database.
///
/// Preparing (parsing, binding, planning) costs 0.3-1 ms per read in DuckDB 1.4.4, as much as
/// running a point read. A cached statement is safe to run again: DuckDB plans a statement
/// with a parameter in a filter again at every execution, the bound values folded in as
/// constants, so it gets the index scan and the table statistics of the moment it runs, and
/// the cache saves its parse only; statements whose parameters are only in LIMIT/OFFSET, or
/// that have none, keep their first plan (docs/duckdb.md, "Reads: prepared statements and
/// profiles"). As a second line of defence the cache only serves statements
/// prepared at the database's current data version, which every committed write advances:
/// after a write, each statement is prepared once more. Not thread-safe: one per connection.
class StatementCache {
 public:
  /// A cache holding at most `capacity` statements (all are dropped when it is full).
  explicit StatementCache(std::size_t capacity) : capacity_(capacity) {}

  /// The statement for `sql` on `connection`, prepared now when the cache has none prepared
  /// at `data_version` (read before calling, so a write racing with the prepare only makes
  /// the next call prepare again). Throws EngineError when DuckDB rejects the SQL.
  Statement& get(duckdb_connection connection, const std::string& sql, std::uint64_t data_version);

  /// Statements currently kept.
  std::size_t size() const { return statements_.size(); }

 private:
  std::size_t capacity_;
  std::uint64_t data_version_ = 0;
  std::unordered_map<std::string, std::unique_ptr<Statement>> statements_;
};

}  // namespace nemori::detail::duck
