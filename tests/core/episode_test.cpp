// Episode rules: finalize() derives summary and title like the original; validate() guards storage.
#include "nemori/core/episode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"

namespace nemori {
namespace {

using testing::HasSubstr;
using testing::ThrowsMessage;

std::string repeat(std::string_view unit, std::size_t times) {
  std::string out;
  for (std::size_t i = 0; i < times; ++i) out += unit;
  return out;
}

Episode valid_episode() {
  Episode e;
  e.episode_id = "ep-1";
  e.owner_id = "alice";
  e.title = "Title";
  e.content = "Content";
  e.summary = "Summary";
  return e;
}

TEST(Finalize, ShortContentBecomesSummaryAndTitleUnchanged) {
  Episode e;
  e.content = "Alice met Bob at the café.";
  finalize(e);
  EXPECT_EQ(e.summary, "Alice met Bob at the café.");
  EXPECT_EQ(e.title, "Alice met Bob at the café.");
}

TEST(Finalize, SummaryIsFirstHundredCharactersPlusEllipsis) {
  Episode e;
  e.content = repeat("0123456789", 15);  // 150 characters
  finalize(e);
  EXPECT_EQ(e.summary, repeat("0123456789", 10) + "...");
}

TEST(Finalize, ContentOfExactlyHundredCharactersGetsNoEllipsis) {
  Episode e;
  e.content = repeat("a", 100);
  finalize(e);
  EXPECT_EQ(e.summary, repeat("a", 100));
  e = Episode{};
  e.content = repeat("a", 101);
  finalize(e);
  EXPECT_EQ(e.summary, repeat("a", 100) + "...");
}

TEST(Finalize, TitleIsFirstLineOfSummaryCutToFifty) {
  Episode e;
  e.content = "Morning run\nAlice ran 10 km along the river.";
  finalize(e);
  EXPECT_EQ(e.title, "Morning run");

  e = Episode{};
  e.content = repeat("b", 80) + "\nsecond line";
  finalize(e);
  EXPECT_EQ(e.title, repeat("b", 50) + "...");

  e = Episode{};
  e.content = repeat("c", 50) + "\nsecond line";
  finalize(e);
  EXPECT_EQ(e.title, repeat("c", 50));  // exactly 50: no ellipsis
}

TEST(Finalize, TitleComesFromAGivenSummaryWhenMissing) {
  Episode e;
  e.content = "The long narrative.";
  e.summary = "A walk in the park\nwith details";
  finalize(e);
  EXPECT_EQ(e.summary, "A walk in the park\nwith details");
  EXPECT_EQ(e.title, "A walk in the park");
}

TEST(Finalize, ExistingTitleAndSummaryAreKept) {
  Episode e;
  e.title = "Given title";
  e.summary = "Given summary";
  e.content = repeat("x", 500);
  finalize(e);
  EXPECT_EQ(e.title, "Given title");
  EXPECT_EQ(e.summary, "Given summary");
}

TEST(Finalize, TitleOnlyEpisodeKeepsEmptySummary) {
  Episode e;
  e.title = "Just a title";
  finalize(e);
  EXPECT_EQ(e.summary, "");
  EXPECT_EQ(e.title, "Just a title");
}

TEST(Finalize, CutsCountCharactersNotBytes) {
  Episode e;
  e.content = repeat("é", 150);  // 2 bytes each
  finalize(e);
  EXPECT_EQ(e.summary, repeat("é", 100) + "...");
  EXPECT_EQ(e.title, repeat("é", 50) + "...");
  EXPECT_TRUE(is_valid_utf8(e.summary));
  EXPECT_TRUE(is_valid_utf8(e.title));
}

TEST(Finalize, NeverSplitsAMultiByteCharacter) {
  // The 100th and 50th characters are multi-byte and straddle byte offsets 100 and 50.
  for (std::string_view wide : {"日", "😀", "é"}) {
    Episode e;
    e.content = repeat("a", 99) + std::string(wide) + repeat("z", 20);
    finalize(e);
    EXPECT_EQ(e.summary, repeat("a", 99) + std::string(wide) + "...") << wide;
    EXPECT_TRUE(is_valid_utf8(e.summary));

    Episode t;
    t.summary = repeat("b", 49) + std::string(wide) + repeat("z", 5);
    t.content = "content";
    finalize(t);
    EXPECT_EQ(t.title, repeat("b", 49) + std::string(wide) + "...") << wide;
    EXPECT_TRUE(is_valid_utf8(t.title));
  }
  Episode emoji;
  emoji.content = repeat("🌈", 120);
  finalize(emoji);
  EXPECT_EQ(emoji.summary, repeat("🌈", 100) + "...");
  EXPECT_EQ(emoji.title, repeat("🌈", 50) + "...");
}

TEST(Finalize, ClampsImportance) {
  Episode e = valid_episode();
  e.importance_score = 1.7;
  finalize(e);
  EXPECT_EQ(e.importance_score, 1.0);
  e.importance_score = -0.5;
  finalize(e);
  EXPECT_EQ(e.importance_score, 0.0);
  e.importance_score = std::numeric_limits<double>::quiet_NaN();
  finalize(e);
  EXPECT_EQ(e.importance_score, 0.0);
  e.importance_score = 0.42;
  finalize(e);
  EXPECT_EQ(e.importance_score, 0.42);
}

TEST(ClampImportance, BoundsAndNan) {
  EXPECT_EQ(clamp_importance(0.0), 0.0);
  EXPECT_EQ(clamp_importance(1.0), 1.0);
  EXPECT_EQ(clamp_importance(0.3), 0.3);
  EXPECT_EQ(clamp_importance(-3.0), 0.0);
  EXPECT_EQ(clamp_importance(3.0), 1.0);
  EXPECT_EQ(clamp_importance(std::numeric_limits<double>::infinity()), 1.0);
  EXPECT_EQ(clamp_importance(-std::numeric_limits<double>::infinity()), 0.0);
  EXPECT_EQ(clamp_importance(std::nan("")), 0.0);
}

TEST(WordCount, CountsWhitespaceSeparatedWordsInTitleAndContent) {
  Episode e;
  e.title = "Hello world";
  e.content = "  one\ttwo\nthree\r\n four  ";
  e.summary = "not counted at all";
  EXPECT_EQ(word_count(e), 6u);
  EXPECT_EQ(word_count(Episode{}), 0u);
}

TEST(ValidateEpisode, AcceptsAValidEpisode) {
  EXPECT_NO_THROW(validate(valid_episode()));
  Episode title_only = valid_episode();
  title_only.content.clear();
  EXPECT_NO_THROW(validate(title_only));
  Episode content_only = valid_episode();
  content_only.title.clear();
  EXPECT_NO_THROW(validate(content_only));
}

TEST(ValidateEpisode, RequiresOwnerAndId) {
  Episode e = valid_episode();
  e.owner_id.clear();
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("owner_id: is required")));
  e = valid_episode();
  e.episode_id.clear();
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("episode_id: must not be empty")));
}

TEST(ValidateEpisode, RequiresTitleOrContent) {
  Episode e = valid_episode();
  e.title.clear();
  e.content.clear();
  EXPECT_THAT(
      [&] { validate(e); },
      ThrowsMessage<ValidationError>(HasSubstr("title: either title or content must be provided")));
}

TEST(ValidateEpisode, NamesTheListItemWithInvalidText) {
  Episode e = valid_episode();
  e.metadata.entities = {"Alice", "Bo\xFF"};
  EXPECT_THAT(
      [&] { validate(e); },
      ThrowsMessage<ValidationError>(HasSubstr("metadata.entities[1]: invalid UTF-8 at byte 2")));
  e = valid_episode();
  e.search_keywords = {"ok", "fine", std::string("n\0l", 3)};
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("search_keywords[2]: contains a NUL")));
  e = valid_episode();
  e.content = "ok\xC0\x80";
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("content: invalid UTF-8 at byte 2")));
}

TEST(ValidateEpisode, ChecksTextInsideCustomFieldsAndStructuredData) {
  Episode e = valid_episode();
  e.metadata.custom_fields = {{"speakers", {"Caroline", "Mel\xFF"}}};
  EXPECT_THAT([&] { validate(e); }, ThrowsMessage<ValidationError>(HasSubstr(
                                        "metadata.custom_fields.speakers[1]: invalid UTF-8")));
  e = valid_episode();
  e.structured_data = {{std::string("k\0", 2), 1}};
  EXPECT_THAT([&] { validate(e); }, ThrowsMessage<ValidationError>(HasSubstr(
                                        "structured_data (a key): contains a NUL character")));
}

TEST(ValidateEpisode, ImportanceMustBeWithinZeroAndOne) {
  Episode e = valid_episode();
  for (double bad : {1.5, -0.01, std::numeric_limits<double>::quiet_NaN()}) {
    e.importance_score = bad;
    EXPECT_THAT([&] { validate(e); },
                ThrowsMessage<ValidationError>(HasSubstr("importance_score: must be within 0..1")));
  }
  for (double ok : {0.0, 1.0, 0.5}) {
    e.importance_score = ok;
    EXPECT_NO_THROW(validate(e));
  }
}

TEST(ValidateEpisode, ScoresAndEmbeddingMustBeFinite) {
  Episode e = valid_episode();
  e.metadata.confidence_score = std::numeric_limits<double>::infinity();
  EXPECT_THAT([&] { validate(e); }, ThrowsMessage<ValidationError>(HasSubstr(
                                        "metadata.confidence_score: must be a finite number")));
  e = valid_episode();
  e.embedding_vector = std::vector<float>{0.1f, std::numeric_limits<float>::quiet_NaN()};
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("embedding_vector: values must be finite")));
  e = valid_episode();
  e.temporal_info.duration = -std::numeric_limits<double>::infinity();
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("temporal_info.duration")));
}

TEST(ValidateEpisode, RecallCountMustNotBeNegative) {
  Episode e = valid_episode();
  e.recall_count = -1;
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("recall_count: must not be negative")));
}

TEST(ValidateEpisode, JsonFieldsMustBeObjects) {
  Episode e = valid_episode();
  e.structured_data = nlohmann::json::array();
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("structured_data: must be an object")));
  e = valid_episode();
  e.metadata.custom_fields = "text";
  EXPECT_THAT([&] { validate(e); }, ThrowsMessage<ValidationError>(
                                        HasSubstr("metadata.custom_fields: must be an object")));
}

}  // namespace
}  // namespace nemori
