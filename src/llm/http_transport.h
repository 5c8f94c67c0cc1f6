// The HTTP half of every llm client: a pool of reused libcurl handles (one per request in
// flight, at most HttpOptions::max_concurrency), the retry loop with backoff and Retry-After,
// the token budget check, and error messages that never carry a key.
//
// Concurrency model: post_json() may be called from any number of threads. A caller takes a
// handle from the pool (blocking while all max_concurrency handles are on the wire), gives it
// back after each attempt, and sleeps between attempts without holding one. A handle keeps its
// connection alive between requests (curl_easy_reset does not close it).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/llm/http_options.h"
#include "nemori/llm/llm_error.h"
#include "nemori/llm/stats.h"

namespace nemori {

/// The URL as it may appear in messages: no user:password@, no query string.
std::string redact_url(const std::string& url);
/// `text` with every occurrence of `secret` replaced by "[redacted]" (nothing when empty).
std::string redact(std::string text, const std::string& secret);

/// One POST of a JSON body.
struct JsonPost {
  std::string url;
  std::vector<std::string> headers;  ///< "Name: value" lines, besides Content-Type.
  std::string body;
  std::string phase;   ///< For LlmStats.
  std::string secret;  ///< Removed from every message (the API key).
};

class HttpTransport {
 public:
  /// Throws ConfigError when max_concurrency is 0 or a timeout is not positive.
  HttpTransport(HttpOptions options, std::shared_ptr<LlmStats> stats);
  ~HttpTransport();
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  /// Sends the POST, retrying what HttpOptions says is retryable, and returns the 2xx body
  /// parsed as JSON. Counts retries and (when it throws) one error in the stats; the caller
  /// counts the success with its usage. Throws LlmCallError.
  nlohmann::json post_json(const JsonPost& post);

  /// Counts a call that failed after post_json() returned (an answer of the wrong shape) and
  /// throws LlmCallError(kMalformedResponse) naming the endpoint and `what`.
  [[noreturn]] void fail_shape(const JsonPost& post, const std::string& what);

  const HttpOptions& options() const { return options_; }

 private:
  struct Attempt;
  Attempt attempt_once(const JsonPost& post);
  void* acquire();
  void release(void* handle);
  std::chrono::milliseconds backoff(int retry);
  void log(const std::string& line) const;

  HttpOptions options_;
  std::shared_ptr<LlmStats> stats_;
  std::mutex pool_mutex_;
  std::condition_variable pool_cv_;
  std::vector<void*> idle_;  // CURL* handles ready for reuse
  std::size_t in_use_ = 0;
  std::mutex rng_mutex_;
  std::mt19937_64 rng_;
};

}  // namespace nemori
