// ApiError: an HTTP error answer, and how nemori's typed errors map to one.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

namespace nemori::server {

/// A request that cannot be served: the status, a stable code, the field it names ("" when
/// none) and a message for people. Thrown by route handlers and decoders.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string field, const std::string& message)
      : std::runtime_error(message),
        status_(status),
        code_(std::move(code)),
        field_(std::move(field)) {}
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  const std::string& field() const noexcept { return field_; }
  /// {"error": {"code", "message", "field"}}.
  nlohmann::json body() const;

 private:
  int status_;
  std::string code_;
  std::string field_;
};

/// 400 "invalid_request" naming `field`: "field: reason".
ApiError bad_request(const std::string& field, const std::string& reason);
/// 404 "not_found".
ApiError not_found(const std::string& field, const std::string& message);

/// The answer for an exception escaping a handler: ApiError as is; ValidationError 400 (the
/// field is the JSON path its message starts with), NotFoundError 404, DuplicateError 409,
/// ConfigError 400, UnsupportedBackendError 501, StorageError 503, LlmError 502; anything
/// else 500 with a generic message (the detail goes to the log only).
ApiError to_api_error(const std::exception_ptr& error);

}  // namespace nemori::server
