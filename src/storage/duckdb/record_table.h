// The row operations the raw_data and episodes tables share: insert a batch through the
// appender, read rows by key, replace a row in place. RecordTable<Record> names each table's
// key, columns, appender and decoder; rows.h maps the records to columns.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "nemori/core/time.h"
#include "storage/duckdb/key_conflicts.h"
#include "storage/duckdb/key_lookup.h"
#include "storage/duckdb/rows.h"
#include "storage/duckdb/statement_cascade.h"
#include "storage/duckdb/store_context.h"

namespace nemori::detail::duck {

/// What the shared operations need to know of a record's table.
template <typename Record>
struct RecordTable;

/// raw_data, keyed by data_id.
template <>
struct RecordTable<RawEvent> {
  static constexpr std::string_view kTable = "raw_data";
  static constexpr std::string_view kKey = "data_id";
  static constexpr std::string_view kNoun = "a raw event";        ///< for DuplicateError hints
  static constexpr std::string_view kLinkColumn = "raw_data_id";  ///< in episode_raw_data
  static std::string columns() { return raw_event_columns(); }
  static Appender appender(Connection& connection) { return raw_event_appender(connection); }
  static RawEvent decode(const Chunk& chunk, idx_t row) { return decode_raw_event(chunk, row); }
  static const std::string& key_of(const RawEvent& event) { return event.data_id; }
  /// Nothing but links depends on a raw event.
  static constexpr bool kHasDependents = false;
  static void remove_dependents(Connection&, const std::vector<std::string>&) {}
};

/// episodes, keyed by episode_id.
template <>
struct RecordTable<Episode> {
  static constexpr std::string_view kTable = "episodes";
  static constexpr std::string_view kKey = "episode_id";
  static constexpr std::string_view kNoun = "an episode";
  static constexpr std::string_view kLinkColumn = "episode_id";
  static std::string columns() { return episode_columns(); }
  static Appender appender(Connection& connection) { return episode_appender(connection); }
  static Episode decode(const Chunk& chunk, idx_t row) { return decode_episode(chunk, row); }
  static const std::string& key_of(const Episode& episode) { return episode.episode_id; }
  /// Statement sources, progress rows and the statements left without a source.
  static constexpr bool kHasDependents = true;
  static void remove_dependents(Connection& connection, const std::vector<std::string>& ids) {
    remove_episode_dependents(connection, ids);
  }
};

/// The ids as one list parameter (`?::VARCHAR[]`).
inline std::vector<std::string> id_list(std::span<const std::string> ids) {
  return {ids.begin(), ids.end()};
}

/// Every row of `result` (whose columns are RecordTable<Record>::columns()) decoded.
template <typename Record>
std::vector<Record> read_records(Result& result) {
  std::vector<Record> records;
  result.for_each_row([&](const Chunk& chunk, idx_t row) {
    records.push_back(RecordTable<Record>::decode(chunk, row));
  });
  return records;
}

/// Inserts validated records in one write through the appender. Encoding (JSON text, case
/// folding) is the costly part: done before the write lock is taken. A stored key throws
/// DuplicateError naming it, and nothing is stored.
template <typename Record>
void insert_records(StoreContext& ctx, std::span<const Record> records) {
  using Table = RecordTable<Record>;
  std::vector<decltype(encode(records.front()))> rows;
  rows.reserve(records.size());
  for (const Record& record : records) rows.push_back(encode(record));
  const Timestamp created_at = now_utc();
  write_with_key_retry(
      ctx,
      [&](Connection& connection) {
        Appender appender = Table::appender(connection);
        for (const auto& row : rows) append_row(appender, row, created_at);
        appender.close();
      },
      [&] {
        std::vector<std::string> ids;
        ids.reserve(records.size());
        for (const Record& record : records) ids.push_back(Table::key_of(record));
        reject_stored_ids(ctx, Table::kTable, Table::kKey, ids, Table::kNoun);
      });
}

/// The record stored under `id`, if any.
template <typename Record>
std::optional<Record> get_record(StoreContext& ctx, const std::string& id) {
  using Table = RecordTable<Record>;
  static const std::string sql = "SELECT " + Table::columns() + " FROM " +
                                 std::string(Table::kTable) + " WHERE " + std::string(Table::kKey) +
                                 " = ?";
  return ctx.read_one([&](Connection& connection) -> std::optional<Record> {
    Result result = connection.run(sql, {id});
    std::vector<Record> records = read_records<Record>(result);
    if (records.empty()) return std::nullopt;
    return std::move(records.front());
  });
}

/// The records stored under `ids`, in the order of `ids` (nullopt where none), in one read
/// (key_lookup(): through the primary key's index for up to kKeyListMax ids).
template <typename Record>
std::vector<std::optional<Record>> get_records(StoreContext& ctx,
                                               std::span<const std::string> ids) {
  using Table = RecordTable<Record>;
  if (ids.empty()) return {};
  const KeyLookup lookup = key_lookup(Table::columns(), Table::kTable, Table::kKey, ids);
  std::vector<Record> records = ctx.read_one([&](Connection& connection) {
    Result result = connection.run(lookup.sql, lookup.params);
    return read_records<Record>(result);
  });
  std::unordered_map<std::string_view, const Record*> by_id;
  for (const Record& record : records) by_id.emplace(Table::key_of(record), &record);
  std::vector<std::optional<Record>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    const auto found = by_id.find(id);
    out.push_back(found == by_id.end() ? std::nullopt : std::optional<Record>(*found->second));
  }
  return out;
}

/// Replaces the stored row of a validated record (delete + insert in one transaction: DuckDB
/// turns updates of indexed columns into exactly that anyway, and one encoder serves inserts
/// and updates), keeping its created_at; then calls after(connection) in the same
/// transaction. False, and nothing written, when no row has the record's key.
template <typename Record, typename After>
bool replace_record(StoreContext& ctx, const Record& record, After&& after) {
  using Table = RecordTable<Record>;
  const auto row = encode(record);
  bool found = false;
  write_with_key_retry(
      ctx,
      [&](Connection& connection) {
        Result deleted = connection.run("DELETE FROM " + std::string(Table::kTable) + " WHERE " +
                                            std::string(Table::kKey) + " = ? RETURNING created_at",
                                        {Table::key_of(record)});
        std::optional<Timestamp> created_at;
        deleted.for_each_row(
            [&](const Chunk& chunk, idx_t r) { created_at = chunk.timestamp(0, r); });
        found = created_at.has_value();
        if (!found) return;
        Appender appender = Table::appender(connection);
        append_row(appender, row, *created_at);
        appender.close();
        after(connection);
      },
      [] {});
  return found;
}

/// Deletes the record stored under `id`, its links and what depends on it
/// (RecordTable::remove_dependents); false when there was none.
template <typename Record>
bool remove_record(StoreContext& ctx, const std::string& id) {
  using Table = RecordTable<Record>;
  bool removed = false;
  // Reopening statements moves keys of the statements table (write_with_key_retry).
  write_with_key_retry(
      ctx,
      [&](Connection& connection) {
        connection.run(
            "DELETE FROM episode_raw_data WHERE " + std::string(Table::kLinkColumn) + " = ?", {id});
        removed = connection
                      .run("DELETE FROM " + std::string(Table::kTable) + " WHERE " +
                               std::string(Table::kKey) + " = ?",
                           {id})
                      .rows_changed() > 0;
        if constexpr (Table::kHasDependents) {
          if (removed) Table::remove_dependents(connection, {id});
        }
      },
      [] {});
  return removed;
}

/// Deletes the records older than `cutoff`, of one owner or of all when `owner_id` is empty,
/// with their links and what depends on them; returns how many records went.
template <typename Record>
std::size_t remove_records_before(StoreContext& ctx, Timestamp cutoff,
                                  const std::string& owner_id) {
  using Table = RecordTable<Record>;
  std::string condition = "\"timestamp\" < ?";
  std::vector<Param> params{cutoff};
  if (!owner_id.empty()) {
    condition += " AND owner_id = ?";
    params.emplace_back(owner_id);
  }
  const std::string table(Table::kTable), key(Table::kKey);
  std::size_t removed = 0;
  write_with_key_retry(
      ctx,
      [&](Connection& connection) {
        if constexpr (Table::kHasDependents) {
          std::vector<std::string> ids;
          Result old =
              connection.run("SELECT " + key + " FROM " + table + " WHERE " + condition, params);
          old.for_each_row(
              [&](const Chunk& chunk, idx_t row) { ids.emplace_back(chunk.text(0, row)); });
          Table::remove_dependents(connection, ids);
        }
        connection.run("DELETE FROM episode_raw_data WHERE " + std::string(Table::kLinkColumn) +
                           " IN (SELECT " + key + " FROM " + table + " WHERE " + condition + ")",
                       params);
        removed = static_cast<std::size_t>(
            connection.run("DELETE FROM " + table + " WHERE " + condition, params).rows_changed());
      },
      [] {});
  return removed;
}

/// COUNT(*) of one owner's records, or of all when `owner_id` is empty.
template <typename Record>
std::size_t count_records(StoreContext& ctx, const std::string& owner_id) {
  const std::string table(RecordTable<Record>::kTable);
  return ctx.read_one([&](Connection& connection) {
    Result result =
        owner_id.empty()
            ? connection.run("SELECT count(*) FROM " + table)
            : connection.run("SELECT count(*) FROM " + table + " WHERE owner_id = ?", {owner_id});
    return static_cast<std::size_t>(result.single_int64());
  });
}

}  // namespace nemori::detail::duck
