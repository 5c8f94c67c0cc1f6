#include "storage/duckdb/connection_pool.h"

#include <utility>

namespace nemori::detail::duck {

ConnectionPool::ConnectionPool(std::shared_ptr<Database> database, std::size_t max_idle)
    : database_(std::move(database)), max_idle_(max_idle) {}

ConnectionPool::Lease ConnectionPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    ++in_use_;
    if (!idle_.empty()) {
      std::unique_ptr<Connection> connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(*this, std::move(connection));
    }
  }
  try {
    return Lease(*this, std::make_unique<Connection>(database_, /*cache_statements=*/true));
  } catch (...) {
    std::lock_guard lock(mutex_);
    --in_use_;
    throw;
  }
}

void ConnectionPool::give_back(std::unique_ptr<Connection> connection) {
  std::unique_ptr<Connection> surplus;
  std::lock_guard lock(mutex_);
  --in_use_;
  if (connection == nullptr) return;
  if (idle_.size() < max_idle_) {
    idle_.push_back(std::move(connection));
  } else {
    surplus = std::move(connection);  // closed after the lock is released
  }
}

std::size_t ConnectionPool::idle() const {
  std::lock_guard lock(mutex_);
  return idle_.size();
}

std::size_t ConnectionPool::in_use() const {
  std::lock_guard lock(mutex_);
  return in_use_;
}

}  // namespace nemori::detail::duck
