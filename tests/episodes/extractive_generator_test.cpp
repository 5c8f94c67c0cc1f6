// The LLM-free episode generator: dated third-person frame, evidence and metadata.
#include <gtest/gtest.h>

#include "nemori/core/id.h"
#include "nemori/episodes/episode_generator.h"
#include "nemori/text/tokenizer.h"

namespace nemori {
namespace {

TEST(ExtractiveGenerator, WritesADatedNarrativeWithItsEvidence) {
  auto tokenizer = std::make_shared<Tokenizer>();
  ExtractiveEpisodeGenerator generator(
      [tokenizer](std::string_view text) { return tokenizer->tokenize(text); });
  std::vector<Message> messages(2);
  messages[0].speaker_id = "caroline";
  messages[0].user_name = "Caroline";
  messages[0].content = "I joined an LGBTQ support group in Boston on May 7.";
  messages[0].timestamp = make_timestamp(2023, 5, 8, 13, 56);
  messages[0].external_id = "D1:3";
  messages[1].speaker_id = "melanie";
  messages[1].user_name = "Melanie";
  messages[1].content = "That support group sounds wonderful!";
  messages[1].timestamp = make_timestamp(2023, 5, 8, 13, 57);
  std::vector<RawEvent> events = {to_raw_event(messages[0], "o1"), to_raw_event(messages[1], "o1")};

  const Episode e = generator.generate("o1", events, messages);
  EXPECT_TRUE(is_uuid(e.episode_id));
  EXPECT_EQ(e.owner_id, "o1");
  EXPECT_EQ(e.episode_type, EpisodeType::kConversational);
  EXPECT_EQ(e.temporal_info.timestamp, messages[0].timestamp);
  EXPECT_DOUBLE_EQ(*e.temporal_info.duration, 60.0);
  EXPECT_EQ(e.content.rfind("On Monday, May 8, 2023, Caroline talked with Melanie.", 0), 0u)
      << e.content;
  EXPECT_NE(e.content.find("\nCaroline: I joined an LGBTQ support group"), std::string::npos)
      << e.content;
  EXPECT_NE(e.content.find("\nMelanie: That support group sounds wonderful!"), std::string::npos);
  EXPECT_EQ(e.metadata.source_data_ids,
            (std::vector<std::string>{events[0].data_id, events[1].data_id}));
  EXPECT_EQ(e.metadata.custom_fields["external_ids"], nlohmann::json({"D1:3"}));
  EXPECT_NE(std::find(e.metadata.entities.begin(), e.metadata.entities.end(), "Boston"),
            e.metadata.entities.end());
  EXPECT_NE(std::find(e.metadata.topics.begin(), e.metadata.topics.end(), "support"),
            e.metadata.topics.end());
  // The headline is the most informative sentence, in the third person (extractive_title.h).
  EXPECT_EQ(e.title, "Caroline joined an LGBTQ support group in Boston") << e.title;
  EXPECT_NO_THROW(validate(e));
}

TEST(ExtractiveGenerator, FormatsLongDates) {
  EXPECT_EQ(format_long_date(make_timestamp(2025, 3, 9, 9, 30)), "Sunday, March 9, 2025");
  EXPECT_EQ(format_long_date(make_timestamp(2024, 2, 29)), "Thursday, February 29, 2024");
}

}  // namespace
}  // namespace nemori
