// Request decoding under limits: every problem is a 400 naming the field.
#include "request_decoding.h"

#include <charconv>
#include <cmath>
#include <sstream>

#include "api_error.h"
#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/core/utf8.h"

namespace nemori::server {

namespace {

std::string joined(std::string_view path, std::string_view name) {
  return path.empty() ? std::string(name) : std::string(path) + "." + std::string(name);
}

std::string type_name(const nlohmann::json& value) {
  return value.type_name();
}

template <typename T>
std::string range_text(T min, T max) {
  std::ostringstream out;
  out << "between " << min << " and " << max;
  return out.str();
}

// `value` as a reader wrote it: 5000, 0.5, 1e+300.
std::string number_text(double value) {
  std::ostringstream out;
  out.precision(15);
  out << value;
  return out.str();
}

std::size_t checked_size(std::string_view field, double value, std::size_t min, std::size_t max) {
  if (!std::isfinite(value) || value != std::floor(value)) {
    throw bad_request(std::string(field), "must be a whole number");
  }
  if (value < static_cast<double>(min)) {
    throw bad_request(std::string(field), "must be at least " + std::to_string(min) + " (got " +
                                              number_text(value) + ")");
  }
  if (value > static_cast<double>(max)) {
    throw bad_request(std::string(field), "must be at most " + std::to_string(max) + " (got " +
                                              number_text(value) + ")");
  }
  return static_cast<std::size_t>(value);
}

double checked_number(std::string_view field, double value, double min, double max) {
  if (!std::isfinite(value) || value < min || value > max) {
    std::ostringstream out;
    out << "must be " << range_text(min, max) << " (got " << number_text(value) << ")";
    throw bad_request(std::string(field), out.str());
  }
  return value;
}

Timestamp checked_time(std::string_view field, std::string_view text) {
  std::string problem;
  auto t = parse_iso8601(text, problem);
  if (!t) throw bad_request(std::string(field), "not an ISO-8601 time: " + problem);
  return *t;
}

std::optional<TimeRange> checked_range(std::optional<Timestamp> start, std::optional<Timestamp> end,
                                       std::string_view field) {
  if (!start && !end) return std::nullopt;
  if (start && end && *start > *end) {
    throw bad_request(std::string(field), "start is after end");
  }
  return TimeRange{start, end};
}

// The number a parameter's text spells (the whole text), or a 400.
double parse_number(std::string_view field, const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    throw bad_request(std::string(field), "not a number: \"" + repair_utf8(text) + "\"");
  }
  return value;
}

}  // namespace

nlohmann::json parse_body(std::string_view body, const ServerLimits& limits) {
  if (body.empty()) return nlohmann::json::object();
  nlohmann::json value;
  try {
    value = parse_json(body, "body");
  } catch (const JsonParseError& e) {
    if (e.problem() == JsonParseError::Problem::kTooDeep) {
      throw bad_request("body",
                        "nests deeper than " + std::to_string(limits.max_json_depth) + " levels");
    }
    throw bad_request("body", e.reason());
  }
  if (json_depth(value) > limits.max_json_depth) {
    throw bad_request("body",
                      "nests deeper than " + std::to_string(limits.max_json_depth) + " levels");
  }
  if (!value.is_object()) {
    throw bad_request("body", "expected a JSON object, got " + type_name(value));
  }
  return value;
}

void reject_unknown_keys(const nlohmann::json& object,
                         std::initializer_list<std::string_view> known, std::string_view path) {
  for (const auto& item : object.items()) {
    bool ok = false;
    for (const auto name : known) ok = ok || item.key() == name;
    if (!ok) {
      std::string valid;
      for (const auto name : known) valid += (valid.empty() ? "" : ", ") + std::string(name);
      throw bad_request(joined(path, item.key()), "unknown field (valid: " + valid + ")");
    }
  }
}

std::size_t size_field(const nlohmann::json& object, std::string_view name, std::size_t fallback,
                       std::size_t min, std::size_t max) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number()) {
    throw bad_request(std::string(name), "expected a number, got " + type_name(*it));
  }
  return checked_size(name, it->get<double>(), min, max);
}

std::optional<double> number_field(const nlohmann::json& object, std::string_view name, double min,
                                   double max) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) {
    throw bad_request(std::string(name), "expected a number, got " + type_name(*it));
  }
  return checked_number(name, it->get<double>(), min, max);
}

std::optional<std::string> string_field(const nlohmann::json& object, std::string_view name,
                                        std::size_t max_bytes) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) {
    throw bad_request(std::string(name), "expected a string, got " + type_name(*it));
  }
  const auto& text = it->get_ref<const std::string&>();
  if (text.size() > max_bytes) {
    throw bad_request(std::string(name), "longer than " + std::to_string(max_bytes) + " bytes");
  }
  return text;  // parse_json checked UTF-8 and NUL
}

std::optional<Timestamp> time_field(const nlohmann::json& object, std::string_view name) {
  const auto text = string_field(object, name, 64);
  if (!text) return std::nullopt;
  return checked_time(name, *text);
}

std::optional<TimeRange> time_range_field(const nlohmann::json& object, std::string_view name) {
  const auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_object()) {
    throw bad_request(std::string(name), "expected an object, got " + type_name(*it));
  }
  const std::string path(name);
  reject_unknown_keys(*it, {"start", "end"}, path);
  std::optional<Timestamp> start, end;
  if (auto s = string_field(*it, "start", 64)) start = checked_time(path + ".start", *s);
  if (auto e = string_field(*it, "end", 64)) end = checked_time(path + ".end", *e);
  return checked_range(start, end, path);
}

std::optional<std::string> param(const QueryParams& params, std::string_view name) {
  const auto [first, last] = params.equal_range(std::string(name));
  if (first == last) return std::nullopt;
  if (std::next(first) != last) throw bad_request(std::string(name), "given more than once");
  if (!is_valid_text(first->second)) {
    throw bad_request(std::string(name), "not valid UTF-8 text");
  }
  return first->second;
}

std::size_t size_param(const QueryParams& params, std::string_view name, std::size_t fallback,
                       std::size_t min, std::size_t max) {
  const auto text = param(params, name);
  if (!text) return fallback;
  return checked_size(name, parse_number(name, *text), min, max);
}

std::optional<double> number_param(const QueryParams& params, std::string_view name, double min,
                                   double max) {
  const auto text = param(params, name);
  if (!text) return std::nullopt;
  return checked_number(name, parse_number(name, *text), min, max);
}

std::optional<bool> bool_param(const QueryParams& params, std::string_view name) {
  const auto text = param(params, name);
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  throw bad_request(std::string(name), "expected true or false, got \"" + *text + "\"");
}

std::optional<TimeRange> time_range_params(const QueryParams& params) {
  std::optional<Timestamp> start, end;
  if (auto s = param(params, "start")) start = checked_time("start", *s);
  if (auto e = param(params, "end")) end = checked_time("end", *e);
  return checked_range(start, end, "start");
}

std::vector<std::string> list_param(const QueryParams& params, std::string_view name) {
  std::vector<std::string> values;
  const auto [first, last] = params.equal_range(std::string(name));
  for (auto it = first; it != last; ++it) {
    if (!is_valid_text(it->second)) throw bad_request(std::string(name), "not valid UTF-8 text");
    std::size_t from = 0;
    for (;;) {
      const std::size_t comma = it->second.find(',', from);
      std::string value =
          it->second.substr(from, comma == std::string::npos ? comma : comma - from);
      if (!value.empty()) values.push_back(std::move(value));
      if (comma == std::string::npos) break;
      from = comma + 1;
    }
  }
  return values;
}

SortOrder order_param(const QueryParams& params, SortOrder fallback) {
  const auto order = param(params, "order");
  if (!order) return fallback;
  if (*order == "asc") return SortOrder::kAsc;
  if (*order == "desc") return SortOrder::kDesc;
  throw bad_request("order", "unknown value \"" + *order + "\" (valid: asc, desc)");
}

std::string decode_owner(std::string_view owner, const ServerLimits& limits) {
  if (owner.empty()) throw bad_request("owner", "is empty");
  if (owner.size() > limits.max_owner_bytes) {
    throw bad_request("owner", "longer than " + std::to_string(limits.max_owner_bytes) + " bytes");
  }
  if (!is_valid_text(owner)) throw bad_request("owner", "not valid UTF-8 text");
  for (const unsigned char c : owner) {
    if (c < 0x20 || c == 0x7f) throw bad_request("owner", "holds a control character");
  }
  return std::string(owner);
}

}  // namespace nemori::server
