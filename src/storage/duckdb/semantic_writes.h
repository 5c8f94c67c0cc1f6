// The semantic-memory steps of DuckDbStorage::apply(), after the batch has been checked
// (check_write_batch): each runs inside the batch's transaction on the writer connection.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "nemori/storage/repository.h"
#include "storage/duckdb/connection.h"
#include "storage/duckdb/semantic_rows.h"

namespace nemori::detail::duck {

/// Hands out the added_at times of new source rows: strictly increasing, and later than every
/// source row stored, so that a statement's sources read back in the order they were added
/// even when several are added in one batch or the clock steps back.
class SourceClock {
 public:
  /// Starts after the newest added_at in statement_sources, or at now when that is later.
  explicit SourceClock(Connection& connection);
  /// The next time.
  Timestamp next();

 private:
  Timestamp next_;
};

/// Re-points every source row (s, from) to (s, to), keeping its place among s's sources; a
/// pair that exists already stays one (the `from` row goes).
void move_sources(Connection& connection, std::span<const SourceMove> moves);

/// Inserts new statements (encoded from the batch's statements) and their source rows.
void insert_statements(Connection& connection, std::span<const EncodedStatement> statements,
                       SourceClock& clock);

/// Replaces stored statements with the updates (their sources are left as they are). Returns
/// how many rows were replaced.
std::size_t replace_statements(Connection& connection, std::span<const EncodedStatement> updates);

/// Adds the support rows that do not exist yet (each pair once), with the owner of their
/// statement in `owners` (which holds every statement named). Returns how many were added.
std::size_t add_sources(Connection& connection, std::span<const StatementSource> sources,
                        const std::unordered_map<std::string, std::string>& owners,
                        SourceClock& clock);

/// Upserts progress rows: an existing row is updated in place (its key never changes), a new
/// one inserted.
void upsert_progress(Connection& connection, std::span<const SemanticProgress> rows);

}  // namespace nemori::detail::duck
