// A statement: a short lasting fact about an owner's life ("Caroline lives in Denver."), with
// the episodes that support it and the time it was true. Semantic memory is made of these
// (docs/design/semantic-memory.md §1.1).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/time.h"

namespace nemori {

/// What kind of lasting fact a statement is. JSON: the lower-case name.
enum class StatementCategory { kIdentity, kPreference, kRelationship, kGoal, kBelief, kHabit, kFact };

/// "identity", "preference", "relationship", "goal", "belief", "habit", "fact".
std::string_view to_string(StatementCategory category);
/// The category named `text` (case-insensitive). Throws ValidationError naming the seven valid
/// values otherwise (no silent default).
StatementCategory parse_statement_category(std::string_view text);

/// A short, self-contained statement about something in an owner's life that stays true for a
/// while, with the episodes that support it and when it was true.
struct Statement {
  /// derived_id("statement\n" + owner + "\n" + episode + "\n" + content) when extracted.
  std::string statement_id;
  std::string owner_id;  ///< The tenant; required.
  StatementCategory category = StatementCategory::kFact;
  std::string subject;        ///< Who or what it is about ("Caroline"); "" when unknown.
  std::string content;        ///< 1..1000 bytes of UTF-8, no NUL: one sentence.
  double confidence = 0.8;    ///< 0..1, finite; raised when another episode supports it.
  Timestamp valid_from{};     ///< When it became true.
  std::optional<Timestamp> valid_to;  ///< When it stopped being true; nullopt while current.
  std::string superseded_by;  ///< The statement that closed it; "" when current or closed by hand.
  Timestamp recorded_at{};    ///< When nemori first stored it.
  Timestamp updated_at{};     ///< Last strengthening or closing.
  /// Episodes that support it, in the order they were added. Never empty once stored: a
  /// statement no episode supports is removed.
  std::vector<std::string> source_episode_ids;
  std::optional<std::vector<float>> embedding_vector;  ///< Of `content`.
  std::string embedding_model;  ///< As on episodes; a model without a vector is invalid.
  /// {"evidence": [raw data ids of the cited messages], "extraction": "direct"|"calibrate"}.
  nlohmann::json metadata = nlohmann::json::object();

  /// True while it has not stopped being true.
  bool current() const { return !valid_to.has_value(); }
  /// True when it was true at `t`: valid_from <= t < valid_to.
  bool valid_at(Timestamp t) const { return valid_from <= t && (!valid_to || t < *valid_to); }
  bool operator==(const Statement&) const = default;
};

/// Longest statement content, in bytes.
inline constexpr std::size_t kMaxStatementContentBytes = 1000;

/// Checks a statement before it is stored: ids and owner non-empty UTF-8 without NUL, content
/// 1..kMaxStatementContentBytes, confidence finite within 0..1, valid_to >= valid_from, vector
/// values finite, a model only with a vector, metadata a JSON object. Throws ValidationError
/// naming the field. Does not look at source_episode_ids (storage checks them).
void validate(const Statement& statement);

/// Per-episode state of the semantic pass (the analogue of raw_data.processed).
enum class SemanticState { kPending, kDone, kRetry, kFailed, kDropped, kSkipped };
/// "pending", "done", "retry", "failed", "dropped", "skipped".
std::string_view to_string(SemanticState state);
/// Throws ValidationError naming the valid values.
SemanticState parse_semantic_state(std::string_view text);

/// What the semantic pass did with one episode.
struct SemanticProgress {
  std::string episode_id;
  std::string owner_id;
  SemanticState state = SemanticState::kPending;
  int attempts = 0;      ///< Failed LLM attempts so far (kFailed after semantic.max_attempts).
  std::string version;   ///< "semantic-1": the prompts and rules that produced the statements.
  std::string detail;    ///< Why dropped or failed (the validation problem, the LLM error).
  std::uint64_t semantic_calls = 0;   ///< LLM calls the extraction of this episode spent,
  std::uint64_t semantic_tokens = 0;  ///< and their tokens (prompt + completion),
  std::uint64_t merge_calls = 0;      ///< so that `nemori stats` can sum them later.
  std::uint64_t merge_tokens = 0;
  Timestamp updated_at{};
  bool operator==(const SemanticProgress&) const = default;
};

/// Checks ids, owner, attempts >= 0 and strings. Throws ValidationError naming the field.
void validate(const SemanticProgress& progress);

/// JSON as stored in dumps and sent over the API: keys equal the field names, times ISO-8601
/// UTC with microseconds, category and state by name, `valid_to` null while current.
nlohmann::json to_json(const Statement& statement);
nlohmann::json to_json(const SemanticProgress& progress);
/// The reverse; throws ValidationError naming the key under `path` ("statement.category").
Statement statement_from_json(const nlohmann::json& j, std::string_view path = "statement");
SemanticProgress semantic_progress_from_json(const nlohmann::json& j,
                                             std::string_view path = "semantic_progress");

}  // namespace nemori
