// Bulk loading through DuckDB's appender, one data chunk at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <duckdb.h>

#include "nemori/core/time.h"
#include "storage/duckdb/connection.h"

namespace nemori::detail::duck {

/// Appends rows to one table (RAII over duckdb_appender). Rows are written straight into the
/// vectors of a data chunk, which goes to DuckDB when full, so lists and strings cost no
/// per-value allocation. Rows land in the connection's current transaction. Every column of
/// a row must be set (in any order) before end_row().
class Appender {
 public:
  /// Opens an appender on `table` that fills `columns`, in that order (0-based indexes below
  /// refer to it); columns left out get their defaults. Throws EngineError.
  Appender(Connection& connection, const std::string& table,
           std::span<const std::string_view> columns);
  /// Destroys the appender; rows not close()d are discarded by the caller's rollback.
  ~Appender();
  Appender(const Appender&) = delete;
  Appender& operator=(const Appender&) = delete;

  /// Sets a VARCHAR column of the current row.
  void text(idx_t column, std::string_view value);
  /// Sets a column of the current row to NULL.
  void null(idx_t column);
  /// Sets a BIGINT column.
  void int64(idx_t column, std::int64_t value);
  /// Sets an INTEGER column.
  void int32(idx_t column, std::int32_t value);
  /// Sets a DOUBLE column.
  void float64(idx_t column, double value);
  /// Sets a BOOLEAN column.
  void boolean(idx_t column, bool value);
  /// Sets a TIMESTAMP column.
  void timestamp(idx_t column, Timestamp value);
  /// Sets a VARCHAR[] column.
  void text_list(idx_t column, const std::vector<std::string>& values);
  /// Sets a FLOAT[] column.
  void float_list(idx_t column, std::span<const float> values);
  /// Finishes the current row; hands a full chunk to DuckDB. Throws EngineError.
  void end_row();
  /// Hands the last rows to DuckDB and flushes them into the transaction. Throws EngineError
  /// (e.g. a constraint violation).
  void close();

 private:
  // Starts an empty chunk for the next rows.
  void new_chunk();
  // Hands the filled rows of the chunk to DuckDB and starts a new one.
  void append_chunk();
  // Throws EngineError with the appender's error, naming `what`.
  [[noreturn]] void fail(const char* what);

  duckdb_appender appender_ = nullptr;
  std::vector<duckdb_logical_type> types_;
  duckdb_data_chunk chunk_ = nullptr;
  std::vector<duckdb_vector> vectors_;
  idx_t row_ = 0;
  idx_t capacity_ = 0;
};

}  // namespace nemori::detail::duck
