#include "storage/postgres/pg_pool.h"

#include <utility>

#include "nemori/core/error.h"

namespace nemori::pg {

namespace {

// A connection idle longer than this gets a round trip at checkout, which catches peers that
// vanished without closing the socket.
constexpr auto kProbeAfterIdle = std::chrono::seconds(30);

}  // namespace

nlohmann::json PoolCounters::to_json() const {
  return nlohmann::json{{"size", size},        {"in_use", in_use},       {"idle", idle},
                        {"waiting", waiting},  {"checkouts", checkouts}, {"connects", connects},
                        {"replaced", replaced}};
}

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->release(std::move(conn_));
}

Pool::Pool(PoolOptions options) : options_(std::move(options)) {
  if (options_.size == 0) options_.size = 1;
}

Pool::~Pool() {
  close();
}

std::unique_ptr<Connection> Pool::connect() {
  auto conn = std::make_unique<Connection>(options_.connect);
  std::lock_guard lock(mu_);
  ++connects_;
  return conn;
}

Pool::Lease Pool::acquire(std::string_view operation) {
  std::unique_ptr<Connection> conn;
  {
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
    for (;;) {
      if (closed_) {
        throw StorageError("the PostgreSQL storage is closed (" + std::string(operation) +
                           "); open it again");
      }
      if (!idle_.empty()) {
        conn = std::move(idle_.back());  // most recently used first: warm caches
        idle_.pop_back();
        ++in_use_;
        break;
      }
      if (in_use_ < options_.size) {
        ++in_use_;
        break;
      }
      ++waiting_;
      const bool woke = cv_.wait_until(
          lock, deadline, [&] { return closed_ || !idle_.empty() || in_use_ < options_.size; });
      --waiting_;
      if (!woke) {
        throw StorageError("PostgreSQL connection pool '" + options_.name + "' exhausted: all " +
                           std::to_string(options_.size) + " connections stayed busy for " +
                           std::to_string(options_.acquire_timeout.count()) + " ms (" +
                           std::string(operation) +
                           "); raise pool_size or acquire_timeout, or look for long-running calls");
      }
    }
  }
  // From here on this thread owns one slot of in_use_.
  try {
    if (conn) {
      bool ok = conn->healthy();
      if (ok && std::chrono::steady_clock::now() - conn->last_used > kProbeAfterIdle) {
        try {
          conn->exec_simple("SELECT 1");
        } catch (const Error&) {
          ok = false;
        }
      }
      if (!ok) {
        conn.reset();
        std::lock_guard lock(mu_);
        ++replaced_;
      }
    }
    if (!conn) conn = connect();
  } catch (...) {
    std::lock_guard lock(mu_);
    --in_use_;
    cv_.notify_one();
    throw;
  }
  conn->operation = std::string(operation);
  std::lock_guard lock(mu_);
  ++checkouts_;
  return Lease(this, std::move(conn));
}

void Pool::release(std::unique_ptr<Connection> conn) {
  const bool reusable = !conn->broken() && conn->idle();
  std::unique_ptr<Connection> doomed;
  {
    std::lock_guard lock(mu_);
    --in_use_;
    if (reusable && !closed_) {
      conn->last_used = std::chrono::steady_clock::now();
      conn->operation = "idle";
      idle_.push_back(std::move(conn));
    } else {
      if (!reusable) ++replaced_;  // dropped by the server or left mid-transaction
      doomed = std::move(conn);
    }
  }
  cv_.notify_one();
  // `doomed` closes outside the lock.
}

PoolCounters Pool::counters() const {
  std::lock_guard lock(mu_);
  PoolCounters c;
  c.size = options_.size;
  c.in_use = in_use_;
  c.idle = idle_.size();
  c.waiting = waiting_;
  c.checkouts = checkouts_;
  c.connects = connects_;
  c.replaced = replaced_;
  return c;
}

void Pool::close() {
  std::deque<std::unique_ptr<Connection>> doomed;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    doomed.swap(idle_);
  }
  cv_.notify_all();
}

}  // namespace nemori::pg
