#include "storage/duckdb/json_equal_function.h"

#include <exception>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nemori/core/error.h"
#include "storage/filter_eval.h"

namespace nemori::detail::duck {

namespace {

std::string_view view(duckdb_string_t& value) {
  return {duckdb_string_t_data(&value), duckdb_string_t_length(value)};
}

bool is_valid(const uint64_t* validity, idx_t row) {
  return validity == nullptr || duckdb_validity_row_is_valid(const_cast<uint64_t*>(validity), row);
}

// DuckDB hands over flat vectors. The second argument is the filter value, the same for every
// row in practice, so it is parsed once per distinct text.
void json_equal(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  try {
    const idx_t rows = duckdb_data_chunk_get_size(input);
    duckdb_vector left = duckdb_data_chunk_get_vector(input, 0);
    duckdb_vector right = duckdb_data_chunk_get_vector(input, 1);
    auto* left_data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(left));
    auto* right_data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(right));
    const uint64_t* left_valid = duckdb_vector_get_validity(left);
    const uint64_t* right_valid = duckdb_vector_get_validity(right);
    auto* out = static_cast<bool*>(duckdb_vector_get_data(output));

    bool have_filter = false;
    std::string_view filter_text;
    nlohmann::json filter;
    for (idx_t row = 0; row < rows; ++row) {
      out[row] = false;
      if (!is_valid(left_valid, row) || !is_valid(right_valid, row)) continue;
      const std::string_view right_text = view(right_data[row]);
      if (!have_filter || right_text != filter_text) {
        filter = nlohmann::json::parse(right_text, nullptr, /*allow_exceptions=*/false);
        filter_text = right_text;
        have_filter = true;
      }
      if (filter.is_discarded()) continue;
      const nlohmann::json value =
          nlohmann::json::parse(view(left_data[row]), nullptr, /*allow_exceptions=*/false);
      out[row] = !value.is_discarded() && json_values_equal(value, filter);
    }
  } catch (const std::exception& e) {
    duckdb_scalar_function_set_error(info, e.what());
  }
}

}  // namespace

void register_json_equal_function(duckdb_database database) {
  duckdb_connection connection = nullptr;
  if (duckdb_connect(database, &connection) != DuckDBSuccess) {
    throw StorageError("DuckDB connect failed while registering " +
                       std::string(kJsonEqualFunction));
  }
  duckdb_scalar_function function = duckdb_create_scalar_function();
  duckdb_logical_type text = duckdb_create_logical_type(DUCKDB_TYPE_VARCHAR);
  duckdb_logical_type boolean = duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN);
  duckdb_scalar_function_set_name(function, kJsonEqualFunction);
  duckdb_scalar_function_add_parameter(function, text);
  duckdb_scalar_function_add_parameter(function, text);
  duckdb_scalar_function_set_return_type(function, boolean);
  duckdb_scalar_function_set_function(function, json_equal);
  const duckdb_state state = duckdb_register_scalar_function(connection, function);
  duckdb_destroy_logical_type(&boolean);
  duckdb_destroy_logical_type(&text);
  duckdb_destroy_scalar_function(&function);
  duckdb_disconnect(&connection);
  if (state != DuckDBSuccess) {
    throw StorageError("DuckDB could not register the SQL function " +
                       std::string(kJsonEqualFunction));
  }
}

}  // namespace nemori::detail::duck
