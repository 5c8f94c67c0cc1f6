#include "nemori/llm/stats.h"

namespace nemori {

void LlmStats::record_success(const std::string& phase, const TokenUsage& usage) {
  std::lock_guard lock(mutex_);
  PhaseStats& p = phases_[phase];
  ++p.calls;
  p.prompt_tokens += usage.prompt_tokens;
  p.completion_tokens += usage.completion_tokens;
}

void LlmStats::record_error(const std::string& phase) {
  std::lock_guard lock(mutex_);
  PhaseStats& p = phases_[phase];
  ++p.calls;
  ++p.errors;
}

void LlmStats::record_retry(const std::string& phase) {
  std::lock_guard lock(mutex_);
  ++phases_[phase].retries;
}

void LlmStats::record_invalid_answer(const std::string& phase) {
  std::lock_guard lock(mutex_);
  ++phases_[phase].invalid_answers;
}

void LlmStats::record_fallback(const std::string& phase) {
  std::lock_guard lock(mutex_);
  ++phases_[phase].fallbacks;
}

void LlmStats::record_wall_time(const std::string& phase, double milliseconds) {
  std::lock_guard lock(mutex_);
  phases_[phase].wall_ms += milliseconds;
}

std::map<std::string, PhaseStats> LlmStats::snapshot() const {
  std::lock_guard lock(mutex_);
  return phases_;
}

PhaseStats LlmStats::phase(const std::string& phase) const {
  std::lock_guard lock(mutex_);
  auto it = phases_.find(phase);
  return it == phases_.end() ? PhaseStats{} : it->second;
}

std::uint64_t LlmStats::total_tokens() const {
  std::lock_guard lock(mutex_);
  std::uint64_t total = 0;
  for (const auto& [name, p] : phases_) total += p.prompt_tokens + p.completion_tokens;
  return total;
}

}  // namespace nemori
