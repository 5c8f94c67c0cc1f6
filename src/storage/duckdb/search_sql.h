// SQL for RawDataRepository::search and EpisodeRepository::search.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nemori/core/time.h"
#include "nemori/storage/query.h"
#include "storage/duckdb/connection.h"
#include "storage/duckdb/statement.h"

namespace nemori::detail::duck {

/// The two statements of one search, sharing one WHERE clause: the page (filter, order with
/// the id as tie-break, offset, limit) and the count of every match.
struct SearchSql {
  std::string page;                 ///< SELECT <columns> ... ORDER BY ... [LIMIT ?] [OFFSET ?]
  std::vector<Param> page_params;   ///< Parameters of `page`, in order.
  std::string count;                ///< SELECT count(*) ... with the same WHERE clause.
  std::vector<Param> count_params;  ///< Parameters of `count`, in order.
};

/// SQL for a raw event query (already validated); `now` anchors recent_hours.
SearchSql raw_search_sql(const RawDataQuery& query, Timestamp now);

/// SQL for an episode query (already validated, without full_text); `now` anchors
/// recent_hours.
SearchSql episode_search_sql(const EpisodeQuery& query, Timestamp now);

/// Runs `sql` on `connection` (inside the caller's read transaction, so page and count see one
/// snapshot): the page, decoded row by row with decode(chunk, row), then the COUNT only when
/// the page cannot tell the total (it may have been cut by `limit`, or `offset` lies past the
/// end). Returns the rows and the total number of matches.
template <typename Record, typename Decode>
std::pair<std::vector<Record>, std::size_t> run_search(Connection& connection, const SearchSql& sql,
                                                       std::optional<std::size_t> limit,
                                                       std::size_t offset, Decode decode) {
  std::vector<Record> rows;
  Result page = connection.run(sql.page, sql.page_params);
  page.for_each_row([&](const Chunk& chunk, idx_t row) { rows.push_back(decode(chunk, row)); });
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
