// Concurrent clients adding and searching while background workers build episodes.
#include <atomic>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "server_test_support.h"

namespace nemori::test {
namespace {

TEST(ConcurrencyTest, AddersAndSearchersWhileEpisodesAreBuilt) {
  MemoryConfig config;
  config.storage = parse_storage_url("memory://");
  config.building.workers = 2;
  config.building.after_messages = 4;
  auto memory = MemorySystem::open(config);
  TestServer server(*memory);
  constexpr int kOwners = 4, kBatches = 15, kPerBatch = 4;
  std::atomic<int> failures{0}, foreign_hits{0}, searches{0};
  std::atomic<bool> adding{true};
  std::vector<std::thread> threads;
  for (int o = 0; o < kOwners; ++o) {
    threads.emplace_back([&, o] {  // adder
      const std::string owner = "owner" + std::to_string(o);
      for (int b = 0; b < kBatches; ++b) {
        const Answer added =
            server.call("POST", "/v1/owners/" + owner + "/messages",
                        messages_body("ann", owner + " talks about kites", kPerBatch, b * 45));
        if (added.status != 202) ++failures;
      }
    });
    threads.emplace_back([&, o] {  // searcher, with an owner-scoped key
      const std::string owner = "owner" + std::to_string(o);
      while (adding) {
        const Answer found =
            server.call("POST", "/v1/owners/" + owner + "/search", R"({"query": "kites"})");
        if (found.status != 200) ++failures;
        for (const auto& hit : found.json["hits"]) {
          if (hit["episode"]["owner_id"] != owner) ++foreign_hits;
        }
        ++searches;
      }
    });
  }
  for (int i = 0; i < kOwners * 2; i += 2) threads[static_cast<std::size_t>(i)].join();
  adding = false;
  for (int i = 1; i < kOwners * 2; i += 2) threads[static_cast<std::size_t>(i)].join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(foreign_hits, 0);
  EXPECT_GT(searches, 0);
  // The workers built episodes on their own (size trigger), before any flush.
  memory->settle();
  EXPECT_GT(server.call("GET", "/v1/stats").json["total_episodes"].get<int>(), 0);
  for (int o = 0; o < kOwners; ++o) {
    const std::string owner = "owner" + std::to_string(o);
    ASSERT_EQ(server.call("POST", "/v1/owners/" + owner + "/flush", "{}").status, 200);
    const Answer stats = server.call("GET", "/v1/owners/" + owner + "/stats");
    EXPECT_EQ(stats.json["raw_events"], kBatches * kPerBatch) << owner;
    EXPECT_EQ(stats.json["pending_raw_events"], 0) << owner;
    // Every message is in exactly one episode.
    const Answer found = server.call("POST", "/v1/owners/" + owner + "/search",
                                     R"({"query": "kites", "top_k": 100})");
    std::size_t evidence = 0;
    for (const auto& hit : found.json["hits"]) evidence += hit["raw_event_ids"].size();
    EXPECT_EQ(evidence, static_cast<std::size_t>(kBatches * kPerBatch)) << owner;
  }
}

}  // namespace
}  // namespace nemori::test
