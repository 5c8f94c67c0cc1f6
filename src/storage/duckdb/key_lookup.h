// SELECT of the rows stored under a list of keys, through the primary key's index.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/duckdb/statement.h"

namespace nemori::detail::duck {

/// The most keys one key_lookup() compares as `key IN (?, ?, ...)`.
inline constexpr std::size_t kKeyListMax = 256;

/// A statement and its parameters.
struct KeyLookup {
  std::string sql;            ///< SELECT <columns> FROM <table> WHERE <key> IN ...
  std::vector<Param> params;  ///< Parameters of `sql`, in order.
};

/// `SELECT columns FROM table WHERE key IN (...)` for `ids` (not empty; rows come back in no
/// particular order, once per stored key). Up to kKeyListMax ids are compared as
/// `key IN (?, ?, ...)`, which DuckDB answers from the primary key's index: 100 episodes in
/// 5-7 ms where a join against a list parameter scans the table (30 ms at 50,000 episodes).
/// The number of placeholders is rounded up to a power of two by repeating the last id, so
/// that few statement texts exist to prepare and cache. More ids are joined against one list.
KeyLookup key_lookup(std::string_view columns, std::string_view table, std::string_view key,
                     std::span<const std::string> ids);

/// The condition of key_lookup() alone, `key IN (...)` with its parameters (`ids` not empty),
/// for a WHERE clause of any statement (a DELETE by key, a lookup through a secondary index).
KeyLookup key_condition(std::string_view key, std::span<const std::string> ids);

}  // namespace nemori::detail::duck
