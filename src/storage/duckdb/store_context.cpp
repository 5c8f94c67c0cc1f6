#include "storage/duckdb/store_context.h"

#include <algorithm>
#include <thread>

#include "nemori/core/error.h"
#include "storage/duckdb/schema.h"

namespace nemori::detail::duck {

StoreContext::StoreContext(const StorageConfig& config) : config_(config) {
  database_ = Database::open(config.path);
  writer_ = std::make_unique<Connection>(database_);
  {
    std::lock_guard lock(database_->write_mutex());
    schema_version_ = migrate(*writer_);
  }
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  pool_ = std::make_unique<ConnectionPool>(database_, std::max<std::size_t>(4, 2 * cores));
}

StoreContext::Use StoreContext::enter() const {
  Use use(state_mutex_);
  if (closed_) {
    throw StorageError("the DuckDB storage " + config_.path +
                       " is closed; open it again with open_storage()");
  }
  return use;
}

void StoreContext::checkpoint() {
  Use use = enter();
  std::lock_guard lock(database_->write_mutex());
  writer_->execute("CHECKPOINT");
}

void StoreContext::close() {
  std::unique_lock lock(state_mutex_);
  if (closed_) return;
  closed_ = true;
  pool_.reset();
  writer_.reset();
  database_.reset();  // the last user of the file closes it (DuckDB checkpoints then)
}

bool StoreContext::closed() const {
  std::shared_lock lock(state_mutex_);
  return closed_;
}

}  // namespace nemori::detail::duck
