#include "storage/duckdb/statement_reads.h"

#include <string_view>
#include <unordered_map>

#include "storage/duckdb/key_lookup.h"
#include "storage/duckdb/semantic_rows.h"

namespace nemori::detail::duck {

void attach_sources(Connection& connection, std::vector<nemori::Statement>& statements) {
  if (statements.empty()) return;
  std::unordered_map<std::string_view, nemori::Statement*> by_id;
  std::vector<std::string> ids;
  ids.reserve(statements.size());
  for (nemori::Statement& statement : statements) {
    statement.source_episode_ids.clear();
    if (by_id.emplace(statement.statement_id, &statement).second) {
      ids.push_back(statement.statement_id);
    }
  }
  const KeyLookup lookup =
      key_lookup("statement_id, episode_id", "statement_sources", "statement_id", ids);
  Result result =
      connection.run(lookup.sql + " ORDER BY statement_id, added_at, episode_id", lookup.params);
  result.for_each_row([&](const Chunk& chunk, idx_t row) {
    const auto found = by_id.find(chunk.text(0, row));
    if (found != by_id.end()) found->second->source_episode_ids.emplace_back(chunk.text(1, row));
  });
  // The same statement twice in `statements` gets its sources in every copy.
  for (nemori::Statement& statement : statements) {
    nemori::Statement* first = by_id.at(statement.statement_id);
    if (first != &statement) statement.source_episode_ids = first->source_episode_ids;
  }
}

std::vector<nemori::Statement> read_statements(Connection& connection,
                                               std::span<const std::string> ids) {
  std::vector<nemori::Statement> statements;
  if (ids.empty()) return statements;
  const KeyLookup lookup = key_lookup(statement_columns(), "statements", "statement_id", ids);
  Result result = connection.run(lookup.sql, lookup.params);
  result.for_each_row(
      [&](const Chunk& chunk, idx_t row) { statements.push_back(decode_statement(chunk, row)); });
  attach_sources(connection, statements);
  return statements;
}

std::vector<StatementSource> read_sources(Connection& connection, const std::string& owner_id) {
  Result result =
      owner_id.empty()
          ? connection.run(
                "SELECT statement_id, episode_id FROM statement_sources "
                "ORDER BY statement_id, episode_id")
          : connection.run(
                "SELECT statement_id, episode_id FROM statement_sources WHERE owner_id = ? "
                "ORDER BY statement_id, episode_id",
                {owner_id});
  std::vector<StatementSource> out;
  result.for_each_row([&](const Chunk& chunk, idx_t row) {
    out.push_back(
        StatementSource{std::string(chunk.text(0, row)), std::string(chunk.text(1, row))});
  });
  return out;
}

}  // namespace nemori::detail::duck
