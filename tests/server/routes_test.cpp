// Every REST route over a real server on loopback: its success and each of its error statuses.
#include <algorithm>

#include <gtest/gtest.h>

#include "server_test_support.h"

namespace nemori::test {
namespace {

class RoutesTest : public ::testing::Test {
 protected:
  std::unique_ptr<MemorySystem> memory = memory_store();
  TestServer server{*memory};

  // Adds `n` messages for `owner` and builds them into episodes; returns the first episode id.
  std::string seed(const std::string& owner, const std::string& text, int n = 3) {
    EXPECT_EQ(
        server.call("POST", "/v1/owners/" + owner + "/messages", messages_body("ann", text, n))
            .status,
        202);
    EXPECT_EQ(server.call("POST", "/v1/owners/" + owner + "/flush", "{}").status, 200);
    const Answer listed = server.call("GET", "/v1/owners/" + owner + "/episodes");
    EXPECT_FALSE(listed.json["episodes"].empty());
    return listed.json["episodes"][0]["episode_id"].get<std::string>();
  }
};

TEST_F(RoutesTest, AddMessagesStoresThemAtOnceAndIsIdempotent) {
  const std::string body = messages_body("ann", "I adopted a puppy named Rex", 2);
  const Answer first = server.call("POST", "/v1/owners/alice/messages", body);
  ASSERT_EQ(first.status, 202) << first.body;
  EXPECT_EQ(first.json["message_ids"].size(), 2u);
  EXPECT_EQ(first.json["stored"], 2);
  const Answer again = server.call("POST", "/v1/owners/alice/messages", body);
  EXPECT_EQ(again.json["already_stored"], 2);
  EXPECT_EQ(again.json["message_ids"], first.json["message_ids"]);
  const Answer stats = server.call("GET", "/v1/owners/alice/stats");
  EXPECT_EQ(stats.json["raw_events"], 2);
  EXPECT_EQ(stats.json["pending_raw_events"], 2);
}

TEST_F(RoutesTest, AddMessagesRejectsBadInputNamingTheFieldAndStoresNothing) {
  const auto post = [&](const std::string& body) {
    return server.call("POST", "/v1/owners/alice/messages", body);
  };
  EXPECT_EQ(post("{}").field(), "messages");
  EXPECT_EQ(post(R"({"messages": []})").field(), "messages");
  EXPECT_EQ(post(R"({"messages": "hi"})").field(), "messages");
  EXPECT_EQ(post(R"({"messages": [{"content": "x"}], "extra": 1})").field(), "extra");
  // The second message is bad: the first is not stored either.
  const Answer bad = post(
      R"({"messages": [{"speaker_id": "ann", "content": "fine"}, {"content": "no speaker"}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.field(), "messages[1].speaker_id") << bad.body;
  EXPECT_EQ(
      post(R"({"messages": [{"speaker_id": "a", "content": "x", "timestamp": "May 1"}]})").field(),
      "messages[0].timestamp");
  EXPECT_EQ(post("not json").status, 400);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/stats").json["raw_events"], 0);
}

TEST_F(RoutesTest, FlushBuildsEpisodesAndSearchFindsThem) {
  server.call("POST", "/v1/owners/alice/messages",
              messages_body("ann", "I adopted a puppy named Rex", 3));
  const Answer flushed = server.call("POST", "/v1/owners/alice/flush", "{}");
  ASSERT_EQ(flushed.status, 200) << flushed.body;
  EXPECT_EQ(flushed.json["raw_events"], 3);
  EXPECT_GE(flushed.json["episodes"].get<int>(), 1);
  EXPECT_EQ(flushed.json["statements_added"], 0);  // LLM-free: no semantic memory
  EXPECT_EQ(flushed.json["semantic_episodes"], 0);
  EXPECT_EQ(flushed.json["merges"], 0);
  const Answer found =
      server.call("POST", "/v1/owners/alice/search", R"({"query": "puppy Rex", "top_k": 5})");
  ASSERT_EQ(found.status, 200) << found.body;
  ASSERT_FALSE(found.json["hits"].empty());
  const auto& hit = found.json["hits"][0];
  EXPECT_NE(hit["episode"]["content"].get<std::string>().find("puppy"), std::string::npos);
  EXPECT_EQ(hit["raw_event_ids"].size(), 3u);
  EXPECT_FALSE(hit["episode"].contains("embedding_vector"));
  EXPECT_EQ(server.call("POST", "/v1/owners/alice/flush", R"({"x": 1})").field(), "x");
}

TEST_F(RoutesTest, SearchHonoursTimeRangeAndBudgetAndRejectsBadOptions) {
  seed("alice", "we hiked the Alps");
  const auto search = [&](const std::string& body) {
    return server.call("POST", "/v1/owners/alice/search", body);
  };
  EXPECT_FALSE(search(R"({"query": "Alps"})").json["hits"].empty());
  EXPECT_TRUE(search(R"({"query": "Alps", "time_range": {"start": "2025-01-01T00:00:00Z"}})")
                  .json["hits"]
                  .empty());
  EXPECT_FALSE(search(R"({"query": "Alps", "time_range": {"end": "2024-12-31T00:00:00Z"}})")
                   .json["hits"]
                   .empty());
  EXPECT_EQ(search("{}").field(), "query");
  EXPECT_EQ(search(R"({"query": 5})").field(), "query");
  EXPECT_EQ(search(R"({"query": "a", "mode": "magic"})").field(), "mode");
  EXPECT_EQ(search(R"({"query": "a", "top_k": 0})").field(), "top_k");
  EXPECT_EQ(search(R"({"query": "a", "top_k": 101})").field(), "top_k");
  EXPECT_EQ(search(R"({"query": "a", "top_k": 2.5})").field(), "top_k");
  EXPECT_EQ(search(R"({"query": "a", "word_budget": -1})").field(), "word_budget");
  EXPECT_EQ(search(R"({"query": "a", "time_range": {"start": "yesterday"}})").field(),
            "time_range.start");
  EXPECT_EQ(search(R"({"query": "a", "time_range": {"start": "2025-01-01T00:00:00Z",
                       "end": "2024-01-01T00:00:00Z"}})")
                .field(),
            "time_range");
  // Vector mode without an embedder is refused, not answered with nothing.
  EXPECT_EQ(search(R"({"query": "a", "mode": "vector"})").status, 400);
}

TEST_F(RoutesTest, ListEpisodesPagesWithExactTotalsAndBounds) {
  server.call("POST", "/v1/owners/alice/messages", messages_body("ann", "topic", 1, 0));
  server.call("POST", "/v1/owners/alice/messages", messages_body("ann", "other", 1, 120));
  server.call("POST", "/v1/owners/alice/messages", messages_body("ann", "third", 1, 240));
  server.call("POST", "/v1/owners/alice/flush", "{}");
  const Answer page = server.call("GET", "/v1/owners/alice/episodes?limit=2&offset=1");
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.json["total_count"], 3);
  EXPECT_EQ(page.json["episodes"].size(), 2u);
  EXPECT_EQ(page.json["has_more"], false);
  const Answer oldest = server.call("GET", "/v1/owners/alice/episodes?limit=1&order=asc");
  EXPECT_NE(oldest.json["episodes"][0]["content"].get<std::string>().find("topic"),
            std::string::npos);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?start=2024-05-01T11:30:00Z")
                .json["total_count"],
            2);
  const Answer too_big = server.call("GET", "/v1/owners/alice/episodes?limit=1001");
  EXPECT_EQ(too_big.status, 400);
  EXPECT_EQ(too_big.field(), "limit");
  EXPECT_NE(too_big.json["error"]["message"].get<std::string>().find("at most 1000"),
            std::string::npos);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?limit=0").field(), "limit");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?offset=1000001").field(), "offset");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?offset=-1").field(), "offset");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?limit=ten").field(), "limit");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?limit=1&limit=2").field(), "limit");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?sort=mood").field(), "sort");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?order=up").field(), "order");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?type=dream").field(), "type");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?min_importance=2").field(),
            "min_importance");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/episodes?start=soon").field(), "start");
}

TEST_F(RoutesTest, GetUpdateAndDeleteOneEpisode) {
  const std::string id = seed("alice", "we baked bread");
  const std::string path = "/v1/owners/alice/episodes/" + id;
  const Answer got = server.call("GET", path);
  ASSERT_EQ(got.status, 200) << got.body;
  EXPECT_EQ(got.json["episode_id"], id);
  EXPECT_EQ(got.json["raw_event_ids"].size(), 3u);

  const Answer patched = server.call(
      "PATCH", path,
      R"({"title": "Sourdough day", "importance_score": 0.9, "content": "We baked sourdough bread with zanzibar flour."})");
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(server.call("GET", path).json["title"], "Sourdough day");
  // The search index follows the update.
  const Answer found = server.call("POST", "/v1/owners/alice/search", R"({"query": "zanzibar"})");
  ASSERT_EQ(found.json["hits"].size(), 1u) << found.body;
  EXPECT_EQ(found.json["hits"][0]["episode"]["episode_id"], id);

  EXPECT_EQ(server.call("PATCH", path, "{}").field(), "body");
  EXPECT_EQ(server.call("PATCH", path, R"({"owner_id": "bob"})").field(), "owner_id");
  EXPECT_EQ(server.call("PATCH", path, R"({"importance_score": 3})").field(), "importance_score");
  EXPECT_EQ(server.call("PATCH", path, R"({"title": "", "content": ""})").status, 400);
  // A rejected update changed nothing.
  EXPECT_EQ(server.call("GET", path).json["title"], "Sourdough day");
  EXPECT_EQ(server.call("PATCH", "/v1/owners/alice/episodes/nope", R"({"title": "x"})").status,
            404);

  EXPECT_EQ(server.call("DELETE", path).status, 200);
  EXPECT_EQ(server.call("GET", path).status, 404);
  EXPECT_EQ(server.call("DELETE", path).status, 404);
  EXPECT_TRUE(server.call("POST", "/v1/owners/alice/search", R"({"query": "zanzibar"})")
                  .json["hits"]
                  .empty());
}

TEST_F(RoutesTest, ListAndGetRawEventsByTypeTimeAndProcessedState) {
  server.call("POST", "/v1/owners/alice/messages", messages_body("ann", "first", 2));
  server.call("POST", "/v1/owners/alice/flush", "{}");
  server.call("POST", "/v1/owners/alice/messages", messages_body("ann", "later", 1, 300));
  const Answer all = server.call("GET", "/v1/owners/alice/events?type=conversation");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.json["total_count"], 3);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/events?processed=false").json["total_count"], 1);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/events?processed=true").json["total_count"], 2);
  EXPECT_EQ(
      server.call("GET", "/v1/owners/alice/events?end=2024-05-01T10:30:00Z").json["total_count"],
      2);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/events?type=document").json["total_count"], 0);
  const std::string id = all.json["events"][0]["data_id"];
  const Answer one = server.call("GET", "/v1/owners/alice/events/" + id);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json["data_id"], id);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/events/missing").status, 404);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/events?processed=maybe").field(), "processed");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/events?type=smell").field(), "type");
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/events?limit=5000").field(), "limit");
}

TEST_F(RoutesTest, DeleteOwnerRemovesEverythingOfItOnly) {
  seed("alice", "alice's secret garden");
  seed("bob", "bob's boat");
  const Answer deleted = server.call("DELETE", "/v1/owners/alice");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(deleted.json["deleted"]["raw_events"], 3);
  EXPECT_GE(deleted.json["deleted"]["episodes"].get<int>(), 1);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/stats").json["raw_events"], 0);
  EXPECT_TRUE(server.call("POST", "/v1/owners/alice/search", R"({"query": "garden"})")
                  .json["hits"]
                  .empty());
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/stats").json["raw_events"], 3);
}

TEST_F(RoutesTest, StoreStatsAndRetention) {
  seed("alice", "old news");
  server.call("POST", "/v1/owners/bob/messages", messages_body("bo", "also old"));
  const Answer stats = server.call("GET", "/v1/stats");
  ASSERT_EQ(stats.status, 200) << stats.body;
  EXPECT_EQ(stats.json["backend"], "memory");
  EXPECT_EQ(stats.json["total_raw_data"], 4);
  EXPECT_EQ(stats.json["pending_by_owner"]["bob"], 1);

  EXPECT_EQ(server.call("POST", "/v1/retention", "{}").field(), "before");
  EXPECT_EQ(server.call("POST", "/v1/retention", R"({"before": "soon"})").field(), "before");
  EXPECT_EQ(server
                .call("POST", "/v1/retention", R"({"before": "2030-01-01T00:00:00Z",
             "owner_id": ""})")
                .field(),
            "owner");
  const Answer kept = server.call("POST", "/v1/retention", R"({"before": "2020-01-01T00:00:00Z"})");
  EXPECT_EQ(kept.json["deleted"]["raw_events"], 0);
  const Answer cleaned = server.call("POST", "/v1/retention",
                                     R"({"before": "2030-01-01T00:00:00Z", "owner_id": "alice"})");
  ASSERT_EQ(cleaned.status, 200) << cleaned.body;
  EXPECT_EQ(cleaned.json["deleted"]["raw_events"], 3);
  EXPECT_GE(cleaned.json["deleted"]["episodes"].get<int>(), 1);
  EXPECT_TRUE(
      server.call("POST", "/v1/owners/alice/search", R"({"query": "news"})").json["hits"].empty());
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/stats").json["raw_events"], 1);
}

TEST_F(RoutesTest, HealthReadinessMetricsAndUnknownRoutes) {
  EXPECT_EQ(server.call("GET", "/healthz", "", "").json["status"], "ok");
  EXPECT_EQ(server.call("GET", "/readyz", "", "").json["status"], "ready");
  server.call("POST", "/v1/owners/alice/messages", messages_body("ann", "hello"));
  // A request is counted once its answer is sent: scrape until it shows.
  const std::string counted =
      "nemori_http_requests_total{route=\"/v1/owners/{owner}/messages\",method=\"POST\","
      "status=\"202\"} 1";
  Answer metrics;
  for (int i = 0; i < 200; ++i) {
    metrics = server.call("GET", "/metrics");
    if (metrics.body.find(counted) != std::string::npos &&
        metrics.body.find("route=\"/readyz\"") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("nemori_http_requests_total{route=\"/v1/owners/{owner}/messages\","
                              "method=\"POST\",status=\"202\"} 1"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("nemori_http_request_duration_seconds_bucket{route=\"/readyz\""),
            std::string::npos);
  EXPECT_NE(metrics.body.find("nemori_pending_messages 1"), std::string::npos);
  const Answer unknown = server.call("GET", "/v1/nothing");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["error"]["code"], "not_found");
}

TEST_F(RoutesTest, EachRequestLogsOneLineWithoutContentOrKey) {
  server.call("POST", "/v1/owners/alice/messages", messages_body("ann", "my secret diary"));
  server.call("POST", "/v1/owners/alice/search", R"({"query": "secret"})");
  // The line is written once the answer is sent: wait for it.
  std::string log;
  for (int i = 0; i < 200 && std::count(log.begin(), log.end(), '\n') < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    log = server.log();
  }
  EXPECT_EQ(log.find("secret"), std::string::npos) << log;
  EXPECT_EQ(log.find(kAdminKey), std::string::npos) << log;
  std::size_t lines = 0;
  for (const char c : log) lines += c == '\n';
  EXPECT_EQ(lines, 2u) << log;
  const auto first = nlohmann::json::parse(log.substr(0, log.find('\n')));
  EXPECT_EQ(first["route"], "/v1/owners/{owner}/messages");
  EXPECT_EQ(first["owner"], "alice");
  EXPECT_EQ(first["status"], 202);
  EXPECT_TRUE(first["ms"].is_number());
}

}  // namespace
}  // namespace nemori::test
