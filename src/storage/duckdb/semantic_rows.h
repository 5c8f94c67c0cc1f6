// How statements and semantic progress map to rows of the DuckDB tables (statements,
// semantic_progress), both ways. A statement's sources live in statement_sources and are read
// separately (statement_sources.h).
#pragma once

#include <string>
#include <string_view>

#include "nemori/core/statement.h"
#include "storage/duckdb/appender.h"
#include "storage/duckdb/result.h"

namespace nemori::detail::duck {

/// The columns read back for a statement, in the order decode_statement expects, each prefixed
/// with `alias` + "." when an alias is given.
std::string statement_columns(std::string_view alias = "");

/// A statement turned into column values, computed before the write lock is taken.
struct EncodedStatement {
  const nemori::Statement* statement;  ///< The source record (must outlive this value).
  std::string metadata;                ///< metadata as JSON text
  std::string search_text;             ///< fold_case(content)
};
/// Encodes `statement`, which must have passed validation.
EncodedStatement encode(const nemori::Statement& statement);
/// An appender on statements for append_row(EncodedStatement).
Appender statement_appender(Connection& connection);
/// Appends the row of `encoded` to a statement_appender().
void append_row(Appender& appender, const EncodedStatement& encoded);
/// Reads the statement at `row` of a chunk whose columns are statement_columns(), without its
/// sources. Throws StorageError when a stored value cannot be decoded.
nemori::Statement decode_statement(const Chunk& chunk, idx_t row);

/// An appender on semantic_progress for append_row(SemanticProgress).
Appender progress_appender(Connection& connection);
/// Appends `progress` (validated) to a progress_appender().
void append_row(Appender& appender, const SemanticProgress& progress);
/// The columns read back for a progress row, in the order decode_progress expects.
std::string progress_columns();
/// Reads the progress row at `row` of a chunk whose columns are progress_columns(). Throws
/// StorageError when a stored value cannot be decoded.
SemanticProgress decode_progress(const Chunk& chunk, idx_t row);

}  // namespace nemori::detail::duck
