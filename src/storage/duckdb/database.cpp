#include "storage/duckdb/database.h"

#include <condition_variable>
#include <map>
#include <system_error>

#include "nemori/core/error.h"
#include "storage/duckdb/json_equal_function.h"

namespace nemori::detail::duck {

namespace {

constexpr const char* kInMemory = ":memory:";

// Instances open in this process, by canonical path.
std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}
std::map<std::string, std::weak_ptr<Database>>& registry() {
  static std::map<std::string, std::weak_ptr<Database>> instances;
  return instances;
}
// Signalled when an instance has been closed and left the registry.
std::condition_variable& registry_closed() {
  static std::condition_variable closed;
  return closed;
}

// Opens a new instance; never looks at the registry.
duckdb_database open_instance(const std::string& location, const std::string& shown_path) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    throw StorageError("cannot open DuckDB database " + shown_path + ": out of memory");
  }
  // Nothing may be downloaded: json and icu are built in, the rest is not needed.
  duckdb_set_config(config, "autoinstall_known_extensions", "false");
  duckdb_set_config(config, "autoload_known_extensions", "false");
  // DuckDB checkpoints once the WAL passes checkpoint_threshold (16 MB by default), and each
  // checkpoint recompresses (FSST) the table's last, partly filled row groups. With batches of
  // 1,000 rows that happened every few batches and made batch stores slow down as tables grew
  // (0.37x COPY at 1M rows with 256 MB, 0.57x with 1 GB; docs/performance.md). A closed store
  // is still checkpointed; the price is up to 1 GB of WAL to replay after a crash.
  duckdb_set_config(config, "checkpoint_threshold", "1GB");
  duckdb_database handle = nullptr;
  char* error = nullptr;
  const duckdb_state state = duckdb_open_ext(location.c_str(), &handle, config, &error);
  duckdb_destroy_config(&config);
  if (state != DuckDBSuccess) {
    std::string message = error != nullptr ? error : "unknown error";
    if (error != nullptr) duckdb_free(error);
    std::string hint;
    if (message.find("lock") != std::string::npos) {
      hint =
          " (DuckDB lets one process open a database file for writing: stop the other process, "
          "or use the PostgreSQL backend to share a store between processes)";
    }
    throw StorageError("cannot open DuckDB database " + shown_path + ": " + message + hint);
  }
  try {
    register_json_equal_function(handle);
  } catch (...) {
    duckdb_close(&handle);
    throw;
  }
  return handle;
}

std::filesystem::path canonical_location(const std::string& path) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(path, ec);
  if (ec) throw StorageError("cannot open DuckDB database " + path + ": " + ec.message());
  const std::filesystem::path parent = absolute.parent_path();
  if (!parent.empty() && !std::filesystem::exists(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      throw StorageError("cannot create the directory " + parent.string() +
                         " for the DuckDB database: " + ec.message());
    }
  }
  std::filesystem::path canonical = std::filesystem::weakly_canonical(absolute, ec);
  return ec ? absolute : canonical;
}

}  // namespace

std::shared_ptr<Database> Database::open(const std::string& path) {
  if (path == kInMemory) {
    return std::shared_ptr<Database>(new Database(open_instance(kInMemory, kInMemory), {}));
  }
  if (path.empty()) throw StorageError("cannot open DuckDB database: the path is empty");
  const std::filesystem::path location = canonical_location(path);
  const std::string key = location.string();
  std::unique_lock lock(registry_mutex());
  auto& instances = registry();
  for (auto found = instances.find(key); found != instances.end(); found = instances.find(key)) {
    if (std::shared_ptr<Database> open = found->second.lock()) return open;
    // The last user is closing it right now: wait until the file is released.
    registry_closed().wait(lock);
  }
  std::shared_ptr<Database> database(new Database(open_instance(key, key), location));
  instances[key] = database;
  return database;
}

Database::~Database() {
  if (path_.empty()) {
    duckdb_close(&handle_);
    return;
  }
  // Close before leaving the registry, so that the file is never open twice.
  std::lock_guard lock(registry_mutex());
  duckdb_close(&handle_);
  registry().erase(path_.string());
  registry_closed().notify_all();
}

}  // namespace nemori::detail::duck
