// A fixed-size, thread-safe pool of PostgreSQL connections.
//
// Connections are opened lazily up to `size`. A checkout waits at most `acquire_timeout` for a
// free connection, then checks the one it got (pending input read without blocking, plus a
// round trip when it sat idle for a while) and replaces it when the server dropped it, so the
// pool recovers by itself after a server restart. A connection that fails while in use, or is
// returned with a transaction still open, is closed instead of being reused.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nemori/core/error.h"
#include "storage/postgres/pg_client.h"

namespace nemori::pg {

/// How a pool connects and how big it is.
struct PoolOptions {
  ConnectOptions connect;                           ///< How each connection is opened.
  std::size_t size = 10;                            ///< Most connections open at once.
  std::chrono::milliseconds acquire_timeout{5000};  ///< Longest wait for a free connection.
  std::string name = "primary";                     ///< Shown in messages and statistics.
};

/// The pool's figures, for StorageStats::details.
struct PoolCounters {
  std::size_t size = 0;         ///< Configured maximum.
  std::size_t in_use = 0;       ///< Checked out right now.
  std::size_t idle = 0;         ///< Open and free.
  std::size_t waiting = 0;      ///< Callers waiting for a connection.
  std::uint64_t checkouts = 0;  ///< Successful checkouts since the pool was made.
  std::uint64_t connects = 0;   ///< Connections opened (including reconnects).
  std::uint64_t replaced = 0;   ///< Dead or unusable connections closed and replaced.
  /// As a JSON object.
  nlohmann::json to_json() const;
};

/// The pool. Thread-safe.
class Pool {
 public:
  /// A checked-out connection, returned to the pool when destroyed.
  class Lease {
   public:
    /// Takes over another lease.
    Lease(Lease&& other) noexcept : pool_(other.pool_), conn_(std::move(other.conn_)) {}
    Lease& operator=(Lease&&) = delete;
    /// Returns the connection (or closes it when it is dead or mid-transaction).
    ~Lease();
    /// The connection.
    Connection& operator*() const { return *conn_; }
    /// The connection.
    Connection* operator->() const { return conn_.get(); }

   private:
    friend class Pool;
    Lease(Pool* pool, std::unique_ptr<Connection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Pool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  /// A pool that opens nothing until the first checkout.
  explicit Pool(PoolOptions options);
  /// Closes the idle connections (leases must not outlive the pool).
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  /// Checks out a healthy connection for `operation` (named in errors). Throws StorageError
  /// when the pool is closed, when no connection frees up within acquire_timeout, or when a
  /// new connection cannot be opened.
  Lease acquire(std::string_view operation);

  /// Runs `f(Connection&)` on a checked-out connection. When `retry` is true and the
  /// connection turns out to be dead (server restarted), runs it once more on a fresh one;
  /// use only for reads.
  template <typename F>
  auto run(std::string_view operation, bool retry, F&& f) {
    for (int attempt = 0;; ++attempt) {
      Lease lease = acquire(operation);
      try {
        return f(*lease);
      } catch (const StorageError&) {
        if (!retry || attempt > 0 || !lease->broken()) throw;
      }
    }
  }

  /// Current figures.
  PoolCounters counters() const;
  /// Closes every idle connection; later checkouts throw StorageError. Idempotent.
  void close();
  /// The options the pool was made with.
  const PoolOptions& options() const { return options_; }

 private:
  void release(std::unique_ptr<Connection> conn);
  std::unique_ptr<Connection> connect();

  PoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Connection>> idle_;
  std::size_t in_use_ = 0;
  std::size_t waiting_ = 0;
  std::uint64_t checkouts_ = 0;
  std::uint64_t connects_ = 0;
  std::uint64_t replaced_ = 0;
  bool closed_ = false;
};

}  // namespace nemori::pg
