#include "storage/duckdb/semantic_writes.h"

#include <algorithm>
#include <cstdint>
#include <set>
#include <unordered_set>
#include <utility>

namespace nemori::detail::duck {

namespace {

// Support rows (statement, episode) inserted at their times, each pair at most once and only
// when not stored yet; the owner is the statement's. Returns how many were inserted.
std::size_t insert_sources(Connection& connection, const std::vector<std::string>& statement_ids,
                           const std::vector<std::string>& episode_ids,
                           const std::vector<std::int64_t>& added_at) {
  if (statement_ids.empty()) return 0;
  return static_cast<std::size_t>(
      connection
          .run("INSERT INTO statement_sources (statement_id, episode_id, owner_id, added_at) "
               "SELECT l.s, l.e, st.owner_id, make_timestamp(l.t) FROM (SELECT "
               "unnest(?::VARCHAR[]) AS s, unnest(?::VARCHAR[]) AS e, unnest(?::BIGINT[]) AS t) l "
               "JOIN statements st ON st.statement_id = l.s WHERE NOT EXISTS (SELECT 1 FROM "
               "statement_sources x WHERE x.statement_id = l.s AND x.episode_id = l.e)",
               {statement_ids, episode_ids, added_at})
          .rows_changed());
}

// Collects (statement, episode) pairs once each, in first-seen order, with their times.
class SourceRows {
 public:
  explicit SourceRows(SourceClock& clock) : clock_(clock) {}
  void add(const std::string& statement_id, const std::string& episode_id) {
    if (!seen_.emplace(statement_id, episode_id).second) return;
    statements_.push_back(statement_id);
    episodes_.push_back(episode_id);
    times_.push_back(to_micros(clock_.next()));
  }
  std::size_t insert(Connection& connection) const {
    return insert_sources(connection, statements_, episodes_, times_);
  }

 private:
  SourceClock& clock_;
  std::set<std::pair<std::string, std::string>> seen_;
  std::vector<std::string> statements_, episodes_;
  std::vector<std::int64_t> times_;
};

}  // namespace

SourceClock::SourceClock(Connection& connection) : next_(now_utc()) {
  Result newest = connection.run("SELECT max(added_at) FROM statement_sources");
  newest.for_each_row([&](const Chunk& chunk, idx_t row) {
    if (const std::optional<Timestamp> t = chunk.optional_timestamp(0, row)) {
      next_ = std::max(next_, *t + std::chrono::microseconds(1));
    }
  });
}

Timestamp SourceClock::next() {
  const Timestamp t = next_;
  next_ += std::chrono::microseconds(1);
  return t;
}

void move_sources(Connection& connection, std::span<const SourceMove> moves) {
  for (const SourceMove& move : moves) {
    if (move.from_episode_id == move.to_episode_id) continue;
    // The moved row keeps its added_at, so it keeps its place among the statement's sources.
    connection.run(
        "INSERT INTO statement_sources (statement_id, episode_id, owner_id, added_at) "
        "SELECT f.statement_id, ?, f.owner_id, f.added_at FROM statement_sources f "
        "WHERE f.episode_id = ? AND NOT EXISTS (SELECT 1 FROM statement_sources x "
        "WHERE x.statement_id = f.statement_id AND x.episode_id = ?)",
        {move.to_episode_id, move.from_episode_id, move.to_episode_id});
    connection.run("DELETE FROM statement_sources WHERE episode_id = ?", {move.from_episode_id});
  }
}

void insert_statements(Connection& connection, std::span<const EncodedStatement> statements,
                       SourceClock& clock) {
  if (statements.empty()) return;
  Appender appender = statement_appender(connection);
  for (const EncodedStatement& row : statements) append_row(appender, row);
  appender.close();
  SourceRows sources(clock);
  for (const EncodedStatement& row : statements) {
    for (const std::string& episode_id : row.statement->source_episode_ids) {
      sources.add(row.statement->statement_id, episode_id);
    }
  }
  sources.insert(connection);
}

std::size_t replace_statements(Connection& connection, std::span<const EncodedStatement> updates) {
  if (updates.empty()) return 0;
  std::vector<std::string> ids;
  ids.reserve(updates.size());
  for (const EncodedStatement& row : updates) ids.push_back(row.statement->statement_id);
  // A delete and an append of the whole row: DuckDB turns an update of the indexed
  // superseded_by or of the vector list into exactly that anyway, and one encoder serves
  // inserts and updates. The key stays the same (write_with_key_retry copes with old readers).
  const auto replaced =
      connection
          .run("DELETE FROM statements WHERE statement_id IN (SELECT unnest(?::VARCHAR[]))", {ids})
          .rows_changed();
  Appender appender = statement_appender(connection);
  for (const EncodedStatement& row : updates) append_row(appender, row);
  appender.close();
  return static_cast<std::size_t>(replaced);
}

std::size_t add_sources(Connection& connection, std::span<const StatementSource> sources,
                        SourceClock& clock) {
  SourceRows rows(clock);
  for (const StatementSource& source : sources) rows.add(source.statement_id, source.episode_id);
  return rows.insert(connection);
}

void upsert_progress(Connection& connection, std::span<const SemanticProgress> rows) {
  if (rows.empty()) return;
  std::vector<std::string> ids;
  ids.reserve(rows.size());
  for (const SemanticProgress& row : rows) ids.push_back(row.episode_id);
  std::unordered_set<std::string> stored;
  connection
      .run(
          "SELECT episode_id FROM semantic_progress WHERE episode_id IN "
          "(SELECT unnest(?::VARCHAR[]))",
          {ids})
      .for_each_row([&](const Chunk& chunk, idx_t row) { stored.emplace(chunk.text(0, row)); });

  // Stored rows are updated in place: none of the columns set is indexed or a list, so DuckDB
  // never moves their key.
  std::vector<std::string> u_ids, u_owners, u_states, u_versions, u_details;
  std::vector<std::int64_t> u_attempts, u_sc, u_st, u_mc, u_mt, u_at;
  for (const SemanticProgress& row : rows) {
    if (!stored.contains(row.episode_id)) continue;
    u_ids.push_back(row.episode_id);
    u_owners.push_back(row.owner_id);
    u_states.emplace_back(to_string(row.state));
    u_attempts.push_back(row.attempts);
    u_versions.push_back(row.version);
    u_details.push_back(row.detail);
    u_sc.push_back(static_cast<std::int64_t>(row.semantic_calls));
    u_st.push_back(static_cast<std::int64_t>(row.semantic_tokens));
    u_mc.push_back(static_cast<std::int64_t>(row.merge_calls));
    u_mt.push_back(static_cast<std::int64_t>(row.merge_tokens));
    u_at.push_back(to_micros(row.updated_at));
  }
  if (!u_ids.empty()) {
    connection.run(
        "UPDATE semantic_progress SET state = u.state, attempts = u.attempts, "
        "version = u.version, detail = u.detail, semantic_calls = u.sc, semantic_tokens = u.st, "
        "merge_calls = u.mc, merge_tokens = u.mt, updated_at = make_timestamp(u.at) FROM "
        "(SELECT unnest(?::VARCHAR[]) AS id, unnest(?::VARCHAR[]) AS state, "
        "unnest(?::BIGINT[]) AS attempts, unnest(?::VARCHAR[]) AS version, "
        "unnest(?::VARCHAR[]) AS detail, unnest(?::BIGINT[]) AS sc, unnest(?::BIGINT[]) AS st, "
        "unnest(?::BIGINT[]) AS mc, unnest(?::BIGINT[]) AS mt, unnest(?::BIGINT[]) AS at) u "
        "WHERE semantic_progress.episode_id = u.id",
        {u_ids, u_states, u_attempts, u_versions, u_details, u_sc, u_st, u_mc, u_mt, u_at});
    // A row whose episode changed owners since follows it (owner_id is indexed, so only the
    // rows that differ are touched).
    connection.run(
        "UPDATE semantic_progress SET owner_id = u.owner FROM (SELECT unnest(?::VARCHAR[]) AS id, "
        "unnest(?::VARCHAR[]) AS owner) u WHERE semantic_progress.episode_id = u.id "
        "AND semantic_progress.owner_id <> u.owner",
        {u_ids, u_owners});
  }
  if (u_ids.size() == rows.size()) return;
  Appender appender = progress_appender(connection);
  for (const SemanticProgress& row : rows) {
    if (!stored.contains(row.episode_id)) append_row(appender, row);
  }
  appender.close();
}

}  // namespace nemori::detail::duck
