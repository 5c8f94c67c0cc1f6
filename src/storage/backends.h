// Entry points of the backends compiled into this build (internal: use factory.h).
#pragma once

#include <memory>

#include "nemori/storage/config.h"
#include "nemori/storage/repository.h"

namespace nemori::detail {

/// The in-memory backend (always built).
std::unique_ptr<Storage> open_memory_storage(const StorageConfig& config);

#ifdef NEMORI_HAVE_DUCKDB
/// The embedded DuckDB backend (src/storage/duckdb/).
std::unique_ptr<Storage> open_duckdb_storage(const StorageConfig& config);
#endif

#ifdef NEMORI_HAVE_POSTGRES
/// The PostgreSQL backend (src/storage/postgres/).
std::unique_ptr<Storage> open_postgres_storage(const StorageConfig& config);
#endif

}  // namespace nemori::detail
