#include "core/json_reader.h"

#include <climits>
#include <cmath>

#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/core/utf8.h"

namespace nemori::detail {

std::string_view json_type_name(const nlohmann::json& j) {
  if (j.is_number()) return "number";
  return j.type_name();
}

namespace {

[[noreturn]] void wrong_type(const std::string& path, std::string_view expected,
                             const nlohmann::json& got) {
  throw ValidationError(
      path, "expected " + std::string(expected) + ", got " + std::string(json_type_name(got)));
}

}  // namespace

JsonReader::JsonReader(const nlohmann::json& j, std::string_view path) : j_(j), path_(path) {
  if (!j.is_object()) wrong_type(path_, "an object", j);
}

bool JsonReader::has(std::string_view key) const {
  const auto* v = find(key);
  return v != nullptr && !v->is_null();
}

std::string JsonReader::path_of(std::string_view key) const {
  return path_ + "." + std::string(key);
}

const nlohmann::json* JsonReader::find(std::string_view key) const {
  const auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

std::string JsonReader::required_string(std::string_view key) const {
  auto v = optional_string(key);
  if (!v) throw ValidationError(path_of(key), "is required");
  return *v;
}

std::optional<std::string> JsonReader::optional_string(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_string()) wrong_type(path_of(key), "a string", *v);
  const auto& s = v->get_ref<const std::string&>();
  validate_text(s, path_of(key));
  return s;
}

std::string JsonReader::string_or(std::string_view key, std::string fallback) const {
  auto v = optional_string(key);
  return v ? *v : std::move(fallback);
}

std::optional<double> JsonReader::optional_number(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (!v->is_number()) wrong_type(path_of(key), "a number", *v);
  const double d = v->get<double>();
  if (!std::isfinite(d)) throw ValidationError(path_of(key), "must be finite");
  return d;
}

double JsonReader::number_or(std::string_view key, double fallback) const {
  auto v = optional_number(key);
  return v ? *v : fallback;
}

std::optional<long long> JsonReader::optional_integer(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_number_unsigned() &&
      v->get<unsigned long long>() > static_cast<unsigned long long>(LLONG_MAX)) {
    throw ValidationError(path_of(key), "out of range for a 64-bit integer");
  }
  if (v->is_number_integer()) return v->get<long long>();
  if (v->is_number_float()) {
    const double d = v->get<double>();
    if (std::floor(d) == d && std::isfinite(d)) {
      // 2^63 is the first double above LLONG_MAX; converting it or beyond is undefined.
      if (d < -9223372036854775808.0 || d >= 9223372036854775808.0) {
        throw ValidationError(path_of(key), "out of range for a 64-bit integer");
      }
      return static_cast<long long>(d);
    }
  }
  wrong_type(path_of(key), "an integer", *v);
}

bool JsonReader::bool_or(std::string_view key, bool fallback) const {
  const auto* v = find(key);
  if (v == nullptr || v->is_null()) return fallback;
  if (!v->is_boolean()) wrong_type(path_of(key), "a boolean", *v);
  return v->get<bool>();
}

std::optional<Timestamp> JsonReader::optional_time(std::string_view key) const {
  auto s = optional_string(key);
  if (!s) return std::nullopt;
  std::string problem;
  auto t = parse_iso8601(*s, problem);
  if (!t) throw ValidationError(path_of(key), problem);
  return t;
}

Timestamp JsonReader::required_time(std::string_view key) const {
  auto t = optional_time(key);
  if (!t) throw ValidationError(path_of(key), "is required");
  return *t;
}

std::vector<std::string> JsonReader::string_list(std::string_view key) const {
  std::vector<std::string> out;
  const auto* v = find(key);
  if (v == nullptr || v->is_null()) return out;
  if (!v->is_array()) wrong_type(path_of(key), "an array of strings", *v);
  out.reserve(v->size());
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto& item = (*v)[i];
    const std::string item_path = path_of(key) + "[" + std::to_string(i) + "]";
    if (!item.is_string()) wrong_type(item_path, "a string", item);
    validate_text(item.get_ref<const std::string&>(), item_path);
    out.push_back(item.get<std::string>());
  }
  return out;
}

nlohmann::json JsonReader::object_or_empty(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr || v->is_null()) return nlohmann::json::object();
  if (!v->is_object()) wrong_type(path_of(key), "an object", *v);
  validate_json_text(*v, path_of(key));
  return *v;
}

}  // namespace nemori::detail
