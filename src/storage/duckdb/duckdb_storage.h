// The DuckDB Storage: one database file holding raw events, episodes, their links, statements
// and the semantic pass's progress.
#pragma once

#include <filesystem>
#include <memory>

#include "nemori/storage/config.h"
#include "nemori/storage/repository.h"
#include "storage/duckdb/episode_repository.h"
#include "storage/duckdb/raw_data_repository.h"
#include "storage/duckdb/statement_repository.h"
#include "storage/duckdb/store_context.h"

namespace nemori::detail::duck {

/// Storage over one DuckDB file (see docs/duckdb.md for schema, concurrency and backup).
class DuckDbStorage final : public Storage {
 public:
  /// Opens (creating and migrating as needed) the file at config.path. Throws StorageError.
  explicit DuckDbStorage(const StorageConfig& config);
  /// Closes the store.
  ~DuckDbStorage() override;

  /// "duckdb".
  std::string backend() const override { return "duckdb"; }
  /// The raw event repository.
  RawDataRepository& raw_data() override { return raw_; }
  /// The episode repository.
  EpisodeRepository& episodes() override { return episodes_; }
  /// The statement repository.
  SemanticMemoryRepository& statements() override { return statements_; }
  /// Statements, sources, progress, links, episodes and raw events of the owner, one
  /// transaction.
  OwnerDeletion delete_owner(const std::string& owner_id) override;
  /// Checks and writes the whole batch in one transaction (write_batch.cpp).
  WriteBatchResult apply(const WriteBatch& batch) override;
  /// Owners of raw events or episodes, sorted.
  std::vector<std::string> list_owners() override;
  /// SELECT 1 on a pooled connection, timed, then check_integrity(false); never throws.
  HealthStatus health() override;
  /// Secondary indexes against their tables (index_check.h).
  IntegrityReport check_integrity(bool thorough) override;
  /// Rebuilds the secondary indexes in one transaction, checkpoints, checks thoroughly.
  IntegrityReport repair() override;
  /// Rewrites the file with only its live data (StoreContext::rewrite_file).
  PurgeReport purge() override;
  /// An in-process hold per file and owner (one process has the file).
  std::shared_ptr<void> lock_owner(const std::string& owner_id) override;
  /// Counts and group-bys in one snapshot, file and index sizes.
  StorageStats stats() override;
  /// Releases connections and the file; idempotent.
  void close() override;

 private:
  // The database file ("" in memory). Throws StorageError when the store is closed.
  std::filesystem::path file_path() const;

  StoreContext ctx_;
  DuckDbRawDataRepository raw_;
  DuckDbEpisodeRepository episodes_;
  DuckDbSemanticMemoryRepository statements_;
};

}  // namespace nemori::detail::duck
