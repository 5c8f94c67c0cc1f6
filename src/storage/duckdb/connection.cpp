#include "storage/duckdb/connection.h"

#include <utility>

#include "nemori/core/error.h"
#include "storage/duckdb/error.h"

namespace nemori::detail::duck {

namespace {

// Statements one reader connection keeps: the search forms in use, with room to spare.
constexpr std::size_t kCachedStatements = 64;

}  // namespace

Connection::Connection(std::shared_ptr<Database> database, bool cache_statements)
    : database_(std::move(database)) {
  if (duckdb_connect(database_->handle(), &handle_) != DuckDBSuccess) {
    throw StorageError("DuckDB connect failed for " + database_->path().string());
  }
  if (cache_statements) cache_ = std::make_unique<StatementCache>(kCachedStatements);
}

Connection::~Connection() {
  duckdb_disconnect(&handle_);
}

Result Connection::execute(const std::string& sql) {
  Result result;
  if (duckdb_query(handle_, sql.c_str(), result.out()) != DuckDBSuccess) {
    const char* message = duckdb_result_error(result.out());
    throw_engine_error("statement \"" + sql + "\"", message != nullptr ? message : "",
                       duckdb_result_error_type(result.out()));
  }
  return result;
}

Result Connection::run(const std::string& sql, const std::vector<Param>& params) {
  if (cache_ != nullptr) {
    Statement& statement = cache_->get(handle_, sql, database_->data_version());
    statement.bind_all(params);
    return statement.execute();
  }
  Statement statement(handle_, sql);
  statement.bind_all(params);
  return statement.execute();
}

}  // namespace nemori::detail::duck
