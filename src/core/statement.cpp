#include "nemori/core/statement.h"

#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>

#include "core/enum_names.h"
#include "core/json_reader.h"
#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/json.h"
#include "nemori/core/utf8.h"

namespace nemori {

namespace {

constexpr std::array<StatementCategory, 7> kAllCategories = {
    StatementCategory::kIdentity, StatementCategory::kPreference, StatementCategory::kRelationship,
    StatementCategory::kGoal,     StatementCategory::kBelief,     StatementCategory::kHabit,
    StatementCategory::kFact};

constexpr std::array<SemanticState, 6> kAllStates = {
    SemanticState::kPending, SemanticState::kDone,    SemanticState::kRetry,
    SemanticState::kFailed,  SemanticState::kDropped, SemanticState::kSkipped};

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
  return detail::parse_enum_name(text, kAllCategories, "category", detail::NameCase::kIgnoreAscii);
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
  return detail::parse_enum_name(text, kAllStates, "state", detail::NameCase::kIgnoreAscii);
}

void validate(const Statement& s) {
  validate_id(s.statement_id, "statement_id");
  if (s.owner_id.empty()) throw ValidationError("owner_id", "is required");
  validate_id(s.owner_id, "owner_id");
  validate_text(s.subject, "subject");
  if (s.content.empty()) throw ValidationError("content", "is required (one sentence)");
  if (s.content.size() > kMaxStatementContentBytes) {
    throw ValidationError("content", "is " + std::to_string(s.content.size()) +
                                         " bytes; a statement holds at most " +
                                         std::to_string(kMaxStatementContentBytes));
  }
  validate_text(s.content, "content");
  if (!(s.confidence >= 0.0 && s.confidence <= 1.0)) {
    throw ValidationError("confidence", "must be a finite number within 0..1");
  }
  validate_timestamp(s.valid_from, "valid_from");
  if (s.valid_to) {
    validate_timestamp(*s.valid_to, "valid_to");
    if (*s.valid_to < s.valid_from) {
      throw ValidationError("valid_to", "is before valid_from (" + format_iso8601(*s.valid_to) +
                                            " < " + format_iso8601(s.valid_from) + ")");
    }
  }
  if (!s.superseded_by.empty()) {
    validate_id(s.superseded_by, "superseded_by");
    if (s.superseded_by == s.statement_id)
      throw ValidationError("superseded_by", "names the statement itself");
  }
  validate_timestamp(s.recorded_at, "recorded_at");
  validate_timestamp(s.updated_at, "updated_at");
  if (s.embedding_vector) {
    for (float v : *s.embedding_vector) {
      if (!std::isfinite(v)) throw ValidationError("embedding_vector", "values must be finite");
    }
  }
  validate_text(s.embedding_model, "embedding_model");
  if (!s.embedding_model.empty() && !s.embedding_vector)
    throw ValidationError("embedding_model", "is set but embedding_vector is missing");
  if (!s.metadata.is_object()) throw ValidationError("metadata", "must be an object");
  validate_json_text(s.metadata, "metadata");
}

void validate(const SemanticProgress& p) {
  validate_id(p.episode_id, "episode_id");
  if (p.owner_id.empty()) throw ValidationError("owner_id", "is required");
  validate_id(p.owner_id, "owner_id");
  if (p.attempts < 0) throw ValidationError("attempts", "must not be negative");
  validate_text(p.version, "version");
  validate_text(p.detail, "detail");
  validate_timestamp(p.updated_at, "updated_at");
}

namespace {

using detail::JsonReader;
using nlohmann::json;

// A non-negative integer field (default 0).
std::uint64_t count_or_zero(const JsonReader& r, std::string_view key) {
  const auto v = r.optional_integer(key);
  if (!v) return 0;
  if (*v < 0) throw ValidationError(r.path_of(key), "must not be negative");
  return static_cast<std::uint64_t>(*v);
}

std::vector<float> vector_from_json(const json& v, const std::string& path) {
  if (!v.is_array()) throw ValidationError(path, "expected an array of numbers");
  std::vector<float> vec;
  vec.reserve(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    const std::string at = path + "[" + std::to_string(i) + "]";
    if (!v[i].is_number()) throw ValidationError(at, "expected a number");
    const double d = v[i].get<double>();
    if (!(std::fabs(d) <= static_cast<double>(std::numeric_limits<float>::max())))
      throw ValidationError(at, "out of range for a 32-bit float");
    vec.push_back(static_cast<float>(d));
  }
  return vec;
}

// Rethrows a validate() error with the record's path in front ("statement.content: ...").
template <typename Record>
void validate_at(const Record& record, std::string_view path) {
  try {
    validate(record);
  } catch (const ValidationError& err) {
    throw ValidationError(std::string(path) + "." + err.what());
  }
}

}  // namespace

json to_json(const Statement& s) {
  json j{{"statement_id", s.statement_id},
         {"owner_id", s.owner_id},
         {"category", to_string(s.category)},
         {"subject", s.subject},
         {"content", s.content},
         {"confidence", s.confidence},
         {"valid_from", format_iso8601(s.valid_from)},
         {"valid_to", s.valid_to ? json(format_iso8601(*s.valid_to)) : json(nullptr)},
         {"superseded_by", s.superseded_by},
         {"recorded_at", format_iso8601(s.recorded_at)},
         {"updated_at", format_iso8601(s.updated_at)},
         {"source_episode_ids", s.source_episode_ids},
         {"embedding_vector", s.embedding_vector ? json(*s.embedding_vector) : json(nullptr)},
         {"metadata", s.metadata}};
  // As on episodes: written only beside a vector.
  if (!s.embedding_model.empty()) j["embedding_model"] = s.embedding_model;
  return j;
}

json to_json(const SemanticProgress& p) {
  return json{{"episode_id", p.episode_id},
              {"owner_id", p.owner_id},
              {"state", to_string(p.state)},
              {"attempts", p.attempts},
              {"version", p.version},
              {"detail", p.detail},
              {"semantic_calls", p.semantic_calls},
              {"semantic_tokens", p.semantic_tokens},
              {"merge_calls", p.merge_calls},
              {"merge_tokens", p.merge_tokens},
              {"updated_at", format_iso8601(p.updated_at)}};
}

Statement statement_from_json(const json& j, std::string_view path) {
  JsonReader r(j, path);
  Statement s;
  s.statement_id = r.required_string("statement_id");
  s.owner_id = r.required_string("owner_id");
  if (r.has("category")) s.category = parse_enum_at(r, "category", parse_statement_category);
  s.subject = r.string_or("subject", "");
  s.content = r.required_string("content");
  s.confidence = r.number_or("confidence", 0.8);
  s.valid_from = r.required_time("valid_from");
  s.valid_to = r.optional_time("valid_to");
  s.superseded_by = r.string_or("superseded_by", "");
  s.recorded_at = r.optional_time("recorded_at").value_or(s.valid_from);
  s.updated_at = r.optional_time("updated_at").value_or(s.recorded_at);
  s.source_episode_ids = r.string_list("source_episode_ids");
  if (const json* v = r.find("embedding_vector"); v != nullptr && !v->is_null())
    s.embedding_vector = vector_from_json(*v, r.path_of("embedding_vector"));
  s.embedding_model = r.string_or("embedding_model", "");
  s.metadata = r.object_or_empty("metadata");
  validate_at(s, path);
  return s;
}

SemanticProgress semantic_progress_from_json(const json& j, std::string_view path) {
  JsonReader r(j, path);
  SemanticProgress p;
  p.episode_id = r.required_string("episode_id");
  p.owner_id = r.required_string("owner_id");
  p.state = parse_enum_at(r, "state", parse_semantic_state);
  const auto attempts = r.optional_integer("attempts").value_or(0);
  if (attempts < 0 || attempts > std::numeric_limits<int>::max())
    throw ValidationError(r.path_of("attempts"),
                          "must be within 0.." + std::to_string(std::numeric_limits<int>::max()));
  p.attempts = static_cast<int>(attempts);
  p.version = r.string_or("version", "");
  p.detail = r.string_or("detail", "");
  p.semantic_calls = count_or_zero(r, "semantic_calls");
  p.semantic_tokens = count_or_zero(r, "semantic_tokens");
  p.merge_calls = count_or_zero(r, "merge_calls");
  p.merge_tokens = count_or_zero(r, "merge_tokens");
  p.updated_at = r.required_time("updated_at");
  validate_at(p, path);
  return p;
}

}  // namespace nemori
