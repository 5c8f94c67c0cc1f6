#include "storage/duckdb/statement_repository.h"

#include <algorithm>
#include <limits>
#include <set>
#include <tuple>
#include <unordered_map>

#include "nemori/core/error.h"
#include "storage/duckdb/key_conflicts.h"
#include "storage/duckdb/search_sql.h"
#include "storage/duckdb/semantic_rows.h"
#include "storage/duckdb/statement_cascade.h"
#include "storage/duckdb/statement_reads.h"

namespace nemori::detail::duck {

namespace {

// Episodes the semantic pass still has to see: no progress row, or a pending/retry one.
constexpr const char* kPendingEpisodes =
    "FROM episodes e LEFT JOIN semantic_progress p ON p.episode_id = e.episode_id "
    "WHERE (p.episode_id IS NULL OR p.state IN ('pending', 'retry'))";

std::int64_t clamp_count(std::size_t n) {
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(n, kMax));
}

}  // namespace

std::optional<nemori::Statement> DuckDbSemanticMemoryRepository::get(
    const std::string& statement_id) {
  std::vector<nemori::Statement> found = ctx_.read([&](Connection& connection) {
    return read_statements(connection, std::span<const std::string>(&statement_id, 1));
  });
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<std::optional<nemori::Statement>> DuckDbSemanticMemoryRepository::get_batch(
    std::span<const std::string> ids) {
  if (ids.empty()) return {};
  std::vector<nemori::Statement> found =
      ctx_.read([&](Connection& connection) { return read_statements(connection, ids); });
  std::unordered_map<std::string_view, const nemori::Statement*> by_id;
  for (const nemori::Statement& statement : found)
    by_id.emplace(statement.statement_id, &statement);
  std::vector<std::optional<nemori::Statement>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    const auto hit = by_id.find(id);
    out.push_back(hit == by_id.end() ? std::nullopt
                                     : std::optional<nemori::Statement>(*hit->second));
  }
  return out;
}

StatementSearchResult DuckDbSemanticMemoryRepository::search(const StatementQuery& query) {
  validate(query);
  const SearchSql sql = statement_search_sql(query);
  StatementSearchResult out;
  std::tie(out.statements, out.total_count) = ctx_.read([&](Connection& connection) {
    auto page = run_search<nemori::Statement>(
        connection, sql, query.limit, query.offset, decode_statement,
        [](const nemori::Statement& s) -> const std::string& { return s.statement_id; });
    attach_sources(connection, page.first);
    return page;
  });
  out.has_more = query.offset + out.statements.size() < out.total_count;
  return out;
}

std::vector<nemori::Statement> DuckDbSemanticMemoryRepository::history(
    const std::string& statement_id) {
  std::vector<nemori::Statement> chain = ctx_.read([&](Connection& connection) {
    // Breadth-first over superseded_by in both directions: each step asks for the statements
    // the frontier closed and the ones that closed it.
    std::set<std::string> seen;
    std::vector<std::string> frontier;
    Result start = connection.run("SELECT statement_id FROM statements WHERE statement_id = ?",
                                  {statement_id});
    start.for_each_row(
        [&](const Chunk& chunk, idx_t row) { frontier.emplace_back(chunk.text(0, row)); });
    seen.insert(frontier.begin(), frontier.end());
    while (!frontier.empty()) {
      Result linked = connection.run(
          "SELECT statement_id, superseded_by FROM statements "
          "WHERE superseded_by IN (SELECT unnest(?::VARCHAR[])) "
          "OR statement_id IN (SELECT unnest(?::VARCHAR[]))",
          {frontier, frontier});
      std::vector<std::string> next;
      linked.for_each_row([&](const Chunk& chunk, idx_t row) {
        for (idx_t column : {idx_t{0}, idx_t{1}}) {
          if (chunk.is_null(column, row)) continue;
          std::string id(chunk.text(column, row));
          if (seen.insert(id).second) next.push_back(std::move(id));
        }
      });
      frontier = std::move(next);
    }
    const std::vector<std::string> ids(seen.begin(), seen.end());
    return read_statements(connection, ids);
  });
  // superseded_by may name a statement that is gone (never on a consistent store); only
  // stored statements are returned.
  std::sort(chain.begin(), chain.end(), [](const nemori::Statement& a, const nemori::Statement& b) {
    return std::tie(a.valid_from, a.statement_id) < std::tie(b.valid_from, b.statement_id);
  });
  return chain;
}

bool DuckDbSemanticMemoryRepository::remove(const std::string& statement_id) {
  bool removed = false;
  write_with_key_retry(
      ctx_,
      [&](Connection& connection) {
        removed = remove_statements(connection, {statement_id}).statements_removed > 0;
      },
      [] {});
  return removed;
}

std::size_t DuckDbSemanticMemoryRepository::count(const std::string& owner_id,
                                                  StatementState state) {
  std::string sql = "SELECT count(*) FROM statements WHERE true";
  if (state == StatementState::kCurrent) sql += " AND valid_to IS NULL";
  if (state == StatementState::kSuperseded) sql += " AND valid_to IS NOT NULL";
  return ctx_.read_one([&](Connection& connection) {
    Result result = owner_id.empty() ? connection.run(sql)
                                     : connection.run(sql + " AND owner_id = ?", {owner_id});
    return static_cast<std::size_t>(result.single_int64());
  });
}

std::vector<StatementSource> DuckDbSemanticMemoryRepository::sources(const std::string& owner_id) {
  return ctx_.read_one([&](Connection& connection) { return read_sources(connection, owner_id); });
}

std::optional<SemanticProgress> DuckDbSemanticMemoryRepository::progress(
    const std::string& episode_id) {
  return ctx_.read_one([&](Connection& connection) -> std::optional<SemanticProgress> {
    Result result = connection.run(
        "SELECT " + progress_columns() + " FROM semantic_progress WHERE episode_id = ?",
        {episode_id});
    std::optional<SemanticProgress> found;
    result.for_each_row(
        [&](const Chunk& chunk, idx_t row) { found = decode_progress(chunk, row); });
    return found;
  });
}

std::vector<std::string> DuckDbSemanticMemoryRepository::pending_episodes(
    const std::string& owner_id, std::optional<std::size_t> limit) {
  if (owner_id.empty()) {
    throw ValidationError("owner_id", "is required (pending episodes are listed per owner)");
  }
  std::string sql = std::string("SELECT e.episode_id ") + kPendingEpisodes +
                    " AND e.owner_id = ? ORDER BY e.\"timestamp\", e.episode_id";
  std::vector<Param> params{owner_id};
  if (limit) {
    sql += " LIMIT ?";
    params.emplace_back(clamp_count(*limit));
  }
  return ctx_.read_one([&](Connection& connection) {
    Result result = connection.run(sql, params);
    std::vector<std::string> ids;
    result.for_each_row(
        [&](const Chunk& chunk, idx_t row) { ids.emplace_back(chunk.text(0, row)); });
    return ids;
  });
}

std::vector<std::string> DuckDbSemanticMemoryRepository::pending_owners() {
  return ctx_.read_one([&](Connection& connection) {
    Result result = connection.run(std::string("SELECT DISTINCT e.owner_id ") + kPendingEpisodes +
                                   " ORDER BY e.owner_id");
    std::vector<std::string> owners;
    result.for_each_row(
        [&](const Chunk& chunk, idx_t row) { owners.emplace_back(chunk.text(0, row)); });
    return owners;
  });
}

std::vector<SemanticProgress> DuckDbSemanticMemoryRepository::progress_rows(
    const std::string& owner_id) {
  const std::string sql = "SELECT " + progress_columns() + " FROM semantic_progress";
  return ctx_.read_one([&](Connection& connection) {
    Result result =
        owner_id.empty()
            ? connection.run(sql + " ORDER BY episode_id")
            : connection.run(sql + " WHERE owner_id = ? ORDER BY episode_id", {owner_id});
    std::vector<SemanticProgress> rows;
    result.for_each_row(
        [&](const Chunk& chunk, idx_t row) { rows.push_back(decode_progress(chunk, row)); });
    return rows;
  });
}

}  // namespace nemori::detail::duck
