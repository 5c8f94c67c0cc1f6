// Prepared statements with typed parameter binding.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <duckdb.h>

#include "nemori/core/time.h"
#include "storage/duckdb/result.h"

namespace nemori::detail::duck {

/// One value bound to a `?` placeholder: NULL, BOOLEAN, BIGINT, DOUBLE, VARCHAR, TIMESTAMP,
/// VARCHAR[] or BIGINT[]. Every value that reaches SQL travels as one of these, never as text
/// pasted into the statement.
using Param = std::variant<std::nullptr_t, bool, std::int64_t, double, std::string, Timestamp,
                           std::vector<std::string>, std::vector<std::int64_t>>;

/// A prepared statement (RAII over duckdb_prepared_statement).
class Statement {
 public:
  /// Prepares `sql` on `connection`. Throws EngineError when DuckDB rejects it.
  Statement(duckdb_connection connection, const std::string& sql);
  /// Frees the statement.
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  /// Binds `value` to the placeholder at 1-based `index`. Throws EngineError.
  void bind(idx_t index, const Param& value);
  /// Clears earlier bindings and binds `params` to placeholders 1..n. Throws StorageError
  /// when their number differs from the statement's.
  void bind_all(const std::vector<Param>& params);
  /// Runs the statement with its current bindings. Throws EngineError.
  Result execute();

 private:
  duckdb_prepared_statement handle_ = nullptr;
  std::string sql_;
};

}  // namespace nemori::detail::duck
