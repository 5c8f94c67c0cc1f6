// Episode merging (docs/design/semantic-memory.md §3): a new episode that is close in meaning and
// in time to another episode of its owner may be the same sitting told twice; a chat model
// decides whether the two become one, and writes the merged episode.
//
// The candidates are filtered in C++ before any call (cosine of the stored embeddings, distance
// in episode time, combined length), so an episode with no close neighbour costs no call. The
// merger decides and builds the merged episode; it never writes: the caller embeds it and
// replaces both episodes in one storage transaction.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/episode.h"
#include "nemori/core/time.h"
#include "nemori/llm/chat.h"
#include "nemori/llm/stats.h"

namespace nemori {

/// Settings of an EpisodeMerger (MemoryConfig::merging gives them in a MemorySystem).
struct EpisodeMergerOptions {
  /// Candidates kept for one episode (best first), each asked about in turn.
  std::size_t candidates = 3;
  /// Only episodes whose stored embeddings have at least this cosine similarity.
  double similarity_threshold = 0.85;
  /// ... and whose timestamps are at most this far apart (episode time, not wall time).
  std::chrono::minutes window{60};
  /// ... and whose title + content words together are at most this many.
  std::size_t max_merged_words = 3000;
  /// The prompt template ({{episode_a}}, {{episode_b}}); empty: prompts/merge.txt.
  std::string prompt;
  /// Where calls, invalid answers and fallbacks are counted (phase "merge"); null: nowhere.
  std::shared_ptr<LlmStats> stats;
};

/// An episode that passed every filter, with its cosine similarity to the new episode.
struct MergeCandidate {
  Episode episode;
  double cosine = 0;
};

/// What EpisodeMerger::merge() decided.
struct MergeOutcome {
  /// The merged episode (no embedding yet), or nullopt: every candidate was kept apart.
  std::optional<Episode> merged;
  /// The candidate merged with the new episode ("" when none).
  std::string partner_id;
  std::uint64_t calls = 0;   ///< Decision calls made (a call asked again counts once more).
  std::uint64_t tokens = 0;  ///< Their prompt + completion tokens.
  /// Candidates kept apart because the answer was invalid twice or the call failed.
  std::size_t fallbacks = 0;
  /// The last failure or invalid answer ("" when none).
  std::string problem;
};

/// Cosine similarity of two vectors of equal length; 0 when either is all zeros or the lengths
/// differ.
double cosine_similarity(std::span<const float> a, std::span<const float> b);

/// The candidates among `nearby` (the new episode's nearest episodes, in any order) that may be
/// merged with `episode`: another id and the same owner, an embedding of the same dimension with
/// cosine >= similarity_threshold, |timestamp difference| <= window, word_count of both <=
/// max_merged_words. Best first (cosine, then id), at most `options.candidates`. Empty when
/// `episode` has no embedding.
std::vector<MergeCandidate> select_merge_candidates(const Episode& episode,
                                                    std::span<const Episode> nearby,
                                                    const EpisodeMergerOptions& options);

/// Checks a merge answer for the pair (`older`, `newer`); "" when valid, else what is wrong.
/// Valid: "decision" is "keep" or "merge"; with "merge", title and content as
/// episode_answer_problem() checks them, and a "timestamp", when given, within [older's start,
/// newer's end].
std::string merge_answer_problem(const nlohmann::json& answer, const Episode& older,
                                 const Episode& newer);

/// The episode that replaces `a` and `b` of one owner after a "merge" answer (validated): id
/// derived from the owner and both ids (so a redone merge finds what it made), text from the
/// answer, timestamp the answer's (else the older's), sources of both in time order (the
/// older's first), entities, topics, keywords, emotions, key points united (30 each), importance
/// the larger, recall counts summed, custom_fields.merged_from = [b, a] followed by what each
/// had merged before. `now` is its processing time. No embedding.
Episode merged_episode(const Episode& a, const Episode& b, const nlohmann::json& answer,
                       Timestamp now);

/// Asks a chat model whether a new episode and its candidates are one sitting told twice.
/// Thread-safe when the chat client is.
class EpisodeMerger {
 public:
  /// `chat` must not be null. Throws ConfigError when the prompt lacks {{episode_a}} or
  /// {{episode_b}}.
  EpisodeMerger(std::shared_ptr<ChatClient> chat, EpisodeMergerOptions options = {});

  /// One call per candidate (phase "merge", JSON mode, temperature 0), best first, stopping at
  /// the first "merge": its merged episode is returned. An answer invalid twice keeps the pair
  /// apart and counts one fallback; a failed call does the same and stops (the model is not
  /// reachable: later candidates would fail too). No candidates: no call. Never throws an
  /// LlmError.
  MergeOutcome merge(const Episode& episode, std::span<const MergeCandidate> candidates,
                     Timestamp now) const;

  /// The options in force.
  const EpisodeMergerOptions& options() const { return options_; }

 private:
  std::shared_ptr<ChatClient> chat_;
  EpisodeMergerOptions options_;
};

}  // namespace nemori
