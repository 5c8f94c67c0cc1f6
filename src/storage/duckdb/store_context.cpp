#include "storage/duckdb/store_context.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include "nemori/core/error.h"
#include "storage/duckdb/schema.h"

namespace nemori::detail::duck {

StoreContext::StoreContext(const StorageConfig& config) : config_(config) {
  database_ = Database::open(config.path);
  writer_ = std::make_unique<Connection>(database_);
  {
    std::lock_guard lock(database_->write_mutex());
    WriteEnd end(*database_);
    schema_version_ = migrate(*writer_);
  }
  const std::size_t cores = std::max(1u, std::thread::hardware_concurrency());
  pool_size_ = std::max<std::size_t>(4, 2 * cores);
  pool_ = std::make_unique<ConnectionPool>(database_, pool_size_);
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
  WriteEnd end(*database_);
  writer_->execute("CHECKPOINT");
}

namespace {

// fsync(2) of a file or directory; throws StorageError naming `what`.
void sync_path(const std::filesystem::path& path, const std::string& what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw StorageError("cannot sync " + what + " " + path.string() + ": " + reason);
  }
  ::close(fd);
}

// An SQL string literal.
std::string literal(const std::string& text) {
  std::string quoted = "'";
  for (char c : text) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

void StoreContext::rewrite_file() {
  std::unique_lock state(state_mutex_);
  if (closed_) throw StorageError("the DuckDB storage " + config_.path + " is closed");
  const std::filesystem::path path = database_->path();
  if (path.empty()) return;  // in memory: nothing on disk
  const std::filesystem::path copy = path.string() + ".rewrite";
  const auto reopen = [&] {
    if (!database_) database_ = Database::open(path.string());
    writer_ = std::make_unique<Connection>(database_);
    pool_ = std::make_unique<ConnectionPool>(database_, pool_size_);
  };
  pool_.reset();
  writer_.reset();
  if (database_.use_count() != 1) {
    reopen();
    throw StorageError("cannot rewrite the DuckDB file " + path.string() +
                       ": another store of this process has it open; close it first");
  }
  try {
    std::filesystem::remove(copy);
    std::filesystem::remove(copy.string() + ".wal");
    {
      Connection connection(database_);
      connection.execute("CHECKPOINT");
      std::string source;
      connection.execute("SELECT current_database()")
          .for_each_row([&](const Chunk& chunk, idx_t row) { source = chunk.text(0, row); });
      connection.execute("ATTACH " + literal(copy.string()) + " AS nemori_rewrite");
      connection.execute("COPY FROM DATABASE \"" + source + "\" TO nemori_rewrite");
      connection.execute("DETACH nemori_rewrite");
    }
    sync_path(copy, "the rewritten database");
    database_.reset();  // closes the old file
    std::filesystem::rename(copy, path);
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(copy, ignored);
    reopen();
    throw StorageError("cannot rewrite the DuckDB file " + path.string() + ": " + e.what() +
                       " (the file is unchanged)");
  }
  reopen();
  sync_path(path.parent_path().empty() ? "." : path.parent_path(), "the directory");
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
