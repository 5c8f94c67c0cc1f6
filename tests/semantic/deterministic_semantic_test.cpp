// The scripted server's deterministic semantic tasks (docs/design/semantic-memory.md §2.5):
// the ten sentence rules, calibrate leaving out what is shown, predict, and reconcile by
// subject, predicate and object. Only the first line picks the task.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "deterministic_tasks.h"

namespace nemori::testing {
namespace {

using ::testing::ElementsAre;

nlohmann::json answer_of(std::string_view task, const std::string& prompt) {
  const auto text = semantic_task_answer(task, prompt);
  EXPECT_TRUE(text.has_value()) << task;
  return text ? nlohmann::json::parse(*text) : nlohmann::json();
}

std::vector<std::string> contents(const nlohmann::json& answer) {
  std::vector<std::string> out;
  for (const auto& s : answer["statements"]) out.push_back(s["content"].get<std::string>());
  return out;
}

std::string extract_prompt(const std::string& lines) {
  return "Task: semantic-extract.\nTitle: Talk\n\n" + lines + "\n\nAnswer with JSON.";
}

TEST(DeterministicSemantic, TheTenRules) {
  const std::string lines =
      "1. [2023-05-08 13:56 UTC, Monday] Caroline: I moved from Boston to Denver. I now live in "
      "Denver, a big city.\n"
      "2. [2023-05-08 13:57 UTC, Monday] Melanie: I'm a painter and I love pottery but not clay! "
      "I don't like snow.\n"
      "3. [2023-05-09 09:00 UTC, Tuesday] Melanie: I work at the city library; my sister is "
      "Anna. I want to visit Paris because it is pretty.\n"
      "4. [2023-05-09 09:01 UTC, Tuesday] Caroline: I think that art heals people. I usually run "
      "on Sundays (before breakfast). Nothing here.";
  const nlohmann::json a = answer_of("semantic-extract", extract_prompt(lines));
  EXPECT_THAT(contents(a),
              ElementsAre("Caroline lives in Denver.", "Caroline lives in Denver.",
                          "Melanie is a painter.", "Melanie likes pottery.", "Melanie dislikes snow.",
                          "Melanie works at the city library.", "Melanie's sister is Anna.",
                          "Melanie wants to visit Paris.", "Caroline believes that art heals people.",
                          "Caroline usually run on Sundays."));
  const auto& first = a["statements"][0];
  EXPECT_EQ(first["category"], "fact");
  EXPECT_EQ(first["subject"], "Caroline");
  EXPECT_EQ(first["confidence"], 0.8);
  EXPECT_EQ(first["evidence"], nlohmann::json({1}));
  EXPECT_EQ(first["valid_from"], "2023-05-08");
  EXPECT_EQ(a["statements"][2]["category"], "identity");
  EXPECT_EQ(a["statements"][6]["category"], "relationship");
  EXPECT_EQ(a["statements"][6]["evidence"], nlohmann::json({3}));
  EXPECT_EQ(a["statements"][6]["valid_from"], "2023-05-09");
  EXPECT_EQ(a["statements"][8]["category"], "belief");
  EXPECT_EQ(a["statements"][9]["category"], "habit");
}

TEST(DeterministicSemantic, XHasAtMostSixWordsAndAnEmptyXSkipsTheRule) {
  const nlohmann::json a = answer_of(
      "semantic-extract",
      extract_prompt("1. [2023-05-08 13:56 UTC, Monday] Gina: I love one two three four five six "
                     "seven eight. I love. I live in , nowhere."));
  EXPECT_THAT(contents(a), ElementsAre("Gina likes one two three four five six."));
}

TEST(DeterministicSemantic, CalibrateLeavesOutWhatIsShownAndNamesWhatAMoveSupersedes) {
  const std::string prompt =
      "Task: semantic-calibrate.\nKnown statements (S-ids):\n"
      "S1 [since 2023-01-02] Caroline likes pottery.\n"
      "S2 [since 2023-01-02] Caroline lives in Boston.\n\nPrediction:\nTalk.\n\n"
      "1. [2023-05-08 13:56 UTC, Monday] Caroline: I love pottery. I moved from Boston to Denver.";
  const nlohmann::json a = answer_of("semantic-calibrate", prompt);
  ASSERT_EQ(a["statements"].size(), 1u);
  EXPECT_EQ(a["statements"][0]["content"], "Caroline lives in Denver.");
  EXPECT_EQ(a["statements"][0]["supersedes"], "S2");
  // Without the old statement shown, nothing is superseded.
  const nlohmann::json b = answer_of(
      "semantic-calibrate",
      "Task: semantic-calibrate.\nS1 [since 2023-01-02] Caroline likes tea.\n"
      "1. [2023-05-08 13:56 UTC, Monday] Caroline: I moved from Boston to Denver.");
  EXPECT_TRUE(b["statements"][0]["supersedes"].is_null());
}

TEST(DeterministicSemantic, PredictRepeatsTheTitleAndTheShownStatements) {
  EXPECT_EQ(semantic_task_answer("semantic-predict",
                                 "Task: semantic-predict.\nTitle: Caroline moved\n\n"
                                 "S1 [since 2023-01-02] Caroline lives in Boston.\n"
                                 "S2 [since 2023-01-03] Caroline likes tea.\n"),
            "Caroline moved. Caroline lives in Boston. Caroline likes tea.");
}

TEST(DeterministicSemantic, ReconcileBySubjectPredicateAndObject) {
  const std::string prompt =
      "Task: semantic-reconcile.\n"
      "P1: new \"Caroline lives in Denver.\" (from 2023-05-08) / known \"Caroline lives in "
      "Boston.\" (since 2022-01-02)\n"
      "P2: new \"Caroline likes tea.\" (from 2023-05-08) / known \"caroline likes tea.\" (since "
      "2022-01-02)\n"
      "P3: new \"Caroline likes tea.\" (from 2023-05-08) / known \"Caroline likes coffee.\" "
      "(since 2022-01-02)\n"
      "P4: new \"Caroline's wife is Ann.\" (from 2023-05-08) / known \"Caroline's wife is Jo.\" "
      "(since 2022-01-02)\n"
      "P5: new \"Melanie lives in Denver.\" (from 2023-05-08) / known \"Caroline lives in "
      "Boston.\" (since 2022-01-02)";
  const nlohmann::json a = answer_of("semantic-reconcile", prompt);
  std::vector<std::string> relations;
  for (const auto& d : a["decisions"]) relations.push_back(d["pair"].get<std::string>() + " " +
                                                           d["relation"].get<std::string>());
  EXPECT_THAT(relations, ElementsAre("P1 contradiction", "P2 duplicate", "P3 distinct",
                                     "P4 contradiction", "P5 distinct"));
}

TEST(DeterministicSemantic, OtherTasksAreNotThisFamilys) {
  EXPECT_FALSE(semantic_task_answer("merge", "Task: merge.").has_value());
  EXPECT_FALSE(semantic_task_answer("answer", "Task: answer.").has_value());
}

}  // namespace
}  // namespace nemori::testing
