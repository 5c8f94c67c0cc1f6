#include "storage/duckdb/semantic_writes.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <unordered_set>
#include <utility>

#include "storage/duckdb/key_lookup.h"

namespace nemori::detail::duck {

namespace {

constexpr std::array<std::string_view, 4> kSourceColumns = {"statement_id", "episode_id",
                                                            "owner_id", "added_at"};

// Appends support rows known not to be stored, each at the next time of `clock`.
class SourceAppender {
 public:
  SourceAppender(Connection& connection, SourceClock& clock)
      : appender_(connection, "statement_sources", kSourceColumns), clock_(clock) {}
  void add(const std::string& statement_id, const std::string& episode_id,
           const std::string& owner_id) {
    appender_.text(0, statement_id);
    appender_.text(1, episode_id);
    appender_.text(2, owner_id);
    appender_.timestamp(3, clock_.next());
    appender_.end_row();
  }
  void close() { appender_.close(); }

 private:
  Appender appender_;
  SourceClock& clock_;
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
  // A new statement has no stored sources, and its source_episode_ids name each episode once
  // (validate_write_batch).
  SourceAppender sources(connection, clock);
  for (const EncodedStatement& row : statements) {
    for (const std::string& episode_id : row.statement->source_episode_ids) {
      sources.add(row.statement->statement_id, episode_id, row.statement->owner_id);
    }
  }
  sources.close();
}

std::size_t replace_statements(Connection& connection, std::span<const EncodedStatement> updates) {
  if (updates.empty()) return 0;
  std::vector<std::string> ids;
  ids.reserve(updates.size());
  for (const EncodedStatement& row : updates) ids.push_back(row.statement->statement_id);
  // A delete and an append of the whole row: DuckDB turns an update of the indexed
  // superseded_by or of the vector list into exactly that anyway, and one encoder serves
  // inserts and updates. The key stays the same (write_with_key_retry copes with old readers).
  const KeyLookup by_key = key_condition("statement_id", ids);
  const auto replaced =
      connection.run("DELETE FROM statements WHERE " + by_key.sql, by_key.params).rows_changed();
  Appender appender = statement_appender(connection);
  for (const EncodedStatement& row : updates) append_row(appender, row);
  appender.close();
  return static_cast<std::size_t>(replaced);
}

std::size_t add_sources(Connection& connection, std::span<const StatementSource> sources,
                        const std::unordered_map<std::string, std::string>& owners,
                        SourceClock& clock) {
  if (sources.empty()) return 0;
  // The stored pairs among them, found through the episode_id index.
  std::vector<std::string> episodes;
  std::unordered_set<std::string_view> episode_seen;
  for (const StatementSource& source : sources) {
    if (episode_seen.insert(source.episode_id).second) episodes.push_back(source.episode_id);
  }
  std::set<std::pair<std::string, std::string>> present;
  const KeyLookup lookup =
      key_lookup("statement_id, episode_id", "statement_sources", "episode_id", episodes);
  connection.run(lookup.sql, lookup.params).for_each_row([&](const Chunk& chunk, idx_t row) {
    present.emplace(chunk.text(0, row), chunk.text(1, row));
  });
  std::size_t added = 0;
  SourceAppender appender(connection, clock);
  for (const StatementSource& source : sources) {
    if (!present.emplace(source.statement_id, source.episode_id).second) continue;
    appender.add(source.statement_id, source.episode_id, owners.at(source.statement_id));
    ++added;
  }
  appender.close();
  return added;
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
