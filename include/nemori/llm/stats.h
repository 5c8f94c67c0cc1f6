// Token usage and call accounting for LLM and embedding clients, per phase.
//
// A phase is a caller-chosen name for why a call was made ("segmentation", "episode",
// "embedding", ...). Clients record into the LlmStats they were given; several clients may
// share one. Token counts are what the provider's API reported in its `usage` field (a
// response without `usage` counts the call and zero tokens).
//
// Thread safety: every member function may be called from any number of threads at once.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace nemori {

/// Tokens of one call as the provider reported them.
struct TokenUsage {
  std::uint64_t prompt_tokens = 0;      ///< OpenAI `prompt_tokens`, Anthropic `input_tokens`.
  std::uint64_t completion_tokens = 0;  ///< OpenAI `completion_tokens`, Anthropic `output_tokens`.
  /// prompt_tokens + completion_tokens.
  std::uint64_t total() const { return prompt_tokens + completion_tokens; }
  bool operator==(const TokenUsage&) const = default;
};

/// Counters of one phase.
struct PhaseStats {
  std::uint64_t calls = 0;              ///< Logical calls (a call and its retries count once).
  std::uint64_t retries = 0;            ///< HTTP attempts repeated after a retryable failure.
  std::uint64_t errors = 0;             ///< Calls that ended in an exception.
  std::uint64_t prompt_tokens = 0;      ///< Sum over successful calls.
  std::uint64_t completion_tokens = 0;  ///< Sum over successful calls.
  /// Answers that arrived but failed the caller's validation (wrong JSON shape, a message in
  /// no group...): each was asked again or given up.
  std::uint64_t invalid_answers = 0;
  /// Times the caller gave up on the model and used its LLM-free fallback (the heuristic
  /// segmenter, the extractive episode).
  std::uint64_t fallbacks = 0;
  /// Wall-clock time spent in the phase's calls, in milliseconds: each call from its first
  /// attempt to its answer or its failure, retries and backoff sleeps included.
  double wall_ms = 0;
  bool operator==(const PhaseStats&) const = default;
};

/// Thread-safe counters per phase. Not copyable (share it through a shared_ptr).
class LlmStats {
 public:
  LlmStats() = default;
  LlmStats(const LlmStats&) = delete;
  LlmStats& operator=(const LlmStats&) = delete;

  /// Counts one successful call of `phase` with its usage.
  void record_success(const std::string& phase, const TokenUsage& usage);
  /// Counts one failed call of `phase` (the exception reached the caller).
  void record_error(const std::string& phase);
  /// Counts one retried attempt of `phase`.
  void record_retry(const std::string& phase);
  /// Counts one answer of `phase` that failed the caller's validation.
  void record_invalid_answer(const std::string& phase);
  /// Counts one use of the LLM-free fallback in `phase`.
  void record_fallback(const std::string& phase);
  /// Adds the wall-clock time of one call of `phase` (successful or not).
  void record_wall_time(const std::string& phase, double milliseconds);

  /// A copy of the counters of every phase seen so far, by phase name.
  std::map<std::string, PhaseStats> snapshot() const;
  /// Counters of one phase (all zero when never seen).
  PhaseStats phase(const std::string& phase) const;
  /// Prompt plus completion tokens over all phases (what a token budget is checked against).
  std::uint64_t total_tokens() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, PhaseStats> phases_;
};

}  // namespace nemori
