// Conversion between statements / semantic progress and PostgreSQL rows: the column lists
// written and read, COPY rows, and decoding (docs/design/semantic-memory.md §1.2).
#pragma once

#include <string>

#include "nemori/core/statement.h"
#include "storage/postgres/pg_client.h"
#include "storage/postgres/pg_rows.h"

namespace nemori::pg {

/// Columns written for a statement, in statement_row() order.
extern const char* const kStatementInsertColumns;
/// Number of columns in kStatementInsertColumns.
inline constexpr int kStatementInsertCount = 15;
/// The values stored for `statement` (its search_text is fold_case(content)); the sources go
/// to statement_sources.
RowValues statement_row(const Statement& statement);

/// The select list decode_statement() reads, for the statements table aliased `alias`, with the
/// statement's sources in the order they were added (`sources` names the statement_sources
/// table).
std::string statement_select_list(const std::string& alias, const std::string& sources);
/// Reads the statement at `row` of a result selected with statement_select_list().
Statement decode_statement(const Result& result, int row);

/// Columns written for a progress row, in progress_row() order.
extern const char* const kProgressInsertColumns;
/// Number of columns in kProgressInsertColumns.
inline constexpr int kProgressInsertCount = 11;
/// The values stored for `progress`.
RowValues progress_row(const SemanticProgress& progress);
/// SQL for the unsigned value (numeric) of a counter column of semantic_progress, which holds
/// the 64 bits of a std::uint64_t in a bigint.
std::string unsigned_counter(const std::string& column);
/// The select list decode_progress() reads, for the semantic_progress table aliased `alias`.
std::string progress_select_list(const std::string& alias);
/// Reads the progress row at `row` of a result selected with progress_select_list().
SemanticProgress decode_progress(const Result& result, int row);

}  // namespace nemori::pg
