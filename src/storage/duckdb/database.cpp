#include "storage/duckdb/database.h"

#include <condition_variable>
#include <map>
#include <system_error>

#include "nemori/core/error.h"
#include "storage/duckdb/json_equal_function.h"

namespace nemori::detail::duck {

namespace {

constexpr const char* kInMemory = ":memory:";
// The WAL size at which DuckDB checkpoints on commit (see open_instance).
constexpr const char* kCheckpointThreshold = "1GB";

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

// Folds a WAL that opening may have replayed into the database file, with a client context.
//
// DuckDB 1.4.0 to at least 1.5.6 replay a WAL into lazily bound ART indexes: the replayed
// index changes wait in a buffer until a query binds the index. A checkpoint without a client
// context (the one DuckDB runs when the last connection closes) writes such an index from its
// state before the WAL, so every row the WAL added is missing from it for good, and owner-
// scoped reads miss them with no error (upstream issue 23788; docs/duckdb.md). A CHECKPOINT
// statement binds every index first, so it writes them whole. Run right after opening, before
// anything else can close the database, it leaves no WAL for a context-free checkpoint to
// mishandle. Without a WAL it has nothing to write and costs a fraction of a millisecond.
void checkpoint_after_recovery(duckdb_database handle, const std::string& shown_path) {
  duckdb_connection connection = nullptr;
  if (duckdb_connect(handle, &connection) != DuckDBSuccess) {
    throw StorageError("cannot open DuckDB database " + shown_path + ": cannot connect");
  }
  duckdb_result result;
  const duckdb_state state = duckdb_query(connection, "CHECKPOINT", &result);
  const char* failure = state == DuckDBSuccess ? nullptr : duckdb_result_error(&result);
  const std::string error = failure != nullptr ? failure : "unknown error";
  duckdb_destroy_result(&result);
  duckdb_disconnect(&connection);
  if (state != DuckDBSuccess) {
    throw StorageError("cannot open DuckDB database " + shown_path +
                       ": the checkpoint after recovering its write-ahead log failed: " + error);
  }
}

// Opens a new instance; never looks at the registry.
duckdb_database open_instance(const std::string& location, const std::string& shown_path) {
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) != DuckDBSuccess) {
    throw StorageError("cannot open DuckDB database " + shown_path + ": out of memory");
  }
  const auto set = [&](const char* name, const char* value) {
    if (duckdb_set_config(config, name, value) != DuckDBSuccess) {
      duckdb_destroy_config(&config);
      throw StorageError("cannot open DuckDB database " + shown_path + ": this DuckDB library (" +
                         duckdb_library_version() + ") refuses the setting " + name + " = " +
                         value);
    }
  };
  // Nothing may be downloaded: json and icu are built in, the rest is not needed.
  set("autoinstall_known_extensions", "false");
  set("autoload_known_extensions", "false");
  // DuckDB checkpoints once the WAL passes checkpoint_threshold (16 MB by default), and each
  // checkpoint recompresses (FSST) the table's last, partly filled row groups. With batches of
  // 1,000 rows that happened every few batches and made batch stores slow down as tables grew
  // (0.37x COPY at 1M rows with 256 MB, 0.57x with 1 GB; docs/performance.md). A closed store
  // is still checkpointed; the price is the WAL to replay after a crash (docs/duckdb.md).
  set("checkpoint_threshold", kCheckpointThreshold);
  // One thread per query: nemori's reads are small (a point read, a page of 20), and with
  // more threads DuckDB hands each pipeline to its worker threads and waits for them, which
  // cost more than it saved: by_owner newest 20 took 11 ms with 2 threads and 6 ms with one,
  // and concurrent readers (one query each) keep the cores busy anyway (docs/duckdb.md).
  set("threads", "1");
  duckdb_database handle = nullptr;
  char* error = nullptr;
  const duckdb_state state = duckdb_open_ext(location.c_str(), &handle, config, &error);
  duckdb_destroy_config(&config);
  if (state != DuckDBSuccess) {
    std::string message = error != nullptr ? error : "unknown error";
    if (error != nullptr) duckdb_free(error);
    std::string hint;
    // DuckDB says "Could not set lock on file ...: Conflicting lock is held ..." (and other
    // errors, such as a checksum failure in a "block", must not get this hint).
    if (message.find("Could not set lock") != std::string::npos ||
        message.find("Conflicting lock") != std::string::npos) {
      hint =
          " (DuckDB lets one process open a database file for writing: stop the other process, "
          "or use the PostgreSQL backend to share a store between processes)";
    }
    throw StorageError("cannot open DuckDB database " + shown_path + ": " + message + hint);
  }
  try {
    register_json_equal_function(handle);
    if (location != kInMemory) checkpoint_after_recovery(handle, shown_path);
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
