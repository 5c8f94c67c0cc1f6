// SQL for RawDataRepository::search, EpisodeRepository::search and
// SemanticMemoryRepository::search.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/core/time.h"
#include "nemori/storage/query.h"
#include "storage/duckdb/connection.h"
#include "storage/duckdb/key_lookup.h"
#include "storage/duckdb/statement.h"

namespace nemori::detail::duck {

/// The statements of one search, sharing one WHERE clause: the page (filter, order with the
/// id as tie-break, offset, limit), the same page as keys only, and the count of every match.
struct SearchSql {
  std::string page;                ///< SELECT <columns> ... ORDER BY ... [LIMIT ?] [OFFSET ?]
  std::vector<Param> page_params;  ///< Parameters of `page` and of `page_keys`, in order.
  std::string page_keys;  ///< SELECT <key> ... with the WHERE, ORDER BY and LIMIT of `page`.
  std::string columns;    ///< The columns of `page`.
  std::string table;      ///< The table searched.
  std::string key;        ///< Its primary key column.
  std::string count;      ///< SELECT count(*) ... with the same WHERE clause.
  std::vector<Param> count_params;  ///< Parameters of `count`, in order.
};

/// SQL for a raw event query (already validated); `now` anchors recent_hours.
SearchSql raw_search_sql(const RawDataQuery& query, Timestamp now);

/// SQL for an episode query (already validated, without full_text); `now` anchors
/// recent_hours.
SearchSql episode_search_sql(const EpisodeQuery& query, Timestamp now);

/// SQL for a statement query (already validated). The page's rows come without their sources.
SearchSql statement_search_sql(const StatementQuery& query);

/// Runs `sql` on `connection` (inside the caller's read transaction, so that every statement
/// sees one snapshot): the page, decoded row by row with decode(chunk, row), then the COUNT
/// only when the page cannot tell the total (it may have been cut by `limit`, or `offset` lies
/// past the end). Returns the rows and the total number of matches.
///
/// A page of at most kKeyListMax rows is read in two steps: the keys of the page first (the
/// filter and sort read only the columns they name), then its rows by key through the primary
/// key's index (key_lookup()). DuckDB's own plan for the one-statement page joins the top keys
/// back to a scan of the table by row id, which took longer (docs/duckdb.md). `key_of` gives a
/// decoded record's key.
template <typename Record, typename Decode, typename KeyOf>
std::pair<std::vector<Record>, std::size_t> run_search(Connection& connection, const SearchSql& sql,
                                                       std::optional<std::size_t> limit,
                                                       std::size_t offset, Decode decode,
                                                       KeyOf key_of) {
  std::vector<Record> rows;
  if (limit && *limit <= kKeyListMax) {
    std::vector<std::string> keys;
    Result page = connection.run(sql.page_keys, sql.page_params);
    page.for_each_row(
        [&](const Chunk& chunk, idx_t row) { keys.emplace_back(chunk.text(0, row)); });
    if (!keys.empty()) {
      const KeyLookup lookup = key_lookup(sql.columns, sql.table, sql.key, keys);
      std::vector<Record> found;
      found.reserve(keys.size());
      Result fetched = connection.run(lookup.sql, lookup.params);
      fetched.for_each_row(
          [&](const Chunk& chunk, idx_t row) { found.push_back(decode(chunk, row)); });
      std::unordered_map<std::string_view, Record*> by_key;
      for (Record& record : found) by_key.emplace(key_of(record), &record);
      rows.reserve(keys.size());
      for (const std::string& key : keys) {
        const auto hit = by_key.find(key);
        if (hit == by_key.end()) {
          throw StorageError("DuckDB search: the row of \"" + key +
                             "\" vanished between two statements of one read transaction");
        }
        rows.push_back(std::move(*hit->second));
      }
    }
  } else {
    Result page = connection.run(sql.page, sql.page_params);
    page.for_each_row([&](const Chunk& chunk, idx_t row) { rows.push_back(decode(chunk, row)); });
  }
  const bool tail = !limit || rows.size() < *limit;
  std::size_t total = 0;
  if (tail && (!rows.empty() || offset == 0)) {
    total = offset + rows.size();
  } else {
    const std::int64_t counted = connection.run(sql.count, sql.count_params).single_int64();
    total = counted < 0 ? 0 : static_cast<std::size_t>(counted);
  }
  return {std::move(rows), total};
}

/// The JSON pointer (RFC 6901) of `key` under `prefix`, e.g. ("/custom_fields", "a/b") ->
/// "/custom_fields/a~1b", as DuckDB's json_extract expects.
std::string json_pointer(std::string_view prefix, std::string_view key);

}  // namespace nemori::detail::duck
