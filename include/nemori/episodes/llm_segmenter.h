// The LLM segmenter: a chat model groups numbered, timestamped messages into episodes.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/episodes/segmenter.h"
#include "nemori/llm/chat.h"
#include "nemori/llm/stats.h"

namespace nemori {

/// Settings of the LLM segmenter.
struct LlmSegmenterOptions {
  /// Most messages sent in one call. A longer backlog goes in chunks: every group of a chunk
  /// but its last is final, the last (still open) group starts the next chunk. With groups of
  /// up to 15 messages, 80 makes at most one call per 65 messages.
  std::size_t chunk_messages = 80;
  /// The prompt template ({{count}}, {{messages}}); empty: prompts/segmentation.txt.
  std::string prompt;
  /// Sampling temperature of the calls; unset: the model's default.
  std::optional<double> temperature = 0.2;
  /// Where invalid answers and fallbacks are counted (phase "segmentation"); null: nowhere.
  /// Calls, retries, errors and tokens are counted by the chat client's own LlmStats.
  std::shared_ptr<LlmStats> stats;
};

/// Asks a chat model (phase "segmentation", JSON mode) to group messages: one call per chunk of
/// at most LlmSegmenterOptions::chunk_messages, answered as
/// {"episodes": [{"indices": [1, 2, 3], "topic": "..."}, ...]}. An answer is valid when every
/// message is in exactly one group, each group is a run of consecutive messages and the groups
/// follow the messages' order. An invalid answer is asked again once, naming what was wrong;
/// a second invalid answer, or a call that fails (after the client's own retries), hands that
/// chunk to the fallback segmenter and counts one fallback. A single message needs no call.
///
/// Thread-safe when the chat client and the fallback are (all of nemori's are).
class LlmSegmenter : public Segmenter {
 public:
  /// `chat` must not be null; `fallback` (the heuristic segmenter in practice) must not be
  /// null. Throws ConfigError when options.prompt lacks {{messages}}.
  LlmSegmenter(std::shared_ptr<ChatClient> chat, std::unique_ptr<Segmenter> fallback,
               LlmSegmenterOptions options = {});
  std::vector<Segment> segment(std::span<const Message> messages) const override;
  /// The newest group is open (boundary "end_of_input"): the caller keeps its messages and
  /// segments them again with the ones that follow.
  std::vector<Segment> segment_stream(std::span<const Message> messages) const override;
  std::string name() const override { return "llm"; }

 private:
  std::vector<Segment> run(std::span<const Message> messages, bool open_end) const;
  std::vector<Segment> segment_chunk(std::span<const Message> chunk, bool open_end) const;

  std::shared_ptr<ChatClient> chat_;
  std::unique_ptr<Segmenter> fallback_;
  LlmSegmenterOptions options_;
};

/// Checks a segmentation answer for `count` messages; returns "" when it is valid, else what is
/// wrong ("message 4 is in no group", "message 3 is in two groups", ...). Exposed for tests.
std::string segmentation_answer_problem(const nlohmann::json& answer, std::size_t count);

}  // namespace nemori
