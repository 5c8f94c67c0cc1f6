// Strict decoding: every malformed input is rejected with a message naming the JSON path.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "nemori/core/error.h"
#include "nemori/core/json.h"

namespace nemori {
namespace {

using nlohmann::json;
using testing::AllOf;
using testing::HasSubstr;
using testing::StartsWith;
using testing::ThrowsMessage;

json valid_episode_json() {
  return json{{"owner_id", "alice"},
              {"title", "Morning run"},
              {"content", "Alice ran 10 km."},
              {"temporal_info", {{"timestamp", "2024-01-15T07:00:00"}}}};
}

json valid_event_json() {
  return json{{"owner_id", "alice"},
              {"data_type", "activity"},
              {"content", "ran 10 km"},
              {"temporal_info", {{"timestamp", "2024-01-15T07:00:00"}}}};
}

json valid_message_json() {
  return json{{"speaker_id", "caroline"}, {"content", "Hi"}};
}

// The message of the ValidationError that decoding `j` as an episode throws.
#define EXPECT_EPISODE_REJECTED(j, text) \
  EXPECT_THAT([&] { episode_from_json(j); }, ThrowsMessage<ValidationError>(HasSubstr(text)))
#define EXPECT_EVENT_REJECTED(j, text) \
  EXPECT_THAT([&] { raw_event_from_json(j); }, ThrowsMessage<ValidationError>(HasSubstr(text)))
#define EXPECT_MESSAGE_REJECTED(j, text) \
  EXPECT_THAT([&] { message_from_json(j); }, ThrowsMessage<ValidationError>(HasSubstr(text)))

TEST(JsonRejection, ValidFixturesAreAccepted) {
  EXPECT_NO_THROW(episode_from_json(valid_episode_json()));
  EXPECT_NO_THROW(raw_event_from_json(valid_event_json()));
  EXPECT_NO_THROW(message_from_json(valid_message_json()));
}

// ---- unknown enum values -------------------------------------------------------------------

TEST(JsonRejection, UnknownDataType) {
  json j = valid_event_json();
  j["data_type"] = "chat";
  EXPECT_THAT([&] { raw_event_from_json(j); },
              ThrowsMessage<ValidationError>(
                  AllOf(StartsWith("raw_event.data_type: unknown value \"chat\""),
                        HasSubstr("conversation, activity"))));
}

TEST(JsonRejection, UnknownSourceTypeInsideEpisodeMetadata) {
  json j = valid_episode_json();
  j["metadata"] = {{"source_types", {"conversation", "chat"}}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.source_types: unknown data type \"chat\"");
}

TEST(JsonRejection, UnknownEpisodeType) {
  json j = valid_episode_json();
  j["episode_type"] = "conversation";
  EXPECT_EPISODE_REJECTED(j, "episode.episode_type: unknown value \"conversation\"");
}

TEST(JsonRejection, LevelOutOfRange) {
  json j = valid_episode_json();
  j["level"] = 7;
  EXPECT_EPISODE_REJECTED(j, "episode.level: unknown value 7");
  j["level"] = 0;
  EXPECT_EPISODE_REJECTED(j, "episode.level: unknown value 0");
}

TEST(JsonRejection, LevelMustBeAnInteger) {
  json j = valid_episode_json();
  j["level"] = "atomic";
  EXPECT_EPISODE_REJECTED(j, "episode.level: expected an integer, got string");
  j["level"] = 1.5;
  EXPECT_EPISODE_REJECTED(j, "episode.level: expected an integer, got number");
  j["level"] = 2.0;  // an integral number is fine
  EXPECT_EQ(episode_from_json(j).level, EpisodeLevel::kCompound);
}

TEST(JsonRejection, HugeIntegersAreOutOfRangeNotWrapped) {
  json j = valid_episode_json();
  j["level"] = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EPISODE_REJECTED(j, "episode.level: out of range");
  j = valid_episode_json();
  j["recall_count"] = 1e30;
  EXPECT_EPISODE_REJECTED(j, "episode.recall_count: out of range");
  j["recall_count"] = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EPISODE_REJECTED(j, "episode.recall_count: out of range");
}

TEST(JsonRejection, UnknownRole) {
  json j = valid_message_json();
  j["role"] = "bot";
  EXPECT_MESSAGE_REJECTED(j, "message.role: unknown value \"bot\"");
}

TEST(JsonRejection, UnknownPrecision) {
  EXPECT_THAT(
      [] {
        temporal_info_from_json(json{{"timestamp", "2024-01-15"}, {"precision", "week"}});
      },
      ThrowsMessage<ValidationError>(StartsWith(
          "temporal_info.precision: unknown value \"week\" (valid: second, minute, hour, day)")));
  json j = valid_episode_json();
  j["temporal_info"]["precision"] = "fortnight";
  EXPECT_EPISODE_REJECTED(j, "episode.temporal_info.precision: unknown value \"fortnight\"");
  json e = valid_event_json();
  e["temporal_info"]["precision"] = "";
  EXPECT_EVENT_REJECTED(e, "raw_event.temporal_info.precision: unknown value \"\"");
}

// ---- wrong types ---------------------------------------------------------------------------

TEST(JsonRejection, TopLevelMustBeAnObject) {
  EXPECT_EPISODE_REJECTED(json::array(), "episode: expected an object, got array");
  EXPECT_EVENT_REJECTED(json("text"), "raw_event: expected an object, got string");
  EXPECT_MESSAGE_REJECTED(json(nullptr), "message: expected an object, got null");
  EXPECT_THAT(
      [] { temporal_info_from_json(json(5)); },
      ThrowsMessage<ValidationError>(HasSubstr("temporal_info: expected an object, got number")));
  EXPECT_THAT(
      [] { episode_metadata_from_json(json(true)); },
      ThrowsMessage<ValidationError>(HasSubstr("metadata: expected an object, got boolean")));
}

TEST(JsonRejection, ListItemOfWrongTypeNamesItsIndex) {
  json j = valid_episode_json();
  j["metadata"] = {{"entities", {"Alice", 2, "Carol"}}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.entities[1]: expected a string, got number");
  j = valid_episode_json();
  j["search_keywords"] = {"ok", nullptr};
  EXPECT_EPISODE_REJECTED(j, "episode.search_keywords[1]: expected a string, got null");
  j = valid_episode_json();
  j["metadata"] = {{"topics", "running"}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.topics: expected an array of strings, got string");
}

TEST(JsonRejection, ScalarFieldsOfWrongType) {
  json j = valid_episode_json();
  j["title"] = true;
  EXPECT_EPISODE_REJECTED(j, "episode.title: expected a string, got boolean");
  j = valid_episode_json();
  j["importance_score"] = "high";
  EXPECT_EPISODE_REJECTED(j, "episode.importance_score: expected a number, got string");
  j = valid_episode_json();
  j["recall_count"] = 1.5;
  EXPECT_EPISODE_REJECTED(j, "episode.recall_count: expected an integer, got number");
  j = valid_episode_json();
  j["owner_id"] = 42;
  EXPECT_EPISODE_REJECTED(j, "episode.owner_id: expected a string, got number");
  j = valid_episode_json();
  j["episode_type"] = 1;
  EXPECT_EPISODE_REJECTED(j, "episode.episode_type: expected a string, got number");
  j = valid_episode_json();
  j["metadata"] = {{"confidence_score", "0.9"}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.confidence_score: expected a number, got string");
}

TEST(JsonRejection, EmbeddingMustBeAnArrayOfFloatNumbers) {
  json j = valid_episode_json();
  j["embedding_vector"] = "0.1,0.2";
  EXPECT_EPISODE_REJECTED(j, "episode.embedding_vector: expected an array of numbers");
  j["embedding_vector"] = {0.1, "0.2"};
  EXPECT_EPISODE_REJECTED(j, "episode.embedding_vector[1]: expected a number");
  j["embedding_vector"] = {0.1, 0.2, 1e300};
  EXPECT_EPISODE_REJECTED(j, "episode.embedding_vector[2]: out of range");
}

TEST(JsonRejection, NestedObjectsOfWrongType) {
  json j = valid_episode_json();
  j["temporal_info"] = "2024-01-15";
  EXPECT_EPISODE_REJECTED(j, "episode.temporal_info: expected an object, got string");
  j = valid_episode_json();
  j["structured_data"] = json::array();
  EXPECT_EPISODE_REJECTED(j, "episode.structured_data: expected an object, got array");
  j = valid_episode_json();
  j["metadata"] = {{"custom_fields", "x"}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.custom_fields: expected an object, got string");
}

TEST(JsonRejection, RawEventFieldsOfWrongType) {
  json j = valid_event_json();
  j["processed"] = "yes";
  EXPECT_EVENT_REJECTED(j, "raw_event.processed: expected a boolean, got string");
  j = valid_event_json();
  j["source"] = 7;
  EXPECT_EVENT_REJECTED(j, "raw_event.source: expected a string, got number");
  j = valid_event_json();
  j["data_type"] = json::array({"activity"});
  EXPECT_EVENT_REJECTED(j, "raw_event.data_type: expected a string, got array");
  j = valid_event_json();
  j["temporal_info"]["duration"] = "1h";
  EXPECT_EVENT_REJECTED(j, "raw_event.temporal_info.duration: expected a number, got string");
  j = valid_event_json();
  j["temporal_info"]["timezone"] = 2;
  EXPECT_EVENT_REJECTED(j, "raw_event.temporal_info.timezone: expected a string, got number");
}

TEST(JsonRejection, MessageFieldsOfWrongType) {
  json j = valid_message_json();
  j["content"] = {{"text", "hi"}};
  EXPECT_MESSAGE_REJECTED(j, "message.content: expected a string, got object");
  j = valid_message_json();
  j["timestamp"] = 1683554160;
  EXPECT_MESSAGE_REJECTED(j, "message.timestamp: expected a string, got number");
  j = valid_message_json();
  j["user_name"] = json::array();
  EXPECT_MESSAGE_REJECTED(j, "message.user_name: expected a string, got array");
}

TEST(JsonRejection, NonFiniteNumbers) {
  json j = valid_episode_json();
  j["importance_score"] = std::numeric_limits<double>::infinity();
  EXPECT_EPISODE_REJECTED(j, "episode.importance_score: must be finite");
  j = valid_episode_json();
  j["metadata"] = {{"relevance_score", std::numeric_limits<double>::quiet_NaN()}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.relevance_score: must be finite");
}

// ---- non-object metadata -------------------------------------------------------------------

TEST(JsonRejection, NonObjectMetadata) {
  json e = valid_event_json();
  e["metadata"] = json::array({"_owner_id", "alice"});
  EXPECT_EVENT_REJECTED(e, "raw_event.metadata: expected an object, got array");
  e["metadata"] = "alice";
  EXPECT_EVENT_REJECTED(e, "raw_event.metadata: expected an object, got string");
  json ep = valid_episode_json();
  ep["metadata"] = 5;
  EXPECT_EPISODE_REJECTED(ep, "episode.metadata: expected an object, got number");
  json m = valid_message_json();
  m["metadata"] = json::array();
  EXPECT_MESSAGE_REJECTED(m, "message.metadata: expected an object, got array");
}

// ---- missing required fields ---------------------------------------------------------------

TEST(JsonRejection, MissingOwnerId) {
  json j = valid_episode_json();
  j.erase("owner_id");
  EXPECT_EPISODE_REJECTED(j, "episode.owner_id: is required");
  j["owner_id"] = "";
  EXPECT_EPISODE_REJECTED(j, "episode.owner_id: is required");
  j["owner_id"] = nullptr;
  EXPECT_EPISODE_REJECTED(j, "episode.owner_id: is required");
}

TEST(JsonRejection, MissingContentOfRawEvent) {
  json j = valid_event_json();
  j.erase("content");
  EXPECT_EVENT_REJECTED(j, "raw_event.content: is required");
  j["content"] = nullptr;
  EXPECT_EVENT_REJECTED(j, "raw_event.content: is required");
}

TEST(JsonRejection, MissingSpeakerId) {
  EXPECT_MESSAGE_REJECTED((json{{"content", "Hi"}}), "message.speaker_id: is required");
  EXPECT_MESSAGE_REJECTED((json{{"speaker_id", ""}, {"content", "Hi"}}),
                          "message.speaker_id: is required");
}

TEST(JsonRejection, MissingTitleAndContent) {
  json j = valid_episode_json();
  j.erase("title");
  j.erase("content");
  EXPECT_EPISODE_REJECTED(j, "episode.title: either title or content must be provided");
  j["title"] = "";
  j["content"] = "";
  j["summary"] = "a summary alone is not enough";
  EXPECT_EPISODE_REJECTED(j, "episode.title: either title or content must be provided");
}

TEST(JsonRejection, MissingTimestampInTemporalInfo) {
  json j = valid_episode_json();
  j["temporal_info"] = {{"precision", "day"}};
  EXPECT_EPISODE_REJECTED(j, "episode.temporal_info.timestamp: is required");
}

// ---- bad ids -------------------------------------------------------------------------------

TEST(JsonRejection, BadIds) {
  json j = valid_episode_json();
  j["episode_id"] = std::string(256, 'e');
  EXPECT_EPISODE_REJECTED(j, "episode.episode_id: longer than 255 bytes");
  j = valid_episode_json();
  j["owner_id"] = "al\nice";
  EXPECT_EPISODE_REJECTED(j, "episode.owner_id: contains a control character");
  json e = valid_event_json();
  e["data_id"] = "id\x01";
  EXPECT_EVENT_REJECTED(e, "raw_event.data_id: contains a control character");
}

TEST(JsonRejection, NegativeRecallCount) {
  json j = valid_episode_json();
  j["recall_count"] = -3;
  EXPECT_EPISODE_REJECTED(j, "episode.recall_count: must not be negative");
}

// ---- invalid UTF-8 and NUL -----------------------------------------------------------------

TEST(JsonRejection, InvalidUtf8InStrings) {
  json j = valid_episode_json();
  j["content"] = "Alice \xC3(ran";
  EXPECT_EPISODE_REJECTED(j, "episode.content: invalid UTF-8 at byte 6");
  j = valid_episode_json();
  j["metadata"] = {{"entities", {"Alice", "B\xFFob"}}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.entities[1]: invalid UTF-8 at byte 1");
  j = valid_episode_json();
  j["temporal_info"]["timezone"] = "Europe/Z\xFCrich";  // Latin-1, not UTF-8
  EXPECT_EPISODE_REJECTED(j, "episode.temporal_info.timezone: invalid UTF-8 at byte 8");
  j = valid_episode_json();
  j["structured_data"] = {{"place", {{"name", "\xED\xA0\x80"}}}};
  EXPECT_EPISODE_REJECTED(j, "episode.structured_data.place.name: invalid UTF-8 at byte 0");
  json e = valid_event_json();
  e["content"] = {{"messages", {"fine", "bad\xC0\x80"}}};
  EXPECT_EVENT_REJECTED(e, "raw_event.content.messages[1]: invalid UTF-8 at byte 3");
  e = valid_event_json();
  e["metadata"] = {{"tag", "\x80"}};
  EXPECT_EVENT_REJECTED(e, "raw_event.metadata.tag: invalid UTF-8 at byte 0");
  json m = valid_message_json();
  m["user_name"] = "Zo\xEB";
  EXPECT_MESSAGE_REJECTED(m, "message.user_name: invalid UTF-8 at byte 2");
}

TEST(JsonRejection, InvalidUtf8InKeys) {
  json j = valid_episode_json();
  j["structured_data"] = {{"ok", 1}, {"k\xFF", 2}};
  EXPECT_EPISODE_REJECTED(j, "episode.structured_data (a key): invalid UTF-8 at byte 1");
  j = valid_episode_json();
  j["metadata"] = {{"custom_fields", {{"outer", {{"\xC3", true}}}}}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.custom_fields.outer (a key): invalid UTF-8");
  json e = valid_event_json();
  e["content"] = {{"\xE2\x82", "x"}};
  EXPECT_EVENT_REJECTED(e, "raw_event.content (a key): invalid UTF-8 at byte 0");
  json m = valid_message_json();
  m["metadata"] = {{"\xF8", 1}};
  EXPECT_MESSAGE_REJECTED(m, "message.metadata (a key): invalid UTF-8");
  // Unknown top-level keys of a message are kept in its metadata, so they are checked too.
  m = valid_message_json();
  m["img\xFF"] = "x";
  EXPECT_MESSAGE_REJECTED(m, "message (a key): invalid UTF-8 at byte 3");
  m = valid_message_json();
  m["blip_caption"] = "a \xFF photo";
  EXPECT_MESSAGE_REJECTED(m, "message.blip_caption: invalid UTF-8 at byte 2");
}

TEST(JsonRejection, NulCharacters) {
  // JSON text may spell NUL as \u0000; nemori refuses to store it.
  const json j = parse_json(R"({"owner_id":"alice","title":"a\u0000b","content":"c"})");
  EXPECT_EPISODE_REJECTED(j, "episode.title: contains a NUL character at byte 1");
  const json e = parse_json(R"({"owner_id":"alice","content":{"text":"\u0000"}})");
  EXPECT_EVENT_REJECTED(e, "raw_event.content.text: contains a NUL character at byte 0");
  const json k =
      parse_json(R"({"owner_id":"alice","content":"c","structured_data":{"a\u0000":1}})");
  EXPECT_EPISODE_REJECTED(k, "episode.structured_data (a key): contains a NUL character");
  const json m = parse_json(R"({"speaker_id":"x\u0000","content":"hi"})");
  EXPECT_MESSAGE_REJECTED(m, "message.speaker_id: contains a NUL character");
}

// ---- bad timestamps ------------------------------------------------------------------------

TEST(JsonRejection, BadTimestamps) {
  for (const char* bad : {"2023-13-01", "yesterday", "2023-02-30", "2023-05-08T25:00:00", ""}) {
    json j = valid_episode_json();
    j["temporal_info"]["timestamp"] = bad;
    EXPECT_EPISODE_REJECTED(j, "episode.temporal_info.timestamp: \"" + std::string(bad) +
                                   "\" is not an ISO-8601 timestamp");
  }
  json j = valid_episode_json();
  j["last_accessed"] = "yesterday";
  EXPECT_EPISODE_REJECTED(j, "episode.last_accessed: \"yesterday\" is not an ISO-8601 timestamp");
  j = valid_episode_json();
  j["metadata"] = {{"processing_timestamp", "2023-13-01"}};
  EXPECT_EPISODE_REJECTED(j, "episode.metadata.processing_timestamp: \"2023-13-01\"");
  json m = valid_message_json();
  m["timestamp"] = "yesterday";
  EXPECT_MESSAGE_REJECTED(m, "message.timestamp: \"yesterday\" is not an ISO-8601 timestamp");
  json e = valid_event_json();
  e["temporal_info"]["timestamp"] = 1700000000;
  EXPECT_EVENT_REJECTED(e, "raw_event.temporal_info.timestamp: expected a string, got number");
}

// ---- importance ----------------------------------------------------------------------------

TEST(JsonRejection, ImportanceOutsideZeroToOne) {
  for (double bad : {1.5, -0.01, 100.0}) {
    json j = valid_episode_json();
    j["importance_score"] = bad;
    EXPECT_EPISODE_REJECTED(j, "episode.importance_score: must be within 0..1");
  }
  for (double ok : {0.0, 1.0, 0.75}) {
    json j = valid_episode_json();
    j["importance_score"] = ok;
    EXPECT_EQ(episode_from_json(j).importance_score, ok);
  }
}

// ---- a custom path prefix ------------------------------------------------------------------

TEST(JsonRejection, CallerChosenPathPrefixesMessages) {
  json j = valid_episode_json();
  j["metadata"] = {{"entities", {"a", 1}}};
  EXPECT_THAT([&] { episode_from_json(j, "episodes[4]"); },
              ThrowsMessage<ValidationError>(
                  StartsWith("episodes[4].metadata.entities[1]: expected a string")));
}

// ---- parse_json ----------------------------------------------------------------------------

TEST(ParseJson, SyntaxErrorNamesTheByteOffset) {
  const std::string text = R"({"a": })";
  EXPECT_THAT([&] { parse_json(text, "request body"); },
              ThrowsMessage<ValidationError>(StartsWith("request body: invalid JSON at byte 6")));
  EXPECT_EQ(text[6], '}');

  // Offsets count bytes from the start of the text, across lines.
  const std::string multi_line = "{\n  \"a\": 1,\n  \"b\" 2\n}";
  const std::size_t offending = multi_line.find(" 2") + 1;
  EXPECT_THAT([&] { parse_json(multi_line); },
              ThrowsMessage<ValidationError>(
                  StartsWith("input: invalid JSON at byte " + std::to_string(offending))));
}

TEST(ParseJson, TruncatedInputPointsAtItsEnd) {
  const std::string text = R"({"a": [1, 2)";
  EXPECT_THAT([&] { parse_json(text, "file"); },
              ThrowsMessage<ValidationError>(
                  StartsWith("file: invalid JSON at byte " + std::to_string(text.size()))));
  EXPECT_THAT([] { parse_json(""); },
              ThrowsMessage<ValidationError>(StartsWith("input: invalid JSON at byte 0")));
}

TEST(ParseJson, InvalidUtf8NamesItsByte) {
  const std::string text = "[\"ok\", \"b\xFF\"]";
  EXPECT_THAT([&] { parse_json(text); },
              ThrowsMessage<ValidationError>(StartsWith("input: invalid JSON at byte 9")));
  EXPECT_EQ(text[9], '\xFF');
}

TEST(ParseJson, RejectsWhatPythonMayWriteButJsonForbids) {
  EXPECT_THAT([] { parse_json(R"({"x": NaN})"); },
              ThrowsMessage<ValidationError>(HasSubstr("invalid JSON at byte")));
  EXPECT_THAT([] { parse_json(R"({"x": Infinity})"); },
              ThrowsMessage<ValidationError>(HasSubstr("invalid JSON at byte")));
  EXPECT_THAT([] { parse_json(R"("\ud800")"); },
              ThrowsMessage<ValidationError>(HasSubstr("invalid JSON at byte")));
  EXPECT_THAT([] { parse_json(R"({"a": 1} x)"); },
              ThrowsMessage<ValidationError>(HasSubstr("invalid JSON at byte 9")));
}

TEST(ParseJson, NumberOverflowIsAValidationError) {
  EXPECT_THAT([] { parse_json(R"({"importance_score": 1e400})", "body"); },
              ThrowsMessage<ValidationError>(StartsWith("body: invalid JSON")));
}

TEST(ParseJson, AcceptsValidJson) {
  const json j = parse_json(R"({"a": [1, 2.5, "x", null, true], "b": {"é": "😀"}})");
  EXPECT_EQ(j["a"][1], 2.5);
  EXPECT_EQ(j["b"]["é"], "😀");
  EXPECT_EQ(parse_json(R"("\ud83d\ude00")"), "😀");
  EXPECT_EQ(parse_json("18446744073709551615").get<std::uint64_t>(),
            std::numeric_limits<std::uint64_t>::max());
}

}  // namespace
}  // namespace nemori
