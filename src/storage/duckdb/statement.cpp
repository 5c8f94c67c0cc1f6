#include "storage/duckdb/statement.h"

#include <type_traits>

#include "nemori/core/error.h"
#include "storage/duckdb/error.h"

namespace nemori::detail::duck {

namespace {

// Builds a LIST value of `type` from `items`, each made by `make`.
template <typename Item, typename Make>
duckdb_value make_list(duckdb_type type, const std::vector<Item>& items, Make make) {
  std::vector<duckdb_value> values;
  values.reserve(items.size());
  for (const Item& item : items) values.push_back(make(item));
  duckdb_logical_type child = duckdb_create_logical_type(type);
  duckdb_value list = duckdb_create_list_value(child, values.data(), values.size());
  duckdb_destroy_logical_type(&child);
  for (duckdb_value& value : values) duckdb_destroy_value(&value);
  return list;
}

}  // namespace

Statement::Statement(duckdb_connection connection, const std::string& sql) : sql_(sql) {
  if (duckdb_prepare(connection, sql.c_str(), &handle_) != DuckDBSuccess) {
    const std::string message = duckdb_prepare_error(handle_) ? duckdb_prepare_error(handle_) : "";
    duckdb_destroy_prepare(&handle_);
    throw_engine_error("prepare of \"" + sql + "\"", message, DUCKDB_ERROR_PARSER);
  }
}

Statement::~Statement() {
  duckdb_destroy_prepare(&handle_);
}

void Statement::bind(idx_t index, const Param& value) {
  const duckdb_state state = std::visit(
      [&](const auto& v) -> duckdb_state {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) {
          return duckdb_bind_null(handle_, index);
        } else if constexpr (std::is_same_v<T, bool>) {
          return duckdb_bind_boolean(handle_, index, v);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          return duckdb_bind_int64(handle_, index, v);
        } else if constexpr (std::is_same_v<T, double>) {
          return duckdb_bind_double(handle_, index, v);
        } else if constexpr (std::is_same_v<T, std::string>) {
          return duckdb_bind_varchar_length(handle_, index, v.data(), v.size());
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          return duckdb_bind_timestamp(handle_, index, duckdb_timestamp{to_micros(v)});
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          duckdb_value list = make_list(DUCKDB_TYPE_VARCHAR, v, [](const std::string& s) {
            return duckdb_create_varchar_length(s.data(), s.size());
          });
          const duckdb_state bound = duckdb_bind_value(handle_, index, list);
          duckdb_destroy_value(&list);
          return bound;
        } else {
          static_assert(std::is_same_v<T, std::vector<std::int64_t>>);
          duckdb_value list = make_list(DUCKDB_TYPE_BIGINT, v, duckdb_create_int64);
          const duckdb_state bound = duckdb_bind_value(handle_, index, list);
          duckdb_destroy_value(&list);
          return bound;
        }
      },
      value);
  if (state != DuckDBSuccess) {
    throw_engine_error("bind of parameter " + std::to_string(index) + " of \"" + sql_ + "\"", "",
                       DUCKDB_ERROR_INVALID_INPUT);
  }
}

void Statement::bind_all(const std::vector<Param>& params) {
  if (duckdb_nparams(handle_) != params.size()) {
    throw StorageError("DuckDB statement \"" + sql_ + "\" takes " +
                       std::to_string(duckdb_nparams(handle_)) + " parameters, got " +
                       std::to_string(params.size()));
  }
  duckdb_clear_bindings(handle_);
  for (idx_t i = 0; i < params.size(); ++i) bind(i + 1, params[i]);
}

Result Statement::execute() {
  Result result;
  if (duckdb_execute_prepared(handle_, result.out()) != DuckDBSuccess) {
    const char* message = duckdb_result_error(result.out());
    throw_engine_error("query", message != nullptr ? message : "",
                       duckdb_result_error_type(result.out()));
  }
  return result;
}

}  // namespace nemori::detail::duck
