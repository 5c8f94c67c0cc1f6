// Raw events: validate() before storage.
#include "nemori/core/raw_event.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "nemori/core/error.h"

namespace nemori {
namespace {

using nlohmann::json;
using testing::HasSubstr;
using testing::ThrowsMessage;

RawEvent valid_event() {
  RawEvent e;
  e.data_id = "ev-1";
  e.owner_id = "alice";
  e.data_type = DataType::kActivity;
  e.content = "went running";
  e.temporal_info.timestamp = make_timestamp(2024, 1, 15, 10, 30);
  return e;
}

TEST(RawEventDefaults, MatchTheOriginal) {
  const RawEvent e;
  EXPECT_EQ(e.data_type, DataType::kCustom);
  EXPECT_EQ(e.source, "");
  EXPECT_EQ(e.metadata, json::object());
  EXPECT_FALSE(e.processed);
  EXPECT_EQ(e.processing_version, "1.0");
  EXPECT_EQ(e.temporal_info.precision, "second");
  EXPECT_FALSE(e.temporal_info.duration.has_value());
  EXPECT_FALSE(e.temporal_info.timezone.has_value());
}

TEST(ValidateRawEvent, AcceptsStringObjectAndArrayContent) {
  RawEvent e = valid_event();
  EXPECT_NO_THROW(validate(e));
  e.content = json{{"steps", 1200}, {"place", "Zürich"}};
  EXPECT_NO_THROW(validate(e));
  e.content = json::array({json{{"speaker_id", "a"}, {"content", "hi"}}});
  EXPECT_NO_THROW(validate(e));
  e.content = "";
  EXPECT_NO_THROW(validate(e));
}

TEST(ValidateRawEvent, RequiresOwnerIdAndDataId) {
  RawEvent e = valid_event();
  e.owner_id.clear();
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("owner_id: is required")));
  e = valid_event();
  e.data_id.clear();
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("data_id: must not be empty")));
  e = valid_event();
  e.owner_id = "tab\there";
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("owner_id: contains a control character")));
}

TEST(ValidateRawEvent, RejectsNullContent) {
  RawEvent e = valid_event();
  e.content = nullptr;
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("content: must not be null")));
}

TEST(ValidateRawEvent, RejectsNonObjectMetadata) {
  RawEvent e = valid_event();
  e.metadata = json::array({"a"});
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("metadata: must be a JSON object")));
}

TEST(ValidateRawEvent, NamesThePathOfInvalidTextInsideContent) {
  RawEvent e = valid_event();
  e.content = json{{"messages", json::array({"fine", "bad\xFF"})}};
  EXPECT_THAT([&] { validate(e); }, ThrowsMessage<ValidationError>(
                                        HasSubstr("content.messages[1]: invalid UTF-8 at byte 3")));
  e = valid_event();
  e.metadata = json{{std::string("k\xC3"), 1}};
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("metadata (a key): invalid UTF-8")));
  e = valid_event();
  e.source = std::string("app\0", 4);
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(HasSubstr("source: contains a NUL character")));
}

TEST(ValidateRawEvent, EnforcesContentSizeLimit) {
  RawEvent e = valid_event();
  e.content = std::string(11, 'x');
  EXPECT_THAT(
      [&] { validate(e, 10); },
      ThrowsMessage<ValidationError>(HasSubstr("content: is 11 bytes, above the limit of 10")));
  EXPECT_NO_THROW(validate(e, 11));
  // Structured content is measured as JSON text.
  e.content = json{{"k", std::string(20, 'y')}};
  EXPECT_THROW(validate(e, 20), ValidationError);
  // 1 MB is well within the default limit.
  e.content = std::string(1u << 20, 'z');
  EXPECT_NO_THROW(validate(e));
}

}  // namespace
}  // namespace nemori
