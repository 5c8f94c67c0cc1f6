#include "storage/duckdb/episode_repository.h"

#include <chrono>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "nemori/core/error.h"
#include "storage/duckdb/appender.h"
#include "storage/duckdb/key_conflicts.h"
#include "storage/duckdb/record_table.h"
#include "storage/duckdb/rows.h"
#include "storage/duckdb/search_sql.h"
#include "storage/record_validation.h"
#include "storage/write_batch.h"

namespace nemori::detail::duck {

void DuckDbEpisodeRepository::store(const Episode& episode) {
  validate_for_storage(episode);
  insert_records(ctx_, std::span<const Episode>(&episode, 1));
}

void DuckDbEpisodeRepository::store_batch(std::span<const Episode> episodes) {
  if (episodes.empty()) return;
  validate_batch_for_storage(episodes);
  insert_records(ctx_, episodes);
}

std::optional<Episode> DuckDbEpisodeRepository::get(const std::string& episode_id) {
  return get_record<Episode>(ctx_, episode_id);
}

std::vector<std::optional<Episode>> DuckDbEpisodeRepository::get_batch(
    std::span<const std::string> ids) {
  return get_records<Episode>(ctx_, ids);
}

bool DuckDbEpisodeRepository::update(const Episode& episode) {
  validate_for_storage(episode);
  // The links stay and follow the episode's owner.
  return replace_record(ctx_, episode, [&](Connection& connection) {
    connection.run(
        "UPDATE episode_raw_data SET owner_id = ? WHERE episode_id = ? AND owner_id <> ?",
        {episode.owner_id, episode.episode_id, episode.owner_id});
  });
}

bool DuckDbEpisodeRepository::remove(const std::string& episode_id) {
  return remove_record<Episode>(ctx_, episode_id);
}

EpisodeSearchResult DuckDbEpisodeRepository::search(const EpisodeQuery& query) {
  const auto started = std::chrono::steady_clock::now();
  validate(query);
  if (query.full_text) {
    throw UnsupportedBackendError(
        "full_text search is not available with the DuckDB backend (DuckDB's fts extension is "
        "not part of this build): use text_search for case-insensitive substring matching, the "
        "retrieval layer's BM25 index for ranked search, or the PostgreSQL backend "
        "(ts_rank_cd)");
  }
  const SearchSql sql = episode_search_sql(query, now_utc());
  EpisodeSearchResult out;
  std::tie(out.episodes, out.total_count) = ctx_.read([&](Connection& connection) {
    return run_search<Episode>(connection, sql, query.limit, query.offset, decode_episode,
                               [](const Episode& r) -> const std::string& { return r.episode_id; });
  });
  out.has_more = query.offset + out.episodes.size() < out.total_count;
  out.query_time_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return out;
}

bool DuckDbEpisodeRepository::update_importance(const std::string& episode_id, double importance) {
  const double clamped = clamp_importance(importance);
  return ctx_.write([&](Connection& connection) {
    return connection
               .run("UPDATE episodes SET importance_score = ? WHERE episode_id = ?",
                    {clamped, episode_id})
               .rows_changed() > 0;
  });
}

bool DuckDbEpisodeRepository::mark_accessed(const std::string& episode_id, Timestamp at) {
  return ctx_.write([&](Connection& connection) {
    return connection
               .run(
                   "UPDATE episodes SET recall_count = recall_count + 1, last_accessed = ? "
                   "WHERE episode_id = ?",
                   {at, episode_id})
               .rows_changed() > 0;
  });
}

void DuckDbEpisodeRepository::link(const std::string& episode_id,
                                   std::span<const std::string> raw_data_ids) {
  const std::vector<std::string> ids = id_list(raw_data_ids);
  const Timestamp created_at = now_utc();
  write_with_key_retry(
      ctx_,
      [&](Connection& connection) {
        std::optional<std::string> owner;
        Result episode =
            connection.run("SELECT owner_id FROM episodes WHERE episode_id = ?", {episode_id});
        episode.for_each_row(
            [&](const Chunk& chunk, idx_t row) { owner = std::string(chunk.text(0, row)); });
        if (!owner) {
          throw NotFoundError("episode \"" + episode_id + "\" does not exist; nothing was linked");
        }
        if (ids.empty()) return;
        Result found = connection.run(
            "SELECT data_id, owner_id FROM raw_data WHERE data_id IN "
            "(SELECT unnest(?::VARCHAR[]))",
            {ids});
        std::unordered_map<std::string, std::string> raw_owners;
        found.for_each_row([&](const Chunk& chunk, idx_t row) {
          raw_owners.emplace(std::string(chunk.text(0, row)), std::string(chunk.text(1, row)));
        });
        for (const std::string& id : ids) {
          const auto raw = raw_owners.find(id);
          if (raw == raw_owners.end()) {
            throw NotFoundError("raw event \"" + id + "\" does not exist; nothing was linked");
          }
          if (raw->second != *owner) throw cross_owner_link(episode_id, *owner, id, raw->second);
        }
        // Pairs already linked are skipped, so linking twice keeps one link.
        connection.run(
            "INSERT INTO episode_raw_data (episode_id, raw_data_id, owner_id, created_at) "
            "SELECT ?, id, ?, ? FROM (SELECT DISTINCT unnest(?::VARCHAR[]) AS id) "
            "WHERE id NOT IN (SELECT raw_data_id FROM episode_raw_data WHERE episode_id = ?)",
            {episode_id, *owner, created_at, ids, episode_id});
      },
      [] {});
}

std::vector<std::string> DuckDbEpisodeRepository::raw_ids_for_episode(
    const std::string& episode_id) {
  return ctx_.read_one([&](Connection& connection) {
    Result result = connection.run(
        "SELECT l.raw_data_id FROM episode_raw_data l JOIN raw_data r ON r.data_id = "
        "l.raw_data_id WHERE l.episode_id = ? ORDER BY r.\"timestamp\", r.data_id",
        {episode_id});
    std::vector<std::string> ids;
    result.for_each_row(
        [&](const Chunk& chunk, idx_t row) { ids.emplace_back(chunk.text(0, row)); });
    return ids;
  });
}

std::vector<Episode> DuckDbEpisodeRepository::episodes_for_raw(const std::string& raw_data_id) {
  return ctx_.read_one([&](Connection& connection) {
    Result result = connection.run(
        "SELECT " + episode_columns("e") +
            " FROM episodes e JOIN episode_raw_data l ON l.episode_id = e.episode_id "
            "WHERE l.raw_data_id = ? ORDER BY e.\"timestamp\", e.episode_id",
        {raw_data_id});
    return read_records<Episode>(result);
  });
}

std::vector<EpisodeLink> DuckDbEpisodeRepository::links(const std::string& owner_id) {
  return ctx_.read_one([&](Connection& connection) {
    Result result =
        owner_id.empty()
            ? connection.run(
                  "SELECT episode_id, raw_data_id FROM episode_raw_data "
                  "ORDER BY episode_id, raw_data_id")
            : connection.run(
                  "SELECT episode_id, raw_data_id FROM episode_raw_data WHERE owner_id = ? "
                  "ORDER BY episode_id, raw_data_id",
                  {owner_id});
    std::vector<EpisodeLink> out;
    result.for_each_row([&](const Chunk& chunk, idx_t row) {
      out.push_back(EpisodeLink{std::string(chunk.text(0, row)), std::string(chunk.text(1, row))});
    });
    return out;
  });
}

std::size_t DuckDbEpisodeRepository::cleanup_before(Timestamp cutoff, const std::string& owner_id) {
  return remove_records_before<Episode>(ctx_, cutoff, owner_id);
}

std::size_t DuckDbEpisodeRepository::count(const std::string& owner_id) {
  return count_records<Episode>(ctx_, owner_id);
}

}  // namespace nemori::detail::duck
