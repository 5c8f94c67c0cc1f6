// Checking and rebuilding the secondary ART indexes of a DuckDB database against its tables.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "nemori/storage/repository.h"
#include "storage/duckdb/connection.h"

namespace nemori::detail::duck {

/// Compares, for each secondary (non-unique) single-column index in the catalog, the rows an
/// index lookup returns for a key with the rows a table scan finds for it, and reports every
/// key where they differ. `thorough`: every key; otherwise the keys of the table's newest
/// kNewestRowsChecked rows (rows a lost write-ahead-log replay leaves out of an index are
/// always the newest ones). Run inside a read transaction on a connection of its own: it
/// changes that connection's index scan settings for the duration. Throws EngineError.
IntegrityReport check_secondary_indexes(Connection& connection, bool thorough);

/// Re-creates every secondary index from its catalog definition, in transactions of its own
/// on `connection` (call outside a transaction, holding the write lock). Finishes a rebuild
/// that was interrupted. Returns the names rebuilt. Throws EngineError, StorageError.
std::vector<std::string> rebuild_secondary_indexes(Connection& connection);

/// The suffix of an index's temporary twin while it is rebuilt.
inline constexpr std::string_view kRebuildSuffix = "__rebuilt";

/// How many of a table's newest rows a non-thorough check looks at.
inline constexpr std::int64_t kNewestRowsChecked = 2'000;

}  // namespace nemori::detail::duck
