#include "storage/duckdb/statement_cascade.h"

#include <set>
#include <unordered_map>

#include "storage/duckdb/key_lookup.h"

namespace nemori::detail::duck {

namespace {

// Runs `sql_head` + " WHERE " + `key` IN `ids` (+ `sql_tail`), through the key's index for up
// to kKeyListMax ids; returns the number of rows changed.
std::size_t run_by_keys(Connection& connection, const std::string& sql_head, std::string_view key,
                        const std::vector<std::string>& ids, const std::string& sql_tail = "",
                        std::vector<Param> tail_params = {}) {
  if (ids.empty()) return 0;
  KeyLookup by_key = key_condition(key, ids);
  std::vector<Param> params = std::move(by_key.params);
  for (Param& param : tail_params) params.push_back(std::move(param));
  return static_cast<std::size_t>(
      connection.run(sql_head + " WHERE " + by_key.sql + sql_tail, params).rows_changed());
}

}  // namespace

StatementCascade remove_statements(Connection& connection,
                                   const std::vector<std::string>& statement_ids) {
  StatementCascade done;
  if (statement_ids.empty()) return done;
  // Reopened first, while the closers still name them; a closer deleted in the same call is
  // not reopened.
  done.statements_reopened = run_by_keys(
      connection, "UPDATE statements SET valid_to = NULL, superseded_by = NULL", "superseded_by",
      statement_ids, " AND statement_id NOT IN (SELECT unnest(?::VARCHAR[]))", {statement_ids});
  connection.run(
      "DELETE FROM statement_sources WHERE statement_id IN (SELECT unnest(?::VARCHAR[]))",
      {statement_ids});
  done.statements_removed =
      run_by_keys(connection, "DELETE FROM statements", "statement_id", statement_ids);
  return done;
}

StatementCascade remove_episode_dependents(Connection& connection,
                                           const std::vector<std::string>& episode_ids) {
  if (episode_ids.empty()) return {};
  // The statements the episodes support (through the episode_id index), then every source of
  // those: the ones left with none once the episodes go are orphans.
  std::set<std::string> supported;
  {
    const KeyLookup lookup =
        key_lookup("statement_id", "statement_sources", "episode_id", episode_ids);
    connection.run(lookup.sql, lookup.params).for_each_row([&](const Chunk& chunk, idx_t row) {
      supported.emplace(chunk.text(0, row));
    });
  }
  std::vector<std::string> orphan_ids;
  if (!supported.empty()) {
    const std::vector<std::string> candidates(supported.begin(), supported.end());
    std::unordered_map<std::string, std::size_t> kept;
    Result others = connection.run(
        "SELECT statement_id, count(*) FROM statement_sources "
        "WHERE statement_id IN (SELECT unnest(?::VARCHAR[])) "
        "AND episode_id NOT IN (SELECT unnest(?::VARCHAR[])) GROUP BY statement_id",
        {candidates, episode_ids});
    others.for_each_row([&](const Chunk& chunk, idx_t row) {
      kept.emplace(std::string(chunk.text(0, row)), static_cast<std::size_t>(chunk.int64(1, row)));
    });
    for (const std::string& id : candidates) {
      if (!kept.contains(id)) orphan_ids.push_back(id);
    }
  }
  run_by_keys(connection, "DELETE FROM statement_sources", "episode_id", episode_ids);
  run_by_keys(connection, "DELETE FROM semantic_progress", "episode_id", episode_ids);
  return remove_statements(connection, orphan_ids);
}

}  // namespace nemori::detail::duck
