#include "storage/duckdb/statement_cascade.h"

namespace nemori::detail::duck {

namespace {

std::vector<std::string> first_column(Result& result) {
  std::vector<std::string> out;
  result.for_each_row([&](const Chunk& chunk, idx_t row) { out.emplace_back(chunk.text(0, row)); });
  return out;
}

}  // namespace

StatementCascade remove_statements(Connection& connection,
                                   const std::vector<std::string>& statement_ids) {
  StatementCascade done;
  if (statement_ids.empty()) return done;
  // Reopened first, while the closers still name them; a closer deleted in the same call is
  // not reopened.
  done.statements_reopened = static_cast<std::size_t>(
      connection
          .run("UPDATE statements SET valid_to = NULL, superseded_by = NULL "
               "WHERE superseded_by IN (SELECT unnest(?::VARCHAR[])) "
               "AND statement_id NOT IN (SELECT unnest(?::VARCHAR[]))",
               {statement_ids, statement_ids})
          .rows_changed());
  connection.run(
      "DELETE FROM statement_sources WHERE statement_id IN (SELECT unnest(?::VARCHAR[]))",
      {statement_ids});
  done.statements_removed = static_cast<std::size_t>(
      connection
          .run("DELETE FROM statements WHERE statement_id IN (SELECT unnest(?::VARCHAR[]))",
               {statement_ids})
          .rows_changed());
  return done;
}

StatementCascade remove_episode_dependents(Connection& connection,
                                           const std::vector<std::string>& episode_ids) {
  if (episode_ids.empty()) return {};
  // Statements every one of whose sources is among the episodes.
  Result orphans = connection.run(
      "SELECT DISTINCT s.statement_id FROM statement_sources s "
      "WHERE s.episode_id IN (SELECT unnest(?::VARCHAR[])) AND NOT EXISTS ("
      "SELECT 1 FROM statement_sources x WHERE x.statement_id = s.statement_id "
      "AND x.episode_id NOT IN (SELECT unnest(?::VARCHAR[]))) ORDER BY 1",
      {episode_ids, episode_ids});
  const std::vector<std::string> orphan_ids = first_column(orphans);
  connection.run("DELETE FROM statement_sources WHERE episode_id IN (SELECT unnest(?::VARCHAR[]))",
                 {episode_ids});
  connection.run("DELETE FROM semantic_progress WHERE episode_id IN (SELECT unnest(?::VARCHAR[]))",
                 {episode_ids});
  return remove_statements(connection, orphan_ids);
}

}  // namespace nemori::detail::duck
