// Episodes built as messages arrive: MemorySystem end to end on every backend, background
// workers (size and idle triggers on an injected clock), pieces versus one batch, owners in
// parallel, and shutting down with messages pending.
//
// PostgreSQL cases run when NEMORI_TEST_POSTGRES_URL names a test server (start one with
// scripts/pg-test-server.sh) and are skipped otherwise.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "nemori/memory/memory_system.h"
#include "test_store.h"

namespace nemori {
namespace {

// A conversation of several sittings (hours apart), each on a few subjects, so that the
// segmenter cuts on time gaps, topic shifts and size alike.
std::vector<Message> long_conversation() {
  const std::vector<std::vector<std::pair<std::string, std::string>>> sittings = {
      {{"Maya", "I signed up for a pottery class at the Clay Loft"},
       {"Nemo", "Pottery is a great way to relax after work"},
       {"Maya", "The teacher Tomas is strict about wedging clay"},
       {"Nemo", "Wedging clay removes the air bubbles"},
       {"Maya", "My first bowl cracked in the kiln"},
       {"Nemo", "Did the kiln run too hot?"},
       {"Maya", "Tomas thinks the clay was too wet"},
       {"Maya", "Anyway, we adopted a beagle named Biscuit from the shelter"},
       {"Nemo", "Congratulations on adopting Biscuit"},
       {"Maya", "Biscuit pulls hard on the leash during walks"}},
      {{"Maya", "Job interview at Kestrel Robotics next Thursday"},
       {"Nemo", "Let us prepare the system design round"},
       {"Maya", "They stream sensor data from warehouse robots"},
       {"Nemo", "Think about queues and backpressure for the sensor stream"},
       {"Maya", "What salary should I ask for?"},
       {"Nemo", "Research the market rate for robotics engineers"},
       {"Maya", "My sister Lena is visiting from Lisbon next month"},
       {"Nemo", "Lisbon is lovely in spring, will you show her the city?"},
       {"Maya", "We plan a trip to the coast together"}},
      {{"Maya", "Kestrel Robotics made me an offer today"},
       {"Nemo", "Wonderful news, congratulations on the offer"},
       {"Maya", "I start on the first of June"},
       {"Maya", "Biscuit chewed my running shoes again"},
       {"Nemo", "Puppies chew when they are bored, try chew toys"},
       {"Maya", "The pottery exhibition at the Clay Loft opens Friday"},
       {"Nemo", "Will your glazed vase be shown?"},
       {"Maya", "Yes, Tomas picked my blue vase"},
       {"Nemo", "Blue glaze is hard to get right"},
       {"Maya", "Lena arrives on Saturday morning by train"},
       {"Nemo", "The train from Lisbon is comfortable"}},
  };
  std::vector<Message> out;
  Timestamp start = make_timestamp(2025, 3, 3, 18);
  for (const auto& sitting : sittings) {
    for (std::size_t i = 0; i < sitting.size(); ++i) {
      Message m;
      m.speaker_id = sitting[i].first;
      m.user_name = sitting[i].first;
      m.content = sitting[i].second;
      m.timestamp = start + std::chrono::minutes(i);
      out.push_back(std::move(m));
    }
    start += std::chrono::hours(30);
  }
  return out;
}

// An episode as a set member comparable across owners: its title and the positions (in the
// conversation) of the messages it was built from.
using EpisodeShape = std::pair<std::string, std::vector<std::size_t>>;

std::set<EpisodeShape> shapes(MemorySystem& memory, const std::string& owner,
                              const std::vector<std::string>& message_ids) {
  std::map<std::string, std::size_t> position;
  for (std::size_t i = 0; i < message_ids.size(); ++i) position[message_ids[i]] = i;
  std::set<EpisodeShape> out;
  for (const Episode& e : memory.list_episodes(owner, 1000, 0)) {
    std::vector<std::size_t> at;
    for (const auto& id : memory.storage().episodes().raw_ids_for_episode(e.episode_id))
      at.push_back(position.at(id));
    std::sort(at.begin(), at.end());
    out.insert({e.title, at});
  }
  return out;
}

// Every message is in exactly one episode when nothing is pending; a pending message is in
// none, a built one in one.
void expect_each_message_built_once(MemorySystem& memory, const std::string& owner,
                                    const std::vector<std::string>& message_ids) {
  std::map<std::string, int> episodes_of;
  for (const Episode& e : memory.list_episodes(owner, 1000, 0)) {
    for (const auto& id : memory.storage().episodes().raw_ids_for_episode(e.episode_id))
      ++episodes_of[id];
  }
  for (const auto& id : message_ids) {
    const auto event = memory.storage().raw_data().get(id);
    ASSERT_TRUE(event.has_value()) << id;
    EXPECT_EQ(episodes_of[id], event->processed ? 1 : 0) << "message " << id;
  }
}

// Where a test's data lives: a fresh store of the parameter's backend.
class Backend : public test::TestStore {
 public:
  explicit Backend(const std::string& backend) : TestStore(backend, "background") {}
  std::unique_ptr<MemorySystem> open(const BackgroundBuildOptions& building = {}) const {
    MemoryConfig config;
    config.storage = this->config();
    config.building = building;
    return MemorySystem::open(config);
  }
};

class BackgroundBuildingTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend = std::make_unique<Backend>(GetParam());
    if (backend->unavailable()) GTEST_SKIP() << test::kNoPostgresServer;
  }
  // Workers driven by a manual clock.
  BackgroundBuildOptions manual(std::size_t workers, std::size_t after_messages) {
    BackgroundBuildOptions o;
    o.workers = workers;
    o.after_messages = after_messages;
    o.idle_after = std::chrono::minutes(5);
    o.clock = clock;
    return o;
  }
  // The episodes of the whole conversation added at once, then flushed.
  std::set<EpisodeShape> reference(MemorySystem& memory) {
    const auto ids = memory.add_messages("whole", messages);
    memory.flush("whole");
    return shapes(memory, "whole", ids);
  }

  std::unique_ptr<Backend> backend;
  std::shared_ptr<ManualTimeSource> clock = std::make_shared<ManualTimeSource>();
  const std::vector<Message> messages = long_conversation();
};

TEST_P(BackgroundBuildingTest, AddedMessagesAreSearchableAtOnceThenEpisodesAfterFlushThenGone) {
  auto memory = backend->open();
  const auto ids = memory->add_messages("maya", messages);
  ASSERT_EQ(ids.size(), messages.size());
  const auto raw = memory->search_messages("maya", "beagle Biscuit shelter", 3);
  ASSERT_FALSE(raw.empty()) << "a message is searchable the moment add returns";
  EXPECT_EQ(raw[0].event.data_id, ids[7]);
  EXPECT_TRUE(memory->list_episodes("maya", 10, 0).empty()) << "no workers: nothing built yet";
  EXPECT_EQ(pending_raw_events(memory->storage(), "maya"), messages.size());

  const ProcessResult built = memory->flush("maya");
  EXPECT_EQ(built.raw_events, messages.size());
  EXPECT_GT(built.episodes, 3u);
  EXPECT_EQ(pending_raw_events(memory->storage(), "maya"), 0u);
  expect_each_message_built_once(*memory, "maya", ids);

  MemorySearchRequest request;
  request.owner_id = "maya";
  request.query = "What did Tomas pick for the exhibition?";
  const auto found = memory->search(request);
  ASSERT_FALSE(found.hits.empty());
  EXPECT_NE(found.hits[0].episode.content.find("blue vase"), std::string::npos)
      << found.hits[0].episode.content;

  const OwnerDeletion deleted = memory->delete_owner("maya");
  EXPECT_EQ(deleted.raw_events, messages.size());
  EXPECT_EQ(deleted.episodes, built.episodes);
  EXPECT_EQ(memory->storage().raw_data().count("maya"), 0u);
  EXPECT_EQ(memory->storage().episodes().count("maya"), 0u);
  EXPECT_TRUE(memory->storage().episodes().links("maya").empty());
  EXPECT_TRUE(memory->search(request).hits.empty());
  EXPECT_TRUE(memory->search_messages("maya", "beagle", 5).empty());
  EXPECT_TRUE(memory->storage().list_owners().empty());
}

TEST_P(BackgroundBuildingTest, PiecesOfOneToThreeMessagesGiveTheEpisodesOfOneBatch) {
  auto memory = backend->open(manual(1, 3));
  const auto expected = reference(*memory);
  ASSERT_GT(expected.size(), 5u);

  std::vector<std::string> ids;
  bool built_before_flush = false;
  bool open_before_flush = false;
  for (std::size_t at = 0, piece = 0; at < messages.size(); ++piece) {
    const std::size_t n = std::min<std::size_t>(1 + piece % 3, messages.size() - at);
    const auto added =
        memory->add_messages("pieces", std::span<const Message>(messages.data() + at, n));
    ids.insert(ids.end(), added.begin(), added.end());
    at += n;
    memory->settle();  // the size trigger's builds, done before the next piece
    const std::size_t pending = pending_raw_events(memory->storage(), "pieces");
    built_before_flush = built_before_flush || pending < at;
    open_before_flush = open_before_flush || (pending > 0 && pending < at);
  }
  EXPECT_TRUE(built_before_flush) << "the size trigger built episodes before the flush";
  EXPECT_TRUE(open_before_flush) << "the newest segment was kept open";
  memory->flush("pieces");
  EXPECT_EQ(shapes(*memory, "pieces", ids), expected);
  expect_each_message_built_once(*memory, "pieces", ids);
}

TEST_P(BackgroundBuildingTest, PiecesRacingTheWorkersStillGiveTheEpisodesOfOneBatch) {
  // No settle(): the workers build while the pieces arrive, at whatever moments they get to.
  auto memory = backend->open(manual(2, 2));
  const auto expected = reference(*memory);
  std::vector<std::string> ids;
  for (std::size_t at = 0, piece = 0; at < messages.size(); ++piece) {
    const std::size_t n = std::min<std::size_t>(1 + (piece * 7) % 3, messages.size() - at);
    const auto added =
        memory->add_messages("racing", std::span<const Message>(messages.data() + at, n));
    ids.insert(ids.end(), added.begin(), added.end());
    at += n;
  }
  memory->flush("racing");
  EXPECT_EQ(shapes(*memory, "racing", ids), expected);
  expect_each_message_built_once(*memory, "racing", ids);
}

TEST_P(BackgroundBuildingTest, SizeTriggerBuildsDecidedSegmentsAndKeepsTheNewestOpen) {
  auto memory = backend->open(manual(1, 4));
  // The first sitting's last three messages, then the second sitting's (a time gap between).
  const std::span<const Message> all(messages);
  memory->add_messages("maya", all.subspan(7, 3));
  memory->settle();
  EXPECT_EQ(pending_raw_events(memory->storage(), "maya"), 3u) << "3 messages: below the size";
  memory->add_messages("maya", all.subspan(10, 1));
  memory->settle();
  EXPECT_EQ(memory->storage().episodes().count("maya"), 0u)
      << "a topic cut after the third message is judged on the three after it: undecided";
  memory->add_messages("maya", all.subspan(11, 4));
  memory->settle();
  const auto episodes = memory->list_episodes("maya", 10, 0);
  ASSERT_FALSE(episodes.empty()) << "the sitting that ended in a time gap is built";
  EXPECT_NE(episodes.back().content.find("Biscuit"), std::string::npos);
  const std::size_t pending = pending_raw_events(memory->storage(), "maya");
  EXPECT_GT(pending, 0u) << "the newest segment stays open";
  EXPECT_LT(pending, 5u);
}

TEST_P(BackgroundBuildingTest, IdleTriggerBuildsEverythingOnceTheOwnerIsQuiet) {
  auto memory = backend->open(manual(1, 100));
  const std::span<const Message> all(messages);
  memory->add_messages("maya", all.subspan(0, 3));
  memory->settle();
  EXPECT_EQ(memory->storage().episodes().count("maya"), 0u);
  clock->advance(std::chrono::minutes(4));
  memory->add_messages("maya", all.subspan(3, 2));  // restarts the idle timer
  clock->advance(std::chrono::minutes(4));
  memory->settle();
  EXPECT_EQ(memory->storage().episodes().count("maya"), 0u) << "4 minutes since the last add";
  EXPECT_EQ(pending_raw_events(memory->storage(), "maya"), 5u);
  clock->advance(std::chrono::minutes(1));
  memory->settle();
  EXPECT_GT(memory->storage().episodes().count("maya"), 0u) << "5 minutes quiet: built";
  EXPECT_EQ(pending_raw_events(memory->storage(), "maya"), 0u) << "the newest segment closed";
}

TEST_P(BackgroundBuildingTest, OwnersFedInParallelEachGetTheirOwnEpisodes) {
  auto memory = backend->open(manual(3, 3));
  const auto expected = reference(*memory);
  constexpr int kOwners = 6;
  std::vector<std::vector<std::string>> ids(kOwners);
  std::vector<std::thread> agents;
  for (int o = 0; o < kOwners; ++o) {
    agents.emplace_back([&, o] {
      const std::string owner = "agent-" + std::to_string(o);
      for (std::size_t at = 0; at < messages.size(); at += 1) {
        const auto added =
            memory->add_messages(owner, std::span<const Message>(messages.data() + at, 1));
        ids[o].push_back(added.at(0));
      }
    });
  }
  for (auto& t : agents) t.join();
  memory->flush_all();
  for (int o = 0; o < kOwners; ++o) {
    const std::string owner = "agent-" + std::to_string(o);
    EXPECT_EQ(shapes(*memory, owner, ids[o]), expected) << owner;
    expect_each_message_built_once(*memory, owner, ids[o]);
    for (const Episode& e : memory->list_episodes(owner, 1000, 0)) EXPECT_EQ(e.owner_id, owner);
  }
}

TEST_P(BackgroundBuildingTest, ShutdownLeavesPendingMessagesForTheNextSystem) {
  if (!backend->persistent()) GTEST_SKIP() << "memory:// keeps nothing after its system";
  std::vector<std::string> ids;
  {
    auto memory = backend->open(manual(2, 2));
    for (std::size_t at = 0; at < messages.size(); ++at) {
      const auto added =
          memory->add_messages("maya", std::span<const Message>(messages.data() + at, 1));
      ids.push_back(added.at(0));
    }
    // Destroyed while the workers are busy: a build under way completes, the rest stays.
  }
  {
    auto reopened = backend->open();
    EXPECT_GT(pending_raw_events(reopened->storage(), "maya"), 0u)
        << "the newest segment at least was still open";
    expect_each_message_built_once(*reopened, "maya", ids);
  }
  // A system with workers picks the pending messages up by itself (idle trigger).
  auto memory = backend->open(manual(1, 100));
  memory->settle();
  clock->advance(std::chrono::minutes(5));
  memory->settle();
  EXPECT_EQ(pending_raw_events(memory->storage(), "maya"), 0u);
  expect_each_message_built_once(*memory, "maya", ids);
  const auto built = shapes(*memory, "maya", ids);
  memory->delete_owner("maya");
  EXPECT_EQ(built, reference(*memory));
}

INSTANTIATE_TEST_SUITE_P(Backends, BackgroundBuildingTest,
                         ::testing::Values("memory", "duckdb", "postgresql"),
                         [](const auto& info) { return info.param; });

TEST(HeuristicSegmenterStream, OpenSegmentsResegmentedWithLaterMessagesGiveTheWholeCut) {
  const auto messages = long_conversation();
  const TokenizeFn tokenize = [](std::string_view text) {
    std::vector<std::string> out;
    std::string word;
    for (char c : text) {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!word.empty()) {
        out.push_back(std::move(word));
        word.clear();
      }
    }
    if (!word.empty()) out.push_back(word);
    return out;
  };
  const HeuristicSegmenter segmenter(tokenize);
  std::vector<Segment> whole = segmenter.segment(messages);
  // Feed one message at a time; keep what is final, carry the open segment forward.
  std::vector<Segment> pieces;
  std::size_t open_from = 0;
  for (std::size_t end = 1; end <= messages.size(); ++end) {
    const std::span<const Message> window(messages.data() + open_from, end - open_from);
    const auto cut =
        end == messages.size() ? segmenter.segment(window) : segmenter.segment_stream(window);
    for (std::size_t i = 0; i + (end == messages.size() ? 0 : 1) < cut.size(); ++i)
      pieces.push_back({cut[i].begin + open_from, cut[i].end + open_from, cut[i].boundary});
    if (end < messages.size()) open_from += cut.back().begin;
  }
  EXPECT_EQ(pieces, whole);
}

}  // namespace
}  // namespace nemori
