// End-to-end question answering on LoCoMo (`nemori eval locomo --answer`): per conversation,
// ingest and build memory; per question of categories 1-4, retrieve a context within a word
// budget, answer it with the chat model, have a judge model label the answer CORRECT or WRONG
// (the J score, mem0's judge prompt), and score it locally with token F1 and BLEU-1
// (answer_metrics.h). docs/design/semantic-memory.md §5 is the specification.
//
// Not thread-safe: one run at a time per options object; the models' clients may be shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/eval/locomo.h"
#include "nemori/llm/chat.h"
#include "nemori/llm/stats.h"
#include "nemori/memory/memory_system.h"

namespace nemori {

/// Settings of one answering run.
struct LocomoAnswerOptions {
  /// Memory settings; `memory.llm.chat` is the answering model and must be set, and
  /// `memory.llm.stats` receives every call (ingest, answer, judge). Storage memory:// keeps the
  /// run self-contained.
  MemoryConfig memory;
  /// The judge model (may be another endpoint); records into its own stats, normally the same
  /// LlmStats as memory.llm.stats. Must be set.
  std::shared_ptr<ChatClient> judge;
  /// Retrieval mode; unset: hybrid with an embedder, BM25 without.
  std::optional<SearchMode> mode;
  /// Context scoring of episode hits; unset: the engine's default.
  std::optional<ContextScoringOptions> context;
  /// Words of context per question: statements, episodes and original messages together.
  std::size_t budget_words = 2000;
  /// Share of the budget statements may take at most (they come first).
  double statement_share = 0.25;
  /// Statements per question at most (current ones only).
  std::size_t statements = 20;
  /// The original messages of this many top episodes are added when they fit.
  std::size_t raw_top = 2;
  /// Judge calls per question; J is the mean over runs of each run's accuracy.
  std::size_t judge_runs = 1;
  /// Sent as the answer calls' `seed` (OpenAI-compatible endpoints only).
  std::int64_t seed = 0;
  /// Prompt templates: {{episodic}}, {{semantic}}, {{question}} and {{question}},
  /// {{gold_answer}}, {{generated_answer}}. Empty: prompts/locomo_answer.txt and
  /// prompts/locomo_judge.txt (or memory.llm.prompts["locomo_answer"/"locomo_judge"]).
  std::string answer_prompt;
  std::string judge_prompt;
  /// Categories asked (5, adversarial, is never asked: it has no gold answer).
  std::vector<int> categories = {1, 2, 3, 4};
  /// Called after each conversation with (done, total).
  std::function<void(std::size_t, std::size_t)> progress;
};

/// The context of one question, as the answering prompt shows it.
struct AnswerContext {
  std::string episodic;  ///< "- [2023-05-08 13:56 UTC] title: content" lines (+ messages).
  std::string semantic;  ///< "- [since 2023-05-08] content" lines.
  std::size_t statements = 0;          ///< Statement lines.
  std::size_t episodes = 0;            ///< Episode lines.
  std::size_t original_messages = 0;   ///< Message lines under the top episodes.
  std::size_t words = 0;               ///< Budgeted words of all of them.
};

/// How one question fared.
struct AnswerOutcome {
  std::string conversation;  ///< sample_id
  std::string question;
  std::string gold;
  int category = 0;
  AnswerContext context;
  std::string answer;               ///< Trimmed model answer ("" when the call failed).
  bool answer_error = false;        ///< The answer call failed for good.
  std::uint64_t answer_prompt_tokens = 0;
  std::vector<std::string> judge_labels;  ///< One per run: "CORRECT", "WRONG" or "INVALID".
  double f1 = 0;
  double bleu1 = 0;
  double search_ms = 0;
  double answer_ms = 0;
  std::vector<double> judge_ms;  ///< One per run (its retry included).
  /// The JSONL line of `--answers FILE`.
  nlohmann::json to_json() const;
};

/// Results of one answering run.
struct LocomoAnswerReport {
  std::vector<AnswerOutcome> outcomes;  ///< Every question asked, in order.
  std::size_t conversations = 0;
  std::size_t messages = 0;
  std::size_t episodes = 0;
  std::size_t merges = 0;  ///< Episodes that are merges of others (custom_fields.merged_from).
  std::size_t statements_current = 0;
  std::size_t statements_superseded = 0;
  double ingest_seconds = 0;
  std::size_t judge_runs = 1;
  /// The answering model as the provider named itself ("scripted" for the scripted server).
  std::string answer_model_reported;
  /// Calls per phase while ingesting (segmentation, episode, embedding, semantic_*, merge)
  /// and while asking (embedding of queries, answer, judge).
  std::map<std::string, PhaseStats> ingest_usage;
  std::map<std::string, PhaseStats> query_usage;
  /// {"overall": {...}, "multi-hop": {...}, ...}: questions, j, j_std, f1, bleu1,
  /// context_words, answer_prompt_tokens, judge_invalid, answer_errors.
  nlohmann::json results() const;
  /// {"results", "ingest", "usage", "latency_ms"} (the design's output without "settings").
  nlohmann::json to_json() const;
  /// A table for the terminal.
  std::string to_text() const;
};

/// Ingests every conversation (one owner each, deleted afterwards), builds its memory, and asks,
/// answers, judges and scores every question of the chosen categories. Throws ConfigError when
/// the answering or judge model is missing or a prompt lacks a placeholder; what the storage
/// throws. A failed answer call scores 0 (counted in answer_errors); a judge answer that is not
/// {"label": "CORRECT"|"WRONG"} is asked once more, then scores 0 (judge_invalid).
LocomoAnswerReport run_locomo_answer(const std::vector<LocomoConversation>& conversations,
                                     const LocomoAnswerOptions& options);

/// The context of one question: current statements first (at most options.statements, within
/// statement_share of the budget), then episodes in rank order while they fit, then the
/// original messages of the top raw_top episodes when they fit in what remains.
AnswerContext build_answer_context(MemorySystem& memory, const std::string& owner_id,
                                   const std::string& question,
                                   const LocomoAnswerOptions& options, double* search_ms = nullptr);

/// SHA-256 of every prompt template in force (an override, else the compiled-in text) by name;
/// null for a prompt this build does not have.
nlohmann::json prompt_hashes(const std::map<std::string, std::string>& overrides);

}  // namespace nemori
