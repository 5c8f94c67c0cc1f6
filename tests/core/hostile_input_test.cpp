// Hostile input: NUL bytes, deep nesting, timestamps that cannot round-trip, and the inputs the
// fuzz targets (fuzz/) found. Every reader must refuse such input with a ValidationError that
// names where it is, never crash or silently drop data.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include "nemori/core/error.h"
#include "nemori/core/input_formats.h"
#include "nemori/core/json.h"
#include "nemori/core/time.h"
#include "nemori/eval/locomo.h"

namespace nemori {
namespace {

using nlohmann::json;
using testing::AllOf;
using testing::HasSubstr;
using testing::StartsWith;
using testing::ThrowsMessage;

const std::string kM1 = R"({"speaker_id": "a", "content": "m1"})";
const std::string kM2 = R"({"speaker_id": "a", "content": "m2"})";
const std::string kM3 = R"({"speaker_id": "a", "content": "m3"})";
const std::string kNul(1, '\0');

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string read_data(const std::string& name) {
  std::ifstream in(std::string(NEMORI_TEST_DATA_DIR) + "/" + name, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ---- NUL bytes ----------------------------------------------------------------------------

TEST(HostileInput, ParseJsonRefusesARawNulAnywhereAndNamesItsLine) {
  // The JSON library would stop reading at the NUL and return the first value.
  for (const auto& [text, line] :
       std::vector<std::pair<std::string, std::size_t>>{{kM1 + kNul + kM2, 1},
                                                        {kM1 + "\n" + kNul + "\n", 2},
                                                        {"[1]\n" + kNul + "[2]", 2},
                                                        {kNul, 1},
                                                        {R"({"a": "x)" + kNul + R"(y"})", 1}}) {
    try {
      parse_json(text, "f");
      ADD_FAILURE() << "accepted: " << testing::PrintToString(text);
    } catch (const JsonParseError& e) {
      EXPECT_EQ(e.problem(), JsonParseError::Problem::kNul);
      EXPECT_EQ(e.line(), line) << e.what();
      EXPECT_EQ(text[e.offset()], '\0');
      EXPECT_THAT(e.what(), HasSubstr("line " + std::to_string(line) + "): a NUL byte"));
    }
  }
}

TEST(HostileInput, RecordReaderReportsTheNulLineAndKeepsTheOthers) {
  const InputFile inline_nul = read_records(kM1 + kNul + kM2 + "\n" + kM3 + "\n");
  ASSERT_EQ(inline_nul.errors.size(), 1u);
  EXPECT_EQ(inline_nul.errors[0].line, 1u);
  EXPECT_THAT(inline_nul.errors[0].message, HasSubstr("NUL byte"));
  EXPECT_EQ(inline_nul.records.size(), 1u);  // m3; m1 is not taken without m2

  const InputFile own_line = read_records(kM1 + "\n" + kNul + "\n" + kM3 + "\n");
  ASSERT_EQ(own_line.errors.size(), 1u);
  EXPECT_EQ(own_line.errors[0].line, 2u);
  EXPECT_EQ(own_line.records.size(), 2u);

  const InputFile arrays = read_records("[" + kM1 + "]\n" + kNul + "[" + kM2 + "]\n");
  ASSERT_EQ(arrays.errors.size(), 1u);
  EXPECT_EQ(arrays.errors[0].line, 2u);
  EXPECT_TRUE(arrays.records.empty());

  // One object over several lines: the NUL is reported once, on its own line.
  const InputFile object = read_records("{\n\"speaker_id\": \"a\",\n" + kNul + "\"content\": 1}");
  ASSERT_EQ(object.errors.size(), 1u);
  EXPECT_EQ(object.errors[0].line, 3u);
  EXPECT_THAT(object.errors[0].message, HasSubstr("NUL byte"));
}

// ---- nesting ------------------------------------------------------------------------------

TEST(HostileInput, ParseJsonRefusesDeepNestingWhileParsing) {
  EXPECT_NO_THROW(parse_json(nested_arrays(kMaxJsonDocumentDepth)));
  const std::string over = nested_arrays(kMaxJsonDocumentDepth + 1);
  try {
    parse_json(over);
    ADD_FAILURE() << "accepted " << kMaxJsonDocumentDepth + 1 << " levels";
  } catch (const JsonParseError& e) {
    EXPECT_EQ(e.problem(), JsonParseError::Problem::kTooDeep);
    EXPECT_EQ(e.offset(), kMaxJsonDocumentDepth);  // the first bracket past the limit
  }
  // What crashed `validate` and `ingest` (SIGSEGV): far deeper than any stack allows.
  for (std::size_t depth : {30000u, 1000000u}) {
    EXPECT_THAT([&] { parse_json(nested_arrays(depth)); },
                ThrowsMessage<JsonParseError>(HasSubstr("nests more than 72 levels")));
    EXPECT_THAT([&] { parse_json(std::string(depth, '[')); },  // unterminated
                ThrowsMessage<JsonParseError>(HasSubstr("nests more than 72 levels")));
  }
  const std::string objects = [] {
    std::string s;
    for (int i = 0; i < 100000; ++i) s += "{\"a\":";
    return s + "1" + std::string(100000, '}');
  }();
  EXPECT_THROW(parse_json(objects), JsonParseError);
}

TEST(HostileInput, DeepLineIsReportedOnItsLine) {
  const std::string text = kM1 + "\n" + R"({"data_type": "custom", "content": )" +
                           nested_arrays(30000) + "}\n" + kM3 + "\n";
  const InputFile file = read_records(text);
  ASSERT_EQ(file.errors.size(), 1u);
  EXPECT_EQ(file.errors[0].line, 2u);
  EXPECT_THAT(file.errors[0].message, HasSubstr("nests more than"));
  EXPECT_EQ(file.records.size(), 2u);
  // A pretty-printed document that is too deep: one error where the limit is passed.
  std::string pretty;
  for (int i = 0; i < 100; ++i) pretty += "[\n";
  const InputFile deep_doc = read_records(pretty);
  ASSERT_EQ(deep_doc.errors.size(), 1u);
  EXPECT_EQ(deep_doc.errors[0].line, kMaxJsonDocumentDepth + 1);
}

TEST(HostileInput, StoredValuesNestAtMostTheLimitAndTheErrorNamesThePath) {
  json ok = json::array();
  for (std::size_t i = 1; i < kMaxJsonDepth; ++i) ok = json::array({ok});
  ASSERT_EQ(json_depth(ok), kMaxJsonDepth);
  EXPECT_NO_THROW(validate_json_text(ok, "content"));
  const json over = json::array({ok});
  EXPECT_THAT([&] { validate_json_text(over, "content"); },
              ThrowsMessage<ValidationError>(
                  AllOf(StartsWith("content[0][0]"), HasSubstr("nests more than 64 levels"))));
  json event{{"owner_id", "o"}, {"content", over}};
  EXPECT_THAT([&] { raw_event_from_json(event); },
              ThrowsMessage<ValidationError>(StartsWith("raw_event.content[0]")));
  // Built through the library, not parsed: checked without recursion at any depth.
  json huge = json::object();
  for (int i = 0; i < 200000; ++i) huge = json{{"k", std::move(huge)}};
  EXPECT_EQ(json_depth(huge), 200001u);
  EXPECT_THAT([&] { validate_json_text(huge, "metadata"); },
              ThrowsMessage<ValidationError>(StartsWith("metadata.k.k.k")));
  RawEvent e;
  e.data_id = "e1";
  e.owner_id = "o";
  e.content = "x";
  e.metadata = std::move(huge);
  EXPECT_THAT([&] { validate(e); }, ThrowsMessage<ValidationError>(HasSubstr("nests more than")));
}

TEST(HostileInput, MessageMetadataLeavesRoomForTheRawEventAroundIt) {
  json meta = json::object();
  for (std::size_t i = 1; i < kMaxJsonDepth - 1; ++i) meta = json{{"k", meta}};
  ASSERT_EQ(json_depth(meta), kMaxJsonDepth - 1);
  json message{{"speaker_id", "a"}, {"content", "x"}, {"metadata", meta}};
  const Message m = message_from_json(message);
  EXPECT_NO_THROW(validate(to_raw_event(m, "o")));  // content: kMaxJsonDepth levels
  message["metadata"] = json{{"k", meta}};
  EXPECT_THAT([&] { message_from_json(message); },
              ThrowsMessage<ValidationError>(StartsWith("message.metadata: nests more than 63")));
}

TEST(HostileInput, ValidateJsonTextStillNamesBadStringsAndKeys) {
  const json bad_key = {{"ok", {{std::string("b\xFF"), 1}}}};
  EXPECT_THAT([&] { validate_json_text(bad_key, "content"); },
              ThrowsMessage<ValidationError>(StartsWith("content.ok (a key): invalid UTF-8")));
  const json bad_item = {{"list", {"a", {{"deep", std::string("x\0y", 3)}}}}};
  EXPECT_THAT([&] { validate_json_text(bad_item, "content"); },
              ThrowsMessage<ValidationError>(StartsWith("content.list[1].deep: contains a NUL")));
}

// ---- timestamps ---------------------------------------------------------------------------

TEST(HostileInput, OnlyTimestampsThatRoundTripAreAccepted) {
  // Accepted before, then exported as "-001-12-31T23:00:00+00:00" and
  // "10000-01-01T00:30:00+00:00", which no import reads back.
  for (const char* text : {"0000-01-01T00:00:00+01:00", "9999-12-31T23:30:00-01:00", "0000-01-01",
                           "0000-06-01T12:00Z", "9999-12-31T23:59:60Z"}) {
    EXPECT_FALSE(parse_iso8601(text).has_value()) << text;
    std::string problem;
    EXPECT_FALSE(parse_iso8601(text, problem).has_value());
    EXPECT_THAT(problem, HasSubstr("is outside the years 0001-9999")) << text;
  }
  for (const char* text : {"0000-12-31T23:30:00-01:00", "0001-01-01T00:00:00Z",
                           "9999-12-31T23:59:59.999999Z", "10000-01-01T00:00:00+01:00"}) {
    std::string problem;
    const auto t = parse_iso8601(text, problem);
    if (std::string_view(text).starts_with("10000")) {
      EXPECT_FALSE(t.has_value());  // five digits: not ISO-8601 as read here
      EXPECT_THAT(problem, HasSubstr("is not an ISO-8601 timestamp"));
      continue;
    }
    ASSERT_TRUE(t.has_value()) << text << ": " << problem;
    EXPECT_EQ(parse_iso8601(format_iso8601(*t)), t) << text;
  }
  EXPECT_EQ(format_iso8601(max_storable_timestamp()), "9999-12-31T23:59:59.999999+00:00");
  EXPECT_EQ(format_iso8601(min_storable_timestamp()), "0001-01-01T00:00:00+00:00");
  EXPECT_THROW(make_timestamp(0, 1, 1), ValidationError);
  EXPECT_THROW(validate_timestamp(max_storable_timestamp() + std::chrono::microseconds(1), "t"),
               ValidationError);

  const json message{{"speaker_id", "a"}, {"timestamp", "9999-12-31T23:30:00-01:00"}};
  EXPECT_THAT([&] { message_from_json(message); },
              ThrowsMessage<ValidationError>(StartsWith(
                  "message.timestamp: \"9999-12-31T23:30:00-01:00\" is outside the years")));
}

TEST(HostileInput, StoringAnInstantOutsideTheRangeIsRefused) {
  RawEvent e;
  e.data_id = "e1";
  e.owner_id = "o";
  e.content = "x";
  e.temporal_info.timestamp = min_storable_timestamp() - std::chrono::hours(1);
  EXPECT_THAT([&] { validate(e); },
              ThrowsMessage<ValidationError>(StartsWith("temporal_info.timestamp: ")));
}

// ---- inputs found by the fuzz targets (fuzz/, scripts/fuzz.sh) ----------------------------

TEST(FuzzFindings, LocomoFieldOfTheWrongTypeIsAValidationError) {
  // fuzz_locomo: a question that is an array escaped as a JSON library type_error.
  const std::string text = read_data("core/fuzz/locomo_question_not_a_string.json");
  const json j = parse_json(text);
  ASSERT_TRUE(is_locomo(j));
  EXPECT_THAT([&] { parse_locomo(j); },
              ThrowsMessage<ValidationError>(StartsWith("locomo[0].qa[1].question: expected a "
                                                        "string, got array")));
  for (const char* bad : {R"([{"conversation": {}, "qa": [3]}])",
                          R"([{"conversation": {}, "qa": [{"category": "x"}]}])",
                          R"([{"conversation": {"speaker_a": 1}, "qa": []}])",
                          R"([{"sample_id": {}, "conversation": {}, "qa": []}])"}) {
    EXPECT_THROW(parse_locomo(parse_json(bad)), ValidationError) << bad;
  }
}

TEST(HostileInput, ArrayElementLinesSurviveNestingAndStrings) {
  const std::string text = "[\n" + kM1 + ",\n\n  {\"speaker_id\": \"a\", \"content\": \"[{,\"},\n" +
                           "{\"speaker_id\": \"b\",\n \"metadata\": {\"x\": [1, [2]]}}\n]";
  const InputFile file = read_records(text);
  ASSERT_TRUE(file.errors.empty()) << file.errors[0].message;
  ASSERT_EQ(file.records.size(), 3u);
  EXPECT_EQ(file.records[0].line, 2u);
  EXPECT_EQ(file.records[1].line, 4u);
  EXPECT_EQ(file.records[2].line, 5u);
}

}  // namespace
}  // namespace nemori
