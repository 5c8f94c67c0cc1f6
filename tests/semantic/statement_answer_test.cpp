// The checks on the model's statement and decision answers (docs/design/semantic-memory.md
// §2.3): each field, named in the problem; what is cut, merged and defaulted.
#include "semantic/statement_answer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nemori/core/message.h"

namespace nemori::semantic_internal {
namespace {

using testing::HasSubstr;

std::vector<RawEvent> two_messages() {
  std::vector<RawEvent> out;
  for (int i = 0; i < 2; ++i) {
    Message m;
    m.speaker_id = "Caroline";
    m.content = "Message " + std::to_string(i + 1);
    m.timestamp = make_timestamp(2023, 5, 8, 13, 56 + i);
    out.push_back(to_raw_event(m, "o"));
  }
  return out;
}

nlohmann::json valid_item() {
  return {{"content", "Caroline lives in Boston."}, {"category", "fact"}, {"evidence", {1}}};
}

std::string problem_with(const std::string& key, const nlohmann::json& value,
                         const AnswerContext& context) {
  nlohmann::json item = valid_item();
  item[key] = value;
  return statements_answer_problem({{"statements", {item}}}, context);
}

TEST(StatementAnswer, EachFieldIsCheckedAndNamed) {
  const auto events = two_messages();
  AnswerContext c;
  c.events = events;
  c.shown_ids = {"S1", "S2"};
  EXPECT_EQ(statements_answer_problem({{"statements", nlohmann::json::array()}}, c), "");
  EXPECT_EQ(statements_answer_problem({{"statements", {valid_item()}}}, c), "");
  EXPECT_EQ(statements_answer_problem({{"facts", nlohmann::json::array()}}, c),
            "the answer has no \"statements\" list");
  EXPECT_EQ(problem_with("content", "", c), "statement 1: content is empty");
  EXPECT_THAT(problem_with("content", std::string(1001, 'a'), c),
              HasSubstr("content has 1001 bytes (at most 1000)"));
  EXPECT_EQ(problem_with("content", std::string("bad \xff utf8"), c),
            "statement 1: content is not valid UTF-8");
  EXPECT_EQ(problem_with("content", std::string("nul\0inside", 10), c),
            "statement 1: content holds a NUL character");
  EXPECT_THAT(problem_with("category", "hobby", c),
              HasSubstr("category \"hobby\" is not one of identity, preference"));
  EXPECT_EQ(problem_with("category", "HABIT", c), "");  // case-insensitive
  EXPECT_EQ(problem_with("subject", 3, c), "statement 1: subject is not a string");
  EXPECT_THAT(problem_with("confidence", 1.5, c), HasSubstr("confidence 1.5 is not a number from 0 to 1"));
  EXPECT_THAT(problem_with("confidence", "high", c), HasSubstr("confidence \"high\""));
  EXPECT_EQ(problem_with("evidence", nlohmann::json::array(), c),
            "statement 1: has no \"evidence\" list of message numbers");
  EXPECT_EQ(problem_with("evidence", {0}, c),
            "statement 1: evidence 0 is not a message number (1 to 2)");
  EXPECT_EQ(problem_with("evidence", {"1"}, c),
            "statement 1: evidence \"1\" is not a message number (1 to 2)");
  EXPECT_THAT(problem_with("valid_from", "yesterday", c),
              HasSubstr("valid_from \"yesterday\" is not an ISO-8601 date"));
  EXPECT_THAT(problem_with("valid_from", "2023-05-09", c), HasSubstr("is after the last message"));
  EXPECT_EQ(problem_with("valid_from", "2023-05-08T13:57:00Z", c), "");  // the last message's time
  EXPECT_EQ(problem_with("supersedes", "S2", c), "");
  EXPECT_EQ(problem_with("supersedes", nullptr, c), "");
  EXPECT_THAT(problem_with("supersedes", "S3", c),
              HasSubstr("supersedes \"S3\" is not null or one of the S-ids shown (S1 to S2)"));
  c.shown_ids.clear();
  EXPECT_THAT(problem_with("supersedes", "S1", c), HasSubstr("no known statement was shown"));
  // The second item is named.
  nlohmann::json bad = valid_item();
  bad["category"] = 7;
  EXPECT_EQ(statements_answer_problem({{"statements", {valid_item(), bad}}}, c),
            "statement 2: has no \"category\" string");
}

TEST(StatementAnswer, ItemsBeyondTheLimitAreCutNotChecked) {
  const auto events = two_messages();
  AnswerContext c;
  c.events = events;
  c.max_items = 1;
  nlohmann::json bad = valid_item();
  bad["evidence"] = {9};
  const nlohmann::json answer = {{"statements", {valid_item(), bad}}};
  EXPECT_EQ(statements_answer_problem(answer, c), "");
  EXPECT_EQ(proposed_statements(answer, c).size(), 1u);
}

TEST(StatementAnswer, DefaultsAndMergedDuplicates) {
  const auto events = two_messages();
  AnswerContext c;
  c.events = events;
  c.shown_ids = {"S1"};
  c.default_confidence = 0.7;
  nlohmann::json second = valid_item();
  second["content"] = "  caroline LIVES in boston.  ";
  second["evidence"] = {2, 1};
  second["supersedes"] = "S1";
  nlohmann::json dated = valid_item();
  dated["content"] = "Caroline was born in 1990.";
  dated["valid_from"] = "1990-01-01";
  const auto list = proposed_statements({{"statements", {valid_item(), second, dated}}}, c);
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].content, "Caroline lives in Boston.");
  EXPECT_DOUBLE_EQ(list[0].confidence, 0.7);
  EXPECT_EQ(list[0].evidence, (std::vector<std::size_t>{1, 2}));
  EXPECT_EQ(list[0].supersedes, 0u);
  EXPECT_EQ(list[0].valid_from, events[0].temporal_info.timestamp);  // no valid_from given
  EXPECT_EQ(list[1].valid_from, make_timestamp(1990, 1, 1));  // another day: as given
}

TEST(StatementAnswer, DecisionsMustDecideEveryPairOnce) {
  EXPECT_EQ(decisions_answer_problem(
                {{"decisions", {{{"pair", "P2"}, {"relation", "Distinct"}},
                                {{"pair", "P1"}, {"relation", "duplicate"}}}}},
                2),
            "");
  EXPECT_EQ(decisions_answer_problem({{"decisions", nlohmann::json::array()}}, 1),
            "P1 is not decided");
  EXPECT_EQ(decisions_answer_problem({{"decisions", {{{"pair", "P1"}, {"relation", "same"}}}}}, 1),
            "the relation of P1 is \"same\", not duplicate, contradiction or distinct");
  EXPECT_EQ(decisions_answer_problem({{"decisions", {{{"pair", "P3"}, {"relation", "distinct"}}}}}, 2),
            "pair \"P3\" is not one of P1 to P2");
  EXPECT_EQ(decisions_answer_problem({{"decisions",
                                       {{{"pair", "P1"}, {"relation", "distinct"}},
                                        {{"pair", "P1"}, {"relation", "duplicate"}}}}},
                                     1),
            "P1 is decided twice");
  const auto relations = pair_relations(
      {{"decisions", {{{"pair", "P2"}, {"relation", "contradiction"}},
                      {{"pair", "P1"}, {"relation", "DUPLICATE"}}}}},
      2);
  EXPECT_EQ(relations, (std::vector<PairRelation>{PairRelation::kDuplicate,
                                                  PairRelation::kContradiction}));
}

}  // namespace
}  // namespace nemori::semantic_internal
