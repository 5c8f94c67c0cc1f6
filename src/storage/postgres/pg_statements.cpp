#include "storage/postgres/pg_statements.h"

#include <unordered_map>
#include <unordered_set>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"
#include "storage/postgres/pg_query.h"
#include "storage/postgres/pg_statement_rows.h"

namespace nemori::detail {

namespace {

// The ORDER BY of a statement query: its sort key, then the id in the same direction.
std::string statement_order(StatementQuery::Sort sort) {
  switch (sort) {
    case StatementQuery::Sort::kValidFromAsc:
      return "s.valid_from ASC, s.statement_id ASC";
    case StatementQuery::Sort::kUpdatedDesc:
      return "s.updated_at DESC, s.statement_id DESC";
    case StatementQuery::Sort::kValidFromDesc:
      break;
  }
  return "s.valid_from DESC, s.statement_id DESC";
}

// The condition of a StatementState on alias s.
std::string state_condition(StatementState state) {
  switch (state) {
    case StatementState::kCurrent:
      return "s.valid_to IS NULL";
    case StatementState::kSuperseded:
      return "s.valid_to IS NOT NULL";
    case StatementState::kAll:
      break;
  }
  return "";
}

std::size_t as_size(std::int64_t n) { return static_cast<std::size_t>(n); }

}  // namespace

// ---- the cascade of episode deletion ---------------------------------------------------------

EpisodeCascade delete_episodes_cascading(Connection& c, const PgContext& ctx,
                                         const std::string& selection, const Params& params) {
  const std::string statements = ctx.table("statements");
  const std::string sources = ctx.table("statement_sources");
  // One statement, so every part sees the rows as they were before it: the orphans are found
  // while the episodes' source rows still exist, and the statements they closed are reopened
  // by hand (ON DELETE SET NULL would only clear superseded_by, leaving them closed).
  const std::string sql =
      "WITH gone AS MATERIALIZED (" + selection +
      "), orphans AS MATERIALIZED (SELECT DISTINCT s.statement_id FROM " + sources +
      " s WHERE s.episode_id IN (SELECT episode_id FROM gone) AND NOT EXISTS (SELECT 1 FROM " +
      sources +
      " x WHERE x.statement_id = s.statement_id AND x.episode_id NOT IN "
      "(SELECT episode_id FROM gone))), "
      "reopened AS (UPDATE " +
      statements +
      " t SET valid_to = NULL, superseded_by = NULL WHERE t.superseded_by IN "
      "(SELECT statement_id FROM orphans) AND t.statement_id NOT IN "
      "(SELECT statement_id FROM orphans) RETURNING 1), "
      "removed AS (DELETE FROM " +
      statements +
      " t WHERE t.statement_id IN (SELECT statement_id FROM orphans) RETURNING 1), "
      "deleted AS (DELETE FROM " +
      ctx.table("episodes") +
      " e WHERE e.episode_id IN (SELECT episode_id FROM gone) RETURNING 1) "
      "SELECT (SELECT count(*) FROM deleted), (SELECT count(*) FROM removed), "
      "(SELECT count(*) FROM reopened)";
  const Result r = c.exec(sql, params);
  return EpisodeCascade{as_size(r.int64(0, 0)), as_size(r.int64(0, 1)), as_size(r.int64(0, 2))};
}

// ---- the steps of a write batch ------------------------------------------------------------

namespace {

// Every source row (s, from) becomes (s, to), keeping its place among s's sources; a pair that
// exists already stays as it was.
void move_sources(Connection& c, const PgContext& ctx, const std::vector<SourceMove>& moves) {
  const std::string sources = ctx.table("statement_sources");
  for (const SourceMove& m : moves) {
    if (m.from_episode_id == m.to_episode_id) continue;
    c.exec("WITH moved AS (DELETE FROM " + sources +
               " WHERE episode_id = $1 RETURNING statement_id, owner_id, added_at, seq) "
               "INSERT INTO " +
               sources +
               " (statement_id, episode_id, owner_id, added_at, seq) "
               "SELECT statement_id, $2, owner_id, added_at, seq FROM moved "
               "ON CONFLICT (statement_id, episode_id) DO NOTHING",
           Params().add(m.from_episode_id).add(m.to_episode_id));
  }
}

// New statements and their sources, by COPY; the sources' seq follows source_episode_ids.
void insert_statements(Connection& c, const PgContext& ctx, const std::vector<Statement>& list) {
  if (list.empty()) return;
  std::string rows, source_rows;
  for (const Statement& s : list) {
    pg::append_copy_row(rows, pg::statement_row(s));
    for (const std::string& episode_id : s.source_episode_ids) {
      pg::append_copy_row(source_rows, {s.statement_id, episode_id, s.owner_id});
    }
  }
  c.copy_in("COPY " + ctx.table("statements") + " (" + pg::kStatementInsertColumns +
                ") FROM STDIN",
            rows);
  c.copy_in("COPY " + ctx.table("statement_sources") +
                " (statement_id, episode_id, owner_id) FROM STDIN",
            source_rows);
}

// Replaces every column of the stored statements (check_write_batch() allowed only the fields
// an update may change to differ); NotFoundError when one was deleted since the checks.
void update_statements(Connection& c, const PgContext& ctx, const std::vector<Statement>& list) {
  const std::string sql = "UPDATE " + ctx.table("statements") + " SET " +
                          pg::assignments(pg::kStatementInsertColumns, 1) +
                          " WHERE statement_id = $1";
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Statement& s = list[i];
    Params p;
    pg::append_params(p, pg::statement_row(s));
    if (c.exec(sql, p).affected() == 0) {
      throw NotFoundError("statement_updates[" + std::to_string(i) + "] (statement_id \"" +
                          s.statement_id +
                          "\"): the statement was deleted meanwhile (nothing of the batch was "
                          "written)");
    }
  }
}

// Support rows added, in input order; returns how many did not exist.
std::size_t add_sources(Connection& c, const PgContext& ctx,
                        const std::vector<StatementSource>& list) {
  if (list.empty()) return 0;
  std::vector<std::string> statement_ids, episode_ids;
  for (const StatementSource& source : list) {
    statement_ids.push_back(source.statement_id);
    episode_ids.push_back(source.episode_id);
  }
  const Result r = c.exec(
      "WITH ins AS (INSERT INTO " + ctx.table("statement_sources") +
          " (statement_id, episode_id, owner_id) SELECT u.s, u.e, st.owner_id "
          "FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(s, e, ord) JOIN " +
          ctx.table("statements") +
          " st ON st.statement_id = u.s ORDER BY u.ord "
          "ON CONFLICT (statement_id, episode_id) DO NOTHING RETURNING 1) "
          "SELECT count(*) FROM ins",
      Params().add(statement_ids).add(episode_ids));
  return as_size(r.int64(0, 0));
}

// Progress rows upserted, one statement each (an episode named twice: the last row wins).
void upsert_progress(Connection& c, const PgContext& ctx,
                     const std::vector<SemanticProgress>& list) {
  const std::string sql =
      "INSERT INTO " + ctx.table("semantic_progress") + " (" + pg::kProgressInsertColumns +
      ") VALUES (" + pg::placeholders(1, pg::kProgressInsertCount) +
      ") ON CONFLICT (episode_id) DO UPDATE SET owner_id = EXCLUDED.owner_id, "
      "state = EXCLUDED.state, attempts = EXCLUDED.attempts, version = EXCLUDED.version, "
      "detail = EXCLUDED.detail, semantic_calls = EXCLUDED.semantic_calls, "
      "semantic_tokens = EXCLUDED.semantic_tokens, merge_calls = EXCLUDED.merge_calls, "
      "merge_tokens = EXCLUDED.merge_tokens, updated_at = EXCLUDED.updated_at";
  for (const SemanticProgress& progress : list) {
    Params p;
    pg::append_params(p, pg::progress_row(progress));
    c.exec(sql, p);
  }
}

}  // namespace

void look_up_statement_records(Connection& c, const PgContext& ctx, const WriteBatch& batch,
                               const WriteBatchIds& ids, StoredRecords& stored) {
  const std::vector<std::string> statement_ids = storable(ids.statements);
  if (!statement_ids.empty()) {
    const Result r = c.exec("SELECT statement_id, owner_id FROM " + ctx.table("statements") +
                                " WHERE statement_id = ANY($1::text[])",
                            Params().add(statement_ids));
    for (int i = 0; i < r.rows(); ++i) stored.statement_owner.emplace(r.str(i, 0), r.str(i, 1));
  }
  std::vector<std::string> updated;
  for (const Statement& s : batch.statement_updates) {
    if (pg::storable_text(s.statement_id)) updated.push_back(s.statement_id);
  }
  if (!updated.empty()) {
    const Result r =
        c.exec("SELECT " + pg::statement_select_list("s", ctx.table("statement_sources")) +
                   " FROM " + ctx.table("statements") + " s WHERE s.statement_id = ANY($1::text[])",
               Params().add(updated));
    for (int i = 0; i < r.rows(); ++i) {
      Statement s = pg::decode_statement(r, i);
      std::string id = s.statement_id;
      stored.statements.emplace(std::move(id), std::move(s));
    }
  }
  const std::vector<std::string> source_episodes = storable(ids.source_episodes);
  if (!source_episodes.empty()) {
    const std::string sources = ctx.table("statement_sources");
    const Result r = c.exec("SELECT statement_id, episode_id FROM " + sources +
                                " WHERE statement_id IN (SELECT statement_id FROM " + sources +
                                " WHERE episode_id = ANY($1::text[])) ORDER BY statement_id, seq",
                            Params().add(source_episodes));
    for (int i = 0; i < r.rows(); ++i) stored.statement_sources[r.str(i, 0)].push_back(r.str(i, 1));
  }
}

void apply_statement_steps(Connection& c, const PgContext& ctx, const WriteBatch& batch,
                           WriteBatchResult& result) {
  move_sources(c, ctx, batch.source_moves);
  if (!batch.delete_episodes.empty()) {
    const EpisodeCascade d = delete_episodes_cascading(
        c, ctx,
        "SELECT episode_id FROM " + ctx.table("episodes") + " WHERE episode_id = ANY($1::text[])",
        Params().add(batch.delete_episodes));
    result.episodes_deleted += d.episodes;
    result.statements_removed += d.statements_removed;
    result.statements_reopened += d.statements_reopened;
  }
  insert_statements(c, ctx, batch.statements);
  result.statements_stored += batch.statements.size();
  update_statements(c, ctx, batch.statement_updates);
  result.statements_updated += batch.statement_updates.size();
  result.sources_added += add_sources(c, ctx, batch.statement_sources);
  upsert_progress(c, ctx, batch.semantic_progress);
}

// ---- the repository --------------------------------------------------------------------------

std::vector<Statement> PgStatementRepository::select(Connection& c, const std::string& where_sql,
                                                     const Params& params,
                                                     const std::string& order_sql) {
  Result r = c.exec("SELECT " + pg::statement_select_list("s", ctx_.table("statement_sources")) +
                        " FROM " + ctx_.table("statements") + " s" + where_sql +
                        (order_sql.empty() ? "" : " ORDER BY " + order_sql),
                    params);
  std::vector<Statement> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) out.push_back(pg::decode_statement(r, i));
  return out;
}

std::optional<Statement> PgStatementRepository::get(const std::string& statement_id) {
  if (!pg::storable_text(statement_id)) return std::nullopt;
  return ctx_.read("reading a statement", [&](Connection& c) -> std::optional<Statement> {
    std::vector<Statement> found =
        select(c, " WHERE s.statement_id = $1", Params().add(statement_id), "");
    if (found.empty()) return std::nullopt;
    return std::move(found.front());
  });
}

std::vector<std::optional<Statement>> PgStatementRepository::get_batch(
    std::span<const std::string> ids) {
  std::vector<std::optional<Statement>> out(ids.size());
  const std::vector<std::string> wanted = storable(ids);
  if (wanted.empty()) return out;
  std::unordered_map<std::string, Statement> found;
  ctx_.read("reading statements", [&](Connection& c) {
    found.clear();
    for (Statement& s :
         select(c, " WHERE s.statement_id = ANY($1::text[])", Params().add(wanted), "")) {
      std::string id = s.statement_id;
      found.emplace(std::move(id), std::move(s));
    }
  });
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (auto it = found.find(ids[i]); it != found.end()) out[i] = it->second;
  }
  return out;
}

StatementSearchResult PgStatementRepository::search(const StatementQuery& query) {
  validate(query);
  Where w;
  if (!query.statement_ids.empty()) {
    w.add("s.statement_id = ANY(" + w.param(query.statement_ids) + "::text[])");
  }
  if (query.owner_ids.size() == 1) {
    // Equality (not = ANY) lets the (owner, valid_from, id) indexes return a page in order.
    w.add("s.owner_id = " + w.param(query.owner_ids.front()) + "::text");
  } else if (!query.owner_ids.empty()) {
    w.add("s.owner_id = ANY(" + w.param(query.owner_ids) + "::text[])");
  }
  if (query.as_of) {
    const std::string t = w.param(*query.as_of) + "::timestamptz";
    w.add("s.valid_from <= " + t + " AND (s.valid_to IS NULL OR s.valid_to > " + t + ")");
  } else if (const std::string state = state_condition(query.state); !state.empty()) {
    w.add(state);
  }
  if (!query.categories.empty()) {
    std::vector<std::string> names;
    for (StatementCategory category : query.categories) names.emplace_back(to_string(category));
    w.add("s.category = ANY(" + w.param(names) + "::text[])");
  }
  if (query.text_contains && !query.text_contains->empty()) {
    w.add("strpos(s.search_text, " + w.param(fold_case(*query.text_contains)) + "::text) > 0");
  }
  if (query.source_episode_id) {
    w.add("EXISTS (SELECT 1 FROM " + ctx_.table("statement_sources") +
          " x WHERE x.statement_id = s.statement_id AND x.episode_id = " +
          w.param(*query.source_episode_id) + "::text)");
  }
  const std::string from = " FROM " + ctx_.table("statements") + " s" + w.sql();
  Params page = w.params;
  page.add(as_bigint(query.limit));
  const std::string limit = page.last();
  page.add(static_cast<std::int64_t>(as_bigint(query.offset).value_or(0)));
  const std::string sql =
      "SELECT " + pg::statement_select_list("s", ctx_.table("statement_sources")) + from +
      " ORDER BY " + statement_order(query.sort) + " LIMIT " + limit + "::int8 OFFSET " +
      page.last() + "::int8";
  StatementSearchResult result;
  ctx_.search("searching statements", [&](Connection& c) {
    result = StatementSearchResult{};
    PageSnapshot snapshot(c, query.limit);
    Result r = c.exec(sql, page);
    result.statements.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) result.statements.push_back(pg::decode_statement(r, i));
    result.total_count =
        snapshot.total(c, r.rows(), query.offset, "SELECT count(*)" + from, w.params);
  });
  result.has_more = query.offset + result.statements.size() < result.total_count;
  return result;
}

std::vector<Statement> PgStatementRepository::history(const std::string& statement_id) {
  if (!pg::storable_text(statement_id)) return {};
  const std::string statements = ctx_.table("statements");
  // Every statement reachable through superseded_by, forwards (what closed it) and backwards
  // (what it closed); UNION drops repeats, so cycles end.
  const std::string chain =
      "WITH RECURSIVE chain(id) AS (SELECT statement_id FROM " + statements +
      " WHERE statement_id = $1 UNION SELECT n.id FROM chain JOIN " + statements +
      " t ON t.statement_id = chain.id OR t.superseded_by = chain.id "
      "CROSS JOIN LATERAL (VALUES (t.statement_id), (t.superseded_by)) AS n(id) "
      "WHERE n.id IS NOT NULL) ";
  return ctx_.read("reading a statement's history", [&](Connection& c) {
    Result r = c.exec(chain + "SELECT " +
                          pg::statement_select_list("s", ctx_.table("statement_sources")) +
                          " FROM " + statements +
                          " s WHERE s.statement_id IN (SELECT id FROM chain) "
                          "ORDER BY s.valid_from, s.statement_id",
                      Params().add(statement_id));
    std::vector<Statement> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(pg::decode_statement(r, i));
    return out;
  });
}

bool PgStatementRepository::remove(const std::string& statement_id) {
  if (!pg::storable_text(statement_id)) return false;
  const std::string statements = ctx_.table("statements");
  // One statement: the reopening sees superseded_by before ON DELETE SET NULL clears it.
  const std::string sql = "WITH reopened AS (UPDATE " + statements +
                          " SET valid_to = NULL, superseded_by = NULL "
                          "WHERE superseded_by = $1 AND statement_id <> $1 RETURNING 1), "
                          "removed AS (DELETE FROM " +
                          statements +
                          " WHERE statement_id = $1 RETURNING 1) "
                          "SELECT (SELECT count(*) FROM removed)";
  return ctx_.write("deleting a statement", [&](Connection& c) {
    return c.exec(sql, Params().add(statement_id)).int64(0, 0) > 0;
  });
}

std::size_t PgStatementRepository::count(const std::string& owner_id, StatementState state) {
  if (!owner_id.empty() && !pg::storable_text(owner_id)) return 0;
  Where w;
  if (!owner_id.empty()) w.add("s.owner_id = " + w.param(owner_id) + "::text");
  if (const std::string condition = state_condition(state); !condition.empty()) w.add(condition);
  return ctx_.read("counting statements", [&](Connection& c) {
    return as_size(
        c.exec("SELECT count(*) FROM " + ctx_.table("statements") + " s" + w.sql(), w.params)
            .int64(0, 0));
  });
}

std::vector<StatementSource> PgStatementRepository::sources(const std::string& owner_id) {
  if (!owner_id.empty() && !pg::storable_text(owner_id)) return {};
  return ctx_.read("reading statement sources", [&](Connection& c) {
    const std::string base = "SELECT statement_id, episode_id FROM " +
                             ctx_.table("statement_sources");
    const std::string order = " ORDER BY statement_id, episode_id";
    Result r = owner_id.empty()
                   ? c.exec(base + order)
                   : c.exec(base + " WHERE owner_id = $1" + order, Params().add(owner_id));
    std::vector<StatementSource> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(StatementSource{r.str(i, 0), r.str(i, 1)});
    return out;
  });
}

std::optional<SemanticProgress> PgStatementRepository::progress(const std::string& episode_id) {
  if (!pg::storable_text(episode_id)) return std::nullopt;
  return ctx_.read("reading semantic progress",
                   [&](Connection& c) -> std::optional<SemanticProgress> {
                     Result r = c.exec("SELECT " + pg::progress_select_list("p") + " FROM " +
                                           ctx_.table("semantic_progress") +
                                           " p WHERE p.episode_id = $1",
                                       Params().add(episode_id));
                     if (r.rows() == 0) return std::nullopt;
                     return pg::decode_progress(r, 0);
                   });
}

namespace {

// Episodes (alias e) the semantic pass has still to do: no progress row, or pending/retry.
constexpr const char* kPendingCondition =
    "(p.episode_id IS NULL OR p.state IN ('pending', 'retry'))";

}  // namespace

std::vector<std::string> PgStatementRepository::pending_episodes(
    const std::string& owner_id, std::optional<std::size_t> limit) {
  if (owner_id.empty()) {
    throw ValidationError("owner_id", "is required (pending episodes are listed per owner)");
  }
  validate_text(owner_id, "owner_id");
  Params p;
  p.add(owner_id).add(as_bigint(limit));
  const std::string sql = "SELECT e.episode_id FROM " + ctx_.table("episodes") + " e LEFT JOIN " +
                          ctx_.table("semantic_progress") +
                          " p ON p.episode_id = e.episode_id WHERE e.owner_id = $1 AND " +
                          kPendingCondition +
                          " ORDER BY e.\"timestamp\", e.episode_id LIMIT $2::int8";
  return ctx_.read("listing episodes pending for the semantic pass", [&](Connection& c) {
    Result r = c.exec(sql, p);
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
  });
}

std::vector<std::string> PgStatementRepository::pending_owners() {
  const std::string sql = "SELECT DISTINCT e.owner_id FROM " + ctx_.table("episodes") +
                          " e LEFT JOIN " + ctx_.table("semantic_progress") +
                          " p ON p.episode_id = e.episode_id WHERE " + kPendingCondition +
                          " ORDER BY 1";
  return ctx_.read("listing owners pending for the semantic pass", [&](Connection& c) {
    Result r = c.exec(sql);
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
  });
}

std::vector<SemanticProgress> PgStatementRepository::progress_rows(const std::string& owner_id) {
  if (!owner_id.empty() && !pg::storable_text(owner_id)) return {};
  return ctx_.read("reading semantic progress", [&](Connection& c) {
    const std::string base =
        "SELECT " + pg::progress_select_list("p") + " FROM " + ctx_.table("semantic_progress") +
        " p";
    const std::string order = " ORDER BY p.episode_id";
    Result r = owner_id.empty()
                   ? c.exec(base + order)
                   : c.exec(base + " WHERE p.owner_id = $1" + order, Params().add(owner_id));
    std::vector<SemanticProgress> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(pg::decode_progress(r, i));
    return out;
  });
}

}  // namespace nemori::detail
