#include "storage/duckdb/statement_cache.h"

namespace nemori::detail::duck {

Statement& StatementCache::get(duckdb_connection connection, const std::string& sql,
                               std::uint64_t data_version) {
  if (data_version != data_version_) {
    statements_.clear();
    data_version_ = data_version;
  }
  if (const auto found = statements_.find(sql); found != statements_.end()) {
    return *found->second;
  }
  auto statement = std::make_unique<Statement>(connection, sql);
  if (statements_.size() >= capacity_) statements_.clear();
  return *statements_.emplace(sql, std::move(statement)).first->second;
}

}  // namespace nemori::detail::duck
