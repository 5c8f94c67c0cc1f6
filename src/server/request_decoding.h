// Decoding of request bodies and query parameters under the server's limits. Every function
// throws ApiError (400) naming the field and the bound it broke; none throws anything else on
// any input (fuzz/fuzz_requests.cpp).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api_error.h"
#include "nemori/core/error.h"
#include "nemori/core/time.h"
#include "nemori/server/server.h"
#include "nemori/storage/query.h"

namespace nemori::server {

/// Query parameters as the HTTP layer gives them (a name may repeat).
using QueryParams = std::multimap<std::string, std::string>;

/// Parses a JSON object body: strict JSON (parse_json), at most limits.max_json_depth levels.
/// An empty body is an empty object.
nlohmann::json parse_body(std::string_view body, const ServerLimits& limits);

/// Throws unless every key of `object` is in `known` (a 400 naming the first unknown key).
void reject_unknown_keys(const nlohmann::json& object,
                         std::initializer_list<std::string_view> known, std::string_view path = "");

/// A whole number field of a JSON object within [min, max]; `fallback` when absent.
std::size_t size_field(const nlohmann::json& object, std::string_view name, std::size_t fallback,
                       std::size_t min, std::size_t max);
/// A number field within [min, max]; nullopt when absent.
std::optional<double> number_field(const nlohmann::json& object, std::string_view name, double min,
                                   double max);
/// A string field (valid UTF-8, no NUL, at most `max_bytes`); nullopt when absent.
std::optional<std::string> string_field(const nlohmann::json& object, std::string_view name,
                                        std::size_t max_bytes);
/// An ISO-8601 time field; nullopt when absent.
std::optional<Timestamp> time_field(const nlohmann::json& object, std::string_view name);
/// {"start": T, "end": T} under `name` (either end optional), start <= end; nullopt when absent.
std::optional<TimeRange> time_range_field(const nlohmann::json& object, std::string_view name);

/// The single value of a query parameter; nullopt when absent; 400 when given twice or when
/// it is not valid text.
std::optional<std::string> param(const QueryParams& params, std::string_view name);
/// A whole number parameter within [min, max] ("limit: must be at most 1000 (got 5000)").
std::size_t size_param(const QueryParams& params, std::string_view name, std::size_t fallback,
                       std::size_t min, std::size_t max);
/// A number parameter within [min, max]; nullopt when absent.
std::optional<double> number_param(const QueryParams& params, std::string_view name, double min,
                                   double max);
/// "true"/"false" (also 1/0); nullopt when absent.
std::optional<bool> bool_param(const QueryParams& params, std::string_view name);
/// The time range of parameters `start` and `end` (ISO-8601), start <= end; nullopt when
/// neither is given.
std::optional<TimeRange> time_range_params(const QueryParams& params);
/// Every value of a parameter, each also split at commas (type=a,b&type=c).
std::vector<std::string> list_param(const QueryParams& params, std::string_view name);

/// The `order` parameter: asc or desc; `fallback` when absent.
SortOrder order_param(const QueryParams& params, SortOrder fallback = SortOrder::kDesc);

/// Every value of the list parameter `name` (list_param) parsed by `parse`, which throws
/// ValidationError on an unknown value (a 400 naming `name`).
template <typename T, typename Parse>
std::vector<T> enum_list_param(const QueryParams& params, std::string_view name, Parse parse) {
  std::vector<T> values;
  for (const auto& text : list_param(params, name)) {
    try {
      values.push_back(parse(text));
    } catch (const ValidationError& e) {
      throw bad_request(std::string(name), e.what());
    }
  }
  return values;
}

/// An owner id from a path: not empty, at most limits.max_owner_bytes, valid UTF-8 without
/// NUL or control characters.
std::string decode_owner(std::string_view owner, const ServerLimits& limits);

}  // namespace nemori::server
