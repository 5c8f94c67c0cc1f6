// Chat messages: wrapping as conversation raw events, aliases, and reading them back.
#include "nemori/core/message.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/json.h"

namespace nemori {
namespace {

using nlohmann::json;
using std::chrono::microseconds;
using testing::HasSubstr;
using testing::ThrowsMessage;

Message sample_message() {
  Message m;
  m.speaker_id = "caroline";
  m.user_name = "Caroline";
  m.role = MessageRole::kUser;
  m.content = "I went to a LGBTQ support group yesterday 🌈";
  m.timestamp = make_timestamp(2023, 5, 8, 13, 56) + microseconds(250);
  m.metadata = json{{"session", 1}};
  m.external_id = "D1:3";
  return m;
}

TEST(Message, SpeakerLabelPrefersUserName) {
  Message m = sample_message();
  EXPECT_EQ(m.speaker_label(), "Caroline");
  m.user_name.reset();
  EXPECT_EQ(m.speaker_label(), "caroline");
}

TEST(Message, WrapsAsConversationRawEventOfTheOwner) {
  const Message m = sample_message();
  const RawEvent e = to_raw_event(m, "alice", "locomo");
  EXPECT_TRUE(is_uuid(e.data_id));
  EXPECT_EQ(e.owner_id, "alice");
  EXPECT_EQ(e.source, "locomo");
  EXPECT_EQ(e.data_type, DataType::kConversation);
  EXPECT_EQ(e.temporal_info.timestamp, *m.timestamp);
  EXPECT_EQ(e.content, to_json(m));
  EXPECT_FALSE(e.processed);
  EXPECT_NO_THROW(validate(e));
}

TEST(Message, WrappingWithoutTimestampUsesNow) {
  Message m = sample_message();
  m.timestamp.reset();
  const Timestamp before = now_utc();
  const RawEvent e = to_raw_event(m, "alice");
  const Timestamp after = now_utc();
  EXPECT_GE(e.temporal_info.timestamp, before);
  EXPECT_LE(e.temporal_info.timestamp, after);
  // Reading it back fills the message time from the event.
  EXPECT_EQ(message_from_raw_event(e).timestamp, e.temporal_info.timestamp);
}

TEST(Message, EachWrappedMessageGetsItsOwnId) {
  const Message m = sample_message();
  EXPECT_NE(to_raw_event(m, "alice").data_id, to_raw_event(m, "alice").data_id);
}

TEST(Message, ReadsBackFromItsRawEvent) {
  const Message m = sample_message();
  EXPECT_EQ(message_from_raw_event(to_raw_event(m, "alice")), m);
}

TEST(Message, ReadingANonConversationEventFails) {
  RawEvent e = to_raw_event(sample_message(), "alice");
  e.data_type = DataType::kActivity;
  EXPECT_THAT([&] { message_from_raw_event(e); },
              ThrowsMessage<ValidationError>(
                  HasSubstr("data_type: expected a conversation event, got activity")));
}

TEST(Message, ReadingNonMessageContentFails) {
  RawEvent e = to_raw_event(sample_message(), "alice");
  e.content = json::array({json{{"speaker_id", "a"}}});
  EXPECT_THAT([&] { message_from_raw_event(e); },
              ThrowsMessage<ValidationError>(HasSubstr("content: expected an object, got array")));
  e.content = json{{"content", "no speaker"}};
  EXPECT_THAT([&] { message_from_raw_event(e); },
              ThrowsMessage<ValidationError>(HasSubstr("content.speaker_id: is required")));
}

TEST(MessageJson, AcceptsTheOriginalAliases) {
  const Message m =
      message_from_json(json{{"user_id", "melanie"}, {"content", "Hi!"}, {"dia_id", "D1:4"}});
  EXPECT_EQ(m.speaker_id, "melanie");
  EXPECT_EQ(m.external_id, "D1:4");
  EXPECT_EQ(m.role, MessageRole::kUser);
  EXPECT_FALSE(m.user_name.has_value());
  EXPECT_FALSE(m.timestamp.has_value());
}

TEST(MessageJson, SpeakerIdWinsOverUserId) {
  const Message m = message_from_json(
      json{{"speaker_id", "a"}, {"user_id", "b"}, {"external_id", "x"}, {"dia_id", "y"}});
  EXPECT_EQ(m.speaker_id, "a");
  EXPECT_EQ(m.external_id, "x");
}

TEST(MessageJson, UnknownKeysAreKeptInMetadata) {
  const Message m = message_from_json(json{{"speaker_id", "caroline"},
                                           {"content", "look"},
                                           {"img_url", json::array({"https://x/y.jpg"})},
                                           {"blip_caption", "a photo of a dog"},
                                           {"metadata", {{"session", 2}}}});
  EXPECT_EQ(m.metadata["img_url"], json::array({"https://x/y.jpg"}));
  EXPECT_EQ(m.metadata["blip_caption"], "a photo of a dog");
  EXPECT_EQ(m.metadata["session"], 2);
}

TEST(MessageJson, ExplicitMetadataWinsOverTopLevelKeyOfTheSameName) {
  const Message m =
      message_from_json(json{{"speaker_id", "c"}, {"session", 9}, {"metadata", {{"session", 2}}}});
  EXPECT_EQ(m.metadata["session"], 2);
}

TEST(MessageJson, OmitsExternalIdWhenAbsent) {
  Message m = sample_message();
  m.external_id.reset();
  const json j = to_json(m);
  EXPECT_FALSE(j.contains("external_id"));
  EXPECT_TRUE(j["user_name"].is_string());
  m.user_name.reset();
  m.timestamp.reset();
  EXPECT_TRUE(to_json(m)["user_name"].is_null());
  EXPECT_TRUE(to_json(m)["timestamp"].is_null());
}

}  // namespace
}  // namespace nemori
