#include "storage/duckdb/key_conflicts.h"

#include <unordered_set>
#include <vector>

namespace nemori::detail::duck {

void reject_stored_ids(StoreContext& ctx, std::string_view table, std::string_view id_column,
                       std::span<const std::string> ids, std::string_view what) {
  const std::string column(id_column);
  const std::string sql = "SELECT " + column + " FROM " + std::string(table) + " WHERE " + column +
                          " IN (SELECT unnest(?::VARCHAR[]))";
  const std::vector<std::string> id_list(ids.begin(), ids.end());
  const std::unordered_set<std::string> stored = ctx.read([&](Connection& connection) {
    std::unordered_set<std::string> found;
    connection.run(sql, {id_list}).for_each_row([&](const Chunk& chunk, idx_t row) {
      found.emplace(chunk.text(0, row));
    });
    return found;
  });
  for (const std::string& id : ids) {
    if (stored.count(id) > 0) {
      throw DuplicateError(column + " \"" + id + "\" already exists; nothing was stored (use " +
                           "update() to replace " + std::string(what) + ")");
    }
  }
}

}  // namespace nemori::detail::duck
