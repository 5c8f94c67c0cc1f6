#include "storage/duckdb/duckdb_storage.h"

#include <chrono>
#include <exception>
#include <filesystem>
#include <system_error>

#include "nemori/core/error.h"
#include "storage/backends.h"
#include "storage/duckdb/index_check.h"
#include "storage/owner_lock.h"

namespace nemori::detail {

namespace duck {

namespace {

std::uint64_t file_size_or_zero(const std::filesystem::path& path) {
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<std::uint64_t>(size);
}

std::size_t to_size(std::int64_t n) {
  return n < 0 ? 0 : static_cast<std::size_t>(n);
}

// The StorageStats fields of semantic memory: statements, sources, merges, progress, usage.
void semantic_stats(Connection& connection, StorageStats& stats) {
  Result totals = connection.run(
      "SELECT "
      "(SELECT count(*) FROM statements WHERE valid_to IS NULL), "
      "(SELECT count(*) FROM statements WHERE valid_to IS NOT NULL), "
      "(SELECT count(*) FROM statement_sources), "
      "(SELECT count(*) FROM episodes WHERE "
      "json_extract(event_metadata, '/custom_fields/merged_from') IS NOT NULL), "
      "(SELECT coalesce(sum(semantic_calls), 0)::BIGINT FROM semantic_progress), "
      "(SELECT coalesce(sum(semantic_tokens), 0)::BIGINT FROM semantic_progress), "
      "(SELECT coalesce(sum(merge_calls), 0)::BIGINT FROM semantic_progress), "
      "(SELECT coalesce(sum(merge_tokens), 0)::BIGINT FROM semantic_progress)");
  totals.for_each_row([&](const Chunk& chunk, idx_t row) {
    stats.statements_current = to_size(chunk.int64(0, row));
    stats.statements_superseded = to_size(chunk.int64(1, row));
    stats.statement_sources = to_size(chunk.int64(2, row));
    stats.merged_episodes = to_size(chunk.int64(3, row));
    stats.semantic_usage["semantic_calls"] = static_cast<std::uint64_t>(chunk.int64(4, row));
    stats.semantic_usage["semantic_tokens"] = static_cast<std::uint64_t>(chunk.int64(5, row));
    stats.semantic_usage["merge_calls"] = static_cast<std::uint64_t>(chunk.int64(6, row));
    stats.semantic_usage["merge_tokens"] = static_cast<std::uint64_t>(chunk.int64(7, row));
  });
  Result categories =
      connection.run("SELECT category, count(*) FROM statements GROUP BY category");
  categories.for_each_row([&](const Chunk& chunk, idx_t row) {
    stats.statements_by_category[std::string(chunk.text(0, row))] = to_size(chunk.int64(1, row));
  });
  Result states = connection.run("SELECT state, count(*) FROM semantic_progress GROUP BY state");
  states.for_each_row([&](const Chunk& chunk, idx_t row) {
    stats.semantic_progress[std::string(chunk.text(0, row))] = to_size(chunk.int64(1, row));
  });
}

}  // namespace

DuckDbStorage::DuckDbStorage(const StorageConfig& config)
    : ctx_(config), raw_(ctx_), episodes_(ctx_), statements_(ctx_) {}

DuckDbStorage::~DuckDbStorage() {
  ctx_.close();
}

OwnerDeletion DuckDbStorage::delete_owner(const std::string& owner_id) {
  if (owner_id.empty()) {
    throw ValidationError("owner_id", "is required (delete_owner never means every owner)");
  }
  // Its statements, their sources and its progress rows, links of the owner's episodes, links
  // from other owners' episodes to its raw events, its episodes and raw events: one
  // transaction (write_batch.cpp).
  WriteBatch batch;
  batch.delete_owners.push_back(owner_id);
  return apply(batch).deleted;
}

std::vector<std::string> DuckDbStorage::list_owners() {
  return ctx_.read([&](Connection& connection) {
    Result result = connection.run(
        "SELECT owner_id FROM raw_data UNION SELECT owner_id FROM episodes ORDER BY owner_id");
    std::vector<std::string> owners;
    result.for_each_row(
        [&](const Chunk& chunk, idx_t row) { owners.emplace_back(chunk.text(0, row)); });
    return owners;
  });
}

HealthStatus DuckDbStorage::health() {
  HealthStatus status;
  const auto started = std::chrono::steady_clock::now();
  try {
    const std::int64_t one = ctx_.read(
        [](Connection& connection) { return connection.run("SELECT 1::BIGINT").single_int64(); });
    status.healthy = one == 1;
    if (!status.healthy) status.reason = "SELECT 1 returned " + std::to_string(one);
    if (status.healthy) {
      const IntegrityReport integrity = check_integrity(false);
      for (const std::string& problem : integrity.problems) {
        status.reason += (status.reason.empty() ? "" : "; ") + problem;
      }
      if (!integrity.consistent()) {
        status.healthy = false;
        status.reason += " (the indexes can be rebuilt from the tables: nemori repair)";
      }
    }
  } catch (const std::exception& e) {
    status.healthy = false;
    status.reason = e.what();
  }
  status.latency_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  return status;
}

IntegrityReport DuckDbStorage::check_integrity(bool thorough) {
  return ctx_.read(
      [&](Connection& connection) { return check_secondary_indexes(connection, thorough); });
}

IntegrityReport DuckDbStorage::repair() {
  const std::vector<std::string> rebuilt = ctx_.write_in_steps(
      [](Connection& connection) { return rebuild_secondary_indexes(connection); });
  ctx_.checkpoint();
  IntegrityReport report = check_integrity(true);
  report.rebuilt = rebuilt;
  return report;
}

std::filesystem::path DuckDbStorage::file_path() const {
  StoreContext::Use use = ctx_.enter();  // throws StorageError once closed
  return ctx_.database().path();
}

std::shared_ptr<void> DuckDbStorage::lock_owner(const std::string& owner_id) {
  const std::filesystem::path path = file_path();
  if (path.empty()) return Storage::lock_owner(owner_id);  // in memory: this store alone
  return hold_owner_in_process("duckdb:" + path.string(), owner_id);
}

PurgeReport DuckDbStorage::purge() {
  PurgeReport report;
  const std::filesystem::path path = file_path();
  if (path.empty()) return report;  // in memory: nothing on disk
  const auto started = std::chrono::steady_clock::now();
  const auto on_disk = [&] {
    return file_size_or_zero(path) + file_size_or_zero(path.string() + ".wal");
  };
  report.bytes_before = on_disk();
  ctx_.rewrite_file();
  report.bytes_after = on_disk();
  report.method = "the DuckDB file rewritten with its live data only";
  report.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

StorageStats DuckDbStorage::stats() {
  StorageStats stats;
  stats.backend = backend();
  ctx_.read([&](Connection& connection) {
    Result totals = connection.run(
        "SELECT "
        "(SELECT count(*) FROM (SELECT owner_id FROM raw_data UNION "
        "SELECT owner_id FROM episodes)), "
        "(SELECT count(*) FROM raw_data), "
        "(SELECT count(*) FROM raw_data WHERE processed), "
        "(SELECT count(*) FROM episodes), "
        "(SELECT count(*) FROM episode_raw_data), "
        "(SELECT min(t) FROM (SELECT min(\"timestamp\") AS t FROM raw_data UNION ALL "
        "SELECT min(\"timestamp\") FROM episodes)), "
        "(SELECT max(t) FROM (SELECT max(\"timestamp\") AS t FROM raw_data UNION ALL "
        "SELECT max(\"timestamp\") FROM episodes))");
    totals.for_each_row([&](const Chunk& chunk, idx_t row) {
      stats.owners = to_size(chunk.int64(0, row));
      stats.total_raw_data = to_size(chunk.int64(1, row));
      stats.processed_raw_data = to_size(chunk.int64(2, row));
      stats.total_episodes = to_size(chunk.int64(3, row));
      stats.total_links = to_size(chunk.int64(4, row));
      stats.oldest_data = chunk.optional_timestamp(5, row);
      stats.newest_data = chunk.optional_timestamp(6, row);
    });
    Result raw_types =
        connection.run("SELECT data_type, count(*) FROM raw_data GROUP BY data_type");
    raw_types.for_each_row([&](const Chunk& chunk, idx_t row) {
      stats.raw_data_by_type[std::string(chunk.text(0, row))] = to_size(chunk.int64(1, row));
    });
    Result episode_types =
        connection.run("SELECT episode_type, count(*) FROM episodes GROUP BY episode_type");
    episode_types.for_each_row([&](const Chunk& chunk, idx_t row) {
      stats.episodes_by_type[std::string(chunk.text(0, row))] = to_size(chunk.int64(1, row));
    });
    Result levels = connection.run("SELECT \"level\", count(*) FROM episodes GROUP BY \"level\"");
    levels.for_each_row([&](const Chunk& chunk, idx_t row) {
      stats.episodes_by_level[chunk.int32(0, row)] = to_size(chunk.int64(1, row));
    });
    semantic_stats(connection, stats);
    Result memory = connection.run(
        "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT, "
        "coalesce(sum(memory_usage_bytes) FILTER (WHERE tag = 'ART_INDEX'), 0)::BIGINT "
        "FROM duckdb_memory()");
    memory.for_each_row([&](const Chunk& chunk, idx_t row) {
      stats.details["memory_bytes"] = chunk.int64(0, row);
      stats.index_size_bytes = static_cast<std::uint64_t>(chunk.int64(1, row));
    });
    const std::filesystem::path& path = ctx_.database().path();
    if (path.empty()) {
      stats.storage_size_bytes = stats.details["memory_bytes"].get<std::uint64_t>();
    } else {
      const std::uint64_t file = file_size_or_zero(path);
      const std::uint64_t wal = file_size_or_zero(path.string() + ".wal");
      stats.storage_size_bytes = file + wal;
      stats.details["file_bytes"] = file;
      stats.details["wal_bytes"] = wal;
    }
    stats.details["path"] = path.empty() ? ":memory:" : path.string();
    stats.details["duckdb_version"] = duckdb_library_version();
    stats.details["schema_version"] = ctx_.schema_version();
    stats.details["index_size_note"] = "memory held by loaded ART indexes";
    stats.details["reader_connections_idle"] = ctx_.pool().idle();
    stats.details["reader_connections_in_use"] = ctx_.pool().in_use();
  });
  return stats;
}

void DuckDbStorage::close() {
  ctx_.close();
}

}  // namespace duck

std::unique_ptr<Storage> open_duckdb_storage(const StorageConfig& config) {
  return std::make_unique<duck::DuckDbStorage>(config);
}

}  // namespace nemori::detail
