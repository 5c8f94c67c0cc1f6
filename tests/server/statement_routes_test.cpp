// Statement routes: listing with paging and filters, one statement, its history, deletion
// reopening what it closed, statements in the search answer, deleting an episode through
// MemorySystem::delete_episode, and owner isolation (404 for another owner's statement).
#include <gtest/gtest.h>

#include "server_test_support.h"

namespace nemori::test {
namespace {

// Alice lived in Boston (closed by Denver on June 1); Bob has a statement of his own.
void store_statements(MemorySystem& memory) {
  memory.add_messages("alice", std::vector<Message>{[] {
                        Message m;
                        m.speaker_id = "Alice";
                        m.content = "I moved from Boston to Denver.";
                        m.timestamp = make_timestamp(2023, 6, 1, 10, 0);
                        return m;
                      }()});
  memory.add_messages("bob", std::vector<Message>{[] {
                        Message m;
                        m.speaker_id = "Bob";
                        m.content = "I love jazz.";
                        m.timestamp = make_timestamp(2023, 6, 1, 10, 0);
                        return m;
                      }()});
  memory.flush_all();
  const std::string alice_episode = memory.list_episodes("alice", 1, 0)[0].episode_id;
  const std::string bob_episode = memory.list_episodes("bob", 1, 0)[0].episode_id;
  const auto statement = [](const std::string& id, const std::string& owner,
                            const std::string& episode, const std::string& content,
                            Timestamp from) {
    Statement s;
    s.statement_id = id;
    s.owner_id = owner;
    s.subject = owner;
    s.content = content;
    s.valid_from = from;
    s.recorded_at = s.updated_at = from;
    s.source_episode_ids = {episode};
    return s;
  };
  WriteBatch batch;
  Statement boston =
      statement("s-boston", "alice", alice_episode, "Alice lives in Boston.", make_timestamp(2023, 1, 1, 0, 0));
  boston.valid_to = make_timestamp(2023, 6, 1, 10, 0);
  boston.superseded_by = "s-denver";
  batch.statements = {statement("s-denver", "alice", alice_episode, "Alice lives in Denver.",
                                make_timestamp(2023, 6, 1, 10, 0)),
                      boston,
                      statement("s-jazz", "bob", bob_episode, "Bob likes jazz.",
                                make_timestamp(2023, 6, 1, 10, 0))};
  batch.statements[2].category = StatementCategory::kPreference;
  memory.storage().apply(batch);
}

TEST(StatementRoutesTest, ListGetHistoryAndFilters) {
  auto memory = memory_store();
  store_statements(*memory);
  TestServer server{*memory};
  Answer a = server.call("GET", "/v1/owners/alice/statements");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.json["statements"].size(), 1u);
  EXPECT_EQ(a.json["statements"][0]["content"], "Alice lives in Denver.");
  EXPECT_EQ(a.json["total_count"], 1);
  EXPECT_FALSE(a.json["statements"][0].contains("embedding_vector"));
  a = server.call("GET", "/v1/owners/alice/statements?state=all&limit=1");
  EXPECT_EQ(a.json["total_count"], 2);
  EXPECT_EQ(a.json["statements"].size(), 1u);
  EXPECT_TRUE(a.json["has_more"].get<bool>());
  a = server.call("GET", "/v1/owners/alice/statements?as_of=2023-03-01T00:00:00Z");
  ASSERT_EQ(a.json["statements"].size(), 1u);
  EXPECT_EQ(a.json["statements"][0]["content"], "Alice lives in Boston.");
  a = server.call("GET", "/v1/owners/alice/statements?state=all&q=BOSTON");
  EXPECT_EQ(a.json["total_count"], 1);
  a = server.call("GET", "/v1/owners/bob/statements?category=preference");
  EXPECT_EQ(a.json["total_count"], 1);
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/statements?category=mood").field(), "category");
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/statements?state=old").field(), "state");
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/statements?as_of=yesterday").field(), "as_of");

  a = server.call("GET", "/v1/owners/alice/statements/s-denver");
  ASSERT_EQ(a.status, 200);
  EXPECT_EQ(a.json["superseded_by"], "");
  a = server.call("GET", "/v1/owners/alice/statements/s-denver/history");
  ASSERT_EQ(a.status, 200);
  ASSERT_EQ(a.json["history"].size(), 2u);
  EXPECT_EQ(a.json["history"][0]["statement_id"], "s-boston");
}

TEST(StatementRoutesTest, AnotherOwnersStatementIsNotFound) {
  auto memory = memory_store();
  store_statements(*memory);
  TestServer server{*memory};
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/statements/s-denver").status, 404);
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/statements/s-denver/history").status, 404);
  EXPECT_EQ(server.call("DELETE", "/v1/owners/bob/statements/s-denver").status, 404);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/statements/s-denver", "", kAliceKey).status,
            200);
  // A key scoped to alice does not even learn that bob exists.
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/statements", "", kAliceKey).status, 404);
  EXPECT_TRUE(memory->get_statement("alice", "s-denver"));
}

TEST(StatementRoutesTest, DeletingReopensWhatItClosed) {
  auto memory = memory_store();
  store_statements(*memory);
  TestServer server{*memory};
  const Answer a = server.call("DELETE", "/v1/owners/alice/statements/s-denver");
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json["deleted"], "s-denver");
  ASSERT_EQ(a.json["reopened"].size(), 1u);
  EXPECT_EQ(a.json["reopened"][0]["statement_id"], "s-boston");
  EXPECT_TRUE(a.json["reopened"][0]["valid_to"].is_null());
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/statements/s-denver").status, 404);
}

TEST(StatementRoutesTest, SearchAnswersCarryStatements) {
  auto memory = memory_store();
  store_statements(*memory);
  TestServer server{*memory};
  Answer a = server.call("POST", "/v1/owners/alice/search", R"({"query":"where does Alice live"})");
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.json["statements"].size(), 1u);
  EXPECT_EQ(a.json["statements"][0]["statement"]["content"], "Alice lives in Denver.");
  EXPECT_TRUE(a.json["statements"][0]["current"].get<bool>());
  EXPECT_EQ(a.json["statement_words"], 4);
  a = server.call("POST", "/v1/owners/alice/search",
                  R"({"query":"where does Alice live","include_superseded":true})");
  EXPECT_EQ(a.json["statements"].size(), 2u);
  a = server.call("POST", "/v1/owners/alice/search",
                  R"({"query":"Alice live","as_of":"2023-03-01T00:00:00Z"})");
  ASSERT_EQ(a.json["statements"].size(), 1u);
  EXPECT_EQ(a.json["statements"][0]["statement"]["content"], "Alice lives in Boston.");
  a = server.call("POST", "/v1/owners/alice/search", R"({"query":"Alice","statements":0})");
  EXPECT_TRUE(a.json["statements"].empty());
  EXPECT_EQ(server.call("POST", "/v1/owners/alice/search",
                        R"({"query":"Alice","include_superseded":"yes"})")
                .field(),
            "include_superseded");
}

TEST(StatementRoutesTest, DeletingAnEpisodeRemovesTheStatementsOnlyItSupported) {
  auto memory = memory_store();
  store_statements(*memory);
  TestServer server{*memory};
  const std::string episode = memory->list_episodes("alice", 1, 0)[0].episode_id;
  EXPECT_EQ(server.call("DELETE", "/v1/owners/bob/episodes/" + episode).status, 404);
  const Answer a = server.call("DELETE", "/v1/owners/alice/episodes/" + episode);
  ASSERT_EQ(a.status, 200) << a.body;
  EXPECT_EQ(a.json["statements_removed"], 2);
  EXPECT_EQ(server.call("GET", "/v1/owners/alice/statements?state=all").json["total_count"], 0);
  EXPECT_EQ(server.call("GET", "/v1/owners/bob/statements").json["total_count"], 1);
}

}  // namespace
}  // namespace nemori::test
