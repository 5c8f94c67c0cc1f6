// The SQL function nemori_json_equal(a, b): metadata filter equality evaluated inside DuckDB.
#pragma once

#include <duckdb.h>

namespace nemori::detail::duck {

/// SQL name of the function registered by register_json_equal_function.
inline constexpr const char* kJsonEqualFunction = "nemori_json_equal";

/// Registers nemori_json_equal(VARCHAR, VARCHAR) -> BOOLEAN in `database` (once per instance).
/// Both arguments are JSON texts; the result is detail::json_values_equal of the parsed values
/// (numbers by exact value, 1 = 1.0), false when either is NULL or not JSON. It lets SQL
/// metadata filters agree exactly with the in-process evaluator. Throws StorageError.
void register_json_equal_function(duckdb_database database);

}  // namespace nemori::detail::duck
