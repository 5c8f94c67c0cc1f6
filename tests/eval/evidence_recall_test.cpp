// Evidence recall scoring and the LoCoMo evaluation runner on a tiny conversation.
#include <algorithm>

#include <gtest/gtest.h>

#include "nemori/eval/evidence_recall.h"
#include "nemori/eval/locomo_eval.h"

namespace nemori {
namespace {

TEST(EvidenceRecall, TakesUnitsInRankOrderUntilTheBudget) {
  const std::vector<RankedUnit> ranked = {
      {{"D1:1", "D1:2"}, 300}, {{"D2:1"}, 300}, {{"D3:1"}, 500}};
  const std::vector<std::string> evidence = {"D1:2", "D2:1", "D3:1"};
  EXPECT_DOUBLE_EQ(recall_at_budget(ranked, evidence, 299), 0.0);
  EXPECT_DOUBLE_EQ(recall_at_budget(ranked, evidence, 300), 1.0 / 3);
  EXPECT_DOUBLE_EQ(recall_at_budget(ranked, evidence, 1000), 2.0 / 3) << "third unit does not fit";
  EXPECT_DOUBLE_EQ(recall_at_budget(ranked, evidence, 1100), 1.0);
}

TEST(EvidenceRecall, AtKCountsTheFirstKUnits) {
  const std::vector<RankedUnit> ranked = {{{"A"}, 10}, {{"B"}, 10}, {{"C"}, 10}};
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, {"B", "C"}, 1), 0.0);
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, {"B", "C"}, 2), 0.5);
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, {"B", "C"}, 20), 1.0);
  EXPECT_DOUBLE_EQ(recall_at_k(ranked, {}, 1), 1.0);
}

TEST(EvidenceRecall, NormalisesJoinedEvidenceIds) {
  EXPECT_EQ(normalise_evidence({"D1:3; D1:4", "D2:1,D2:2", " D1:3 ", ""}),
            (std::vector<std::string>{"D1:3", "D1:4", "D2:1", "D2:2"}));
}

TEST(LocomoEval, FindsTheEvidenceOfATinyConversation) {
  const auto conversations =
      load_locomo(std::string(NEMORI_TEST_DATA_DIR) + "/eval/tiny_locomo.json");
  LocomoEvalOptions options;
  options.memory.storage.backend = "memory";
  for (EvalUnit unit : {EvalUnit::kEpisodes, EvalUnit::kMessages}) {
    options.unit = unit;
    const auto report = run_locomo_eval(conversations, options);
    EXPECT_EQ(report.questions, 3u) << "category 5 is skipped";
    EXPECT_EQ(report.messages, 8u);
    EXPECT_DOUBLE_EQ(report.table.mean("single-hop", "recall@k5"), 1.0) << report.to_text();
    EXPECT_DOUBLE_EQ(report.table.mean("overall", "recall@4000w"), 1.0) << report.to_text();
    ASSERT_EQ(report.outcomes.size(), 3u);
    for (const auto& q : report.outcomes) {
      EXPECT_EQ(q.evidence_ranks.size(), q.evidence.size()) << q.question;
      for (std::size_t rank : q.evidence_ranks) EXPECT_GE(rank, 1u) << q.question;
      if (q.category == 4) {
        EXPECT_EQ(q.evidence_ranks.front(), 1u) << q.question;
      }
    }
    const auto j = report.to_json();
    EXPECT_EQ(j["questions"], 3);
    EXPECT_TRUE(j["recall"].contains("overall"));
    for (const auto& q : report.outcomes) EXPECT_TRUE(q.ranking.empty()) << "kept only on request";
  }
}

TEST(LocomoEval, KeepsEachQuestionsRankingOnRequest) {
  const auto conversations =
      load_locomo(std::string(NEMORI_TEST_DATA_DIR) + "/eval/tiny_locomo.json");
  LocomoEvalOptions options;
  options.memory.storage.backend = "memory";
  options.keep_rankings = true;
  for (EvalUnit unit : {EvalUnit::kEpisodes, EvalUnit::kMessages}) {
    options.unit = unit;
    const auto report = run_locomo_eval(conversations, options);
    for (const auto& q : report.outcomes) {
      ASSERT_FALSE(q.ranking.empty()) << q.question;
      for (std::size_t i = 1; i < q.ranking.size(); ++i)
        EXPECT_GE(q.ranking[i - 1].score, q.ranking[i].score) << "best first: " << q.question;
      for (std::size_t e = 0; e < q.evidence.size(); ++e) {
        // The reported rank of each evidence id is where the ranking first holds it.
        ASSERT_GE(q.evidence_ranks[e], 1u) << q.question;
        const auto& held = q.ranking[q.evidence_ranks[e] - 1].dialog_ids;
        EXPECT_NE(std::find(held.begin(), held.end(), q.evidence[e]), held.end()) << q.question;
      }
      for (const auto& u : q.ranking) {
        EXPECT_FALSE(u.id.empty());
        EXPECT_GT(u.words, 0u);
        EXPECT_EQ(u.time.substr(0, 2), "20") << u.time;
      }
    }
  }
}

}  // namespace
}  // namespace nemori
