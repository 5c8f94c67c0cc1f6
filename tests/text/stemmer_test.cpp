// Snowball stemming and stop words.
#include "nemori/text/stemmer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "nemori/core/error.h"
#include "nemori/text/normalize.h"
#include "nemori/text/stop_words.h"

namespace nemori {
namespace {

TEST(Stemmer, StemsEnglishWords) {
  const Stemmer s;
  EXPECT_EQ(s.stem("running"), "run");
  EXPECT_EQ(s.stem("caroline"), "carolin");
  EXPECT_EQ(s.stem("generously"), "generous");
  EXPECT_EQ(s.stem(""), "");
}

TEST(Stemmer, OtherLanguagesAndUnknownOnes) {
  EXPECT_EQ(Stemmer("french").stem("continuellement"), "continuel");
  EXPECT_THROW(Stemmer("klingon"), ConfigError);
  EXPECT_THAT(Stemmer::languages(), testing::Contains("english"));
}

TEST(Stemmer, IsSafeFromManyThreads) {
  const Stemmer s;
  std::vector<std::thread> threads;
  std::vector<int> wrong(6, 0);
  for (int k = 0; k < 6; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 2000; ++i) {
        if (s.stem(i % 2 ? "connections" : "happily") != (i % 2 ? "connect" : "happili")) {
          ++wrong[static_cast<std::size_t>(k)];
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_THAT(wrong, testing::Each(0));
}

TEST(StopWords, EnglishListHasFunctionWordsButNotMonthsOrNumbers) {
  const auto sw = StopWords::english();
  for (const char* w : {"the", "and", "did", "when", "don't", "you're", "i"}) {
    EXPECT_TRUE(sw->contains(w)) << w;
  }
  for (const char* w : {"may", "march", "8", "2023", "caroline", "won"}) {
    EXPECT_FALSE(sw->contains(w)) << w;
  }
  EXPECT_EQ(StopWords::none()->size(), 0u);
}

TEST(Normalize, FoldsCaseAccentsWidthAndApostrophes) {
  EXPECT_EQ(normalize_for_search("Ça VA\u2019 ＡＢ"), "ca va' ab");
  EXPECT_EQ(normalize_for_search("Ça", false), "ça");
  EXPECT_EQ(normalize_for_search("bad\xFF"), "bad\uFFFD");
}

}  // namespace
}  // namespace nemori
