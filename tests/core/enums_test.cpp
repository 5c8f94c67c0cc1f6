// Enumerations: the original's text (and integer) forms, both ways, and their rejections.
#include "nemori/core/enums.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nemori/core/error.h"

namespace nemori {
namespace {

using testing::AllOf;
using testing::HasSubstr;
using testing::ThrowsMessage;

TEST(Enums, DataTypeTextMatchesTheOriginal) {
  std::vector<std::string> names;
  for (DataType t : kAllDataTypes) names.emplace_back(to_string(t));
  EXPECT_EQ(names, (std::vector<std::string>{"conversation", "activity", "location", "media",
                                             "document", "sensor", "external", "custom"}));
  for (DataType t : kAllDataTypes) EXPECT_EQ(parse_data_type(to_string(t)), t);
}

TEST(Enums, EpisodeTypeTextMatchesTheOriginal) {
  std::vector<std::string> names;
  for (EpisodeType t : kAllEpisodeTypes) names.emplace_back(to_string(t));
  EXPECT_EQ(names, (std::vector<std::string>{"conversational", "behavioral", "spatial", "creative",
                                             "physiological", "social", "mixed", "synthetic"}));
  for (EpisodeType t : kAllEpisodeTypes) EXPECT_EQ(parse_episode_type(to_string(t)), t);
}

TEST(Enums, EpisodeLevelIntegersAreOneToFour) {
  EXPECT_EQ(static_cast<int>(EpisodeLevel::kAtomic), 1);
  EXPECT_EQ(static_cast<int>(EpisodeLevel::kCompound), 2);
  EXPECT_EQ(static_cast<int>(EpisodeLevel::kThematic), 3);
  EXPECT_EQ(static_cast<int>(EpisodeLevel::kArchival), 4);
  for (EpisodeLevel l : kAllEpisodeLevels) {
    EXPECT_EQ(episode_level_from_int(static_cast<int>(l)), l);
  }
  EXPECT_EQ(to_string(EpisodeLevel::kAtomic), "atomic");
  EXPECT_EQ(to_string(EpisodeLevel::kArchival), "archival");
}

TEST(Enums, MessageRoleText) {
  for (const char* name : {"user", "assistant", "system", "tool"}) {
    EXPECT_EQ(to_string(parse_message_role(name)), name);
  }
}

TEST(Enums, UnknownDataTypeListsValidValues) {
  EXPECT_THAT([] { parse_data_type("chat"); },
              ThrowsMessage<ValidationError>(
                  AllOf(HasSubstr("data_type: unknown value \"chat\""),
                        HasSubstr("valid: conversation, activity, location, media, document, "
                                  "sensor, external, custom"))));
}

TEST(Enums, ParsingIsCaseSensitiveLikeTheOriginal) {
  EXPECT_THROW(parse_data_type("CONVERSATION"), ValidationError);
  EXPECT_THROW(parse_episode_type("Mixed"), ValidationError);
  EXPECT_THROW(parse_message_role("User"), ValidationError);
  EXPECT_THROW(parse_data_type(""), ValidationError);
}

TEST(Enums, EpisodeTypeHasNoConversationMember) {
  // The original's EpisodeType says "conversational"; "conversation" is a DataType.
  EXPECT_THAT(
      [] { parse_episode_type("conversation"); },
      ThrowsMessage<ValidationError>(AllOf(
          HasSubstr("episode_type: unknown value \"conversation\""), HasSubstr("conversational"))));
}

TEST(Enums, UnknownRoleIsRejected) {
  EXPECT_THAT([] { parse_message_role("bot"); },
              ThrowsMessage<ValidationError>(AllOf(HasSubstr("role: unknown value \"bot\""),
                                                   HasSubstr("user, assistant, system, tool"))));
}

TEST(Enums, LevelOutsideOneToFourIsRejected) {
  for (long long bad : {0LL, 5LL, 7LL, -1LL}) {
    EXPECT_THAT(
        [bad] { episode_level_from_int(bad); },
        ThrowsMessage<ValidationError>(HasSubstr("level: unknown value " + std::to_string(bad))));
  }
}

}  // namespace
}  // namespace nemori
