// The error every llm-layer client throws when a call fails.
#pragma once

#include <string>

#include "nemori/core/error.h"

namespace nemori {

/// Why an LLM or embedding call failed.
enum class LlmFailure {
  kHttpStatus,         ///< The endpoint answered with a non-2xx status (see http_status()).
  kTimeout,            ///< No complete answer within HttpOptions::total_timeout.
  kConnection,         ///< Connection refused, reset, or the body was cut short.
  kMalformedResponse,  ///< The body is not JSON, or JSON without the expected fields.
  kBudgetExceeded,     ///< HttpOptions::token_budget is spent; nothing was sent.
};

/// A failed call. The message names the endpoint URL (credentials and query string removed),
/// the HTTP status, the provider's error message and the number of attempts; it never holds an
/// API key.
class LlmCallError : public LlmError {
 public:
  LlmCallError(LlmFailure failure, int http_status, int attempts, const std::string& message)
      : LlmError(message), failure_(failure), http_status_(http_status), attempts_(attempts) {}
  /// What went wrong.
  LlmFailure failure() const noexcept { return failure_; }
  /// The last HTTP status received, 0 when none was.
  int http_status() const noexcept { return http_status_; }
  /// HTTP attempts made (0 when refused before sending).
  int attempts() const noexcept { return attempts_; }

 private:
  LlmFailure failure_;
  int http_status_;
  int attempts_;
};

}  // namespace nemori
