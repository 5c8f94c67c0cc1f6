// What deleting episodes or statements takes with it in the semantic tables. DuckDB cannot
// cascade, so every deletion of episodes (EpisodeRepository::remove and cleanup_before, a
// batch's delete_episodes) and of statements calls these in its own transaction.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "storage/duckdb/connection.h"

namespace nemori::detail::duck {

/// What a cascade removed and reopened.
struct StatementCascade {
  std::size_t statements_removed = 0;   ///< Statements left without a source, deleted.
  std::size_t statements_reopened = 0;  ///< Statements those had closed, reopened.
};

/// Deletes `statement_ids` and their source rows, and reopens (valid_to and superseded_by
/// cleared) every other statement one of them had closed. Runs inside the caller's
/// transaction.
StatementCascade remove_statements(Connection& connection,
                                   const std::vector<std::string>& statement_ids);

/// For episodes about to be deleted: deletes their source and progress rows, then every
/// statement left without a source (reopening what those closed). Runs inside the caller's
/// transaction, before or after the episode rows go.
StatementCascade remove_episode_dependents(Connection& connection,
                                           const std::vector<std::string>& episode_ids);

}  // namespace nemori::detail::duck
