// A pool of reader connections: one connection per concurrent reader, reused.
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "storage/duckdb/connection.h"
#include "storage/duckdb/database.h"

namespace nemori::detail::duck {

/// Hands out connections for reads. DuckDB connections must not be used by two threads at
/// once, but many connections of one database run queries in parallel (MVCC snapshots), so
/// the pool grows to the number of concurrent readers and keeps up to `max_idle` of them
/// (with their prepared statements) for reuse. Never blocks on a busy connection.
class ConnectionPool {
 public:
  /// A borrowed connection, given back when destroyed.
  class Lease {
   public:
    Lease(ConnectionPool& pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    ~Lease() { pool_.give_back(std::move(connection_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    /// The borrowed connection.
    Connection& operator*() const { return *connection_; }
    /// The borrowed connection.
    Connection* operator->() const { return connection_.get(); }

   private:
    ConnectionPool& pool_;
    std::unique_ptr<Connection> connection_;
  };

  /// A pool over `database` keeping at most `max_idle` idle connections.
  ConnectionPool(std::shared_ptr<Database> database, std::size_t max_idle);

  /// An idle connection, or a new one. Throws StorageError.
  Lease acquire();
  /// Connections currently idle.
  std::size_t idle() const;
  /// Connections currently lent out.
  std::size_t in_use() const;

 private:
  // Keeps `connection` for reuse, or closes it when enough are idle.
  void give_back(std::unique_ptr<Connection> connection);

  std::shared_ptr<Database> database_;
  std::size_t max_idle_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t in_use_ = 0;
};

}  // namespace nemori::detail::duck
