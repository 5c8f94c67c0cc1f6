// DuckDbStorage::apply(): a WriteBatch in one transaction on the writer connection.
#include <algorithm>
#include <unordered_set>

#include "nemori/core/error.h"
#include "storage/duckdb/duckdb_storage.h"
#include "storage/duckdb/key_conflicts.h"
#include "storage/duckdb/key_lookup.h"
#include "storage/duckdb/record_table.h"
#include "storage/duckdb/rows.h"
#include "storage/duckdb/semantic_writes.h"
#include "storage/duckdb/statement_cascade.h"
#include "storage/duckdb/statement_reads.h"
#include "storage/write_batch.h"

namespace nemori::detail::duck {

namespace {

// Owners of the stored records of `table` among `ids`.
void read_owners(Connection& connection, std::string_view table, std::string_view key,
                 const std::vector<std::string>& ids,
                 std::unordered_map<std::string, std::string>& out) {
  if (ids.empty()) return;
  const KeyLookup lookup = key_lookup(std::string(key) + ", owner_id", table, key, ids);
  Result result = connection.run(lookup.sql, lookup.params);
  result.for_each_row([&](const Chunk& chunk, idx_t row) {
    out.emplace(std::string(chunk.text(0, row)), std::string(chunk.text(1, row)));
  });
}

// What the semantic steps need to know of the store (StoredRecords' statement fields).
void read_statement_records(Connection& connection, const WriteBatch& batch,
                            const WriteBatchIds& ids, StoredRecords& stored) {
  read_owners(connection, "statements", "statement_id", ids.statements, stored.statement_owner);
  if (!batch.statement_updates.empty()) {
    std::vector<std::string> updated;
    updated.reserve(batch.statement_updates.size());
    for (const nemori::Statement& update : batch.statement_updates)
      updated.push_back(update.statement_id);
    for (nemori::Statement& statement : read_statements(connection, updated)) {
      std::string id = statement.statement_id;
      stored.statements.emplace(std::move(id), std::move(statement));
    }
  }
  if (!ids.source_episodes.empty()) {
    Result sources = connection.run(
        "SELECT statement_id, episode_id FROM statement_sources WHERE statement_id IN ("
        "SELECT statement_id FROM statement_sources WHERE episode_id IN "
        "(SELECT unnest(?::VARCHAR[])))",
        {ids.source_episodes});
    sources.for_each_row([&](const Chunk& chunk, idx_t row) {
      stored.statement_sources[std::string(chunk.text(0, row))].emplace_back(chunk.text(1, row));
    });
  }
}

// The owner of every statement the batch's statement_sources may name, once its statements
// are stored (check_write_batch() has made sure each named one exists then).
std::unordered_map<std::string, std::string> owners_after(const WriteBatch& batch,
                                                          const StoredRecords& stored) {
  std::unordered_map<std::string, std::string> owners = stored.statement_owner;
  for (const nemori::Statement& statement : batch.statements) {
    owners[statement.statement_id] = statement.owner_id;
  }
  return owners;
}

// Deletes episodes as EpisodeRepository::remove() does: links, the semantic rows that depend
// on them (statement_cascade.h), the rows.
void delete_episode_rows(Connection& connection, const std::vector<std::string>& episode_ids,
                         WriteBatchResult& result) {
  if (episode_ids.empty()) return;
  connection.run("DELETE FROM episode_raw_data WHERE episode_id IN (SELECT unnest(?::VARCHAR[]))",
                 {episode_ids});
  const StatementCascade cascade = remove_episode_dependents(connection, episode_ids);
  result.statements_removed += cascade.statements_removed;
  result.statements_reopened += cascade.statements_reopened;
  result.episodes_deleted += static_cast<std::size_t>(
      connection
          .run("DELETE FROM episodes WHERE episode_id IN (SELECT unnest(?::VARCHAR[]))",
               {episode_ids})
          .rows_changed());
}

// Deletes an owner's links (both directions), episodes and raw events, as delete_owner().
void delete_owner_rows(Connection& connection, const std::string& owner_id,
                       OwnerDeletion& deleted) {
  // Statements, sources and progress rows carry their owner (a batch never lets a statement
  // of one owner rest on another owner's episode), so they go by owner_id.
  deleted.statements +=
      connection.run("DELETE FROM statements WHERE owner_id = ?", {owner_id}).rows_changed();
  connection.run("DELETE FROM statement_sources WHERE owner_id = ?", {owner_id});
  connection.run("DELETE FROM semantic_progress WHERE owner_id = ?", {owner_id});
  deleted.links += connection
                       .run(
                           "DELETE FROM episode_raw_data WHERE owner_id = ? "
                           "OR episode_id IN (SELECT episode_id FROM episodes WHERE owner_id = ?) "
                           "OR raw_data_id IN (SELECT data_id FROM raw_data WHERE owner_id = ?)",
                           {owner_id, owner_id, owner_id})
                       .rows_changed();
  deleted.episodes +=
      connection.run("DELETE FROM episodes WHERE owner_id = ?", {owner_id}).rows_changed();
  deleted.raw_events +=
      connection.run("DELETE FROM raw_data WHERE owner_id = ?", {owner_id}).rows_changed();
}

}  // namespace

WriteBatchResult DuckDbStorage::apply(const WriteBatch& batch) {
  WriteBatchResult result;
  if (empty_batch(batch)) return result;
  validate_write_batch(batch, ctx_.config().max_content_bytes);
  const WriteBatchIds ids = ids_named_by(batch);
  const std::vector<EpisodeLink> links = unique_links(batch);
  // Encoding is the costly part: done before the write lock is taken.
  std::vector<EncodedRawEvent> raw_rows;
  raw_rows.reserve(batch.raw_events.size());
  for (const RawEvent& event : batch.raw_events) raw_rows.push_back(encode(event));
  std::vector<EncodedEpisode> episode_rows;
  episode_rows.reserve(batch.episodes.size());
  for (const Episode& episode : batch.episodes) episode_rows.push_back(encode(episode));
  std::vector<std::string> link_episodes, link_raws;
  for (const EpisodeLink& link : links) {
    link_episodes.push_back(link.episode_id);
    link_raws.push_back(link.raw_data_id);
  }
  std::vector<std::string> batch_raw_ids;
  for (const RawEvent& event : batch.raw_events) batch_raw_ids.push_back(event.data_id);
  std::vector<EncodedStatement> statement_rows, update_rows;
  statement_rows.reserve(batch.statements.size());
  for (const nemori::Statement& statement : batch.statements)
    statement_rows.push_back(encode(statement));
  update_rows.reserve(batch.statement_updates.size());
  for (const nemori::Statement& update : batch.statement_updates)
    update_rows.push_back(encode(update));
  const Timestamp created_at = now_utc();

  // The checks run inside the write, so nothing can change between them and the writes; a
  // constraint violation left after them is a key DuckDB still holds for old readers, and the
  // write is retried (see write_with_key_retry).
  write_with_key_retry(
      ctx_,
      [&](Connection& connection) {
        result = WriteBatchResult{};
        StoredRecords stored;
        read_owners(connection, "raw_data", "data_id", ids.raw, stored.raw_owner);
        read_owners(connection, "episodes", "episode_id", ids.episodes, stored.episode_owner);
        if (batch.skip_identical_raw_events && !batch_raw_ids.empty()) {
          Result found = connection.run("SELECT " + raw_event_columns() +
                                            " FROM raw_data WHERE data_id IN "
                                            "(SELECT unnest(?::VARCHAR[]))",
                                        {batch_raw_ids});
          for (RawEvent& event : read_records<RawEvent>(found)) {
            std::string id = event.data_id;
            stored.raw.emplace(std::move(id), std::move(event));
          }
        }
        read_statement_records(connection, batch, ids, stored);
        const std::vector<bool> store = check_write_batch(batch, stored);

        for (const std::string& owner : batch.delete_owners) {
          delete_owner_rows(connection, owner, result.deleted);
        }
        if (std::find(store.begin(), store.end(), true) != store.end()) {
          Appender appender = raw_event_appender(connection);
          for (std::size_t i = 0; i < raw_rows.size(); ++i) {
            if (store[i]) append_row(appender, raw_rows[i], created_at);
          }
          appender.close();
        }
        for (std::size_t i = 0; i < store.size(); ++i) {
          if (store[i]) {
            ++result.raw_events_stored;
          } else {
            result.raw_already_stored.push_back(batch.raw_events[i].data_id);
          }
        }
        if (!episode_rows.empty()) {
          Appender appender = episode_appender(connection);
          for (const EncodedEpisode& row : episode_rows) append_row(appender, row, created_at);
          appender.close();
          result.episodes_stored = episode_rows.size();
        }
        if (!links.empty()) {
          // Pairs already linked are skipped, so a link stored twice stays one link.
          result.links_added = static_cast<std::size_t>(
              connection
                  .run("INSERT INTO episode_raw_data (episode_id, raw_data_id, owner_id, "
                       "created_at) SELECT l.e, l.r, ep.owner_id, ? FROM (SELECT "
                       "unnest(?::VARCHAR[]) AS e, unnest(?::VARCHAR[]) AS r) l JOIN episodes ep "
                       "ON ep.episode_id = l.e WHERE NOT EXISTS (SELECT 1 FROM episode_raw_data x "
                       "WHERE x.episode_id = l.e AND x.raw_data_id = l.r)",
                       {created_at, link_episodes, link_raws})
                  .rows_changed());
        }
        if (!batch.processed_ids.empty()) {
          connection.run(
              "UPDATE raw_data SET processed = true, processing_version = ? "
              "WHERE data_id IN (SELECT unnest(?::VARCHAR[]))",
              {batch.processed_version, batch.processed_ids});
        }
        move_sources(connection, batch.source_moves);
        delete_episode_rows(connection, batch.delete_episodes, result);
        if (!statement_rows.empty() || !batch.statement_sources.empty()) {
          SourceClock clock(connection);
          insert_statements(connection, statement_rows, clock);
          result.statements_stored = statement_rows.size();
          result.statements_updated = replace_statements(connection, update_rows);
          result.sources_added =
              add_sources(connection, batch.statement_sources, owners_after(batch, stored), clock);
        } else {
          result.statements_updated = replace_statements(connection, update_rows);
        }
        upsert_progress(connection, batch.semantic_progress);
      },
      [] {});
  return result;
}

}  // namespace nemori::detail::duck
