// PostgreSQL operations that go through the server's own client tools: physical-logical backup
// and restore with pg_dump / pg_restore (custom format). The portable JSONL dump of dump.h
// works with every backend; these are the PostgreSQL-native alternative (faster, keeps the
// indexes, restorable with the standard tools).
//
// The tools are looked up in $NEMORI_PG_BIN, then on PATH, then in /usr/lib/postgresql/*/bin
// (newest first); they must not be older than the server. The password (from the URL) reaches
// them through the PGPASSWORD environment variable, never the command line; the rest of the
// environment (PGSSLMODE, HOME for ~/.pgpass, ...) is passed through unchanged.
#pragma once

#include <filesystem>
#include <string_view>

#include "nemori/storage/config.h"

namespace nemori {

/// Writes a pg_dump custom-format archive of the config's schema (tables, indexes, data and
/// schema_migrations) to `file`. Throws ConfigError when `config` is not a PostgreSQL config,
/// StorageError (with pg_dump's own message, passwords masked) when the tool is missing or
/// exits with a non-zero status.
void pg_backup(const StorageConfig& config, const std::filesystem::path& file);

/// Restores an archive written by pg_backup into the config's database, in one transaction:
/// objects of the archived schema that exist already are dropped first (--clean --if-exists),
/// and any error rolls everything back. The schema name is the one in the archive. Close or
/// reopen open storages on that schema afterwards. Throws ConfigError for a non-PostgreSQL
/// config or a missing file, StorageError with pg_restore's stderr when it fails.
void pg_restore(const StorageConfig& config, const std::filesystem::path& file);

/// Full path of a PostgreSQL client tool ("pg_dump", "pg_restore"). Throws StorageError saying
/// how to install it when it cannot be found.
std::filesystem::path find_pg_tool(std::string_view name);

}  // namespace nemori
