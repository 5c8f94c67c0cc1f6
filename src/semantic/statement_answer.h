// The model's answers of the semantic pass, checked and read (docs/design/semantic-memory.md
// §2.3): the statements of semantic_extract and semantic_calibrate, and the decisions of
// semantic_reconcile. Internal to the semantic layer.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/raw_event.h"
#include "nemori/core/statement.h"
#include "nemori/core/time.h"

namespace nemori::semantic_internal {

/// What an answer is checked against.
struct AnswerContext {
  /// The episode's messages, numbered 1..N for the model, in time order.
  std::span<const RawEvent> events;
  /// The S-ids shown ("S1".."Sm"); an answer's supersedes must be null or one of them.
  std::vector<std::string> shown_ids;
  /// Items read from an answer; later ones are cut (not checked).
  std::size_t max_items = 20;
  /// Confidence of an item that gives none.
  double default_confidence = 0.8;
};

/// One statement of a valid answer.
struct ProposedStatement {
  std::string content;  ///< Trimmed.
  StatementCategory category = StatementCategory::kFact;
  std::string subject;
  double confidence = 0.8;
  std::vector<std::size_t> evidence;  ///< Message numbers, 1-based, ascending, distinct.
  Timestamp valid_from{};
  std::optional<std::size_t> supersedes;  ///< Index into shown_ids.
};

/// "" when `answer` is a valid {"statements": [...]} answer, else what is wrong, naming the
/// item and field ("statement 2: evidence 9 is not a message number (1 to 4)").
std::string statements_answer_problem(const nlohmann::json& answer, const AnswerContext& context);

/// The statements of an answer statements_answer_problem() accepted: at most max_items, items
/// with the same content (fold_case) merged into the first (evidence united). valid_from: the
/// answer's; a date alone on the day of the earliest cited message means that message's time;
/// none: the earliest cited message's time.
std::vector<ProposedStatement> proposed_statements(const nlohmann::json& answer,
                                                   const AnswerContext& context);

/// How a new statement relates to a known one (semantic_reconcile).
enum class PairRelation { kDuplicate, kContradiction, kDistinct };

/// "" when `answer` is {"decisions": [...]} deciding each of pairs P1..P<pairs> exactly once
/// with a relation duplicate, contradiction or distinct; else what is wrong.
std::string decisions_answer_problem(const nlohmann::json& answer, std::size_t pairs);

/// The relation of each pair (index 0 = P1) of an answer decisions_answer_problem() accepted.
std::vector<PairRelation> pair_relations(const nlohmann::json& answer, std::size_t pairs);

}  // namespace nemori::semantic_internal
