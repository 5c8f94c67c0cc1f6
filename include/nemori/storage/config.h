// How to reach a storage backend: a URL or a StorageConfig.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nemori {

/// Everything needed to open a backend. Every field is used by at least one backend.
struct StorageConfig {
  /// "memory", "duckdb" or "postgresql".
  std::string backend = "duckdb";
  /// DuckDB: the database file (created when missing).
  std::string path = "./nemori.duckdb";
  /// PostgreSQL: a libpq connection URL (postgresql://user:pass@host:port/db?sslmode=...).
  std::string url;
  /// PostgreSQL: URL of a read replica used for searches (empty = use `url`).
  std::string read_replica_url;
  /// PostgreSQL: schema holding the tables (created when missing).
  std::string schema = "public";
  /// PostgreSQL: connections in the pool.
  std::size_t pool_size = 10;
  /// PostgreSQL: how long to wait for a free pooled connection.
  std::chrono::milliseconds acquire_timeout{5000};
  /// PostgreSQL: how long to wait for a new connection.
  std::chrono::milliseconds connect_timeout{5000};
  /// PostgreSQL: server-side statement timeout (0 = none).
  std::chrono::milliseconds statement_timeout{0};
  /// PostgreSQL: how long purge() waits for transactions that started before it and may still
  /// read deleted rows (VACUUM FULL must keep every row version such a transaction can see).
  std::chrono::milliseconds purge_wait{60000};
  /// PostgreSQL: partition raw_data by month (applies when the schema is created).
  bool partition_raw_data_by_month = false;
  /// Rows per batch when importing, migrating or restoring.
  std::size_t batch_size = 1000;
  /// Largest raw event content accepted, in bytes of JSON text.
  std::size_t max_content_bytes = 16u << 20;
};

/// Parses a storage URL into a config:
///   memory://
///   duckdb:///absolute/path.duckdb, duckdb://relative/path.duckdb, duckdb:///./file.duckdb
///   postgresql://user:pass@host:5432/db?sslmode=require&schema=s&pool_size=20
///   (postgres:// and postgresql+asyncpg:// are accepted; nemori-specific query parameters
///   schema, pool_size, acquire_timeout_ms, connect_timeout, partition_by_month,
///   read_replica_url are taken out, the rest goes to libpq).
///   connect_timeout is in seconds, as libpq reads it; asyncpg's ssl=X becomes sslmode=X.
/// The result is validate()d. Throws ConfigError naming the problem (passwords masked),
/// UnsupportedBackendError for an unknown scheme.
StorageConfig parse_storage_url(std::string_view url);

/// The URL from the environment: NEMORI_STORAGE_URL, then POSTGRESQL_URL; empty when neither.
std::string storage_url_from_env();

/// Checks a config; throws ConfigError with one line per problem.
void validate(const StorageConfig& config);

/// Backends compiled into this build, e.g. {"memory", "duckdb", "postgresql"}.
std::vector<std::string> supported_backends();

/// `text` (a URL, a conninfo string or a message holding them) with each password replaced by
/// "***" where it appears as a password: in a URL's userinfo (scheme://user:PASSWORD@host) and
/// as the value of password=/sslpassword= (query string or conninfo, 'quoted' or not). Nothing
/// else is touched, so a short password does not garble the words of a message.
std::string mask_password(std::string_view text);

}  // namespace nemori
