// Strict, path-aware access to the fields of a JSON object (internal to the core layer).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/error.h"
#include "nemori/core/time.h"

namespace nemori::detail {

/// Name of a JSON value's type for error messages ("string", "number", ...).
std::string_view json_type_name(const nlohmann::json& j);

/// Reads the fields of one JSON object; every error names "<path>.<field>".
class JsonReader {
 public:
  /// Throws ValidationError unless `j` is an object.
  JsonReader(const nlohmann::json& j, std::string_view path);

  bool has(std::string_view key) const;
  /// The path of a field, for error messages.
  std::string path_of(std::string_view key) const;
  const nlohmann::json* find(std::string_view key) const;

  std::string required_string(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  std::string string_or(std::string_view key, std::string fallback) const;
  std::optional<double> optional_number(std::string_view key) const;
  double number_or(std::string_view key, double fallback) const;
  std::optional<long long> optional_integer(std::string_view key) const;
  bool bool_or(std::string_view key, bool fallback) const;
  std::optional<Timestamp> optional_time(std::string_view key) const;
  Timestamp required_time(std::string_view key) const;
  std::vector<std::string> string_list(std::string_view key) const;
  /// An object field (default {}); strings inside are validated.
  nlohmann::json object_or_empty(std::string_view key) const;

 private:
  const nlohmann::json& j_;
  std::string path_;
};

/// The enum `parse` makes of the string field `key` (required); its ValidationError is
/// rethrown naming the field's full path.
template <typename F>
auto parse_enum_at(const JsonReader& r, std::string_view key, F parse) {
  try {
    return parse(r.required_string(key));
  } catch (const ValidationError& e) {
    const std::string msg = e.what();
    const auto colon = msg.find(": ");
    throw ValidationError(r.path_of(key), colon == std::string::npos ? msg : msg.substr(colon + 2));
  }
}

}  // namespace nemori::detail
