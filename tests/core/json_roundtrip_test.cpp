// JSON codecs: every domain type survives encode -> text -> decode unchanged.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "nemori/core/json.h"

namespace nemori {
namespace {

using nlohmann::json;
using std::chrono::microseconds;

// Encodes to text (raw UTF-8 or \u-escaped like Python's json.dumps) and parses it back.
json through_text(const json& j, bool ascii) {
  return parse_json(ascii ? j.dump(-1, ' ', true) : j.dump(), "round trip");
}

std::string one_megabyte_of_text() {
  // Mixed 1-, 2-, 3- and 4-byte characters, just over 1 MB.
  const std::string unit = "Alice said: caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80\n";
  std::string out;
  out.reserve((1u << 20) + unit.size());
  while (out.size() < (1u << 20)) out += unit;
  return out;
}

const Timestamp kWhen = make_timestamp(2023, 5, 8, 13, 56, 7) + microseconds(123456);

TemporalInfo sample_temporal() {
  TemporalInfo t;
  t.timestamp = kWhen;
  t.duration = 0.1 + 0.2;  // 0.30000000000000004
  t.timezone = "Europe/Zürich";
  t.precision = "minute";
  return t;
}

RawEvent sample_event(json content) {
  RawEvent e;
  e.data_id = "0190a5c2-7d3e-7abc-8def-0123456789ab";
  e.owner_id = "zoë";
  e.data_type = DataType::kConversation;
  e.content = std::move(content);
  e.source = "locomo · test";
  e.temporal_info = sample_temporal();
  e.metadata = json{{"_owner_id", "zoë"}, {"session", 3}, {"ratio", 1.0 / 3.0}};
  e.processed = true;
  e.processing_version = "2.1";
  return e;
}

EpisodeMetadata sample_metadata() {
  EpisodeMetadata m;
  m.source_data_ids = {"ev-1", "ev-2"};
  m.source_types = {DataType::kConversation, DataType::kMedia};
  m.processing_timestamp = make_timestamp(2025, 7, 1, 10, 15, 30) + microseconds(999999);
  m.processing_version = "1.0";
  m.entities = {"Caroline", "Melanie", "Zürich"};
  m.topics = {"support group", "日本語"};
  m.emotions = {"happy 😀"};
  m.key_points = {"Caroline went to a support group", ""};
  m.time_references = {"yesterday", "May 7, 2023"};
  m.duration_seconds = 1740.125;
  m.confidence_score = 0.1;
  m.completeness_score = 2.0 / 3.0;
  m.relevance_score = 5e-324;  // smallest subnormal double
  m.related_episode_ids = {"ep-0"};
  m.custom_fields =
      json{{"message_count", 12},
           {"participants", {"Caroline", "Melanie"}},
           {"", ""},
           {"nested", {{"ünïcode", "✓"}, {"big", std::numeric_limits<std::int64_t>::max()}}}};
  return m;
}

Episode sample_episode() {
  Episode e;
  e.episode_id = "0190a5c2-7d3e-7abc-8def-0123456789ac";
  e.owner_id = "caroline_0";
  e.episode_type = EpisodeType::kConversational;
  e.level = EpisodeLevel::kThematic;
  e.title = "Caroline’s support group 🌈";
  e.content = "On May 08, 2023 at 01:56 PM UTC, Caroline told Melanie about the café.";
  e.summary = "Caroline went to a support group.";
  e.temporal_info = sample_temporal();
  e.metadata = sample_metadata();
  e.structured_data = json{{"original_source", "locomo_dataset"}, {"pi", 3.141592653589793}};
  e.search_keywords = {"support", "group", "café"};
  e.embedding_vector = std::vector<float>{0.1f, -1.5f, 1e-45f, 3.4028235e38f, 1.0f / 3.0f};
  e.recall_count = 7;
  e.importance_score = 0.30000000000000004;
  e.last_accessed = make_timestamp(2025, 7, 2) + microseconds(1);
  return e;
}

class JsonRoundTrip : public testing::TestWithParam<bool> {
 protected:
  bool ascii() const { return GetParam(); }
};

TEST_P(JsonRoundTrip, TemporalInfo) {
  const TemporalInfo t = sample_temporal();
  EXPECT_EQ(temporal_info_from_json(through_text(to_json(t), ascii())), t);

  TemporalInfo minimal;
  minimal.timestamp = from_micros(0);
  EXPECT_EQ(temporal_info_from_json(through_text(to_json(minimal), ascii())), minimal);

  TemporalInfo empty_zone = t;
  empty_zone.timezone = "";
  EXPECT_EQ(temporal_info_from_json(through_text(to_json(empty_zone), ascii())), empty_zone);
}

TEST_P(JsonRoundTrip, RawEventWithStringContent) {
  const RawEvent e = sample_event("went running along the Limmat 🏃");
  EXPECT_EQ(raw_event_from_json(through_text(to_json(e), ascii())), e);
}

TEST_P(JsonRoundTrip, RawEventWithEmptyStrings) {
  RawEvent e = sample_event("");
  e.source = "";
  e.processing_version = "";
  e.metadata = json{{"", ""}};
  EXPECT_EQ(raw_event_from_json(through_text(to_json(e), ascii())), e);
}

TEST_P(JsonRoundTrip, RawEventWithObjectContent) {
  const RawEvent e = sample_event(
      json{{"speaker_id", "caroline"},
           {"content", "Ça va? 你好 👋"},
           {"numbers",
            {0, -1, std::numeric_limits<std::int64_t>::min(),
             std::numeric_limits<std::uint64_t>::max(), 0.1, 1e-300, 1.7976931348623157e308}},
           {"flags", {true, false, nullptr}},
           {"nested", {{"deeper", {{"ключ", "значение"}}}}},
           {"empty_object", json::object()},
           {"empty_array", json::array()}});
  const RawEvent back = raw_event_from_json(through_text(to_json(e), ascii()));
  EXPECT_EQ(back, e);
  EXPECT_EQ(back.content["numbers"][3].get<std::uint64_t>(),
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(back.content["numbers"][4].get<double>(), 0.1);
}

TEST_P(JsonRoundTrip, RawEventWithArrayContent) {
  const RawEvent e = sample_event(
      json::array({json{{"speaker_id", "caroline"},
                        {"content", "Hey Mel! 😊"},
                        {"timestamp", "2023-05-08T13:56:00"}},
                   json{{"speaker_id", "melanie"}, {"content", "Hi Caroline — how are you?"}}}));
  EXPECT_EQ(raw_event_from_json(through_text(to_json(e), ascii())), e);
}

TEST_P(JsonRoundTrip, RawEventWithOneMegabyteContent) {
  const RawEvent e = sample_event(one_megabyte_of_text());
  const RawEvent back = raw_event_from_json(through_text(to_json(e), ascii()));
  EXPECT_EQ(back.content.get_ref<const std::string&>().size(),
            e.content.get_ref<const std::string&>().size());
  EXPECT_EQ(back, e);
}

TEST_P(JsonRoundTrip, Message) {
  Message m;
  m.speaker_id = "caroline";
  m.user_name = "Caroline Ñúñez";
  m.role = MessageRole::kAssistant;
  m.content = "Ich habe die Straße überquert 🚶‍♀️";
  m.timestamp = kWhen;
  m.metadata = json{{"img_url", {"https://example.com/a.jpg"}}, {"score", 0.1 + 0.7}};
  m.external_id = "D1:3";
  EXPECT_EQ(message_from_json(through_text(to_json(m), ascii())), m);

  Message minimal;
  minimal.speaker_id = "s";
  EXPECT_EQ(message_from_json(through_text(to_json(minimal), ascii())), minimal);

  Message empty_strings = minimal;
  empty_strings.user_name = "";
  empty_strings.external_id = "";
  EXPECT_EQ(message_from_json(through_text(to_json(empty_strings), ascii())), empty_strings);

  Message big = minimal;
  big.content = one_megabyte_of_text();
  EXPECT_EQ(message_from_json(through_text(to_json(big), ascii())), big);
}

TEST_P(JsonRoundTrip, EveryMessageRole) {
  for (MessageRole role :
       {MessageRole::kUser, MessageRole::kAssistant, MessageRole::kSystem, MessageRole::kTool}) {
    Message m;
    m.speaker_id = "s";
    m.role = role;
    EXPECT_EQ(message_from_json(through_text(to_json(m), ascii())).role, role);
  }
}

TEST_P(JsonRoundTrip, EpisodeMetadata) {
  const EpisodeMetadata m = sample_metadata();
  const EpisodeMetadata back = episode_metadata_from_json(through_text(to_json(m), ascii()));
  EXPECT_EQ(back, m);
  EXPECT_EQ(back.completeness_score, 2.0 / 3.0);
  EXPECT_EQ(back.relevance_score, 5e-324);

  EpisodeMetadata defaults;
  defaults.processing_timestamp = from_micros(1);
  EXPECT_EQ(episode_metadata_from_json(through_text(to_json(defaults), ascii())), defaults);
}

TEST_P(JsonRoundTrip, Episode) {
  const Episode e = sample_episode();
  const Episode back = episode_from_json(through_text(to_json(e), ascii()));
  EXPECT_EQ(back, e);
  EXPECT_EQ(back.importance_score, 0.30000000000000004);
  EXPECT_EQ(back.temporal_info.timestamp, kWhen);
  ASSERT_TRUE(back.embedding_vector.has_value());
  EXPECT_EQ((*back.embedding_vector)[2], 1e-45f);
  EXPECT_EQ((*back.embedding_vector)[4], 1.0f / 3.0f);
}

TEST_P(JsonRoundTrip, EpisodeWithoutOptionalValues) {
  Episode e = sample_episode();
  e.embedding_vector.reset();
  e.last_accessed.reset();
  e.temporal_info.duration.reset();
  e.temporal_info.timezone.reset();
  e.metadata.duration_seconds.reset();
  e.search_keywords.clear();
  e.structured_data = json::object();
  EXPECT_EQ(episode_from_json(through_text(to_json(e), ascii())), e);
}

TEST_P(JsonRoundTrip, EpisodeOfEveryTypeAndLevel) {
  for (EpisodeType type : kAllEpisodeTypes) {
    for (EpisodeLevel level : kAllEpisodeLevels) {
      Episode e = sample_episode();
      e.episode_type = type;
      e.level = level;
      const Episode back = episode_from_json(through_text(to_json(e), ascii()));
      EXPECT_EQ(back.episode_type, type);
      EXPECT_EQ(back.level, level);
    }
  }
}

TEST_P(JsonRoundTrip, EpisodeWithOneMegabyteContentAndEmptyStrings) {
  Episode e = sample_episode();
  e.content = one_megabyte_of_text();
  e.summary.clear();
  e.title.clear();
  e.search_keywords = {""};
  e.metadata.entities = {"", "x"};
  finalize(e);
  const Episode back = episode_from_json(through_text(to_json(e), ascii()));
  EXPECT_EQ(back, e);
  EXPECT_EQ(back.content.size(), e.content.size());
}

TEST_P(JsonRoundTrip, TimestampsKeepMicrosecondsAndExtremes) {
  for (std::int64_t us : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1},
                          std::int64_t{1683554167000001}, std::int64_t{-2208988800000000}}) {
    TemporalInfo t;
    t.timestamp = from_micros(us);
    EXPECT_EQ(to_micros(temporal_info_from_json(through_text(to_json(t), ascii())).timestamp), us);
  }
}

INSTANTIATE_TEST_SUITE_P(Utf8AndAsciiEscaped, JsonRoundTrip, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& info) {
                           return info.param ? "AsciiEscaped" : "RawUtf8";
                         });

TEST(JsonEncoding, TimestampsAreIsoWithUtcOffset) {
  const json j = to_json(sample_temporal());
  EXPECT_EQ(j["timestamp"], "2023-05-08T13:56:07.123456+00:00");
  EXPECT_EQ(j["precision"], "minute");
}

TEST(JsonEncoding, OffsetTimestampsAreStoredAsTheirUtcInstant) {
  const TemporalInfo t =
      temporal_info_from_json(json{{"timestamp", "2023-05-08T13:56:00.5+02:00"}});
  EXPECT_EQ(t.timestamp, make_timestamp(2023, 5, 8, 11, 56) + microseconds(500000));
  EXPECT_EQ(to_json(t)["timestamp"], "2023-05-08T11:56:00.500000+00:00");
}

TEST(JsonEncoding, NonAsciiIsWrittenAsUtf8NotEscaped) {
  const json j = to_json(sample_episode());
  const std::string text = j.dump();
  EXPECT_NE(text.find("Caroline’s support group 🌈"), std::string::npos);
}

TEST(JsonEncoding, DoublesAreWrittenWithFullPrecision) {
  Episode e = sample_episode();
  e.importance_score = 0.1 + 0.2;
  const std::string text = to_json(e).dump();
  EXPECT_NE(text.find("\"importance_score\":0.30000000000000004"), std::string::npos);
}

TEST(JsonEncoding, EnumsUseTheOriginalValues) {
  const json j = to_json(sample_episode());
  EXPECT_EQ(j["episode_type"], "conversational");
  EXPECT_EQ(j["level"], 3);
  EXPECT_EQ(j["metadata"]["source_types"], json::array({"conversation", "media"}));
  EXPECT_EQ(to_json(sample_event("x"))["data_type"], "conversation");
}

}  // namespace
}  // namespace nemori
