// The state every PostgreSQL repository of one Storage shares: the primary pool, the optional
// read replica pool and how reads are routed between them, the schema's names and layout, and
// the cache of monthly raw_data partitions. Thread-safe: pools and counters are synchronised.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/storage/config.h"
#include "storage/postgres/pg_client.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/pg_schema.h"

namespace nemori::detail {

// How long searches skip a read replica that could not be reached.
inline constexpr auto kReplicaBackoff = std::chrono::seconds(30);

// What every repository of one PostgreSQL Storage shares: pools, schema names, the partition
// cache. Owned by the Storage; the repositories keep a reference.
class PgContext {
 public:
  using Connection = pg::Connection;
  using Pool = pg::Pool;

  explicit PgContext(const StorageConfig& config)
      : config_(config),
        schema_(config.schema.empty() ? "public" : config.schema),
        q_(pg::quote_ident(schema_)),
        primary_(pool_options(config, config.url, "primary")) {
    if (!config.read_replica_url.empty()) {
      replica_ = std::make_unique<Pool>(pool_options(config, config.read_replica_url, "replica"));
    }
  }

  // Opens the first connection (reporting unreachable servers at once) and migrates.
  void open() {
    Pool::Lease lease = primary_.acquire("opening the storage");
    const pg::SchemaInfo info = pg::migrate(*lease, schema_, config_.partition_raw_data_by_month);
    partitioned_ = info.partitioned;
    schema_version_ = info.version;
    server_version_ = lease->server_version();
    raw_keys_ = table(partitioned_ ? "raw_data_keys" : "raw_data");
  }

  // "schema".name
  std::string table(const char* name) const { return q_ + "." + name; }
  // The table whose rows stand for raw events in deletes and existence checks (cascades to the
  // partitions and links when partitioned).
  const std::string& raw_keys() const { return raw_keys_; }
  bool partitioned() const { return partitioned_; }
  const StorageConfig& config() const { return config_; }
  const std::string& schema() const { return schema_; }
  int schema_version() const { return schema_version_; }
  int server_version() const { return server_version_; }
  Pool& primary() { return primary_; }
  Pool* replica() { return replica_.get(); }

  // Runs a write on the primary.
  template <typename F>
  auto write(std::string_view operation, F&& f) {
    return primary_.run(operation, false, std::forward<F>(f));
  }
  // Runs a read on the primary (read-your-writes), retried once after a dropped connection.
  template <typename F>
  auto read(std::string_view operation, F&& f) {
    return primary_.run(operation, true, std::forward<F>(f));
  }
  // Runs a search on the replica when one is configured and reachable (and no
  // read_from_primary() scope is open), else on the primary.
  template <typename F>
  auto search(std::string_view operation, F&& f) {
    if (replica_ && primary_only_.load() == 0 &&
        std::chrono::steady_clock::now().time_since_epoch().count() >= replica_retry_at_.load()) {
      std::optional<Pool::Lease> lease;
      try {
        lease.emplace(replica_->acquire(operation));
      } catch (const StorageError&) {
        // Unreachable (or saturated): use the primary, and leave the replica alone for a while
        // instead of paying its connect timeout on every search.
        replica_fallbacks_.fetch_add(1);
        replica_retry_at_.store(
            (std::chrono::steady_clock::now() + kReplicaBackoff).time_since_epoch().count());
      }
      if (lease) {
        try {
          return f(**lease);
        } catch (const StorageError&) {
          if (!(*lease)->broken()) throw;
          replica_fallbacks_.fetch_add(1);
        }
      }
    }
    return primary_.run(operation, true, std::forward<F>(f));
  }

  // Creates the monthly partitions that `timestamps` need (partitioned layout only).
  void ensure_partitions(Connection& conn, const std::vector<Timestamp>& timestamps) {
    if (!partitioned_) return;
    std::vector<pg::MonthPartition> missing;
    {
      std::lock_guard lock(partitions_mu_);
      std::set<long long> seen;
      for (Timestamp t : timestamps) {
        pg::MonthPartition p = pg::month_partition(t);
        if (known_partitions_.count(p.key) == 0 && seen.insert(p.key).second) {
          missing.push_back(std::move(p));
        }
      }
    }
    if (missing.empty()) return;
    pg::ensure_partitions(conn, schema_, missing);
    std::lock_guard lock(partitions_mu_);
    for (const auto& p : missing) known_partitions_.insert(p.key);
  }

  std::uint64_t replica_fallbacks() const { return replica_fallbacks_.load(); }

  // Sends every search to the primary while the handle lives.
  std::shared_ptr<void> primary_only() {
    primary_only_.fetch_add(1);
    return std::shared_ptr<void>(static_cast<void*>(this),
                                 [this](void*) { primary_only_.fetch_sub(1); });
  }

  void close() {
    primary_.close();
    if (replica_) replica_->close();
  }

 private:
  static pg::PoolOptions pool_options(const StorageConfig& config, const std::string& url,
                                      const std::string& name) {
    pg::PoolOptions o;
    o.connect.url = url;
    o.connect.connect_timeout = config.connect_timeout;
    o.connect.statement_timeout = config.statement_timeout;
    o.size = config.pool_size == 0 ? 1 : config.pool_size;
    o.acquire_timeout = config.acquire_timeout;
    o.name = name;
    return o;
  }

  StorageConfig config_;
  std::string schema_;
  std::string q_;
  Pool primary_;
  std::unique_ptr<Pool> replica_;
  bool partitioned_ = false;
  int schema_version_ = 0;
  int server_version_ = 0;
  std::string raw_keys_;
  std::mutex partitions_mu_;
  std::set<long long> known_partitions_;
  std::atomic<std::uint64_t> replica_fallbacks_{0};
  std::atomic<std::chrono::steady_clock::rep> replica_retry_at_{0};
  std::atomic<int> primary_only_{0};
};

}  // namespace nemori::detail
