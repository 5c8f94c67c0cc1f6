// One open DuckDB database file, shared by every Storage of this process that uses it.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include <duckdb.h>

namespace nemori::detail::duck {

/// An open DuckDB database instance (RAII over duckdb_database).
///
/// DuckDB must not open one file twice in a process (two instances would each write it), so
/// instances are shared through a process-wide registry keyed by the canonical path: a second
/// open of the same file returns the instance already open. The instance also carries the
/// mutex that serialises writers, so writers of every Storage on the file take turns.
class Database {
 public:
  /// Opens the database file at `path` (created with its parent directories when missing), or
  /// returns the instance of this process that already has it open. ":memory:" opens a private
  /// in-memory database. Throws StorageError when the file cannot be opened (e.g. another
  /// process holds DuckDB's write lock).
  static std::shared_ptr<Database> open(const std::string& path);

  /// Closes the instance (DuckDB checkpoints the file when its last connection is gone).
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// The C API handle, valid for the lifetime of this object.
  duckdb_database handle() const { return handle_; }
  /// The database file ("" for an in-memory database).
  const std::filesystem::path& path() const { return path_; }
  /// Held by whoever writes, for the whole write transaction.
  std::mutex& write_mutex() { return write_mutex_; }
  /// A number that changes after every write (commit, rollback, DDL, checkpoint) of this
  /// process; reader connections reuse prepared statements only while it stays the same.
  std::uint64_t data_version() const { return data_version_.load(std::memory_order_acquire); }
  /// Advances data_version(); called by writers when their write has ended.
  void advance_data_version() { data_version_.fetch_add(1, std::memory_order_acq_rel); }

 private:
  // Takes ownership of `handle`; `path` is empty for an in-memory database.
  Database(duckdb_database handle, std::filesystem::path path)
      : handle_(handle), path_(std::move(path)) {}

  duckdb_database handle_;
  std::filesystem::path path_;
  std::mutex write_mutex_;
  std::atomic<std::uint64_t> data_version_{0};
};

}  // namespace nemori::detail::duck
