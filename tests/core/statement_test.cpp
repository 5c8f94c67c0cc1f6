// Statement and SemanticProgress rules: validate() guards storage, the JSON form round-trips and
// its decoder names the key that is wrong.
#include "nemori/core/statement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "nemori/core/error.h"

namespace nemori {
namespace {

using testing::HasSubstr;
using testing::ThrowsMessage;

Statement valid_statement() {
  Statement s;
  s.statement_id = "st-1";
  s.owner_id = "alice";
  s.category = StatementCategory::kRelationship;
  s.subject = "Caroline";
  s.content = "Caroline lives in Denver.";
  s.confidence = 0.9;
  s.valid_from = make_timestamp(2023, 5, 8, 13, 58);
  s.recorded_at = make_timestamp(2024, 1, 2);
  s.updated_at = make_timestamp(2024, 1, 3);
  s.source_episode_ids = {"ep-2", "ep-1"};
  return s;
}

SemanticProgress valid_progress() {
  SemanticProgress p;
  p.episode_id = "ep-1";
  p.owner_id = "alice";
  p.state = SemanticState::kRetry;
  p.attempts = 2;
  p.version = "semantic-1";
  p.detail = "the model answered no JSON";
  p.semantic_calls = 3;
  p.semantic_tokens = 4567;
  p.merge_calls = 1;
  p.merge_tokens = 89;
  p.updated_at = make_timestamp(2024, 2, 3, 4, 5, 6) + std::chrono::microseconds(123456);
  return p;
}

// The message of the ValidationError `f` throws ("" when it throws nothing).
template <typename F>
std::string validation_message(F f) {
  try {
    f();
  } catch (const ValidationError& e) {
    return e.what();
  }
  return "";
}

TEST(StatementEnums, NamesRoundTripAndUnknownNamesListTheValidOnes) {
  for (auto c : {StatementCategory::kIdentity, StatementCategory::kPreference,
                 StatementCategory::kRelationship, StatementCategory::kGoal,
                 StatementCategory::kBelief, StatementCategory::kHabit, StatementCategory::kFact}) {
    EXPECT_EQ(parse_statement_category(to_string(c)), c);
  }
  EXPECT_EQ(parse_statement_category("Habit"), StatementCategory::kHabit);
  EXPECT_THAT([] { parse_statement_category("opinion"); },
              ThrowsMessage<ValidationError>(HasSubstr("identity, preference, relationship")));
  for (auto st : {SemanticState::kPending, SemanticState::kDone, SemanticState::kRetry,
                  SemanticState::kFailed, SemanticState::kDropped, SemanticState::kSkipped}) {
    EXPECT_EQ(parse_semantic_state(to_string(st)), st);
  }
  EXPECT_THAT([] { parse_semantic_state("queued"); },
              ThrowsMessage<ValidationError>(HasSubstr("pending, done, retry")));
}

TEST(StatementValidate, AValidStatementPasses) {
  EXPECT_NO_THROW(validate(valid_statement()));
  Statement s = valid_statement();
  s.valid_to = s.valid_from;  // closed the instant it began: empty interval, allowed
  s.superseded_by = "st-2";
  s.embedding_vector = std::vector<float>{0.5f, -1.0f};
  s.embedding_model = "model-a";
  EXPECT_NO_THROW(validate(s));
}

TEST(StatementValidate, EachBrokenRuleNamesItsField) {
  struct Case {
    const char* field;
    void (*breaks)(Statement&);
  };
  const Case cases[] = {
      {"statement_id", [](Statement& s) { s.statement_id.clear(); }},
      {"statement_id", [](Statement& s) { s.statement_id = std::string("a\0b", 3); }},
      {"owner_id", [](Statement& s) { s.owner_id.clear(); }},
      {"owner_id", [](Statement& s) { s.owner_id = "\xff"; }},
      {"subject", [](Statement& s) { s.subject = "bad \xc3"; }},
      {"content", [](Statement& s) { s.content.clear(); }},
      {"content", [](Statement& s) { s.content = std::string(kMaxStatementContentBytes + 1, 'a'); }},
      {"content", [](Statement& s) { s.content = std::string("nul\0inside", 10); }},
      {"confidence", [](Statement& s) { s.confidence = 1.5; }},
      {"confidence", [](Statement& s) { s.confidence = -0.1; }},
      {"confidence", [](Statement& s) { s.confidence = std::nan(""); }},
      {"confidence",
       [](Statement& s) { s.confidence = std::numeric_limits<double>::infinity(); }},
      {"valid_to", [](Statement& s) { s.valid_to = s.valid_from - std::chrono::microseconds(1); }},
      {"superseded_by", [](Statement& s) { s.superseded_by = s.statement_id; }},
      {"embedding_vector",
       [](Statement& s) { s.embedding_vector = std::vector<float>{1.0f, std::nanf("")}; }},
      {"embedding_model", [](Statement& s) { s.embedding_model = "model-a"; }},
      {"metadata", [](Statement& s) { s.metadata = nlohmann::json::array(); }},
      {"metadata", [](Statement& s) { s.metadata = {{"evidence", "\xff"}}; }},
  };
  for (const Case& c : cases) {
    Statement s = valid_statement();
    c.breaks(s);
    const std::string message = validation_message([&] { validate(s); });
    EXPECT_THAT(message, testing::StartsWith(c.field)) << "breaking " << c.field;
  }
  Statement exact = valid_statement();
  exact.content = std::string(kMaxStatementContentBytes, 'a');
  EXPECT_NO_THROW(validate(exact));
}

TEST(StatementValidate, MetadataNestedTooDeeplyIsRefused) {
  Statement s = valid_statement();
  nlohmann::json deep = nlohmann::json::object();
  for (int i = 0; i < 70; ++i) deep = nlohmann::json{{"a", deep}};
  s.metadata = deep;
  EXPECT_THAT(validation_message([&] { validate(s); }), HasSubstr("nests more than"));
}

TEST(StatementValidate, SourcesAreLeftToStorage) {
  Statement s = valid_statement();
  s.source_episode_ids.clear();
  EXPECT_NO_THROW(validate(s));
}

TEST(SemanticProgressValidate, EachBrokenRuleNamesItsField) {
  EXPECT_NO_THROW(validate(valid_progress()));
  struct Case {
    const char* field;
    void (*breaks)(SemanticProgress&);
  };
  const Case cases[] = {
      {"episode_id", [](SemanticProgress& p) { p.episode_id.clear(); }},
      {"owner_id", [](SemanticProgress& p) { p.owner_id.clear(); }},
      {"attempts", [](SemanticProgress& p) { p.attempts = -1; }},
      {"version", [](SemanticProgress& p) { p.version = "\xff"; }},
      {"detail", [](SemanticProgress& p) { p.detail = std::string("a\0b", 3); }},
  };
  for (const Case& c : cases) {
    SemanticProgress p = valid_progress();
    c.breaks(p);
    EXPECT_THAT(validation_message([&] { validate(p); }), testing::StartsWith(c.field))
        << "breaking " << c.field;
  }
}

TEST(StatementJson, EveryFieldRoundTrips) {
  Statement s = valid_statement();
  s.valid_from += std::chrono::microseconds(654321);
  s.valid_to = s.valid_from + std::chrono::hours(24 * 30);
  s.superseded_by = "st-9";
  s.embedding_vector = std::vector<float>{0.25f, -3.5f, 1e-7f};
  s.embedding_model = "model-a";
  s.metadata = {{"evidence", {"r1", "r2"}}, {"extraction", "calibrate"}};
  const nlohmann::json j = to_json(s);
  EXPECT_EQ(j["category"], "relationship");
  EXPECT_EQ(j["valid_from"], format_iso8601(s.valid_from));
  EXPECT_EQ(statement_from_json(j), s);
  EXPECT_EQ(statement_from_json(nlohmann::json::parse(j.dump())), s);

  Statement current = valid_statement();
  const nlohmann::json cj = to_json(current);
  EXPECT_TRUE(cj["valid_to"].is_null());
  EXPECT_TRUE(cj["embedding_vector"].is_null());
  EXPECT_FALSE(cj.contains("embedding_model"));  // written only beside a vector
  EXPECT_EQ(statement_from_json(cj), current);
}

TEST(StatementJson, TimesAreIsoUtcWithMicroseconds) {
  Statement s = valid_statement();
  s.valid_from = make_timestamp(2023, 5, 8, 13, 58, 7) + std::chrono::microseconds(42);
  EXPECT_EQ(to_json(s)["valid_from"], "2023-05-08T13:58:07.000042+00:00");
}

TEST(StatementJson, DecodingErrorsNameTheKeyPath) {
  const nlohmann::json good = to_json(valid_statement());
  struct Case {
    const char* key;
    nlohmann::json value;
    const char* expected;
  };
  const Case cases[] = {
      {"category", "opinion", "statement.category: unknown value \"opinion\""},
      {"category", 3, "statement.category: expected a string"},
      {"content", nullptr, "statement.content: is required"},
      {"content", "", "statement.content"},
      {"confidence", "high", "statement.confidence: expected a number"},
      {"confidence", 1.5, "statement.confidence"},
      {"valid_from", "yesterday", "statement.valid_from"},
      {"valid_to", "2000-01-01T00:00:00Z", "statement.valid_to: is before valid_from"},
      {"source_episode_ids", {"ep-1", 2}, "statement.source_episode_ids[1]: expected a string"},
      {"embedding_vector", {1.0, "x"}, "statement.embedding_vector[1]: expected a number"},
      {"embedding_vector", {1e300}, "statement.embedding_vector[0]: out of range"},
      {"metadata", "x", "statement.metadata: expected an object"},
      {"statement_id", nullptr, "statement.statement_id: is required"},
      {"owner_id", "", "statement.owner_id"},
  };
  for (const Case& c : cases) {
    nlohmann::json j = good;
    j[c.key] = c.value;
    EXPECT_THAT(validation_message([&] { statement_from_json(j); }), HasSubstr(c.expected))
        << c.key;
  }
  nlohmann::json model_alone = good;
  model_alone["embedding_model"] = "model-a";
  EXPECT_THAT(validation_message([&] { statement_from_json(model_alone, "lines[4].data"); }),
              HasSubstr("lines[4].data.embedding_model"));
  EXPECT_THAT(validation_message([] { statement_from_json(nlohmann::json::array()); }),
              HasSubstr("statement: expected an object"));
}

TEST(SemanticProgressJson, RoundTripsAndNamesTheKeyPath) {
  const SemanticProgress p = valid_progress();
  const nlohmann::json j = to_json(p);
  EXPECT_EQ(j["state"], "retry");
  EXPECT_EQ(j["updated_at"], "2024-02-03T04:05:06.123456+00:00");
  EXPECT_EQ(semantic_progress_from_json(j), p);
  EXPECT_EQ(semantic_progress_from_json(nlohmann::json::parse(j.dump())), p);

  struct Case {
    const char* key;
    nlohmann::json value;
    const char* expected;
  };
  const Case cases[] = {
      {"state", "queued", "semantic_progress.state: unknown value \"queued\""},
      {"state", nullptr, "semantic_progress.state: is required"},
      {"attempts", -1, "semantic_progress.attempts"},
      {"attempts", 1.5, "semantic_progress.attempts: expected an integer"},
      {"semantic_tokens", -5, "semantic_progress.semantic_tokens: must not be negative"},
      {"updated_at", nullptr, "semantic_progress.updated_at: is required"},
      {"episode_id", "", "semantic_progress.episode_id"},
  };
  for (const Case& c : cases) {
    nlohmann::json bad = j;
    bad[c.key] = c.value;
    EXPECT_THAT(validation_message([&] { semantic_progress_from_json(bad); }),
                HasSubstr(c.expected))
        << c.key;
  }
}

}  // namespace
}  // namespace nemori
