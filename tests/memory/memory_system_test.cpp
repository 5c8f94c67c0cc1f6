// MemorySystem end to end on every backend (memory, DuckDB, PostgreSQL): ingest, process,
// search, tenancy, delete, idempotence. PostgreSQL cases run when NEMORI_TEST_POSTGRES_URL
// names a test server and are skipped, saying so, otherwise.
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/memory/memory_system.h"
#include "test_store.h"

namespace nemori {
namespace {

std::vector<Message> conversation(Timestamp start,
                                  std::vector<std::pair<std::string, std::string>> lines) {
  std::vector<Message> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    Message m;
    m.speaker_id = lines[i].first;
    m.user_name = lines[i].first;
    m.content = lines[i].second;
    m.timestamp = start + std::chrono::minutes(i);
    out.push_back(std::move(m));
  }
  return out;
}

// The test's backend is its parameter; each test gets a fresh store.
class MemorySystemTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (store.unavailable()) GTEST_SKIP() << test::kNoPostgresServer;
    memory = open();
    auto day1 = conversation(make_timestamp(2025, 3, 3, 18),
                             {{"Maya", "I signed up for a pottery class at the Clay Loft"},
                              {"Nemo", "Pottery is a great way to relax"},
                              {"Maya", "The teacher Tomas is strict about wedging clay"}});
    auto day2 = conversation(make_timestamp(2025, 3, 9, 9),
                             {{"Maya", "We adopted a beagle named Biscuit from the shelter"},
                              {"Nemo", "Congratulations on adopting Biscuit"},
                              {"Maya", "Biscuit pulls hard on the leash"}});
    auto day3 = conversation(make_timestamp(2025, 3, 20, 12),
                             {{"Maya", "Job interview at Kestrel Robotics next Thursday"},
                              {"Nemo", "Let us prepare the system design round"},
                              {"Maya", "They stream sensor data from robots"}});
    for (auto* day : {&day1, &day2, &day3}) {
      ids.push_back(memory->add_messages("maya", *day));
    }
  }
  void TearDown() override { memory.reset(); }  // closed before its store is removed
  std::unique_ptr<MemorySystem> open() const {
    MemoryConfig config;
    config.storage = store.config();
    // Whole days as episodes (each test day holds three messages on one subject).
    config.segmentation.min_messages = 3;
    config.segmentation.max_messages = 10;
    return MemorySystem::open(config);
  }

  test::TestStore store{GetParam(), "memory_system"};
  std::unique_ptr<MemorySystem> memory;
  std::vector<std::vector<std::string>> ids;
};

TEST_P(MemorySystemTest, MessagesAreSearchableBeforeAnyEpisodeExists) {
  const auto hits = memory->search_messages("maya", "beagle", 3);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].event.data_id, ids[1][0]);
  EXPECT_TRUE(memory->list_episodes("maya", 10, 0).empty());
}

TEST_P(MemorySystemTest, ProcessBuildsOneEpisodePerDayAndMarksEventsProcessed) {
  const auto r = memory->process("maya");
  EXPECT_EQ(r.raw_events, 9u);
  EXPECT_EQ(r.episodes, 3u);
  EXPECT_EQ(memory->process("maya").raw_events, 0u) << "a second run finds nothing new";
  EXPECT_TRUE(
      memory->storage().raw_data().get_unprocessed("maya", std::nullopt, std::nullopt).empty());
  const auto episodes = memory->list_episodes("maya", 10, 0);
  ASSERT_EQ(episodes.size(), 3u);
  EXPECT_EQ(memory->storage().episodes().raw_ids_for_episode(episodes[0].episode_id), ids[2]);
}

TEST_P(MemorySystemTest, ARunInterruptedBeforeMarkingEventsProcessedIsCompletedNotDuplicated) {
  const auto first = memory->process("maya");
  ASSERT_EQ(first.episodes, 3u);
  // As if the process had stopped after storing and linking the episodes: the events are
  // still unprocessed.
  auto& raw = memory->storage().raw_data();
  for (const auto& day : ids) {
    for (const auto& id : day) {
      auto event = raw.get(id);
      ASSERT_TRUE(event.has_value());
      event->processed = false;
      ASSERT_TRUE(raw.update(*event));
    }
  }
  const auto again = memory->process("maya");
  EXPECT_EQ(again.raw_events, 9u);
  EXPECT_EQ(again.episodes, 3u);
  EXPECT_EQ(memory->storage().episodes().count("maya"), 3u) << "no duplicate episodes";
  EXPECT_EQ(memory->storage().stats().total_links, 9u);
  EXPECT_TRUE(raw.get_unprocessed("maya", std::nullopt, std::nullopt).empty());
  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "beagle";
  request.limit = 10;
  EXPECT_EQ(memory->search(request).hits.size(), 1u) << "the index holds each episode once";
}

TEST_P(MemorySystemTest, SearchRanksTheRightEpisodeFirstWithItsEvidence) {
  memory->process("maya");
  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "What is the name of the dog Maya adopted?";
  const auto response = memory->search(request);
  ASSERT_FALSE(response.hits.empty());
  EXPECT_NE(response.hits[0].episode.content.find("Biscuit"), std::string::npos);
  EXPECT_EQ(response.hits[0].raw_event_ids, ids[1]);
  EXPECT_GT(response.hits[0].bm25_score, 0.0);
}

TEST_P(MemorySystemTest, ASystemOpenedLaterFindsWhatAnEarlierOneBuilt) {
  if (!store.persistent()) GTEST_SKIP() << "memory:// keeps nothing after its system";
  memory->process("maya");
  memory.reset();
  memory = open();
  EXPECT_EQ(memory->list_episodes("maya", 10, 0).size(), 3u);
  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "beagle";
  const auto response = memory->search(request);
  ASSERT_FALSE(response.hits.empty());
  EXPECT_EQ(response.hits[0].raw_event_ids, ids[1]);
  EXPECT_EQ(memory->process("maya").raw_events, 0u) << "nothing is pending twice";
}

TEST_P(MemorySystemTest, NeighboursAndWordBudget) {
  memory->process("maya");
  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "beagle Biscuit";
  request.limit = 1;
  request.neighbours = 1;
  const auto response = memory->search(request);
  ASSERT_EQ(response.hits.size(), 3u);
  EXPECT_TRUE(response.hits[0].neighbour);
  EXPECT_FALSE(response.hits[1].neighbour);
  EXPECT_TRUE(response.hits[2].neighbour);
  EXPECT_LT(response.hits[0].episode.temporal_info.timestamp,
            response.hits[1].episode.temporal_info.timestamp);

  request.word_budget = response.hits[0].episode.content.size() / 4;  // too small for two
  const auto small = memory->search(request);
  std::size_t words = 0;
  for (const auto& h : small.hits) words += word_count(h.episode);
  EXPECT_LE(words, request.word_budget);
  EXPECT_EQ(words, small.words);
}

TEST_P(MemorySystemTest, OwnersNeverSeeEachOther) {
  memory->process("maya");
  memory->add_messages("leo",
                       conversation(make_timestamp(2025, 1, 1), {{"Leo", "I have a beagle too"}}));
  memory->process("leo");
  MemorySearchRequest request;
  request.owner_id = "leo";
  request.query = "beagle Biscuit pottery Kestrel";
  request.limit = 10;
  for (const auto& h : memory->search(request).hits) EXPECT_EQ(h.episode.owner_id, "leo");
  const auto maya_episode = memory->list_episodes("maya", 1, 0).at(0);
  EXPECT_FALSE(memory->get_episode("leo", maya_episode.episode_id).has_value());
  EXPECT_TRUE(memory->get_episode("maya", maya_episode.episode_id).has_value());
}

TEST_P(MemorySystemTest, DeleteOwnerRemovesDataAndIndexEntries) {
  memory->process("maya");
  const auto deleted = memory->delete_owner("maya");
  EXPECT_EQ(deleted.raw_events, 9u);
  EXPECT_EQ(deleted.episodes, 3u);
  EXPECT_EQ(deleted.links, 9u);
  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "beagle";
  EXPECT_TRUE(memory->search(request).hits.empty());
  EXPECT_TRUE(memory->search_messages("maya", "beagle", 5).empty());
}

TEST_P(MemorySystemTest, ABadMessageStoresNothing) {
  auto batch =
      conversation(make_timestamp(2025, 4, 1), {{"Maya", "fine"}, {"Maya", "bad \xff byte"}});
  EXPECT_THROW(memory->add_messages("maya", batch), ValidationError);
  EXPECT_EQ(memory->storage().raw_data().count("maya"), 9u);
  EXPECT_THROW(memory->add_messages("", batch), ValidationError);
}

TEST_P(MemorySystemTest, MarkAccessedBumpsRecallOfHits) {
  memory->process("maya");
  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "Kestrel Robotics interview";
  request.limit = 1;
  request.mark_accessed = true;
  const auto first = memory->search(request);
  ASSERT_EQ(first.hits.size(), 1u);
  EXPECT_EQ(first.hits[0].episode.recall_count, 1);
  const auto stored = memory->get_episode("maya", first.hits[0].episode.episode_id);
  EXPECT_EQ(stored->recall_count, 1);
  EXPECT_TRUE(stored->last_accessed.has_value());
}

TEST_P(MemorySystemTest, SearchesInARowCountEveryRecall) {
  memory->process("maya");
  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "Kestrel Robotics interview";
  request.limit = 1;
  request.mark_accessed = true;
  memory->search(request);
  const auto second = memory->search(request);
  ASSERT_EQ(second.hits.size(), 1u);
  EXPECT_EQ(second.hits[0].episode.recall_count, 2) << "the index keeps the recall it recorded";
  EXPECT_EQ(memory->get_episode("maya", second.hits[0].episode.episode_id)->recall_count, 2);
}

TEST_P(MemorySystemTest, EvidenceOfAnEpisodeWithoutSourceIdsComesFromItsStoredLinks) {
  // An episode stored with links only (as an import of another builder's data may be): a
  // search of a freshly loaded owner names its raw events, and its messages lead to it.
  Episode episode;
  episode.episode_id = "imported-1";
  episode.owner_id = "maya";
  episode.title = "Pottery class";
  episode.content = "Maya joined a pottery class at the Clay Loft taught by Tomas.";
  episode.temporal_info.timestamp = make_timestamp(2025, 3, 3, 18);
  finalize(episode);
  WriteBatch batch;
  batch.episodes = {episode};
  for (const auto& id : ids[0]) batch.links.push_back({episode.episode_id, id});
  memory->storage().apply(batch);
  memory->retrieval().evict("maya");

  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "Clay Loft pottery";
  request.limit = 1;
  auto response = memory->search(request);
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].episode.episode_id, "imported-1");
  EXPECT_EQ(response.hits[0].raw_event_ids, ids[0]);
  EXPECT_EQ(response.hits[0].words, word_count(response.hits[0].episode));

  request.query = "wedging";  // only in a message, not in the episode
  request.message_evidence = true;
  response = memory->search(request);
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].episode.episode_id, "imported-1");
}

// Adding the same messages twice stores them once.
TEST_P(MemorySystemTest, AddingTheSameMessagesTwiceStoresThemOnce) {
  auto messages =
      conversation(make_timestamp(2025, 3, 3, 18), {{"Maya", "I signed up for a pottery class"},
                                                    {"Nemo", "Pottery is relaxing"},
                                                    {"Maya", "The teacher is strict"}});
  messages[0].external_id = "msg-1";
  const AddResult first = memory->add("lia", messages, {});
  EXPECT_EQ(first.already_stored, 0u);
  const AddResult second = memory->add("lia", messages, {});
  EXPECT_EQ(second.already_stored, 3u);
  EXPECT_EQ(second.message_ids, first.message_ids);
  EXPECT_EQ(memory->storage().raw_data().count("lia"), 3u);
  // Processing does not change what counts as the same message.
  memory->process("lia");
  EXPECT_EQ(memory->add_messages("lia", messages), first.message_ids);
  EXPECT_EQ(memory->storage().raw_data().count("lia"), 3u);
  // Another owner's identical messages are its own; a reused external_id with other content is
  // refused naming the id.
  memory->add_messages("leo", messages);
  EXPECT_EQ(memory->storage().raw_data().count(""), 9u + 6u);
  auto changed = messages;
  changed[0].content = "Something else";
  EXPECT_THROW(memory->add_messages("lia", changed), DuplicateError);
  // Raw events given with their own ids: the same event again is skipped.
  RawEvent event;
  event.data_id = "ev-1";
  event.owner_id = "lia";
  event.content = "a note";
  event.temporal_info.timestamp = make_timestamp(2025, 3, 4);
  EXPECT_EQ(memory->add_raw_events(std::span<const RawEvent>(&event, 1)), 0u);
  EXPECT_EQ(memory->add_raw_events(std::span<const RawEvent>(&event, 1)), 1u);
  EXPECT_EQ(memory->storage().raw_data().count("lia"), 4u);
}

INSTANTIATE_TEST_SUITE_P(Backends, MemorySystemTest,
                         ::testing::Values("memory", "duckdb", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace nemori
