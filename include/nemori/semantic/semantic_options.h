// Settings of semantic memory (statements extracted from episodes by predict-calibrate) and of
// episode merging (docs/design/semantic-memory.md §2-3).
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace nemori {

/// Settings of the semantic pass. It runs only with a chat model and an embedder configured.
struct SemanticOptions {
  /// Off: no statement is extracted (stored ones stay listable and searchable).
  bool enabled = true;
  /// Current statements shown to the model for one episode (the paper's m).
  std::size_t related_limit = 20;
  /// Vector hits at cosine <= this are not related (the paper's sigma_s).
  double related_floor = 0.0;
  /// Cosine at or above which a new statement is a duplicate of a known one (no LLM call).
  double duplicate_threshold = 0.92;
  /// Cosine from which (up to duplicate_threshold) the LLM decides duplicate, contradiction or
  /// distinct; below it a statement is new.
  double ambiguous_threshold = 0.75;
  /// Nearest current statements compared with each new one.
  std::size_t reconcile_candidates = 3;
  /// Statements kept from one answer (the rest are cut, not invalid).
  std::size_t max_per_episode = 20;
  /// Confidence of a statement whose answer gave none.
  double default_confidence = 0.8;
  /// Failed LLM attempts after which an episode is marked failed and not tried again.
  int max_attempts = 3;
  /// Episodes stored before the pass was on are extracted too (false: marked skipped).
  bool backlog = true;
  /// Written to each progress row: which prompts and rules produced the statements.
  std::string version = "semantic-1";
};

/// Settings of episode merging. It runs only with a chat model and an embedder configured.
struct MergingOptions {
  bool enabled = true;
  /// Episodes compared with each new one (nearest by stored embedding).
  std::size_t candidates = 3;
  /// Only episodes at or above this cosine go to the LLM.
  double similarity_threshold = 0.85;
  /// ... and only within this distance in episode time.
  std::chrono::minutes window{60};
  /// ... and only when both together have at most this many words.
  std::size_t max_merged_words = 3000;
};

}  // namespace nemori
