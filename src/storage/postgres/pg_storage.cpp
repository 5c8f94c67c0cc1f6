// The PostgreSQL backend: the raw-event and episode repositories, write batches, owner
// deletion, statistics and health, over the pools of pg_context.h; statements live in
// pg_statements.cpp.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"
#include "storage/backends.h"
#include "storage/filter_eval.h"
#include "storage/postgres/pg_client.h"
#include "storage/postgres/pg_context.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/pg_query.h"
#include "storage/postgres/pg_rows.h"
#include "storage/postgres/pg_schema.h"
#include "storage/postgres/pg_statement_rows.h"
#include "storage/postgres/pg_statements.h"
#include "storage/record_validation.h"
#include "storage/write_batch.h"

namespace nemori::detail {

namespace {

using pg::Connection;
using pg::Params;
using pg::Pool;
using pg::Result;

double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Folds and de-duplicates the values of a keyword/entity/topic filter.
std::vector<std::string> folded_unique(const std::vector<std::string>& items) {
  std::vector<std::string> out = folded_list(items);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// metadata filter: every key present with a JSON-equal value. `@>` lets the GIN index find
// candidates (equality implies containment); jsonb equality then decides (numbers by value).
void add_metadata_filter(Where& w, const std::string& column, const nlohmann::json& filter) {
  if (!filter.is_object() || filter.empty()) return;
  const std::string p = w.param(filter);
  w.add(column + " @> " + p + "::jsonb AND NOT EXISTS (SELECT 1 FROM jsonb_each(" + p +
        "::jsonb) f WHERE " + column + " -> f.key IS DISTINCT FROM f.value)");
}

std::string direction(SortOrder order) {
  return order == SortOrder::kAsc ? " ASC" : " DESC";
}

// ---------------------------------------------------------------------------------------------
// What the raw-event and episode repositories read and count alike. PgTable<Record> names a
// record's table, its key and how a row decodes.

template <typename Record>
struct PgTable;

template <>
struct PgTable<RawEvent> {
  static constexpr const char* kKey = "data_id";
  static constexpr const char* kOne = "a raw event";
  static constexpr const char* kMany = "raw events";
  static std::string from(const PgContext& ctx) { return ctx.table("raw_data") + " r"; }
  static std::string columns() { return pg::raw_select_list("r"); }
  static std::string key_column() { return "r.data_id"; }
  // The table of every key (partitioned layout: raw_data_keys), for counts and deletes.
  static std::string keys(const PgContext& ctx) { return ctx.raw_keys(); }
  static RawEvent decode(const Result& r, int row) { return pg::decode_raw(r, row); }
  static const std::string& key_of(const RawEvent& e) { return e.data_id; }
};

template <>
struct PgTable<Episode> {
  static constexpr const char* kKey = "episode_id";
  static constexpr const char* kOne = "an episode";
  static constexpr const char* kMany = "episodes";
  static std::string from(const PgContext& ctx) { return ctx.table("episodes") + " e"; }
  static std::string columns() { return pg::episode_select_list("e"); }
  static std::string key_column() { return "e.episode_id"; }
  static std::string keys(const PgContext& ctx) { return ctx.table("episodes"); }
  static Episode decode(const Result& r, int row) { return pg::decode_episode(r, row); }
  static const std::string& key_of(const Episode& e) { return e.episode_id; }
};

// The record stored under `id`, if any.
template <typename Record>
std::optional<Record> get_record(PgContext& ctx, const std::string& id) {
  using Table = PgTable<Record>;
  if (!pg::storable_text(id)) return std::nullopt;
  return ctx.read(std::string("reading ") + Table::kOne,
                  [&](Connection& c) -> std::optional<Record> {
                    Result r = c.exec("SELECT " + Table::columns() + " FROM " + Table::from(ctx) +
                                          " WHERE " + Table::key_column() + " = $1",
                                      Params().add(id));
                    if (r.rows() == 0) return std::nullopt;
                    return Table::decode(r, 0);
                  });
}

// The records stored under `ids`, in the order of `ids` (nullopt where none), in one read.
template <typename Record>
std::vector<std::optional<Record>> get_records(PgContext& ctx, std::span<const std::string> ids) {
  using Table = PgTable<Record>;
  std::vector<std::optional<Record>> out(ids.size());
  const std::vector<std::string> wanted = storable(ids);
  if (wanted.empty()) return out;
  std::unordered_map<std::string, Record> found;
  ctx.read(std::string("reading ") + Table::kMany, [&](Connection& c) {
    found.clear();
    Result r = c.exec("SELECT " + Table::columns() + " FROM " + Table::from(ctx) + " WHERE " +
                          Table::key_column() + " = ANY($1::text[])",
                      Params().add(wanted));
    for (int i = 0; i < r.rows(); ++i) {
      Record record = Table::decode(r, i);
      std::string key = Table::key_of(record);
      found.emplace(std::move(key), std::move(record));
    }
  });
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (auto it = found.find(ids[i]); it != found.end()) out[i] = it->second;
  }
  return out;
}

// Deletes the record stored under `id`; false when there was none.
template <typename Record>
bool remove_record(PgContext& ctx, const std::string& id) {
  using Table = PgTable<Record>;
  if (!pg::storable_text(id)) return false;
  return ctx.write(std::string("deleting ") + Table::kOne, [&](Connection& c) {
    return c.exec("DELETE FROM " + Table::keys(ctx) + " WHERE " + Table::kKey + " = $1",
                  Params().add(id))
               .affected() > 0;
  });
}

// Deletes the records older than `cutoff`, of one owner or of all when `owner_id` is empty.
template <typename Record>
std::size_t remove_records_before(PgContext& ctx, Timestamp cutoff, const std::string& owner_id) {
  using Table = PgTable<Record>;
  Where w;
  w.add("\"timestamp\" < " + w.param(cutoff) + "::timestamptz");
  if (!owner_id.empty()) {
    if (!pg::storable_text(owner_id)) return 0;
    w.add("owner_id = " + w.param(owner_id) + "::text");
  }
  return ctx.write(std::string("deleting old ") + Table::kMany, [&](Connection& c) {
    return c.exec("DELETE FROM " + Table::keys(ctx) + w.sql(), w.params).affected();
  });
}

// COUNT(*) of one owner's records, or of all when `owner_id` is empty.
template <typename Record>
std::size_t count_records(PgContext& ctx, const std::string& owner_id) {
  using Table = PgTable<Record>;
  if (!owner_id.empty() && !pg::storable_text(owner_id)) return 0;
  return ctx.read(std::string("counting ") + Table::kMany, [&](Connection& c) {
    Result r = owner_id.empty()
                   ? c.exec("SELECT count(*) FROM " + Table::keys(ctx))
                   : c.exec("SELECT count(*) FROM " + Table::keys(ctx) + " WHERE owner_id = $1",
                            Params().add(owner_id));
    return static_cast<std::size_t>(r.int64(0, 0));
  });
}

// ---------------------------------------------------------------------------------------------

class PgRawRepository final : public RawDataRepository {
 public:
  explicit PgRawRepository(PgContext& ctx) : ctx_(ctx) {}

  void store(const RawEvent& event) override {
    validate_for_storage(event, ctx_.config().max_content_bytes);
    insert(std::span<const RawEvent>(&event, 1));
  }

  void store_batch(std::span<const RawEvent> events) override {
    if (events.empty()) return;
    validate_batch_for_storage(events, ctx_.config().max_content_bytes);
    insert(events);
  }

  std::optional<RawEvent> get(const std::string& data_id) override {
    return get_record<RawEvent>(ctx_, data_id);
  }

  std::vector<std::optional<RawEvent>> get_batch(std::span<const std::string> ids) override {
    return get_records<RawEvent>(ctx_, ids);
  }

  bool update(const RawEvent& event) override {
    validate_for_storage(event, ctx_.config().max_content_bytes);
    return ctx_.write("updating a raw event", [&](Connection& c) {
      ctx_.ensure_partitions(c, {event.temporal_info.timestamp});
      Params p;
      pg::append_params(p, pg::raw_row(event));
      std::string sql = "UPDATE " + ctx_.table("raw_data") + " SET " +
                        pg::assignments(pg::kRawInsertColumns, 1) +
                        " WHERE data_id = $1 RETURNING data_id";
      if (ctx_.partitioned()) {
        sql = "WITH u AS (" + sql + "), k AS (UPDATE " + ctx_.raw_keys() +
              " SET owner_id = $2, \"timestamp\" = $6 WHERE data_id IN (SELECT data_id FROM u)) "
              "SELECT data_id FROM u";
      }
      return c.exec(sql, p).rows() > 0;
    });
  }

  bool remove(const std::string& data_id) override {
    return remove_record<RawEvent>(ctx_, data_id);
  }

  RawDataSearchResult search(const RawDataQuery& query) override {
    const auto start = std::chrono::steady_clock::now();
    validate(query);
    Where w;
    if (!query.data_ids.empty()) w.add("r.data_id = ANY(" + w.param(query.data_ids) + "::text[])");
    if (!query.owner_ids.empty()) {
      w.add("r.owner_id = ANY(" + w.param(query.owner_ids) + "::text[])");
    }
    if (!query.data_types.empty()) {
      std::vector<std::string> types;
      for (DataType t : query.data_types) types.emplace_back(to_string(t));
      w.add("r.data_type = ANY(" + w.param(types) + "::text[])");
    }
    if (!query.sources.empty()) w.add("r.source = ANY(" + w.param(query.sources) + "::text[])");
    if (query.time_range && query.time_range->start) {
      w.add("r.\"timestamp\" >= " + w.param(*query.time_range->start) + "::timestamptz");
    }
    if (query.time_range && query.time_range->end) {
      w.add("r.\"timestamp\" <= " + w.param(*query.time_range->end) + "::timestamptz");
    }
    if (query.processed) w.add("r.processed = " + w.param(*query.processed) + "::boolean");
    if (query.content_contains && !query.content_contains->empty()) {
      w.add("strpos(r.search_text, " + w.param(fold_case(*query.content_contains)) + "::text) > 0");
    }
    add_metadata_filter(w, "r.metadata", query.metadata);
    if (query.recent_hours) {
      w.add("r.\"timestamp\" >= " + w.param(recent_cutoff(now_utc(), *query.recent_hours)) +
            "::timestamptz");
    }
    const std::string d = direction(query.sort_order);
    const std::string from = " FROM " + ctx_.table("raw_data") + " r" + w.sql();
    Params page = w.params;
    page.add(as_bigint(query.limit));
    const std::string limit = page.last();
    page.add(static_cast<std::int64_t>(as_bigint(query.offset).value_or(0)));
    const std::string sql = "SELECT " + pg::raw_select_list("r") + from +
                            " ORDER BY r.\"timestamp\"" + d + ", r.data_id" + d + " LIMIT " +
                            limit + "::int8 OFFSET " + page.last() + "::int8";
    RawDataSearchResult result;
    ctx_.search("searching raw events", [&](Connection& c) {
      result = RawDataSearchResult{};
      PageSnapshot snapshot(c, query.limit);
      Result r = c.exec(sql, page);
      for (int i = 0; i < r.rows(); ++i) result.events.push_back(pg::decode_raw(r, i));
      result.total_count =
          snapshot.total(c, r.rows(), query.offset, "SELECT count(*)" + from, w.params);
    });
    result.has_more = query.offset + result.events.size() < result.total_count;
    result.query_time_ms = elapsed_ms(start);
    return result;
  }

  bool mark_processed(const std::string& data_id, const std::string& version) override {
    validate_text(version, "version");
    if (!pg::storable_text(data_id)) return false;
    return ctx_.write("marking a raw event processed", [&](Connection& c) {
      return c.exec("UPDATE " + ctx_.table("raw_data") +
                        " SET processed = true, processing_version = $2 WHERE data_id = $1",
                    Params().add(data_id).add(version))
                 .affected() > 0;
    });
  }

  std::vector<bool> mark_processed_batch(std::span<const std::string> ids,
                                         const std::string& version) override {
    validate_text(version, "version");
    std::vector<bool> flags(ids.size(), false);
    const std::vector<std::string> wanted = storable(ids);
    if (wanted.empty()) return flags;
    std::unordered_set<std::string> done;
    ctx_.write("marking raw events processed", [&](Connection& c) {
      Result r = c.exec("UPDATE " + ctx_.table("raw_data") +
                            " SET processed = true, processing_version = $2 "
                            "WHERE data_id = ANY($1::text[]) RETURNING data_id",
                        Params().add(wanted).add(version));
      for (int i = 0; i < r.rows(); ++i) done.insert(r.str(i, 0));
    });
    for (std::size_t i = 0; i < ids.size(); ++i) flags[i] = done.count(ids[i]) > 0;
    return flags;
  }

  std::vector<RawEvent> get_unprocessed(const std::string& owner_id, std::optional<DataType> type,
                                        std::optional<std::size_t> limit) override {
    Where w;
    w.add("NOT r.processed");
    if (!owner_id.empty()) {
      if (!pg::storable_text(owner_id)) return {};
      w.add("r.owner_id = " + w.param(owner_id) + "::text");
    }
    if (type) w.add("r.data_type = " + w.param(std::string(to_string(*type))) + "::text");
    Params p = w.params;
    p.add(as_bigint(limit));
    const std::string sql = "SELECT " + pg::raw_select_list("r") + " FROM " +
                            ctx_.table("raw_data") + " r" + w.sql() +
                            " ORDER BY r.\"timestamp\", r.data_id LIMIT " + p.last() + "::int8";
    return ctx_.read("reading unprocessed raw events", [&](Connection& c) {
      Result r = c.exec(sql, p);
      std::vector<RawEvent> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(pg::decode_raw(r, i));
      return out;
    });
  }

  std::size_t cleanup_before(Timestamp cutoff, const std::string& owner_id) override {
    return remove_records_before<RawEvent>(ctx_, cutoff, owner_id);
  }

  std::size_t count(const std::string& owner_id) override {
    return count_records<RawEvent>(ctx_, owner_id);
  }

 private:
  // One row: a single INSERT. More: COPY inside one transaction.
  void insert(std::span<const RawEvent> events) {
    ctx_.write("storing raw events", [&](Connection& c) {
      std::vector<Timestamp> times;
      times.reserve(events.size());
      for (const RawEvent& e : events) times.push_back(e.temporal_info.timestamp);
      ctx_.ensure_partitions(c, times);
      if (events.size() == 1 && !ctx_.partitioned()) {
        Params p;
        pg::append_params(p, pg::raw_row(events[0]));
        c.exec("INSERT INTO " + ctx_.table("raw_data") + " (" + pg::kRawInsertColumns +
                   ") VALUES (" + pg::placeholders(1, pg::kRawInsertCount) + ")",
               p);
        return;
      }
      std::string data;
      std::string keys;
      for (const RawEvent& e : events) {
        const pg::RowValues row = pg::raw_row(e);
        pg::append_copy_row(data, row);
        if (ctx_.partitioned()) pg::append_copy_row(keys, {row[0], row[1], row[5]});
      }
      pg::Transaction tx(c);
      if (ctx_.partitioned()) {
        c.copy_in("COPY " + ctx_.raw_keys() + " (data_id, owner_id, \"timestamp\") FROM STDIN",
                  keys);
      }
      c.copy_in("COPY " + ctx_.table("raw_data") + " (" + pg::kRawInsertColumns + ") FROM STDIN",
                data);
      tx.commit();
    });
  }

  PgContext& ctx_;
};

// ---------------------------------------------------------------------------------------------

class PgEpisodeRepository final : public EpisodeRepository {
 public:
  explicit PgEpisodeRepository(PgContext& ctx) : ctx_(ctx) {}

  void store(const Episode& episode) override {
    validate_for_storage(episode);
    insert(std::span<const Episode>(&episode, 1));
  }

  void store_batch(std::span<const Episode> episodes) override {
    if (episodes.empty()) return;
    validate_batch_for_storage(episodes);
    insert(episodes);
  }

  std::optional<Episode> get(const std::string& episode_id) override {
    return get_record<Episode>(ctx_, episode_id);
  }

  std::vector<std::optional<Episode>> get_batch(std::span<const std::string> ids) override {
    return get_records<Episode>(ctx_, ids);
  }

  bool update(const Episode& episode) override {
    validate_for_storage(episode);
    return ctx_.write("updating an episode", [&](Connection& c) {
      Params p;
      pg::append_params(p, pg::episode_row(episode));
      // The links carry the episode's owner: keep them in step in the same statement.
      const std::string sql =
          "WITH u AS (UPDATE " + ctx_.table("episodes") + " SET " +
          pg::assignments(pg::kEpisodeInsertColumns, 1) +
          " WHERE episode_id = $1 RETURNING episode_id), l AS (UPDATE " +
          ctx_.table("episode_raw_data") +
          " SET owner_id = $2 WHERE episode_id IN (SELECT episode_id FROM u) AND owner_id <> $2) "
          "SELECT episode_id FROM u";
      return c.exec(sql, p).rows() > 0;
    });
  }

  // Deletes the episode with its links, progress and source rows, and the statements only it
  // supported (reopening what they closed), in one statement.
  bool remove(const std::string& episode_id) override {
    if (!pg::storable_text(episode_id)) return false;
    return ctx_.write("deleting an episode", [&](Connection& c) {
      return delete_episodes_cascading(c, ctx_,
                                       "SELECT episode_id FROM " + ctx_.table("episodes") +
                                           " WHERE episode_id = $1",
                                       Params().add(episode_id))
                 .episodes > 0;
    });
  }

  EpisodeSearchResult search(const EpisodeQuery& query) override {
    const auto start = std::chrono::steady_clock::now();
    validate(query);
    Where w;
    std::string from = " FROM " + ctx_.table("episodes") + " e";
    std::string rank;
    if (query.full_text) {
      const std::string p = w.param(*query.full_text);
      from += ", websearch_to_tsquery('english'::regconfig, " + p + "::text) q";
      w.add("e.fts @@ q");
      rank = "ts_rank_cd(e.fts, q)::float8";
    }
    if (!query.episode_ids.empty()) {
      w.add("e.episode_id = ANY(" + w.param(query.episode_ids) + "::text[])");
    }
    if (!query.owner_ids.empty()) {
      w.add("e.owner_id = ANY(" + w.param(query.owner_ids) + "::text[])");
    }
    if (!query.episode_types.empty()) {
      std::vector<std::string> types;
      for (EpisodeType t : query.episode_types) types.emplace_back(to_string(t));
      w.add("e.episode_type = ANY(" + w.param(types) + "::text[])");
    }
    if (!query.levels.empty()) {
      std::vector<std::string> levels;
      for (EpisodeLevel l : query.levels) levels.push_back(std::to_string(static_cast<int>(l)));
      w.add("e.level = ANY(" + w.param(levels) + "::int[])");
    }
    if (query.time_range && query.time_range->start) {
      w.add("e.\"timestamp\" >= " + w.param(*query.time_range->start) + "::timestamptz");
    }
    if (query.time_range && query.time_range->end) {
      w.add("e.\"timestamp\" <= " + w.param(*query.time_range->end) + "::timestamptz");
    }
    if (query.text_search && !query.text_search->empty()) {
      w.add("strpos(e.search_text, " + w.param(fold_case(*query.text_search)) + "::text) > 0");
    }
    if (!query.keywords.empty()) {
      w.add("e.keywords_folded && " + w.param(folded_unique(query.keywords)) + "::text[]");
    }
    if (!query.entities.empty()) {
      w.add("e.entities_folded && " + w.param(folded_unique(query.entities)) + "::text[]");
    }
    if (!query.topics.empty()) {
      w.add("e.topics_folded && " + w.param(folded_unique(query.topics)) + "::text[]");
    }
    add_metadata_filter(w, "(e.metadata -> 'custom_fields')", query.metadata);
    if (query.min_importance) {
      w.add("e.importance_score >= " + w.param(*query.min_importance) + "::float8");
    }
    if (query.max_importance) {
      w.add("e.importance_score <= " + w.param(*query.max_importance) + "::float8");
    }
    if (query.min_recall_count) {
      w.add("e.recall_count >= " + w.param(*query.min_recall_count) + "::int8");
    }
    if (query.max_recall_count) {
      w.add("e.recall_count <= " + w.param(*query.max_recall_count) + "::int8");
    }
    if (query.recent_hours) {
      w.add("e.\"timestamp\" >= " + w.param(recent_cutoff(now_utc(), *query.recent_hours)) +
            "::timestamptz");
    }
    from += w.sql();
    // full_text ranks first (best first); the query's own order breaks ties.
    std::string order = episode_order_by(query.sort_by, query.sort_order, "e.");
    if (!rank.empty()) order = "rank DESC, " + order;
    Params page = w.params;
    page.add(as_bigint(query.limit));
    const std::string limit = page.last();
    page.add(static_cast<std::int64_t>(as_bigint(query.offset).value_or(0)));
    const std::string sql = "SELECT " + pg::episode_select_list("e") +
                            (rank.empty() ? "" : ", " + rank + " AS rank") + from + " ORDER BY " +
                            order + " LIMIT " + limit + "::int8 OFFSET " + page.last() + "::int8";
    return run_search(sql, page, from, w.params, !rank.empty(), query.offset, query.limit, start);
  }

  bool update_importance(const std::string& episode_id, double importance) override {
    if (!pg::storable_text(episode_id)) return false;
    return ctx_.write("updating an episode's importance", [&](Connection& c) {
      return c.exec("UPDATE " + ctx_.table("episodes") +
                        " SET importance_score = $2::float8 WHERE episode_id = $1",
                    Params().add(episode_id).add(clamp_importance(importance)))
                 .affected() > 0;
    });
  }

  bool mark_accessed(const std::string& episode_id, Timestamp at) override {
    if (!pg::storable_text(episode_id)) return false;
    return ctx_.write("marking an episode accessed", [&](Connection& c) {
      return c.exec("UPDATE " + ctx_.table("episodes") +
                        " SET recall_count = recall_count + 1, last_accessed = $2::timestamptz "
                        "WHERE episode_id = $1",
                    Params().add(episode_id).add(at))
                 .affected() > 0;
    });
  }

  void link(const std::string& episode_id, std::span<const std::string> raw_data_ids) override {
    auto missing_episode = [&] {
      return NotFoundError("episode \"" + episode_id +
                           "\" does not exist; store it before linking (nothing was linked)");
    };
    auto missing_raw = [](const std::string& id) {
      return NotFoundError("raw event \"" + id +
                           "\" does not exist; store it before linking (nothing was linked)");
    };
    if (!pg::storable_text(episode_id)) throw missing_episode();
    for (const std::string& id : raw_data_ids) {
      if (!pg::storable_text(id)) throw missing_raw(id);
    }
    const std::vector<std::string> ids(raw_data_ids.begin(), raw_data_ids.end());
    // One statement: checks the episode and every raw event, then inserts the new pairs, or
    // nothing when anything is missing.
    const std::string sql =
        "WITH ids AS (SELECT id, min(ord) AS ord FROM unnest($2::text[]) WITH ORDINALITY "
        "AS u(id, ord) GROUP BY id), "
        "ep AS (SELECT owner_id FROM " +
        ctx_.table("episodes") +
        " WHERE episode_id = $1), "
        "found AS (SELECT ids.id, ids.ord, r.owner_id FROM ids JOIN " +
        ctx_.raw_keys() +
        " r ON r.data_id = ids.id), "
        "missing AS (SELECT id, ord FROM ids WHERE NOT EXISTS (SELECT 1 FROM found f "
        "WHERE f.id = ids.id)), "
        "other AS (SELECT found.id, found.ord, found.owner_id FROM found, ep "
        "WHERE found.owner_id <> ep.owner_id), "
        "ins AS (INSERT INTO " +
        ctx_.table("episode_raw_data") +
        " (episode_id, raw_data_id, owner_id) SELECT $1, ids.id, ep.owner_id FROM ids, ep "
        "WHERE NOT EXISTS (SELECT 1 FROM missing) AND NOT EXISTS (SELECT 1 FROM other) "
        "ON CONFLICT DO NOTHING RETURNING 1) "
        "SELECT (SELECT count(*) FROM ep), (SELECT id FROM missing ORDER BY ord LIMIT 1), "
        "(SELECT count(*) FROM ins), (SELECT id FROM other ORDER BY ord LIMIT 1), "
        "(SELECT owner_id FROM other ORDER BY ord LIMIT 1), (SELECT owner_id FROM ep)";
    ctx_.write("linking an episode to raw events", [&](Connection& c) {
      Result r;
      try {
        r = c.exec(sql, Params().add(episode_id).add(ids));
      } catch (const NotFoundError& e) {
        // The episode or a raw event was deleted while linking.
        throw NotFoundError("a record was deleted while linking episode \"" + episode_id +
                            "\" (nothing was linked): " + e.what());
      }
      if (r.int64(0, 0) == 0) throw missing_episode();
      if (!r.is_null(0, 1)) throw missing_raw(r.str(0, 1));
      if (!r.is_null(0, 3))
        throw cross_owner_link(episode_id, r.str(0, 5), r.str(0, 3), r.str(0, 4));
    });
  }

  std::vector<std::string> raw_ids_for_episode(const std::string& episode_id) override {
    if (!pg::storable_text(episode_id)) return {};
    return ctx_.read("reading an episode's raw events", [&](Connection& c) {
      Result r = c.exec("SELECT l.raw_data_id FROM " + ctx_.table("episode_raw_data") + " l JOIN " +
                            ctx_.table("raw_data") +
                            " r ON r.data_id = l.raw_data_id WHERE l.episode_id = $1 "
                            "ORDER BY r.\"timestamp\", r.data_id",
                        Params().add(episode_id));
      std::vector<std::string> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
      return out;
    });
  }

  std::vector<Episode> episodes_for_raw(const std::string& raw_data_id) override {
    if (!pg::storable_text(raw_data_id)) return {};
    return ctx_.read("reading a raw event's episodes", [&](Connection& c) {
      Result r = c.exec("SELECT " + pg::episode_select_list("e") + " FROM " +
                            ctx_.table("episode_raw_data") + " l JOIN " + ctx_.table("episodes") +
                            " e ON e.episode_id = l.episode_id WHERE l.raw_data_id = $1 "
                            "ORDER BY e.\"timestamp\", e.episode_id",
                        Params().add(raw_data_id));
      std::vector<Episode> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(pg::decode_episode(r, i));
      return out;
    });
  }

  std::vector<EpisodeLink> links(const std::string& owner_id) override {
    if (!owner_id.empty() && !pg::storable_text(owner_id)) return {};
    return ctx_.read("reading links", [&](Connection& c) {
      const std::string base =
          "SELECT episode_id, raw_data_id FROM " + ctx_.table("episode_raw_data");
      const std::string order = " ORDER BY episode_id, raw_data_id";
      Result r = owner_id.empty()
                     ? c.exec(base + order)
                     : c.exec(base + " WHERE owner_id = $1" + order, Params().add(owner_id));
      std::vector<EpisodeLink> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(EpisodeLink{r.str(i, 0), r.str(i, 1)});
      return out;
    });
  }

  // As remove(), for every episode older than `cutoff`, in one statement.
  std::size_t cleanup_before(Timestamp cutoff, const std::string& owner_id) override {
    Where w;
    w.add("\"timestamp\" < " + w.param(cutoff) + "::timestamptz");
    if (!owner_id.empty()) {
      if (!pg::storable_text(owner_id)) return 0;
      w.add("owner_id = " + w.param(owner_id) + "::text");
    }
    return ctx_.write("deleting old episodes", [&](Connection& c) {
      return delete_episodes_cascading(
                 c, ctx_, "SELECT episode_id FROM " + ctx_.table("episodes") + w.sql(), w.params)
          .episodes;
    });
  }

  std::size_t count(const std::string& owner_id) override {
    return count_records<Episode>(ctx_, owner_id);
  }

 private:
  void insert(std::span<const Episode> episodes) {
    ctx_.write("storing episodes", [&](Connection& c) {
      if (episodes.size() == 1) {
        Params p;
        pg::append_params(p, pg::episode_row(episodes[0]));
        c.exec("INSERT INTO " + ctx_.table("episodes") + " (" + pg::kEpisodeInsertColumns +
                   ") VALUES (" + pg::placeholders(1, pg::kEpisodeInsertCount) + ")",
               p);
        return;
      }
      std::string data;
      for (const Episode& e : episodes) pg::append_copy_row(data, pg::episode_row(e));
      pg::Transaction tx(c);
      c.copy_in(
          "COPY " + ctx_.table("episodes") + " (" + pg::kEpisodeInsertColumns + ") FROM STDIN",
          data);
      tx.commit();
    });
  }

  EpisodeSearchResult run_search(const std::string& sql, const Params& page,
                                 const std::string& from, const Params& where, bool ranked,
                                 std::size_t offset, std::optional<std::size_t> limit,
                                 std::chrono::steady_clock::time_point start) {
    EpisodeSearchResult result;
    ctx_.search("searching episodes", [&](Connection& c) {
      result = EpisodeSearchResult{};
      PageSnapshot snapshot(c, limit);
      Result r = c.exec(sql, page);
      result.episodes.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) {
        result.episodes.push_back(pg::decode_episode(r, i));
        if (ranked) result.scores.push_back(r.float8(i, pg::kEpisodeSelectCount));
      }
      result.total_count = snapshot.total(c, r.rows(), offset, "SELECT count(*)" + from, where);
    });
    result.has_more = offset + result.episodes.size() < result.total_count;
    result.query_time_ms = elapsed_ms(start);
    return result;
  }

  PgContext& ctx_;
};

// ---------------------------------------------------------------------------------------------

class PgStorage final : public Storage {
 public:
  explicit PgStorage(const StorageConfig& config)
      : ctx_(config), raw_(ctx_), episodes_(ctx_), statements_(ctx_) {
    ctx_.open();
  }
  ~PgStorage() override { close(); }

  std::string backend() const override { return "postgresql"; }
  RawDataRepository& raw_data() override { return raw_; }
  EpisodeRepository& episodes() override { return episodes_; }
  SemanticMemoryRepository& statements() override { return statements_; }

  OwnerDeletion delete_owner(const std::string& owner_id) override {
    if (owner_id.empty()) {
      throw ValidationError("owner_id", "is required (delete_owner never means every owner)");
    }
    if (!pg::storable_text(owner_id)) return {};
    return ctx_.write("deleting an owner",
                      [&](Connection& c) { return delete_owner_rows(c, owner_id); });
  }

  WriteBatchResult apply(const WriteBatch& batch) override {
    WriteBatchResult result;
    if (empty_batch(batch)) return result;
    validate_write_batch(batch, ctx_.config().max_content_bytes);
    const WriteBatchIds ids = ids_named_by(batch);
    const std::vector<std::string> raw_ids = storable(ids.raw);
    const std::vector<std::string> episode_ids = storable(ids.episodes);
    std::vector<std::string> batch_raw_ids;
    std::vector<Timestamp> times;
    for (const RawEvent& e : batch.raw_events) {
      batch_raw_ids.push_back(e.data_id);
      times.push_back(e.temporal_info.timestamp);
    }
    std::vector<std::string> link_episodes, link_raws;
    for (const EpisodeLink& link : unique_links(batch)) {
      link_episodes.push_back(link.episode_id);
      link_raws.push_back(link.raw_data_id);
    }
    std::string episode_data;
    for (const Episode& e : batch.episodes) pg::append_copy_row(episode_data, pg::episode_row(e));
    ctx_.write("applying a write batch", [&](Connection& c) {
      result = WriteBatchResult{};
      // Partitions are created (and committed) first: an empty partition left behind by a
      // failed batch is harmless, and the partition cache never names one rolled back.
      ctx_.ensure_partitions(c, times);
      pg::Transaction tx(c);
      StoredRecords stored;
      if (!raw_ids.empty()) {
        Result r = c.exec(
            "SELECT data_id, owner_id FROM " + ctx_.raw_keys() + " WHERE data_id = ANY($1::text[])",
            Params().add(raw_ids));
        for (int i = 0; i < r.rows(); ++i) stored.raw_owner.emplace(r.str(i, 0), r.str(i, 1));
      }
      if (!episode_ids.empty()) {
        Result r = c.exec("SELECT episode_id, owner_id FROM " + ctx_.table("episodes") +
                              " WHERE episode_id = ANY($1::text[])",
                          Params().add(episode_ids));
        for (int i = 0; i < r.rows(); ++i) stored.episode_owner.emplace(r.str(i, 0), r.str(i, 1));
      }
      if (batch.skip_identical_raw_events && !batch_raw_ids.empty()) {
        Result r = c.exec("SELECT " + pg::raw_select_list("r") + " FROM " + ctx_.table("raw_data") +
                              " r WHERE r.data_id = ANY($1::text[])",
                          Params().add(batch_raw_ids));
        for (int i = 0; i < r.rows(); ++i) {
          RawEvent event = pg::decode_raw(r, i);
          std::string id = event.data_id;
          stored.raw.emplace(std::move(id), std::move(event));
        }
      }
      look_up_statement_records(c, ctx_, batch, ids, stored);
      const std::vector<bool> store = check_write_batch(batch, stored);

      for (const std::string& owner : batch.delete_owners) {
        if (!pg::storable_text(owner)) continue;
        const OwnerDeletion d = delete_owner_rows(c, owner);
        result.deleted.raw_events += d.raw_events;
        result.deleted.episodes += d.episodes;
        result.deleted.links += d.links;
        result.deleted.statements += d.statements;
      }
      std::string raw_data, key_data;
      for (std::size_t i = 0; i < batch.raw_events.size(); ++i) {
        if (!store[i]) {
          result.raw_already_stored.push_back(batch.raw_events[i].data_id);
          continue;
        }
        const pg::RowValues row = pg::raw_row(batch.raw_events[i]);
        pg::append_copy_row(raw_data, row);
        if (ctx_.partitioned()) pg::append_copy_row(key_data, {row[0], row[1], row[5]});
        ++result.raw_events_stored;
      }
      if (result.raw_events_stored > 0) {
        if (ctx_.partitioned()) {
          c.copy_in("COPY " + ctx_.raw_keys() + " (data_id, owner_id, \"timestamp\") FROM STDIN",
                    key_data);
        }
        c.copy_in("COPY " + ctx_.table("raw_data") + " (" + pg::kRawInsertColumns + ") FROM STDIN",
                  raw_data);
      }
      if (!batch.episodes.empty()) {
        c.copy_in(
            "COPY " + ctx_.table("episodes") + " (" + pg::kEpisodeInsertColumns + ") FROM STDIN",
            episode_data);
        result.episodes_stored = batch.episodes.size();
      }
      if (!link_episodes.empty()) {
        Result r = c.exec("WITH ins AS (INSERT INTO " + ctx_.table("episode_raw_data") +
                              " (episode_id, raw_data_id, owner_id) SELECT l.e, l.r, ep.owner_id "
                              "FROM unnest($1::text[], $2::text[]) AS l(e, r) JOIN " +
                              ctx_.table("episodes") +
                              " ep ON ep.episode_id = l.e ON CONFLICT DO NOTHING RETURNING 1) "
                              "SELECT count(*) FROM ins",
                          Params().add(link_episodes).add(link_raws));
        result.links_added = static_cast<std::size_t>(r.int64(0, 0));
      }
      if (!batch.processed_ids.empty()) {
        c.exec("UPDATE " + ctx_.table("raw_data") +
                   " SET processed = true, processing_version = $2 "
                   "WHERE data_id = ANY($1::text[])",
               Params().add(batch.processed_ids).add(batch.processed_version));
      }
      apply_statement_steps(c, ctx_, batch, result);
      tx.commit();
    });
    return result;
  }

  std::shared_ptr<void> read_from_primary() override { return ctx_.primary_only(); }

  // A session advisory lock on the primary, keyed by schema and owner, on a connection the
  // handle keeps: released by the handle, or by the server when the process dies.
  std::shared_ptr<void> lock_owner(const std::string& owner_id) override {
    const std::string key = ctx_.schema() + '\n' + owner_id;
    auto lease = std::make_shared<Pool::Lease>(ctx_.primary().acquire("locking an owner"));
    (*lease)->exec("SELECT pg_advisory_lock(hashtextextended($1, 0))", Params().add(key));
    return std::shared_ptr<void>(lease.get(), [lease, key](void*) {
      try {
        (*lease)->exec("SELECT pg_advisory_unlock(hashtextextended($1, 0))", Params().add(key));
      } catch (...) {  // a dead connection: the server has released the lock with it
      }
    });
  }

  PurgeReport purge() override {
    PurgeReport report;
    const auto started = std::chrono::steady_clock::now();
    const std::string tables_of_schema =
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relkind = 'r'";
    const auto bytes = [&](Connection& c) {
      return static_cast<std::uint64_t>(
          c.exec(
               "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint " + tables_of_schema,
               Params().add(ctx_.schema()))
              .int64(0, 0));
    };
    ctx_.write("purging deleted rows", [&](Connection& c) {
      report.bytes_before = bytes(c);
      report.incomplete = wait_for_older_transactions(c);
      // VACUUM FULL rewrites each table (and its TOAST table and indexes) into new files and
      // drops the old ones, so no dead row version is left in any file of the table.
      const Result tables =
          c.exec("SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) " +
                     tables_of_schema + " ORDER BY 1",
                 Params().add(ctx_.schema()));
      for (int row = 0; row < tables.rows(); ++row)
        c.exec_simple("VACUUM FULL " + tables.str(row, 0));
      report.bytes_after = bytes(c);
    });
    report.method = "VACUUM FULL of every table of schema " + ctx_.schema();
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  }

 private:
  // VACUUM keeps every row version that a transaction open in this database may still see, so
  // rows deleted before the purge survive it while a transaction older than the purge (or a
  // prepared transaction, or a replication slot holding back the horizon) is open. Waits up to
  // purge_wait for them to end, polling; returns "" when none is left, else what still holds
  // deleted rows and what to do.
  std::string wait_for_older_transactions(Connection& c) {
    // An xid newer than every deletion made before the purge (allocated in autocommit).
    const std::string purge_xid =
        c.exec_simple("SELECT (txid_current() % 4294967296)::text").str(0, 0);
    const std::string older =
        "SELECT 'transaction of pid ' || pid || ' (' || coalesce(application_name, '') || "
        "', started ' || to_char(xact_start, 'YYYY-MM-DD HH24:MI:SS') || ')' "
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND backend_type <> 'autovacuum worker' "
        "AND (age(backend_xmin) > age($1::xid) OR age(backend_xid) > age($1::xid)) "
        "UNION ALL SELECT 'prepared transaction ' || quote_literal(gid) FROM pg_prepared_xacts "
        "WHERE database = current_database() AND age(transaction) > age($1::xid) "
        "UNION ALL SELECT 'replication slot ' || quote_literal(slot_name) FROM "
        "pg_replication_slots WHERE age(xmin) > age($1::xid) ORDER BY 1";
    const auto deadline = std::chrono::steady_clock::now() + ctx_.config().purge_wait;
    for (;;) {
      const Result holders = c.exec(older, Params().add(purge_xid));
      if (holders.rows() == 0) return "";
      if (std::chrono::steady_clock::now() >= deadline) {
        std::string list;
        for (int row = 0; row < holders.rows() && row < 5; ++row)
          list += (row ? ", " : "") + holders.str(row, 0);
        if (holders.rows() > 5) list += ", ...";
        const auto waited_ms = static_cast<long long>(ctx_.config().purge_wait.count());
        return std::to_string(holders.rows()) + " older transaction(s) still open after " +
               std::to_string(waited_ms) + " ms (" + list +
               "); rows they may still read stay in the files: run the purge again once they end";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // Deletes an owner's statements, raw events, episodes and links in one statement (the links,
  // source and progress rows go with their episodes, statements and raw events, ON DELETE
  // CASCADE, and the links are counted before). A statement's sources and the statements it
  // closed are all of its owner, so nothing of another owner is orphaned or reopened.
  OwnerDeletion delete_owner_rows(Connection& c, const std::string& owner_id) {
    const std::string sql =
        "WITH l AS (SELECT count(*) AS n FROM " + ctx_.table("episode_raw_data") +
        " x WHERE x.owner_id = $1 OR x.raw_data_id IN (SELECT data_id FROM " + ctx_.raw_keys() +
        " WHERE owner_id = $1)), "
        "e AS (DELETE FROM " +
        ctx_.table("episodes") +
        " WHERE owner_id = $1 RETURNING 1), "
        "r AS (DELETE FROM " +
        ctx_.raw_keys() +
        " WHERE owner_id = $1 RETURNING 1), "
        "s AS (DELETE FROM " +
        ctx_.table("statements") +
        " WHERE owner_id = $1 RETURNING 1) "
        "SELECT (SELECT count(*) FROM r), (SELECT count(*) FROM e), (SELECT n FROM l), "
        "(SELECT count(*) FROM s)";
    Result r = c.exec(sql, Params().add(owner_id));
    OwnerDeletion d;
    d.raw_events = static_cast<std::size_t>(r.int64(0, 0));
    d.episodes = static_cast<std::size_t>(r.int64(0, 1));
    d.links = static_cast<std::size_t>(r.int64(0, 2));
    d.statements = static_cast<std::size_t>(r.int64(0, 3));
    return d;
  }

 public:
  std::vector<std::string> list_owners() override {
    return ctx_.read("listing owners", [&](Connection& c) {
      Result r = c.exec("SELECT owner_id FROM " + ctx_.raw_keys() + " UNION SELECT owner_id FROM " +
                        ctx_.table("episodes") + " ORDER BY 1");
      std::vector<std::string> out;
      out.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
      return out;
    });
  }

  HealthStatus health() override {
    const auto start = std::chrono::steady_clock::now();
    HealthStatus status;
    try {
      ctx_.read("health check", [&](Connection& c) { c.exec("SELECT 1"); });
      status.healthy = true;
    } catch (const std::exception& e) {
      status.reason = e.what();
    }
    status.latency_ms = elapsed_ms(start);
    return status;
  }

  StorageStats stats() override {
    StorageStats s;
    s.backend = "postgresql";
    nlohmann::json tables = nlohmann::json::object();
    ctx_.read("computing statistics", [&](Connection& c) {
      s = StorageStats{};
      s.backend = "postgresql";
      tables = nlohmann::json::object();
      const std::string raw = ctx_.table("raw_data");
      const std::string eps = ctx_.table("episodes");
      const std::string links = ctx_.table("episode_raw_data");
      const std::string ts_us = "(extract(epoch FROM %) * 1000000)::int8";
      auto us = [&](const std::string& e) {
        std::string out = ts_us;
        out.replace(out.find('%'), 1, e);
        return out;
      };
      Result totals =
          c.exec("SELECT (SELECT count(*) FROM " + raw + "), (SELECT count(*) FROM " + raw +
                 " WHERE processed), (SELECT count(*) FROM " + eps + "), (SELECT count(*) FROM " +
                 links + "), (SELECT count(*) FROM (SELECT owner_id FROM " + ctx_.raw_keys() +
                 " UNION SELECT owner_id FROM " + eps + ") o), " +
                 us("(SELECT min(\"timestamp\") FROM " + raw + ")") + ", " +
                 us("(SELECT max(\"timestamp\") FROM " + raw + ")") + ", " +
                 us("(SELECT min(\"timestamp\") FROM " + eps + ")") + ", " +
                 us("(SELECT max(\"timestamp\") FROM " + eps + ")"));
      s.total_raw_data = static_cast<std::size_t>(totals.int64(0, 0));
      s.processed_raw_data = static_cast<std::size_t>(totals.int64(0, 1));
      s.total_episodes = static_cast<std::size_t>(totals.int64(0, 2));
      s.total_links = static_cast<std::size_t>(totals.int64(0, 3));
      s.owners = static_cast<std::size_t>(totals.int64(0, 4));
      for (int col : {5, 7}) {
        if (totals.is_null(0, col)) continue;
        const Timestamp t = from_micros(totals.int64(0, col));
        if (!s.oldest_data || t < *s.oldest_data) s.oldest_data = t;
      }
      for (int col : {6, 8}) {
        if (totals.is_null(0, col)) continue;
        const Timestamp t = from_micros(totals.int64(0, col));
        if (!s.newest_data || t > *s.newest_data) s.newest_data = t;
      }
      Result by_type = c.exec("SELECT data_type, count(*) FROM " + raw + " GROUP BY 1");
      for (int i = 0; i < by_type.rows(); ++i) {
        s.raw_data_by_type[by_type.str(i, 0)] = static_cast<std::size_t>(by_type.int64(i, 1));
      }
      Result by_kind =
          c.exec("SELECT episode_type, level, count(*) FROM " + eps + " GROUP BY 1, 2");
      for (int i = 0; i < by_kind.rows(); ++i) {
        const auto n = static_cast<std::size_t>(by_kind.int64(i, 2));
        s.episodes_by_type[by_kind.str(i, 0)] += n;
        s.episodes_by_level[static_cast<int>(by_kind.int64(i, 1))] += n;
      }
      add_statement_stats(c, s);
      // Sizes from the server; pg_partition_tree covers the partitions of raw_data too.
      std::vector<std::string> names = {"raw_data",          "episodes",
                                        "episode_raw_data",  "statements",
                                        "statement_sources", "semantic_progress",
                                        "schema_migrations"};
      if (ctx_.partitioned()) names.emplace_back("raw_data_keys");
      Result sizes = c.exec(
          "WITH rel AS (SELECT t.name, format('%I.%I', $1::text, t.name)::regclass AS root "
          "FROM unnest($2::text[]) AS t(name)), "
          "tree AS (SELECT rel.name, p.relid, p.isleaf, p.level FROM rel, "
          "pg_partition_tree(rel.root) p UNION SELECT rel.name, rel.root, true, 0 FROM rel) "
          "SELECT name, coalesce(sum(pg_total_relation_size(relid)), 0)::int8, "
          "coalesce(sum(pg_indexes_size(relid)), 0)::int8, "
          "count(*) FILTER (WHERE isleaf AND level > 0) FROM tree GROUP BY name",
          Params().add(ctx_.schema()).add(names));
      for (int i = 0; i < sizes.rows(); ++i) {
        const auto total = static_cast<std::uint64_t>(sizes.int64(i, 1));
        const auto index = static_cast<std::uint64_t>(sizes.int64(i, 2));
        s.storage_size_bytes += total;
        s.index_size_bytes += index;
        nlohmann::json t = {{"total_bytes", total}, {"index_bytes", index}};
        if (sizes.int64(i, 3) > 0) t["partitions"] = sizes.int64(i, 3);
        tables[sizes.str(i, 0)] = t;
      }
      tables["raw_data"]["rows"] = s.total_raw_data;
      tables["episodes"]["rows"] = s.total_episodes;
      tables["episode_raw_data"]["rows"] = s.total_links;
      tables["statements"]["rows"] = s.statements_current + s.statements_superseded;
      tables["statement_sources"]["rows"] = s.statement_sources;
    });
    s.details = {{"schema", ctx_.schema()},
                 {"schema_version", ctx_.schema_version()},
                 {"server_version", ctx_.server_version()},
                 {"partitioned_raw_data", ctx_.partitioned()},
                 {"tables", tables},
                 {"pool", ctx_.primary().counters().to_json()}};
    if (Pool* replica = ctx_.replica()) {
      s.details["replica_pool"] = replica->counters().to_json();
      s.details["replica_fallbacks"] = ctx_.replica_fallbacks();
    }
    return s;
  }

  void close() override { ctx_.close(); }

 private:
  // The semantic memory's figures: statements by state and category, source rows, merged
  // episodes, progress rows by state and the LLM usage they record.
  void add_statement_stats(Connection& c, StorageStats& s) {
    const Result by_category =
        c.exec("SELECT category, count(*) FILTER (WHERE valid_to IS NULL), "
               "count(*) FILTER (WHERE valid_to IS NOT NULL) FROM " +
               ctx_.table("statements") + " GROUP BY 1");
    for (int i = 0; i < by_category.rows(); ++i) {
      const auto current = static_cast<std::size_t>(by_category.int64(i, 1));
      const auto superseded = static_cast<std::size_t>(by_category.int64(i, 2));
      s.statements_current += current;
      s.statements_superseded += superseded;
      s.statements_by_category[by_category.str(i, 0)] = current + superseded;
    }
    const Result counts = c.exec("SELECT (SELECT count(*) FROM " +
                                 ctx_.table("statement_sources") + "), (SELECT count(*) FROM " +
                                 ctx_.table("episodes") +
                                 " WHERE (metadata -> 'custom_fields') ? 'merged_from')");
    s.statement_sources = static_cast<std::size_t>(counts.int64(0, 0));
    s.merged_episodes = static_cast<std::size_t>(counts.int64(0, 1));
    const std::vector<std::string> usage = {"semantic_calls", "semantic_tokens", "merge_calls",
                                            "merge_tokens"};
    std::string sums;
    for (const std::string& column : usage) {
      // Summed exactly, then held at the largest std::uint64_t.
      sums += ", least(coalesce(sum(" + pg::unsigned_counter(column) +
              "), 0), 18446744073709551615)::text";
    }
    const Result progress = c.exec("SELECT state, count(*)" + sums + " FROM " +
                                   ctx_.table("semantic_progress") + " GROUP BY 1");
    for (const std::string& key : usage) s.semantic_usage[key] = 0;
    for (int i = 0; i < progress.rows(); ++i) {
      s.semantic_progress[progress.str(i, 0)] = static_cast<std::size_t>(progress.int64(i, 1));
      for (std::size_t k = 0; k < usage.size(); ++k) {
        std::uint64_t& total = s.semantic_usage[usage[k]];
        const std::uint64_t n = std::stoull(progress.str(i, static_cast<int>(k) + 2));
        total = n > UINT64_MAX - total ? UINT64_MAX : total + n;
      }
    }
  }

  PgContext ctx_;
  PgRawRepository raw_;
  PgEpisodeRepository episodes_;
  PgStatementRepository statements_;
};

}  // namespace

std::unique_ptr<Storage> open_postgres_storage(const StorageConfig& config) {
  if (config.url.empty()) {
    throw ConfigError(
        "url: the postgresql backend needs a connection URL such as "
        "postgresql://user:password@host:5432/database (or set NEMORI_STORAGE_URL)");
  }
  pg::validate_schema_name(config.schema.empty() ? "public" : config.schema);
  return std::make_unique<PgStorage>(config);
}

}  // namespace nemori::detail
