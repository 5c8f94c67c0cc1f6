#include "storage/duckdb/result.h"

#include <string>
#include <utility>

#include "nemori/core/error.h"

namespace nemori::detail::duck {

namespace {

std::string_view view(const duckdb_string_t& value) {
  return {duckdb_string_t_data(const_cast<duckdb_string_t*>(&value)),
          duckdb_string_t_length(value)};
}

bool valid(duckdb_vector vector, idx_t row) {
  uint64_t* validity = duckdb_vector_get_validity(vector);
  return validity == nullptr || duckdb_validity_row_is_valid(validity, row);
}

duckdb_type type_of(duckdb_vector vector) {
  duckdb_logical_type type = duckdb_vector_get_column_type(vector);
  const duckdb_type id = duckdb_get_type_id(type);
  duckdb_destroy_logical_type(&type);
  return id;
}

// The element type of a LIST vector.
duckdb_type child_type_of(duckdb_vector list) {
  return type_of(duckdb_list_vector_get_child(list));
}

}  // namespace

Chunk::Chunk(duckdb_data_chunk chunk) : chunk_(chunk), size_(duckdb_data_chunk_get_size(chunk)) {
  const idx_t columns = duckdb_data_chunk_get_column_count(chunk);
  vectors_.reserve(columns);
  types_.reserve(columns);
  for (idx_t c = 0; c < columns; ++c) {
    vectors_.push_back(duckdb_data_chunk_get_vector(chunk, c));
    types_.push_back(type_of(vectors_.back()));
  }
}

Chunk::~Chunk() {
  if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
}

Chunk::Chunk(Chunk&& other) noexcept
    : chunk_(std::exchange(other.chunk_, nullptr)),
      size_(other.size_),
      vectors_(std::move(other.vectors_)),
      types_(std::move(other.types_)) {}

const void* Chunk::data(idx_t column, duckdb_type expected) const {
  if (column >= types_.size() || types_[column] != expected) {
    throw StorageError("DuckDB result column " + std::to_string(column) + " has type " +
                       (column < types_.size() ? std::to_string(types_[column]) : "none") +
                       ", expected type " + std::to_string(expected));
  }
  return duckdb_vector_get_data(vectors_[column]);
}

bool Chunk::is_null(idx_t column, idx_t row) const {
  return !valid(vectors_.at(column), row);
}

std::string_view Chunk::text(idx_t column, idx_t row) const {
  return view(static_cast<const duckdb_string_t*>(data(column, DUCKDB_TYPE_VARCHAR))[row]);
}

std::int64_t Chunk::int64(idx_t column, idx_t row) const {
  return static_cast<const std::int64_t*>(data(column, DUCKDB_TYPE_BIGINT))[row];
}

std::int32_t Chunk::int32(idx_t column, idx_t row) const {
  return static_cast<const std::int32_t*>(data(column, DUCKDB_TYPE_INTEGER))[row];
}

double Chunk::float64(idx_t column, idx_t row) const {
  return static_cast<const double*>(data(column, DUCKDB_TYPE_DOUBLE))[row];
}

bool Chunk::boolean(idx_t column, idx_t row) const {
  return static_cast<const bool*>(data(column, DUCKDB_TYPE_BOOLEAN))[row];
}

Timestamp Chunk::timestamp(idx_t column, idx_t row) const {
  return from_micros(
      static_cast<const duckdb_timestamp*>(data(column, DUCKDB_TYPE_TIMESTAMP))[row].micros);
}

std::vector<std::string> Chunk::text_list(idx_t column, idx_t row) const {
  std::vector<std::string> out;
  if (is_null(column, row)) return out;
  const auto* entries = static_cast<const duckdb_list_entry*>(data(column, DUCKDB_TYPE_LIST));
  duckdb_vector child = duckdb_list_vector_get_child(vectors_[column]);
  if (child_type_of(vectors_[column]) != DUCKDB_TYPE_VARCHAR) {
    throw StorageError("DuckDB result column " + std::to_string(column) + " is not VARCHAR[]");
  }
  const auto* items = static_cast<const duckdb_string_t*>(duckdb_vector_get_data(child));
  const duckdb_list_entry entry = entries[row];
  out.reserve(entry.length);
  for (idx_t i = 0; i < entry.length; ++i) {
    const idx_t at = entry.offset + i;
    out.emplace_back(valid(child, at) ? view(items[at]) : std::string_view());
  }
  return out;
}

std::optional<std::vector<float>> Chunk::float_list(idx_t column, idx_t row) const {
  if (is_null(column, row)) return std::nullopt;
  const auto* entries = static_cast<const duckdb_list_entry*>(data(column, DUCKDB_TYPE_LIST));
  duckdb_vector child = duckdb_list_vector_get_child(vectors_[column]);
  if (child_type_of(vectors_[column]) != DUCKDB_TYPE_FLOAT) {
    throw StorageError("DuckDB result column " + std::to_string(column) + " is not FLOAT[]");
  }
  const auto* items = static_cast<const float*>(duckdb_vector_get_data(child));
  const duckdb_list_entry entry = entries[row];
  return std::vector<float>(items + entry.offset, items + entry.offset + entry.length);
}

std::optional<std::string> Chunk::optional_text(idx_t column, idx_t row) const {
  if (is_null(column, row)) return std::nullopt;
  return std::string(text(column, row));
}

std::optional<double> Chunk::optional_float64(idx_t column, idx_t row) const {
  if (is_null(column, row)) return std::nullopt;
  return float64(column, row);
}

std::optional<Timestamp> Chunk::optional_timestamp(idx_t column, idx_t row) const {
  if (is_null(column, row)) return std::nullopt;
  return timestamp(column, row);
}

Result::~Result() {
  if (filled_) duckdb_destroy_result(&result_);
}

Result::Result(Result&& other) noexcept
    : result_(other.result_), filled_(std::exchange(other.filled_, false)) {}

idx_t Result::rows_changed() {
  return duckdb_rows_changed(&result_);
}

std::optional<Chunk> Result::next_chunk() {
  duckdb_data_chunk chunk = duckdb_fetch_chunk(result_);
  if (chunk == nullptr) return std::nullopt;
  return Chunk(chunk);
}

std::int64_t Result::single_int64() {
  while (std::optional<Chunk> chunk = next_chunk()) {
    if (chunk->size() > 0) return chunk->is_null(0, 0) ? 0 : chunk->int64(0, 0);
  }
  return 0;
}

}  // namespace nemori::detail::duck
