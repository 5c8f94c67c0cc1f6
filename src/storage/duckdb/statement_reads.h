// Reading statements with their sources, inside the caller's transaction or statement.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "nemori/core/statement.h"
#include "nemori/storage/repository.h"
#include "storage/duckdb/connection.h"

namespace nemori::detail::duck {

/// Fills source_episode_ids of each statement from statement_sources, in the order the sources
/// were added (added_at, then episode_id), with one query.
void attach_sources(Connection& connection, std::vector<nemori::Statement>& statements);

/// The stored statements among `ids`, with their sources, in no particular order (each once).
std::vector<nemori::Statement> read_statements(Connection& connection,
                                               std::span<const std::string> ids);

/// Source rows of one owner (all when empty), ordered by statement_id then episode_id.
std::vector<StatementSource> read_sources(Connection& connection, const std::string& owner_id);

}  // namespace nemori::detail::duck
