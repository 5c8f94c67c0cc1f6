// The tokenizer: what text becomes which search terms.
#include "nemori/text/tokenizer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "nemori/core/error.h"

namespace nemori {
namespace {

using testing::AllOf;
using testing::Contains;
using testing::ElementsAre;
using testing::IsEmpty;
using testing::Not;
using testing::UnorderedElementsAre;

// Segmentation only: no stemming, no stop words.
Tokenizer plain() {
  TokenizerOptions o;
  o.stem = false;
  o.remove_stop_words = false;
  return Tokenizer(o);
}

TEST(Tokenizer, SplitsWordsAndFoldsCase) {
  EXPECT_THAT(plain().tokenize("Hello, World! HELLO"), ElementsAre("hello", "world", "hello"));
}

TEST(Tokenizer, EmptyAndPunctuationOnlyTextGiveNoTokens) {
  EXPECT_THAT(plain().tokenize(""), IsEmpty());
  EXPECT_THAT(plain().tokenize("  ... !!! ---  "), IsEmpty());
}

TEST(Tokenizer, KeepsNumbersYearsAndDays) {
  EXPECT_THAT(plain().tokenize("On May 8, 2023 at 13:56"),
              ElementsAre("on", "may", "8", "2023", "at", "13:56"));
}

TEST(Tokenizer, NumbersKeepTheirValue) {
  EXPECT_THAT(plain().tokenize("007 100,000 3.5 1,2"), ElementsAre("7", "100000", "3.5", "1", "2"));
}

TEST(Tokenizer, DatesKeepTheWholeAndTheParts) {
  EXPECT_THAT(plain().tokenize("2023-05-08"), ElementsAre("2023-05-08", "2023", "5", "8"));
  EXPECT_THAT(plain().tokenize("8/5/2023"), ElementsAre("8/5/2023", "8", "5", "2023"));
  EXPECT_THAT(plain().tokenize("08.05.2023"), ElementsAre("08.05.2023", "8", "5", "2023"));
}

TEST(Tokenizer, TimesStayWholeAndSentenceEndsDoNotJoin) {
  EXPECT_THAT(plain().tokenize("It ended at 1:56 pm. Then 10:30:15."),
              ElementsAre("it", "ended", "at", "1:56", "pm", "then", "10:30:15"));
}

TEST(Tokenizer, HyphenatedWordsGiveThePartsAndTheGluedForm) {
  EXPECT_THAT(plain().tokenize("a well-known LGBTQ-friendly group"),
              ElementsAre("a", "well", "known", "wellknown", "lgbtq", "friendly", "lgbtqfriendly",
                          "group"));
  TokenizerOptions o;
  o.stem = false;
  o.remove_stop_words = false;
  o.join_compounds = false;
  EXPECT_THAT(Tokenizer(o).tokenize("well-known"), ElementsAre("well", "known"));
}

TEST(Tokenizer, LettersAndDigitsSplitButOrdinalsStayNumbers) {
  EXPECT_THAT(plain().tokenize("covid19"), ElementsAre("covid", "19", "covid19"));
  EXPECT_THAT(plain().tokenize("the 8th"), ElementsAre("the", "8", "8th"));
}

TEST(Tokenizer, PossessivesAndClitcsLoseTheirApostropheSuffix) {
  EXPECT_THAT(plain().tokenize("Caroline's parents' car"),
              ElementsAre("caroline", "parents", "car"));
  EXPECT_THAT(plain().tokenize("Caroline\u2019s"), ElementsAre("caroline"));  // curly apostrophe
  EXPECT_THAT(plain().tokenize("we'll they're I've"), ElementsAre("we", "they", "i"));
  EXPECT_THAT(plain().tokenize("don't O'Brien"), ElementsAre("don't", "o'brien"));
}

TEST(Tokenizer, FoldsAccentsAndCompatibilityForms) {
  EXPECT_THAT(plain().tokenize("Café NAÏVE Ñandú Straße"),
              ElementsAre("cafe", "naive", "nandu", "strasse"));
  EXPECT_THAT(plain().tokenize("ＡＢＣ１２３ ﬁle"), ElementsAre("abc", "123", "abc123", "file"));
  TokenizerOptions o;
  o.stem = false;
  o.fold_accents = false;
  EXPECT_THAT(Tokenizer(o).tokenize("Café"), ElementsAre("café"));
}

TEST(Tokenizer, AccentFoldingKeepsJapaneseVoicingMarks) {
  // が (ga) and か (ka) are different syllables: the dakuten is not an accent.
  EXPECT_THAT(plain().tokenize("が"), ElementsAre("が"));
  EXPECT_THAT(plain().tokenize("ｶﾞｷﾞ"), ElementsAre("ガギ"));  // half-width folded to full
}

TEST(Tokenizer, SplitsChineseIntoBigrams) {
  EXPECT_THAT(plain().tokenize("卡罗琳去了支持小组"),
              ElementsAre("卡罗", "罗琳", "琳去", "去了", "了支", "支持", "持小", "小组"));
  EXPECT_THAT(plain().tokenize("猫"), ElementsAre("猫"));
  EXPECT_THAT(plain().tokenize("我 爱"), ElementsAre("我", "爱"));
}

TEST(Tokenizer, ChineseNumbersAndLatinAreSeparateTokens) {
  EXPECT_THAT(plain().tokenize("2023年5月去了LGBTQ小组"),
              ElementsAre("2023", "年", "5", "月去", "去了", "lgbtq", "小组"));
}

TEST(Tokenizer, SplitsJapaneseKanaAndKanjiIntoBigrams) {
  EXPECT_THAT(plain().tokenize("東京タワー。"), ElementsAre("東京", "京タ", "タワ", "ワー"));
}

TEST(Tokenizer, SplitsKoreanIntoBigrams) {
  EXPECT_THAT(plain().tokenize("안녕하세요 친구"),
              ElementsAre("안녕", "녕하", "하세", "세요", "친구"));
}

TEST(Tokenizer, CjkUnigramsOnRequest) {
  TokenizerOptions o;
  o.cjk_unigrams = true;
  EXPECT_THAT(Tokenizer(o).tokenize("東京"), ElementsAre("東", "京", "東京"));
}

TEST(Tokenizer, EmojiAreDroppedByDefaultAndKeptOnRequest) {
  EXPECT_THAT(plain().tokenize("party🎉time 👍🏽 ❤️"), ElementsAre("party", "time"));
  TokenizerOptions o;
  o.stem = false;
  o.keep_emoji = true;
  EXPECT_THAT(Tokenizer(o).tokenize("party🎉time 👍🏽 ❤️"),
              ElementsAre("party", "🎉", "time", "👍", "❤"));
}

TEST(Tokenizer, InvalidUtf8IsASeparatorAndNeverThrows) {
  EXPECT_THAT(plain().tokenize("hello\xFFworld"), ElementsAre("hello", "world"));
  EXPECT_THAT(plain().tokenize("caf\xC3"), ElementsAre("caf"));
  EXPECT_THAT(plain().tokenize("\xC3\xA9t\xE9"), ElementsAre("et"));
  // The same bytes always give the same tokens.
  EXPECT_EQ(plain().tokenize("x\xE2\x82y \xF0\x9F"), plain().tokenize("x\xE2\x82y \xF0\x9F"));
  EXPECT_THAT(plain().tokenize("x\xE2\x82y"), ElementsAre("x", "y"));
}

TEST(Tokenizer, SoftHyphenAndControlCharacters) {
  EXPECT_THAT(plain().tokenize("co\u00ADoperate\ttab\nline\x01x"),
              ElementsAre("cooperate", "tab", "line", "x"));
}

TEST(Tokenizer, DropsOverlongTokens) {
  const std::string long_token(65, 'a');
  EXPECT_THAT(plain().tokenize("short " + long_token), ElementsAre("short"));
}

TEST(Tokenizer, DefaultsRemoveEnglishStopWordsAndStem) {
  const Tokenizer t;
  EXPECT_THAT(t.tokenize("When did Caroline go to the LGBTQ support group?"),
              ElementsAre("carolin", "go", "lgbtq", "support", "group"));
  EXPECT_THAT(t.tokenize("running runs ran"), ElementsAre("run", "run", "ran"));
  EXPECT_THAT(t.tokenize("She doesn't e-mail"), ElementsAre("e", "mail", "email"));
  // Month names and numbers are not stop words.
  EXPECT_THAT(t.tokenize("may 8 2023"), ElementsAre("may", "8", "2023"));
}

TEST(Tokenizer, QueriesAndDocumentsMeetOnTheSameTerms) {
  const Tokenizer t;
  const auto doc = t.tokenize("Caroline's well-known café opened on 2023-05-08.");
  for (const auto& q : t.tokenize("caroline cafe wellknown 2023 may 8")) {
    if (q == "may") continue;
    EXPECT_THAT(doc, Contains(q)) << q;
  }
}

TEST(Tokenizer, SegmentThenFinalizeEqualsTokenize) {
  const Tokenizer t;
  for (const char* text :
       {"Caroline's well-known café opened on 2023-05-08 at 13:56.",
        "The kids didn't like the 3rd covid19 wave; 東京タワー 🎉", "", "running, RUNS; ran"}) {
    std::vector<std::string> via_segment;
    t.segment(text, [&](std::string_view token, bool is_word) {
      std::string final_form = is_word ? t.finalize(token) : std::string(token);
      if (!final_form.empty()) via_segment.push_back(final_form);
    });
    EXPECT_EQ(via_segment, t.tokenize(text)) << text;
  }
  EXPECT_EQ(t.finalize("the"), "");
  EXPECT_EQ(t.finalize("running"), "run");
}

TEST(Tokenizer, CustomStopWords) {
  TokenizerOptions o;
  o.stem = false;
  o.stop_words =
      std::make_shared<const StopWords>(std::initializer_list<std::string_view>{"Foo", "ÇA"});
  EXPECT_THAT(Tokenizer(o).tokenize("foo bar ça the"), ElementsAre("bar", "the"));
}

TEST(Tokenizer, UnknownStemmerLanguageIsAConfigError) {
  TokenizerOptions o;
  o.language = "klingon";
  EXPECT_THROW(Tokenizer{o}, ConfigError);
  o.stem = false;
  EXPECT_NO_THROW(Tokenizer{o});
}

TEST(Tokenizer, ManyThreadsGetTheSameTokens) {
  const Tokenizer t;
  const std::string text =
      "Melanie's kids loved the well-known 2022 camping trip, 13:56 東京タワー";
  const auto expected = t.tokenize(text);
  std::vector<std::thread> threads;
  std::vector<int> mismatches(8, 0);
  for (int k = 0; k < 8; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 500; ++i) {
        if (t.tokenize(text) != expected) ++mismatches[static_cast<std::size_t>(k)];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_THAT(mismatches, testing::Each(0));
}

}  // namespace
}  // namespace nemori
