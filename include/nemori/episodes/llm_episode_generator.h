// The LLM episode writer: a chat model turns one segment into a dated third-person narrative.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

#include "nemori/episodes/episode_generator.h"
#include "nemori/llm/chat.h"
#include "nemori/llm/stats.h"

namespace nemori {

/// Settings of the LLM episode writer.
struct LlmEpisodeGeneratorOptions {
  /// The prompt template ({{start_time}}, {{start_iso}}, {{messages}}); empty:
  /// prompts/episode.txt.
  std::string prompt;
  /// Sampling temperature of the calls; unset: the model's default.
  std::optional<double> temperature = 0.3;
  /// Where invalid answers and fallbacks are counted (phase "episode"); null: nowhere.
  std::shared_ptr<LlmStats> stats;
};

/// One call per episode (phase "episode", JSON mode). The prompt carries each message's own
/// time and the conversation's start; the answer must be one JSON object with a non-empty
/// "title" and "content" and, when present, a "summary" string, an ISO-8601 "timestamp" and
/// "entities", "topics" and "keywords" lists of strings, all valid UTF-8 without NUL. Relative
/// dates are asked for as "relative (absolute)" ("last Friday (June 23, 2023)").
///
/// The episode starts as the fallback's (ids, times, sources, metadata), and the answer replaces
/// its title, content, summary, entities, topics and search keywords; the answer's timestamp
/// becomes the episode's when it lies within the messages' span (else it is kept in
/// custom_fields "llm_timestamp"). custom_fields "generator" says "llm". An invalid answer is
/// asked again once; a second invalid answer or a failed call leaves the fallback's episode
/// (custom_fields "llm_fallback" says why) and counts one fallback.
///
/// Thread-safe when the chat client and the fallback are.
class LlmEpisodeGenerator : public EpisodeGenerator {
 public:
  /// `chat` and `fallback` (the extractive generator in practice) must not be null. Throws
  /// ConfigError when options.prompt lacks {{messages}}.
  LlmEpisodeGenerator(std::shared_ptr<ChatClient> chat, std::unique_ptr<EpisodeGenerator> fallback,
                      LlmEpisodeGeneratorOptions options = {});
  Episode generate(const std::string& owner_id, std::span<const RawEvent> events,
                   std::span<const Message> messages) const override;
  std::string name() const override { return "llm"; }

 private:
  std::shared_ptr<ChatClient> chat_;
  std::unique_ptr<EpisodeGenerator> fallback_;
  LlmEpisodeGeneratorOptions options_;
};

/// Checks an episode answer; returns "" when valid, else what is wrong ("\"title\" is missing
/// or empty", ...). Exposed for tests.
std::string episode_answer_problem(const nlohmann::json& answer);

}  // namespace nemori
