#include "storage/duckdb/raw_data_repository.h"

#include <chrono>
#include <limits>
#include <tuple>
#include <unordered_set>

#include "nemori/core/utf8.h"
#include "storage/duckdb/appender.h"
#include "storage/duckdb/key_conflicts.h"
#include "storage/duckdb/record_table.h"
#include "storage/duckdb/rows.h"
#include "storage/duckdb/search_sql.h"
#include "storage/record_validation.h"

namespace nemori::detail::duck {

namespace {

std::int64_t as_count(std::size_t n) {
  return static_cast<std::int64_t>(
      std::min<std::size_t>(n, static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max())));
}

}  // namespace

void DuckDbRawDataRepository::store(const RawEvent& event) {
  validate_for_storage(event, ctx_.config().max_content_bytes);
  insert_records(ctx_, std::span<const RawEvent>(&event, 1));
}

void DuckDbRawDataRepository::store_batch(std::span<const RawEvent> events) {
  if (events.empty()) return;
  validate_batch_for_storage(events, ctx_.config().max_content_bytes);
  insert_records(ctx_, events);
}

std::optional<RawEvent> DuckDbRawDataRepository::get(const std::string& data_id) {
  return get_record<RawEvent>(ctx_, data_id);
}

std::vector<std::optional<RawEvent>> DuckDbRawDataRepository::get_batch(
    std::span<const std::string> ids) {
  return get_records<RawEvent>(ctx_, ids);
}

bool DuckDbRawDataRepository::update(const RawEvent& event) {
  validate_for_storage(event, ctx_.config().max_content_bytes);
  return replace_record(ctx_, event, [](Connection&) {});
}

bool DuckDbRawDataRepository::remove(const std::string& data_id) {
  return remove_record<RawEvent>(ctx_, data_id);
}

RawDataSearchResult DuckDbRawDataRepository::search(const RawDataQuery& query) {
  const auto started = std::chrono::steady_clock::now();
  validate(query);
  const SearchSql sql = raw_search_sql(query, now_utc());
  RawDataSearchResult out;
  std::tie(out.events, out.total_count) = ctx_.read([&](Connection& connection) {
    return run_search<RawEvent>(connection, sql, query.limit, query.offset, decode_raw_event,
                                [](const RawEvent& r) -> const std::string& { return r.data_id; });
  });
  out.has_more = query.offset + out.events.size() < out.total_count;
  out.query_time_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return out;
}

bool DuckDbRawDataRepository::mark_processed(const std::string& data_id,
                                             const std::string& version) {
  validate_text(version, "processing_version");
  return ctx_.write([&](Connection& connection) {
    return connection
               .run(
                   "UPDATE raw_data SET processed = true, processing_version = ? "
                   "WHERE data_id = ?",
                   {version, data_id})
               .rows_changed() > 0;
  });
}

std::vector<bool> DuckDbRawDataRepository::mark_processed_batch(std::span<const std::string> ids,
                                                                const std::string& version) {
  validate_text(version, "processing_version");
  if (ids.empty()) return {};
  const std::unordered_set<std::string> updated = ctx_.write([&](Connection& connection) {
    std::unordered_set<std::string> marked;
    Result result = connection.run(
        "UPDATE raw_data SET processed = true, processing_version = ? "
        "WHERE data_id IN (SELECT unnest(?::VARCHAR[])) RETURNING data_id",
        {version, id_list(ids)});
    result.for_each_row([&](const Chunk& chunk, idx_t row) { marked.emplace(chunk.text(0, row)); });
    return marked;
  });
  std::vector<bool> flags;
  flags.reserve(ids.size());
  for (const std::string& id : ids) flags.push_back(updated.count(id) > 0);
  return flags;
}

std::vector<RawEvent> DuckDbRawDataRepository::get_unprocessed(const std::string& owner_id,
                                                               std::optional<DataType> type,
                                                               std::optional<std::size_t> limit) {
  std::string sql = "SELECT " + raw_event_columns() + " FROM raw_data WHERE NOT processed";
  std::vector<Param> params;
  if (!owner_id.empty()) {
    sql += " AND owner_id = ?";
    params.emplace_back(owner_id);
  }
  if (type) {
    sql += " AND data_type = ?";
    params.emplace_back(std::string(to_string(*type)));
  }
  sql += " ORDER BY \"timestamp\" ASC, data_id ASC";
  if (limit) {
    sql += " LIMIT ?";
    params.emplace_back(as_count(*limit));
  }
  return ctx_.read_one([&](Connection& connection) {
    Result result = connection.run(sql, params);
    return read_records<RawEvent>(result);
  });
}

std::size_t DuckDbRawDataRepository::cleanup_before(Timestamp cutoff, const std::string& owner_id) {
  return remove_records_before<RawEvent>(ctx_, cutoff, owner_id);
}

std::size_t DuckDbRawDataRepository::count(const std::string& owner_id) {
  return count_records<RawEvent>(ctx_, owner_id);
}

}  // namespace nemori::detail::duck
