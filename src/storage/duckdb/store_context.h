// What the DuckDB repositories share: the database, its connections and the open/closed state.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <type_traits>
#include <utility>

#include "nemori/storage/config.h"
#include "storage/duckdb/connection.h"
#include "storage/duckdb/connection_pool.h"
#include "storage/duckdb/database.h"
#include "storage/duckdb/transaction.h"

namespace nemori::detail::duck {

/// The concurrency model of the backend:
/// - reads run on pooled connections, one per concurrent reader, in parallel (DuckDB's MVCC
///   gives each statement or read transaction a consistent snapshot);
/// - writes run on one writer connection under the database's write mutex, each in one
///   transaction, so writers never hit DuckDB's optimistic write-write conflicts (which would
///   abort one of two concurrent increments) and a call that returns has committed;
/// - a read of one statement runs in DuckDB's autocommit (one snapshot, no BEGIN/COMMIT);
///   reader connections keep their prepared statements until the next write (StatementCache);
/// - every call holds a shared lock on the open state; close() takes it exclusively, so it
///   waits for calls in flight, and later calls throw StorageError.
class StoreContext {
 public:
  /// Opens the database at config.path and migrates its schema. Throws StorageError.
  explicit StoreContext(const StorageConfig& config);

  /// Proof that the store is open for the duration of one call.
  using Use = std::shared_lock<std::shared_mutex>;
  /// Throws StorageError when the store is closed.
  Use enter() const;

  /// Runs fn(Connection&) on a pooled reader connection inside one read transaction, so that
  /// its statements see one snapshot (and are planned for it; see Connection). Throws
  /// StorageError when closed.
  template <typename Fn>
  auto read(Fn&& fn) {
    Use use = enter();
    ConnectionPool::Lease lease = pool_->acquire();
    return in_transaction(*lease, std::forward<Fn>(fn));
  }

  /// Runs fn(Connection&), which must run exactly one statement, on a pooled reader
  /// connection without an explicit transaction: DuckDB runs the statement in a transaction
  /// of its own, and the BEGIN and COMMIT of read() are saved. Throws StorageError when closed.
  template <typename Fn>
  auto read_one(Fn&& fn) {
    Use use = enter();
    ConnectionPool::Lease lease = pool_->acquire();
    return fn(*lease);
  }

  /// Runs fn(Connection&) on the writer connection inside one transaction, holding the write
  /// mutex; commits when fn returns, rolls back when it throws.
  template <typename Fn>
  auto write(Fn&& fn) {
    Use use = enter();
    std::lock_guard lock(database_->write_mutex());
    WriteEnd end(*database_);
    return in_transaction(*writer_, std::forward<Fn>(fn));
  }

  /// Runs fn(Connection&) on the writer connection holding the write mutex, outside any
  /// transaction: fn manages its own (for work DuckDB must commit in steps).
  template <typename Fn>
  auto write_in_steps(Fn&& fn) {
    Use use = enter();
    std::lock_guard lock(database_->write_mutex());
    WriteEnd end(*database_);
    return fn(*writer_);
  }

  /// Runs CHECKPOINT on the writer connection under the write mutex: the WAL is folded into
  /// the database file (and the space of deleted rows becomes reusable). Throws StorageError.
  void checkpoint();

  /// Replaces the database file with a fresh copy of its live data (COPY FROM DATABASE into
  /// "PATH.rewrite", fsynced, renamed over PATH), so nothing deleted is left in it, then opens
  /// the new file. Waits for calls in flight and blocks new ones meanwhile. Throws
  /// StorageError when another store of this process has the file open or the copy fails;
  /// the original file is untouched then.
  void rewrite_file();

  /// Releases every connection and the database; later calls throw. Idempotent.
  void close();
  /// True after close().
  bool closed() const;

  /// The configuration the store was opened with.
  const StorageConfig& config() const { return config_; }
  /// The database (valid while open).
  Database& database() const { return *database_; }
  /// The reader pool (valid while open).
  ConnectionPool& pool() const { return *pool_; }
  /// The schema version in place.
  int schema_version() const { return schema_version_; }

 private:
  // Advances the database's data version when a write ends (committed, rolled back or
  // failed), after its commit, so that readers prepare their statements again.
  class WriteEnd {
   public:
    explicit WriteEnd(Database& database) : database_(database) {}
    ~WriteEnd() { database_.advance_data_version(); }
    WriteEnd(const WriteEnd&) = delete;
    WriteEnd& operator=(const WriteEnd&) = delete;

   private:
    Database& database_;
  };

  // Runs fn(connection) in a transaction: commits when it returns, rolls back when it throws.
  template <typename Fn>
  static auto in_transaction(Connection& connection, Fn&& fn) {
    Transaction transaction(connection);
    if constexpr (std::is_void_v<decltype(fn(connection))>) {
      fn(connection);
      transaction.commit();
    } else {
      auto result = fn(connection);
      transaction.commit();
      return result;
    }
  }

  StorageConfig config_;
  mutable std::shared_mutex state_mutex_;
  bool closed_ = false;
  std::shared_ptr<Database> database_;
  std::unique_ptr<Connection> writer_;
  std::unique_ptr<ConnectionPool> pool_;
  std::size_t pool_size_ = 4;
  int schema_version_ = 0;
};

}  // namespace nemori::detail::duck
