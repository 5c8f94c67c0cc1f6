// Retrieval evaluation on LoCoMo without an LLM: evidence recall at word budgets and at k.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/eval/evidence_recall.h"
#include "nemori/eval/locomo.h"
#include "nemori/memory/memory_system.h"

namespace nemori {

/// What is ranked for each question.
enum class EvalUnit {
  kEpisodes,  ///< episodes built by the configured segmenter and generator
  kMessages,  ///< raw messages only (the baseline without episodes)
};

/// Settings of one evaluation run.
struct LocomoEvalOptions {
  EvalUnit unit = EvalUnit::kEpisodes;
  /// Memory settings (storage defaults to memory://, which keeps the run self-contained).
  MemoryConfig memory;
  SearchMode mode = SearchMode::kBm25;
  /// Time neighbours added around each episode hit.
  std::size_t neighbours = 0;
  /// Fuse each episode's rank with its best raw message's rank (MemorySearchRequest).
  bool message_evidence = false;
  /// Context scoring of episode hits (MemorySearchRequest::context's default when unset).
  std::optional<ContextScoringOptions> context;
  /// Hits fetched per question (enough to fill the largest budget).
  std::size_t depth = 200;
  std::vector<std::size_t> budgets = {500, 1000, 2000, 4000};
  std::vector<std::size_t> ks = {5, 10, 20};
  /// Categories asked (5, adversarial, has no evidence to find).
  std::vector<int> categories = {1, 2, 3, 4};
  /// Keep each question's ranked units in its QuestionOutcome (for `--rankings`).
  bool keep_rankings = false;
  /// Feed each conversation one message at a time through add_messages, the way an agent
  /// does, with background workers building episodes as the messages arrive
  /// (memory.building; 2 workers when it names none), then flush() before the questions.
  /// Off: each conversation is added whole, then processed.
  bool incremental = false;
  /// Called after each conversation with (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

/// One ranked unit as `--rankings` reports it.
struct RankedUnitReport {
  std::string id;  ///< episode_id or data_id
  double score = 0;
  std::string time;  ///< when it happened, ISO 8601
  std::size_t words = 0;
  std::vector<std::string> dialog_ids;
};

/// How one question fared.
struct QuestionOutcome {
  std::string conversation;  ///< sample_id
  std::string question;
  int category = 0;
  std::vector<std::string> evidence;  ///< dialog ids
  /// Per evidence id, the 1-based rank of the first unit holding it (0 = not in the ranking).
  std::vector<std::size_t> evidence_ranks;
  double recall_at_1000w = 0;
  /// The ranked units, best first (kept only when LocomoEvalOptions::keep_rankings is set).
  std::vector<RankedUnitReport> ranking;
};

/// Results of one evaluation run.
struct LocomoEvalReport {
  /// Means per bucket ("overall", "multi-hop", "temporal", "open-domain", "single-hop") and
  /// metric ("recall@500w", ..., "recall@k5", ...).
  RecallTable table;
  std::size_t conversations = 0;
  std::size_t messages = 0;
  std::size_t episodes = 0;
  std::size_t questions = 0;
  double mean_episode_words = 0;
  double ingest_seconds = 0;  ///< storing + building episodes + indexing, all conversations
  double search_p50_ms = 0;
  double search_p99_ms = 0;
  std::string unit;          ///< "episodes" or "messages"
  bool incremental = false;  ///< Fed message by message (LocomoEvalOptions::incremental).
  /// Every question asked, in order.
  std::vector<QuestionOutcome> outcomes;
  /// Machine-readable form.
  nlohmann::json to_json() const;
  /// A table for the terminal.
  std::string to_text() const;
};

/// The bucket name of a LoCoMo category ("multi-hop" for 1...).
std::string locomo_category_name(int category);

/// Ingests every conversation (one owner each), builds episodes (unit kEpisodes), asks every
/// question of the chosen categories and scores the ranked units.
LocomoEvalReport run_locomo_eval(const std::vector<LocomoConversation>& conversations,
                                 const LocomoEvalOptions& options);

}  // namespace nemori
