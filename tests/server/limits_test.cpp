// Request limits: body size, JSON depth, invalid UTF-8, field sizes, paging bounds; owners
// in paths.
#include <gtest/gtest.h>

#include "server_test_support.h"

namespace nemori::test {
namespace {

class LimitsTest : public ::testing::Test {
 protected:
  static ServerOptions small_limits() {
    ServerOptions options = TestServer::default_options();
    options.limits.max_body_bytes = 64 * 1024;
    options.limits.max_messages = 10;
    return options;
  }
  std::unique_ptr<MemorySystem> memory = memory_store();
  TestServer server{*memory, small_limits()};
  std::size_t stored() {
    return server.call("GET", "/v1/owners/alice/stats").json["raw_events"].get<std::size_t>();
  }
};

TEST_F(LimitsTest, OversizedBodyIs413AndStoresNothing) {
  const std::string body = messages_body("ann", std::string(70 * 1024, 'x'));
  const Answer answer = server.call("POST", "/v1/owners/alice/messages", body);
  EXPECT_EQ(answer.status, 413);
  EXPECT_EQ(answer.json["error"]["code"], "payload_too_large");
  EXPECT_EQ(answer.field(), "body");
  EXPECT_EQ(stored(), 0u);
}

TEST_F(LimitsTest, DeepJsonIsRefusedNamingTheBody) {
  std::string deep = R"({"query": "x", "time_range": )";
  for (int i = 0; i < 40; ++i) deep += "[";
  for (int i = 0; i < 40; ++i) deep += "]";
  deep += "}";
  const Answer answer = server.call("POST", "/v1/owners/alice/search", deep);
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.field(), "body");
  EXPECT_NE(answer.body.find("deeper than 32"), std::string::npos) << answer.body;
  // Far deeper than the parser allows at all: still a 400, no crash.
  const std::string very_deep(60000, '[');
  EXPECT_EQ(server.call("POST", "/v1/owners/alice/search", very_deep).status, 400);
}

TEST_F(LimitsTest, InvalidUtf8IsRefusedAndStoresNothing) {
  const std::string body = R"({"messages": [{"speaker_id": "ann", "content": "caf)" +
                           std::string("\xC3\x28") + R"("}]})";
  const Answer answer = server.call("POST", "/v1/owners/alice/messages", body);
  EXPECT_EQ(answer.status, 400);
  EXPECT_EQ(answer.field(), "body");
  EXPECT_EQ(stored(), 0u);
  EXPECT_EQ(server.call("GET", "/v1/owners/%C3%28/stats").field(), "owner");
}

TEST_F(LimitsTest, TooManyMessagesOrTooLongQueryNameTheField) {
  const Answer many = server.call("POST", "/v1/owners/alice/messages", messages_body("a", "m", 11));
  EXPECT_EQ(many.status, 400);
  EXPECT_EQ(many.field(), "messages");
  EXPECT_NE(many.body.find("at most 10"), std::string::npos);
  EXPECT_EQ(stored(), 0u);
  const std::string query = nlohmann::json{{"query", std::string(5000, 'q')}}.dump();
  EXPECT_EQ(server.call("POST", "/v1/owners/alice/search", query).field(), "query");
}

TEST_F(LimitsTest, PagingOutOfRangeNamesTheBound) {
  const Answer limit = server.call("GET", "/v1/owners/alice/events?limit=100000");
  EXPECT_EQ(limit.status, 400);
  EXPECT_EQ(limit.json["error"]["message"], "limit: must be at most 1000 (got 100000)");
  const Answer offset = server.call("GET", "/v1/owners/alice/episodes?offset=99999999");
  EXPECT_EQ(offset.json["error"]["message"], "offset: must be at most 1000000 (got 99999999)");
}

TEST_F(LimitsTest, OwnerIdsAreCheckedAndPercentDecoded) {
  const std::string long_owner(300, 'o');
  EXPECT_EQ(server.call("GET", "/v1/owners/" + long_owner + "/stats").field(), "owner");
  EXPECT_EQ(server.call("GET", "/v1/owners/a%01b/stats").field(), "owner");
  ASSERT_EQ(
      server.call("POST", "/v1/owners/agent%3Au%201/messages", messages_body("a", "hi")).status,
      202);
  EXPECT_EQ(server.call("GET", "/v1/owners/agent:u%201/stats").json["owner_id"], "agent:u 1");
}

}  // namespace
}  // namespace nemori::test
