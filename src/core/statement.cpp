#include "nemori/core/statement.h"

#include <array>
#include <cctype>
#include <string>

#include "nemori/core/error.h"

namespace nemori {

namespace {

constexpr std::array<StatementCategory, 7> kAllCategories = {
    StatementCategory::kIdentity, StatementCategory::kPreference, StatementCategory::kRelationship,
    StatementCategory::kGoal,     StatementCategory::kBelief,     StatementCategory::kHabit,
    StatementCategory::kFact};

constexpr std::array<SemanticState, 6> kAllStates = {
    SemanticState::kPending, SemanticState::kDone,    SemanticState::kRetry,
    SemanticState::kFailed,  SemanticState::kDropped, SemanticState::kSkipped};

// The value of `values` named `text` (ASCII case-insensitive); a ValidationError of `what`
// listing the valid names otherwise.
template <typename Enum, std::size_t N>
Enum parse_named(std::string_view text, const std::array<Enum, N>& values, std::string_view what) {
  std::string folded(text);
  for (char& c : folded) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string valid;
  for (Enum v : values) {
    if (to_string(v) == folded) return v;
    valid += (valid.empty() ? "" : ", ") + std::string(to_string(v));
  }
  throw ValidationError(what, "unknown value \"" + std::string(text) + "\" (valid: " + valid + ")");
}

}  // namespace

std::string_view to_string(StatementCategory category) {
  switch (category) {
    case StatementCategory::kIdentity:
      return "identity";
    case StatementCategory::kPreference:
      return "preference";
    case StatementCategory::kRelationship:
      return "relationship";
    case StatementCategory::kGoal:
      return "goal";
    case StatementCategory::kBelief:
      return "belief";
    case StatementCategory::kHabit:
      return "habit";
    case StatementCategory::kFact:
      return "fact";
  }
  return "fact";
}

StatementCategory parse_statement_category(std::string_view text) {
  return parse_named(text, kAllCategories, "category");
}

std::string_view to_string(SemanticState state) {
  switch (state) {
    case SemanticState::kPending:
      return "pending";
    case SemanticState::kDone:
      return "done";
    case SemanticState::kRetry:
      return "retry";
    case SemanticState::kFailed:
      return "failed";
    case SemanticState::kDropped:
      return "dropped";
    case SemanticState::kSkipped:
      return "skipped";
  }
  return "pending";
}

SemanticState parse_semantic_state(std::string_view text) {
  return parse_named(text, kAllStates, "state");
}

}  // namespace nemori
