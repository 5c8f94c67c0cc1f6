// Request decoding: every bad body or parameter is a 400 naming the field; nothing else is
// ever thrown, whatever the bytes.
#include <random>

#include <gtest/gtest.h>

#include "server/api_error.h"
#include "server/request_decoding.h"

namespace nemori::server {
namespace {

const ServerLimits kLimits;

// Runs `decode`; returns the field of the 400 it threw ("<ok>" when it returned). Any other
// exception fails the test.
template <typename F>
std::string field_of(F decode) {
  try {
    decode();
    return "<ok>";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400) << e.what();
    return e.field();
  }
}

TEST(RequestDecodingTest, BodiesAreObjectsOfBoundedDepth) {
  EXPECT_TRUE(parse_body("", kLimits).empty());
  EXPECT_EQ(field_of([] { parse_body("[1]", kLimits); }), "body");
  EXPECT_EQ(field_of([] { parse_body("{\"a\": 1} trailing", kLimits); }), "body");
  EXPECT_EQ(field_of([] { parse_body(std::string("{\"a\": \"\0\"}", 11), kLimits); }), "body");
  std::string deep = "{\"a\":";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  EXPECT_EQ(field_of([&] { parse_body(deep + "}", kLimits); }), "body");
}

TEST(RequestDecodingTest, FieldsAreCheckedByTypeAndBound) {
  const auto body = nlohmann::json::parse(
      R"({"n": 5, "f": 2.5, "neg": -1, "huge": 1e300, "s": "text", "t": "2024-05-01T10:00:00Z"})");
  EXPECT_EQ(size_field(body, "n", 1, 1, 10), 5u);
  EXPECT_EQ(size_field(body, "missing", 7, 1, 10), 7u);
  EXPECT_EQ(field_of([&] { size_field(body, "f", 1, 1, 10); }), "f");
  EXPECT_EQ(field_of([&] { size_field(body, "neg", 1, 0, 10); }), "neg");
  EXPECT_EQ(field_of([&] { size_field(body, "huge", 1, 0, 10); }), "huge");
  EXPECT_EQ(field_of([&] { size_field(body, "s", 1, 0, 10); }), "s");
  EXPECT_EQ(field_of([&] { string_field(body, "s", 3); }), "s");
  EXPECT_TRUE(time_field(body, "t").has_value());
  EXPECT_EQ(field_of([&] { time_field(body, "s"); }), "s");
  EXPECT_EQ(field_of([&] { reject_unknown_keys(body, {"n"}); }), "f");
}

TEST(RequestDecodingTest, ParametersAreSingleAndWithinBounds) {
  QueryParams params = {{"limit", "10"},  {"twice", "1"},  {"twice", "2"}, {"bad", "1x"},
                        {"flag", "true"}, {"type", "a,b"}, {"type", "c"}};
  EXPECT_EQ(size_param(params, "limit", 50, 1, 1000), 10u);
  EXPECT_EQ(field_of([&] { size_param(params, "twice", 1, 0, 10); }), "twice");
  EXPECT_EQ(field_of([&] { size_param(params, "bad", 1, 0, 10); }), "bad");
  EXPECT_EQ(field_of([&] { size_param(params, "limit", 1, 0, 5); }), "limit");
  EXPECT_EQ(bool_param(params, "flag"), true);
  EXPECT_EQ(list_param(params, "type"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(
      field_of([] {
        time_range_params({{"start", "2025-01-01T00:00:00Z"}, {"end", "2024-01-01T00:00:00Z"}});
      }),
      "start");
  EXPECT_EQ(field_of([] { decode_owner("", kLimits); }), "owner");
  EXPECT_EQ(field_of([] { decode_owner("a\tb", kLimits); }), "owner");
  EXPECT_EQ(decode_owner("agent-7:user 1", kLimits), "agent-7:user 1");
}

// Random bytes and mutated JSON through every decoder: each call returns or throws a 400.
TEST(RequestDecodingTest, RandomInputOnlyEverGivesA400) {
  std::mt19937 random(14);
  const std::string seeds[] = {
      R"({"query": "x", "top_k": 3, "time_range": {"start": "2024-01-01T00:00:00Z"}})",
      R"({"messages": [{"speaker_id": "a", "content": "b"}]})",
      R"({"before": "2024-01-01T00:00:00Z", "owner_id": "o"})"};
  for (int round = 0; round < 5000; ++round) {
    std::string text = seeds[round % 3];
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = random() % text.size();
      switch (random() % 3) {
        case 0:
          text[at] = static_cast<char>(random() % 256);
          break;
        case 1:
          text.erase(at, 1);
          break;
        default:
          text.insert(at, 1, "{}[]\",:0-e\\"[random() % 11]);
          break;
      }
    }
    field_of([&] {
      const nlohmann::json body = parse_body(text, kLimits);
      (void)string_field(body, "query", kLimits.max_query_bytes);
      (void)size_field(body, "top_k", 10, 1, kLimits.max_top_k);
      (void)time_range_field(body, "time_range");
      (void)time_field(body, "before");
    });
    field_of([&] {
      const QueryParams params = {{"limit", text.substr(0, 8)}, {"start", text}};
      (void)size_param(params, "limit", 1, 1, 1000);
      (void)time_range_params(params);
      (void)decode_owner(text, kLimits);
    });
  }
}

}  // namespace
}  // namespace nemori::server
