#include "storage/duckdb/key_lookup.h"

#include <algorithm>

namespace nemori::detail::duck {

KeyLookup key_condition(std::string_view key, std::span<const std::string> ids) {
  KeyLookup lookup;
  lookup.sql = std::string(key);
  if (ids.size() > kKeyListMax) {
    lookup.sql += " IN (SELECT unnest(?::VARCHAR[]))";
    lookup.params.emplace_back(std::vector<std::string>(ids.begin(), ids.end()));
    return lookup;
  }
  std::size_t placeholders = 1;
  while (placeholders < ids.size()) placeholders *= 2;
  lookup.sql += " IN (?";
  for (std::size_t i = 1; i < placeholders; ++i) lookup.sql += ", ?";
  lookup.sql += ")";
  lookup.params.reserve(placeholders);
  for (std::size_t i = 0; i < placeholders; ++i) {
    lookup.params.emplace_back(ids[std::min(i, ids.size() - 1)]);
  }
  return lookup;
}

KeyLookup key_lookup(std::string_view columns, std::string_view table, std::string_view key,
                     std::span<const std::string> ids) {
  KeyLookup lookup = key_condition(key, ids);
  lookup.sql =
      "SELECT " + std::string(columns) + " FROM " + std::string(table) + " WHERE " + lookup.sql;
  return lookup;
}

}  // namespace nemori::detail::duck
