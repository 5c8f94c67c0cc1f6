// Mapping of nemori's typed errors to HTTP answers.
#include "api_error.h"

#include "nemori/core/error.h"

namespace nemori::server {

namespace {

// The field a ValidationError message starts with ("messages[2].content: is required" ->
// "messages[2].content"); "" when the message does not start with a path.
std::string field_of(const std::string& message) {
  const std::size_t colon = message.find(": ");
  if (colon == std::string::npos || colon == 0) return {};
  const std::string head = message.substr(0, colon);
  if (head.find(' ') != std::string::npos) return {};
  return head;
}

}  // namespace

nlohmann::json ApiError::body() const {
  return {{"error", {{"code", code_}, {"message", what()}, {"field", field_}}}};
}

ApiError bad_request(const std::string& field, const std::string& reason) {
  return ApiError(400, "invalid_request", field, field.empty() ? reason : field + ": " + reason);
}

ApiError not_found(const std::string& field, const std::string& message) {
  return ApiError(404, "not_found", field, message);
}

ApiError to_api_error(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    return e;
  } catch (const Error& e) {
    const std::string message = e.what();
    switch (e.kind()) {
      case ErrorKind::kValidation:
        return ApiError(400, "invalid_request", field_of(message), message);
      case ErrorKind::kNotFound:
        return ApiError(404, "not_found", field_of(message), message);
      case ErrorKind::kDuplicate:
        return ApiError(409, "conflict", field_of(message), message);
      case ErrorKind::kConfig:
        return ApiError(400, "invalid_request", field_of(message), message);
      case ErrorKind::kUnsupportedBackend:
        return ApiError(501, "unsupported", "", message);
      case ErrorKind::kStorage:
        return ApiError(503, "storage_unavailable", "", message);
      case ErrorKind::kLlm:
        return ApiError(502, "llm_error", "", message);
    }
    return ApiError(500, "internal", "", "internal error");
  } catch (...) {
    return ApiError(500, "internal", "", "internal error (see the server log)");
  }
}

}  // namespace nemori::server
