// Reading query results through DuckDB's data-chunk API.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <duckdb.h>

#include "nemori/core/time.h"

namespace nemori::detail::duck {

/// One chunk of a result (RAII over duckdb_data_chunk) with typed, checked cell access.
/// Column and row indexes are 0-based. Getters throw StorageError when the column's type is
/// not the one asked for; reading a NULL cell with a non-optional getter is a logic error.
class Chunk {
 public:
  /// Takes ownership of `chunk`.
  explicit Chunk(duckdb_data_chunk chunk);
  /// Frees the chunk.
  ~Chunk();
  Chunk(Chunk&& other) noexcept;
  Chunk& operator=(Chunk&&) = delete;
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  /// Number of rows in this chunk.
  idx_t size() const { return size_; }
  /// True when the cell is NULL.
  bool is_null(idx_t column, idx_t row) const;
  /// A VARCHAR cell; the view lives as long as this chunk.
  std::string_view text(idx_t column, idx_t row) const;
  /// A BIGINT cell.
  std::int64_t int64(idx_t column, idx_t row) const;
  /// An INTEGER cell.
  std::int32_t int32(idx_t column, idx_t row) const;
  /// A DOUBLE cell.
  double float64(idx_t column, idx_t row) const;
  /// A BOOLEAN cell.
  bool boolean(idx_t column, idx_t row) const;
  /// A TIMESTAMP cell (microseconds, read as UTC).
  Timestamp timestamp(idx_t column, idx_t row) const;
  /// A VARCHAR[] cell; NULL reads as an empty list.
  std::vector<std::string> text_list(idx_t column, idx_t row) const;
  /// A FLOAT[] cell; NULL reads as nullopt.
  std::optional<std::vector<float>> float_list(idx_t column, idx_t row) const;

  /// text() as an owned string, nullopt for NULL.
  std::optional<std::string> optional_text(idx_t column, idx_t row) const;
  /// float64(), nullopt for NULL.
  std::optional<double> optional_float64(idx_t column, idx_t row) const;
  /// timestamp(), nullopt for NULL.
  std::optional<Timestamp> optional_timestamp(idx_t column, idx_t row) const;

 private:
  // Returns the data of `column` after checking its type.
  const void* data(idx_t column, duckdb_type expected) const;

  duckdb_data_chunk chunk_;
  idx_t size_ = 0;
  std::vector<duckdb_vector> vectors_;
  std::vector<duckdb_type> types_;
};

/// A materialised query result (RAII over duckdb_result).
class Result {
 public:
  Result() = default;
  /// Frees the result.
  ~Result();
  Result(Result&& other) noexcept;
  Result& operator=(Result&&) = delete;
  Result(const Result&) = delete;
  Result& operator=(const Result&) = delete;

  /// The handle for duckdb_query / duckdb_execute_prepared to fill.
  duckdb_result* out() {
    filled_ = true;
    return &result_;
  }
  /// Rows inserted, updated or deleted by the statement.
  idx_t rows_changed();
  /// The next chunk, or nullopt when the result is exhausted.
  std::optional<Chunk> next_chunk();
  /// Calls fn(chunk, row) for every row, in order.
  template <typename Fn>
  void for_each_row(Fn&& fn) {
    while (std::optional<Chunk> chunk = next_chunk()) {
      for (idx_t row = 0; row < chunk->size(); ++row) fn(*chunk, row);
    }
  }
  /// The BIGINT in the first column of the first row (e.g. a COUNT); 0 when there is no row.
  std::int64_t single_int64();

 private:
  duckdb_result result_{};
  bool filled_ = false;
};

}  // namespace nemori::detail::duck
