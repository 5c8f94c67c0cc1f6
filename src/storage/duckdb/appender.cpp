#include "storage/duckdb/appender.h"

#include "storage/duckdb/error.h"

namespace nemori::detail::duck {

Appender::Appender(Connection& connection, const std::string& table,
                   std::span<const std::string_view> columns)
    : capacity_(duckdb_vector_size()) {
  if (duckdb_appender_create(connection.handle(), nullptr, table.c_str(), &appender_) !=
      DuckDBSuccess) {
    try {
      fail(("appender on " + table).c_str());
    } catch (...) {
      duckdb_appender_destroy(&appender_);  // a failed create still allocates the handle
      throw;
    }
  }
  try {
    for (std::string_view column : columns) {
      if (duckdb_appender_add_column(appender_, std::string(column).c_str()) != DuckDBSuccess) {
        fail(("appender column " + std::string(column) + " of " + table).c_str());
      }
    }
    const idx_t count = duckdb_appender_column_count(appender_);
    types_.reserve(count);
    for (idx_t c = 0; c < count; ++c) types_.push_back(duckdb_appender_column_type(appender_, c));
    new_chunk();
  } catch (...) {
    for (duckdb_logical_type& type : types_) duckdb_destroy_logical_type(&type);
    duckdb_appender_destroy(&appender_);
    throw;
  }
}

Appender::~Appender() {
  if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
  for (duckdb_logical_type& type : types_) duckdb_destroy_logical_type(&type);
  if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
}

void Appender::fail(const char* what) {
  std::string message = "unknown error";
  duckdb_error_type type = DUCKDB_ERROR_INVALID;
  if (appender_ != nullptr) {
    duckdb_error_data error = duckdb_appender_error_data(appender_);
    if (error != nullptr) {
      if (duckdb_error_data_has_error(error)) {
        message = duckdb_error_data_message(error);
        type = duckdb_error_data_error_type(error);
      }
      duckdb_destroy_error_data(&error);
    }
  }
  throw_engine_error(what, message, type);
}

void Appender::new_chunk() {
  if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
  chunk_ = duckdb_create_data_chunk(types_.data(), types_.size());
  vectors_.clear();
  for (idx_t c = 0; c < types_.size(); ++c) {
    vectors_.push_back(duckdb_data_chunk_get_vector(chunk_, c));
  }
  row_ = 0;
}

void Appender::append_chunk() {
  duckdb_data_chunk_set_size(chunk_, row_);
  if (row_ > 0 && duckdb_append_data_chunk(appender_, chunk_) != DuckDBSuccess) fail("append");
  new_chunk();
}

void Appender::text(idx_t column, std::string_view value) {
  duckdb_vector_assign_string_element_len(vectors_[column], row_, value.data(), value.size());
}

void Appender::null(idx_t column) {
  duckdb_vector_ensure_validity_writable(vectors_[column]);
  duckdb_validity_set_row_invalid(duckdb_vector_get_validity(vectors_[column]), row_);
}

void Appender::int64(idx_t column, std::int64_t value) {
  static_cast<std::int64_t*>(duckdb_vector_get_data(vectors_[column]))[row_] = value;
}

void Appender::int32(idx_t column, std::int32_t value) {
  static_cast<std::int32_t*>(duckdb_vector_get_data(vectors_[column]))[row_] = value;
}

void Appender::float64(idx_t column, double value) {
  static_cast<double*>(duckdb_vector_get_data(vectors_[column]))[row_] = value;
}

void Appender::boolean(idx_t column, bool value) {
  static_cast<bool*>(duckdb_vector_get_data(vectors_[column]))[row_] = value;
}

void Appender::timestamp(idx_t column, Timestamp value) {
  static_cast<duckdb_timestamp*>(duckdb_vector_get_data(vectors_[column]))[row_] =
      duckdb_timestamp{to_micros(value)};
}

void Appender::text_list(idx_t column, const std::vector<std::string>& values) {
  duckdb_vector list = vectors_[column];
  const idx_t offset = duckdb_list_vector_get_size(list);
  duckdb_list_vector_reserve(list, offset + values.size());
  duckdb_vector child = duckdb_list_vector_get_child(list);
  for (idx_t i = 0; i < values.size(); ++i) {
    duckdb_vector_assign_string_element_len(child, offset + i, values[i].data(), values[i].size());
  }
  duckdb_list_vector_set_size(list, offset + values.size());
  static_cast<duckdb_list_entry*>(duckdb_vector_get_data(list))[row_] =
      duckdb_list_entry{offset, values.size()};
}

void Appender::float_list(idx_t column, std::span<const float> values) {
  duckdb_vector list = vectors_[column];
  const idx_t offset = duckdb_list_vector_get_size(list);
  duckdb_list_vector_reserve(list, offset + values.size());
  auto* items = static_cast<float*>(duckdb_vector_get_data(duckdb_list_vector_get_child(list)));
  for (idx_t i = 0; i < values.size(); ++i) items[offset + i] = values[i];
  duckdb_list_vector_set_size(list, offset + values.size());
  static_cast<duckdb_list_entry*>(duckdb_vector_get_data(list))[row_] =
      duckdb_list_entry{offset, values.size()};
}

void Appender::end_row() {
  if (++row_ == capacity_) append_chunk();
}

void Appender::close() {
  append_chunk();
  if (duckdb_appender_close(appender_) != DuckDBSuccess) fail("append");
}

}  // namespace nemori::detail::duck
