// How LLM and embedding clients talk HTTP: timeouts, retries, concurrency, budget, seams.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace nemori {

/// Transport settings shared by every network client of the llm layer. Defaults suit a hosted
/// API; a local model (Ollama, vLLM) may want a longer total timeout.
struct HttpOptions {
  /// Time to establish the TCP (and TLS) connection.
  std::chrono::milliseconds connect_timeout{10'000};
  /// Time for one whole attempt (connect, send, wait, receive).
  std::chrono::milliseconds total_timeout{120'000};
  /// Attempts after the first one for retryable failures: HTTP 408, 409, 429 and 5xx,
  /// timeouts, refused or broken connections, truncated bodies. 400, 401, 403, 404, 422 and
  /// every other status are never retried.
  int max_retries = 3;
  /// Backoff before retry n (n = 1, 2, ...): initial_backoff * 2^(n-1), capped at max_backoff,
  /// then multiplied by a random factor in [0.5, 1.0] (jitter).
  std::chrono::milliseconds initial_backoff{500};
  /// Upper bound of one backoff.
  std::chrono::milliseconds max_backoff{30'000};
  /// A 429 or 503 with `Retry-After: N` (seconds) waits exactly N seconds instead of the
  /// backoff; a longer wait than this fails the call at once.
  std::chrono::milliseconds max_retry_after{60'000};
  /// At most this many requests of one client on the wire at once; more callers block.
  std::size_t max_concurrency = 4;
  /// When set, a call is refused (LlmCallError, kind kBudgetExceeded) once the client's
  /// LlmStats has counted at least this many tokens. Calls already on the wire finish.
  std::optional<std::uint64_t> token_budget;
  /// Seeds the jitter (0: a random seed). Tests set it for repeatable delays.
  std::uint64_t jitter_seed = 0;
  /// Waits between attempts. Default: std::this_thread::sleep_for. Tests inject a recorder.
  std::function<void(std::chrono::milliseconds)> sleep;
  /// Receives one line per retry or failure (endpoint, status, reason; never a key or a
  /// request body). Default: none.
  std::function<void(std::string_view)> log;
};

}  // namespace nemori
