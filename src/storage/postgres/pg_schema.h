// The PostgreSQL schema of nemori and its versioned migrations.
//
// Tables (all in one schema, default `public`): raw_data, episodes, episode_raw_data, the
// semantic memory's statements, statement_sources and semantic_progress, and
// schema_migrations; with monthly partitioning also raw_data_keys (one row per raw event, the
// target of the link table's foreign key, since a partitioned table cannot have a unique key
// on data_id alone). Migrations run in one transaction under a transaction-scoped advisory
// lock, so processes that start at the same time apply each of them exactly once.
#pragma once

#include <string>
#include <vector>

#include "nemori/core/time.h"
#include "storage/postgres/pg_client.h"

namespace nemori::pg {

/// One schema change.
struct Migration {
  int version;       ///< Applied in increasing order, recorded in schema_migrations.
  std::string name;  ///< Short description.
  std::string sql;   ///< Statements, with the schema already substituted.
};

/// What the schema looks like after migrate().
struct SchemaInfo {
  int version = 0;           ///< Highest applied migration.
  bool partitioned = false;  ///< raw_data is partitioned by month.
  int applied_now = 0;       ///< Migrations applied by this call.
};

/// Every migration for `schema` (already quoted); `partitioned` selects the raw_data layout
/// created by the first one.
std::vector<Migration> migrations(const std::string& schema, bool partitioned);

/// Creates the schema when missing and applies the pending migrations, all in one transaction
/// serialised by pg_advisory_xact_lock. Throws StorageError (or ConfigError for an invalid
/// schema name).
SchemaInfo migrate(Connection& conn, const std::string& schema, bool partition_by_month);

/// Checks a schema name: 1..63 bytes of letters, digits and underscores, not starting with a
/// digit, not "pg_*". Throws ConfigError.
void validate_schema_name(const std::string& schema);

/// Name and bounds of the monthly partition holding `t`.
struct MonthPartition {
  std::string name;   ///< e.g. raw_data_y2023m05
  std::string from;   ///< timestamptz text of the first instant of the month
  std::string to;     ///< first instant of the next month
  long long key = 0;  ///< year * 12 + month, for de-duplication
};

/// The partition of raw_data that holds `t`.
MonthPartition month_partition(Timestamp t);

/// Creates the monthly partitions of `schema`.raw_data that are missing (own transaction,
/// serialised by an advisory lock). Call outside any transaction.
void ensure_partitions(Connection& conn, const std::string& schema,
                       const std::vector<MonthPartition>& months);

}  // namespace nemori::pg
