// Token F1 and BLEU-1 on the worked examples of docs/design/semantic-memory.md §5.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nemori/eval/answer_metrics.h"

namespace nemori {
namespace {

constexpr double kTolerance = 1e-4;

struct Example {
  const char* prediction;
  const char* gold;
  double f1;
  double bleu1;
};

TEST(AnswerMetrics, WorkedExamplesOfTheDesign) {
  const std::vector<Example> examples = {
      {"Boston, Massachusetts", "Boston", 0.6667, 0.3333},
      {"Boston", "Boston, Massachusetts", 0.6667, std::exp(-2.0)},
      {"May 7, 2023", "7 May 2023", 1.0, 0.75},
      {"She didn't go to Paris.", "She did not go to Paris", 8.0 / 11.0, 5.0 / 7.0},
      {"the the the", "the cat", 0.6667, 0.3333},
      {"Caroline lives in Denver", "Denver", 0.4, 0.25},
      {"yes", "no", 0, 0},
      {"", "no", 0, 0},
  };
  for (const auto& e : examples) {
    EXPECT_NEAR(token_f1(e.prediction, e.gold), e.f1, kTolerance)
        << e.prediction << " / " << e.gold;
    EXPECT_NEAR(bleu1(e.prediction, e.gold), e.bleu1, kTolerance)
        << e.prediction << " / " << e.gold;
  }
  EXPECT_NEAR(bleu1("Boston", "Boston, Massachusetts"), 0.1353, kTolerance);
}

TEST(AnswerMetrics, TheEndToEndAnswerScores) {
  // The statement line the deterministic model answers with, against the gold "Denver".
  EXPECT_NEAR(token_f1("Caroline lives in Denver.", "Denver"), 0.4, kTolerance);
  EXPECT_NEAR(bleu1("Caroline lives in Denver.", "Denver"), 0.2, kTolerance);
}

TEST(AnswerMetrics, F1TokensDropSentencePunctuationOnly) {
  EXPECT_EQ(f1_tokens("May 7, 2023!"), (std::vector<std::string>{"may", "7", "2023"}));
  EXPECT_EQ(f1_tokens("She didn't; ok?"),
            (std::vector<std::string>{"she", "didn't;", "ok"}));
  EXPECT_TRUE(f1_tokens(" . , ").empty());
}

TEST(AnswerMetrics, BleuTokensSplitPunctuationAndContractions) {
  EXPECT_EQ(bleu_tokens("She didn't go to Paris."),
            (std::vector<std::string>{"she", "did", "n't", "go", "to", "paris", "."}));
  EXPECT_EQ(bleu_tokens("Caroline's (new) dog, \"Biscuit\"!"),
            (std::vector<std::string>{"caroline", "'s", "(", "new", ")", "dog", ",", "\"",
                                      "biscuit", "\"", "!"}));
  EXPECT_EQ(bleu_tokens("1,000 u.s we'll they're"),
            (std::vector<std::string>{"1,000", "u.s", "we", "'ll", "they", "'re"}));
  EXPECT_EQ(bleu_tokens("n't"), (std::vector<std::string>{"n't"}));
}

TEST(AnswerMetrics, BleuClipsRepeatedWordsAndPenalisesShortAnswers) {
  EXPECT_NEAR(bleu1("the the the", "the cat"), 1.0 / 3.0, kTolerance);
  // c = 2 < r = 4: BP = e^(1 - 2) and both tokens match.
  EXPECT_NEAR(bleu1("red car", "a red car today"), std::exp(-1.0), kTolerance);
  EXPECT_EQ(bleu1("", ""), 0);
  EXPECT_EQ(token_f1("", ""), 0);
  EXPECT_NEAR(token_f1("Denver", "denver."), 1.0, kTolerance);
}

}  // namespace
}  // namespace nemori
