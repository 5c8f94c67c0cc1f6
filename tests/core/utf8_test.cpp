// UTF-8 checks, repair and Unicode case folding.
#include "nemori/core/utf8.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "nemori/core/error.h"

namespace nemori {
namespace {

using testing::HasSubstr;
using testing::ThrowsMessage;

TEST(Utf8, AcceptsWellFormedText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8("caf\xC3\xA9"));               // é
  EXPECT_TRUE(is_valid_utf8("\xE2\x82\xAC"));              // €
  EXPECT_TRUE(is_valid_utf8("\xE6\x97\xA5\xE6\x9C\xAC"));  // 日本
  EXPECT_TRUE(is_valid_utf8("\xF0\x9F\x98\x80"));          // 😀
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));          // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBD"));              // U+FFFD
}

TEST(Utf8, RejectsMalformedSequences) {
  for (const char* bad : {
           "\x80",              // lone continuation byte
           "\xC3",              // truncated 2-byte sequence
           "\xE2\x82",          // truncated 3-byte sequence
           "\xC0\x80",          // overlong NUL
           "\xC1\xBF",          // overlong
           "\xE0\x80\xAF",      // overlong 3-byte
           "\xF0\x80\x80\xAF",  // overlong 4-byte
           "\xED\xA0\x80",      // UTF-16 surrogate U+D800
           "\xF4\x90\x80\x80",  // above U+10FFFF
           "\xF5\x80\x80\x80",  // invalid lead byte
           "\xFF", "\xFE",
           "ok\xC3(",  // bad continuation
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(std::string(bad));
  }
}

TEST(Utf8, ValidateTextNamesFieldAndByteOffset) {
  EXPECT_NO_THROW(validate_text("Zo\xC3\xAB \xF0\x9F\x8C\x88", "title"));
  EXPECT_THAT([] { validate_text("abc\xFF", "title"); },
              ThrowsMessage<ValidationError>(HasSubstr("title: invalid UTF-8 at byte 3")));
  EXPECT_THAT([] { validate_text("\xC3\xA9\xED\xA0\x80", "content"); },
              ThrowsMessage<ValidationError>(HasSubstr("content: invalid UTF-8 at byte 2")));
}

TEST(Utf8, ValidateTextRejectsNul) {
  EXPECT_THAT(
      [] { validate_text(std::string("ab\0c", 4), "summary"); },
      ThrowsMessage<ValidationError>(HasSubstr("summary: contains a NUL character at byte 2")));
}

TEST(Utf8, RepairReplacesEachInvalidByteWithReplacementCharacter) {
  EXPECT_EQ(repair_utf8("a\xFFz"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(repair_utf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(is_valid_utf8(repair_utf8("\xC0\x80\xED\xA0\x80\xF4\x90\x80\x80")));
}

TEST(Utf8, RepairLeavesValidTextUnchanged) {
  const std::string text = "Caf\xC3\xA9 \xF0\x9F\x98\x80 \xE6\x97\xA5\xE6\x9C\xAC";
  EXPECT_EQ(repair_utf8(text), text);
  EXPECT_EQ(repair_utf8(""), "");
}

TEST(FoldCase, AsciiFastPathLowercasesOnlyLetters) {
  EXPECT_EQ(fold_case("Hello, World! 123 [A-Z]"), "hello, world! 123 [a-z]");
  EXPECT_EQ(fold_case(""), "");
  EXPECT_EQ(fold_case("already lower"), "already lower");
  const std::string with_nul("A\0B", 3);
  EXPECT_EQ(fold_case(with_nul), std::string("a\0b", 3));
}

TEST(FoldCase, SharpSExpandsToSs) {
  EXPECT_EQ(fold_case("Straße"), "strasse");
  EXPECT_EQ(fold_case("STRASSE"), fold_case("Straße"));
  EXPECT_EQ(fold_case("ẞ"), "ss");  // capital sharp s
}

TEST(FoldCase, AccentedCapitalsFoldToComposedLowercase) {
  EXPECT_EQ(fold_case("ÉCOLE"), "école");
  EXPECT_EQ(fold_case("ÉTÉ"), "été");
  // A decomposed É (E + U+0301) folds to the same composed é.
  EXPECT_EQ(fold_case("E\xCC\x81"
                      "COLE"),
            "école");
}

TEST(FoldCase, OtherScripts) {
  // Greek capital sigma folds to the non-final form.
  EXPECT_EQ(fold_case("\xCE\xA3\xCE\x9F\xCE\xA6\xCE\x99\xCE\x91"),
            "\xCF\x83\xCE\xBF\xCF\x86\xCE\xB9\xCE\xB1");  // ΣΟΦΙΑ -> σοφια
  EXPECT_EQ(fold_case("\xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0"),
            "\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0");  // Москва -> москва
  EXPECT_EQ(fold_case("\xEF\xAC\x81"), "fi");                     // ligature ﬁ
  const std::string cjk_emoji = "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80";
  EXPECT_EQ(fold_case(cjk_emoji), cjk_emoji);
}

TEST(FoldCase, IsIdempotent) {
  for (const char* text : {"Straße", "ÉCOLE", "MiXeD Σ", "plain"}) {
    const std::string once = fold_case(text);
    EXPECT_EQ(fold_case(once), once);
  }
}

TEST(FoldCase, RepairsInvalidInputInsteadOfFailing) {
  const std::string folded = fold_case("\xC3\x89T\xFF");
  EXPECT_TRUE(is_valid_utf8(folded));
  EXPECT_EQ(folded, "\xC3\xA9t\xEF\xBF\xBD");
}

}  // namespace
}  // namespace nemori
