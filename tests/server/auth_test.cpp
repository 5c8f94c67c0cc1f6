// API keys and owner isolation: every route, each kind of key.
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "server_test_support.h"

namespace nemori::test {
namespace {

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const std::string owner : {"bob", "alice", "agent-7:u1", "agent-8:u1"}) {
      ASSERT_EQ(server
                    .call("POST", "/v1/owners/" + owner + "/messages",
                          messages_body("sam", owner + " likes kayaks", 2))
                    .status,
                202);
      server.call("POST", "/v1/owners/" + owner + "/flush", "{}");
    }
    bob_episode = server.call("GET", "/v1/owners/bob/episodes").json["episodes"][0]["episode_id"];
    bob_event = server.call("GET", "/v1/owners/bob/events").json["events"][0]["data_id"];
  }

  // The route template with {owner} and {id} filled for `owner` (ids of bob's records, so a
  // call that leaked would find something).
  std::string path_of(const std::string& route, const std::string& owner) const {
    std::string path = route;
    const auto replace = [&path](const std::string& from, const std::string& to) {
      if (const auto at = path.find(from); at != std::string::npos)
        path.replace(at, from.size(), to);
    };
    replace("{owner}", owner);
    replace("{id}", path.find("/events/") != std::string::npos ? bob_event : bob_episode);
    return path;
  }

  static std::string body_of(const std::string& method, const std::string& route) {
    if (route.ends_with("/messages")) return messages_body("eve", "intruder");
    if (route.ends_with("/search")) return R"({"query": "kayaks"})";
    if (method == "PATCH") return R"({"title": "hacked"})";
    if (route == "/v1/retention") return R"({"before": "2030-01-01T00:00:00Z"})";
    return method == "GET" || method == "DELETE" ? "" : "{}";
  }

  std::unique_ptr<MemorySystem> memory = memory_store();
  TestServer server{*memory};
  std::string bob_episode;
  std::string bob_event;
};

TEST_F(AuthTest, MissingOrWrongKeyIs401OnEveryProtectedRoute) {
  for (const auto& [method, route] : server.server().routes()) {
    if (route == "/healthz" || route == "/readyz" || route == "/v1/openapi.json") continue;
    const std::string path = path_of(route, "bob");
    const Answer none = server.call(method, path, body_of(method, route), "");
    EXPECT_EQ(none.status, 401) << method << " " << route;
    EXPECT_EQ(none.field(), "Authorization") << method << " " << route;
    const Answer wrong =
        server.call(method, path, body_of(method, route), "not-a-key-0123456789abcdef");
    EXPECT_EQ(wrong.status, 401) << method << " " << route;
  }
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/stats").json["raw_events"], 2);
}

TEST_F(AuthTest, AnotherOwnersKeyGets404OnEveryOwnerRouteAndChangesNothing) {
  std::size_t owner_routes = 0;
  for (const auto& [method, route] : server.server().routes()) {
    if (route.find("{owner}") == std::string::npos) continue;
    ++owner_routes;
    const Answer answer =
        server.call(method, path_of(route, "bob"), body_of(method, route), kAliceKey);
    EXPECT_EQ(answer.status, 404) << method << " " << route << ": " << answer.body;
    EXPECT_EQ(answer.json["error"]["code"], "not_found") << method << " " << route;
    // The same answer as an owner that does not exist: nothing to probe.
    EXPECT_EQ(answer.json,
              server.call(method, path_of(route, "nobody"), body_of(method, route), kAliceKey).json)
        << method << " " << route;
  }
  EXPECT_GE(owner_routes, 11u);
  const Answer bob = server.call("GET", "/v1/owners/bob/episodes/" + bob_episode);
  EXPECT_NE(bob.json["title"], "hacked");
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/stats").json["raw_events"], 2);
}

TEST_F(AuthTest, OwnerKeyReachesItsOwnerOnly) {
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes", "", kAliceKey).status, 200);
  EXPECT_EQ(server.call("POST", "/v1/owners/alice/search", R"({"query": "kayaks"})", kAliceKey)
                .json["hits"]
                .size(),
            1u);
  // A longer id that starts with the owner's is another owner.
  EXPECT_EQ(server.call("GET", "/v1/owners/alice2/episodes", "", kAliceKey).status, 404);
}

TEST_F(AuthTest, PrefixScopeCoversOwnersStartingWithIt) {
  const Answer own =
      server.call("POST", "/v1/owners/agent-7:u1/search", R"({"query": "kayaks"})", kAgentKey);
  ASSERT_EQ(own.status, 200) << own.body;
  EXPECT_EQ(own.json["hits"].size(), 1u);
  EXPECT_EQ(
      server.call("POST", "/v1/owners/agent-7:u2/messages", messages_body("x", "hi"), kAgentKey)
          .status,
      202);
  EXPECT_EQ(server.call("GET", "/v1/owners/agent-8:u1/episodes", "", kAgentKey).status, 404);
  EXPECT_EQ(server.call("GET", "/v1/owners/agent-7/episodes", "", kAgentKey).status, 404);
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/episodes", "", kAgentKey).status, 404);
}

TEST_F(AuthTest, StoreWideRoutesNeedAnAdminKey) {
  for (const char* key : {kAliceKey, kAgentKey, kAllOwnersKey}) {
    EXPECT_EQ(server.call("GET", "/v1/stats", "", key).status, 403) << key;
    EXPECT_EQ(server.call("GET", "/metrics", "", key).status, 403) << key;
    const Answer retention =
        server.call("POST", "/v1/retention", R"({"before": "2030-01-01T00:00:00Z"})", key);
    EXPECT_EQ(retention.status, 403);
    EXPECT_EQ(retention.json["error"]["code"], "forbidden");
  }
  EXPECT_EQ(server.call("GET", "/v1/stats", "", kAdminKey).json["total_raw_data"], 8);
  // `*` reaches every owner; `admin` too.
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/stats", "", kAllOwnersKey).status, 200);
  EXPECT_EQ(server.call("GET", "/v1/owners/agent-8:u1/stats", "", kAdminKey).status, 200);
}

TEST_F(AuthTest, PublicRoutesNeedNoKey) {
  EXPECT_EQ(server.call("GET", "/healthz", "", "").status, 200);
  EXPECT_EQ(server.call("GET", "/readyz", "", "").status, 200);
  EXPECT_EQ(server.call("GET", "/v1/openapi.json", "", "").status, 200);
}

TEST(ApiKeysTest, ParsesPairsAndMatchesScopes) {
  const ApiKeys keys = ApiKeys::parse(" k1-0123456789abcdef = admin , k2-0123456789abcdef=team:*");
  EXPECT_EQ(keys.size(), 2u);
  ASSERT_TRUE(keys.scope_of("k2-0123456789abcdef"));
  EXPECT_TRUE(keys.scope_of("k2-0123456789abcdef")->covers("team:x"));
  EXPECT_FALSE(keys.scope_of("k2-0123456789abcdef")->covers("tea"));
  EXPECT_TRUE(keys.scope_of("k1-0123456789abcdef")->admin());
  EXPECT_FALSE(keys.scope_of("k1-0123456789abcdeF"));
  EXPECT_FALSE(keys.scope_of(""));
  EXPECT_TRUE(ApiKeys::parse("").empty());
}

TEST(ApiKeysTest, BadConfigurationIsRefusedWithoutShowingTheKey) {
  const auto message_of = [](const std::string& text) {
    try {
      ApiKeys::parse(text);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message_of("secret-0123456789abcdef").find("KEY=SCOPE"), std::string::npos);
  EXPECT_NE(message_of("short=admin").find("shorter than 16"), std::string::npos);
  EXPECT_NE(message_of("secret-0123456789abcdef=").find("scope is empty"), std::string::npos);
  const std::string twice = message_of("secret-0123456789abcdef=a,secret-0123456789abcdef=b");
  EXPECT_NE(twice.find("API key 2"), std::string::npos);
  for (const auto& text : {message_of("secret-0123456789abcdef"), twice}) {
    EXPECT_EQ(text.find("secret-0123456789abcdef"), std::string::npos) << text;
  }
}

TEST(ServerStartTest, RefusesToStartWithoutKeysUnlessUnauthenticatedOnLoopback) {
  auto memory = memory_store();
  ServerOptions options;
  options.port = 0;
  EXPECT_THROW(Server(*memory, options), ConfigError);
  options.unauthenticated = true;
  options.host = "0.0.0.0";
  EXPECT_THROW(Server(*memory, options), ConfigError);
  options.host = "127.0.0.1";
  TestServer open(*memory, options);
  EXPECT_EQ(open.call("GET", "/v1/owners/x/stats", "", "").status, 200);
}

}  // namespace
}  // namespace nemori::test
