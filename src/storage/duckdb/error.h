// Errors reported by the DuckDB engine, translated into nemori's error hierarchy.
#pragma once

#include <string>
#include <string_view>

#include <duckdb.h>

#include "nemori/core/error.h"

namespace nemori::detail::duck {

/// A failure reported by DuckDB. It is a StorageError that remembers DuckDB's error class, so
/// callers can tell a constraint violation or a transaction conflict from an I/O failure.
class EngineError : public StorageError {
 public:
  /// `message` is the full text shown to the user; `type` is DuckDB's classification.
  EngineError(const std::string& message, duckdb_error_type type)
      : StorageError(message), type_(type) {}
  /// DuckDB's classification of the error.
  duckdb_error_type type() const noexcept { return type_; }
  /// True for a violated PRIMARY KEY / UNIQUE / NOT NULL constraint.
  bool is_constraint_violation() const noexcept { return type_ == DUCKDB_ERROR_CONSTRAINT; }
  /// True for a COMMIT refused with "write-write conflict on key": a key that was deleted (or
  /// moved by an update of an indexed or list column) once before is deleted again while a
  /// transaction older than the first deletion still runs. Writers are serialised, so this
  /// comes only from such old readers.
  bool is_key_write_conflict() const noexcept {
    return type_ == DUCKDB_ERROR_TRANSACTION &&
           std::string_view(what()).find("write-write conflict on key") != std::string_view::npos;
  }

 private:
  duckdb_error_type type_;
};

/// Throws EngineError("DuckDB <context> failed: <message>").
[[noreturn]] void throw_engine_error(std::string_view context, std::string_view message,
                                     duckdb_error_type type);

}  // namespace nemori::detail::duck
