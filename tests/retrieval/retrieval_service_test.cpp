// RetrievalService: per-owner indexes, modes, raw events, eviction, concurrency.
#include "nemori/retrieval/retrieval_service.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "nemori/core/error.h"
#include "nemori/core/message.h"
#include "nemori/retrieval/hashing_test_embedder.h"

namespace nemori {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

Episode episode(const std::string& owner, const std::string& id, const std::string& title,
                const std::string& content, int day = 1,
                EpisodeType type = EpisodeType::kConversational) {
  Episode e;
  e.owner_id = owner;
  e.episode_id = id;
  e.title = title;
  e.content = content;
  e.episode_type = type;
  e.temporal_info.timestamp = make_timestamp(2023, 5, static_cast<unsigned>(day));
  return e;
}

std::vector<std::string> ids_of(const SearchResponse& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hits) out.push_back(h.id);
  return out;
}

SearchOptions bm25(std::size_t k = 10) {
  SearchOptions o;
  o.k = k;
  o.mode = SearchMode::kBm25;
  return o;
}

TEST(RetrievalService, IndexesEpisodesAndFindsThemByText) {
  RetrievalService service;
  service.index_episode(episode("alice", "e1", "Support group",
                                "On 8 May 2023 Caroline went to an LGBTQ support group.", 8));
  service.index_episode(episode("alice", "e2", "Painting", "Melanie painted a lake sunset.", 9));
  const auto r = service.search("alice", "When did Caroline go to the support group?", bm25());
  EXPECT_THAT(ids_of(r), ElementsAre("e1"));
  EXPECT_EQ(r.mode, SearchMode::kBm25);
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_GT(r.hits[0].score, 0);
  EXPECT_EQ(r.hits[0].bm25_score, r.hits[0].score);
  EXPECT_EQ(r.hits[0].bm25_rank, 1u);
  EXPECT_EQ(r.hits[0].vector_rank, std::nullopt);
  EXPECT_EQ(r.hits[0].timestamp, make_timestamp(2023, 5, 8));
  EXPECT_EQ(r.hits[0].word_count, 13u);  // "Support group" + 11 content words
  EXPECT_THAT(r.query_terms, ElementsAre("carolin", "go", "support", "group"));
}

TEST(RetrievalService, OwnersNeverSeeEachOthersEpisodes) {
  RetrievalService service;
  service.index_episode(episode("alice", "a1", "Kayak", "kayak trip"));
  service.index_episode(episode("bob", "b1", "Kayak", "kayak lesson"));
  EXPECT_THAT(ids_of(service.search("alice", "kayak", bm25())), ElementsAre("a1"));
  EXPECT_THAT(ids_of(service.search("bob", "kayak", bm25())), ElementsAre("b1"));
  EXPECT_THAT(service.search("carol", "kayak", bm25()).hits, IsEmpty());
  EXPECT_FALSE(service.is_resident("carol"));  // a search leaves no empty index behind
}

TEST(RetrievalService, ReindexingReplacesAndRemovingForgets) {
  RetrievalService service;
  service.index_episode(episode("o", "e1", "Old", "pottery class"));
  service.index_episode(episode("o", "e1", "New", "climbing gym"));
  EXPECT_THAT(service.search("o", "pottery", bm25()).hits, IsEmpty());
  EXPECT_THAT(ids_of(service.search("o", "climbing", bm25())), ElementsAre("e1"));
  EXPECT_TRUE(service.remove_episode("o", "e1"));
  EXPECT_FALSE(service.remove_episode("o", "e1"));
  EXPECT_THAT(service.search("o", "climbing", bm25()).hits, IsEmpty());
}

TEST(RetrievalService, FiltersOnEpisodeTypeAndTime) {
  RetrievalService service;
  service.index_episode(episode("o", "e1", "Hike", "a hike", 1, EpisodeType::kBehavioral));
  service.index_episode(episode("o", "e2", "Hike", "a hike", 2, EpisodeType::kSocial));
  service.index_episode(episode("o", "e3", "Hike", "a hike", 3, EpisodeType::kSocial));
  SearchOptions o = bm25();
  o.filter.types = {std::string(to_string(EpisodeType::kSocial))};
  EXPECT_THAT(ids_of(service.search("o", "hike", o)), ElementsAre("e2", "e3"));
  o.filter.since = make_timestamp(2023, 5, 3);
  EXPECT_THAT(ids_of(service.search("o", "hike", o)), ElementsAre("e3"));
}

TEST(RetrievalService, HybridSearchCarriesPerMethodScoresAndRanks) {
  RetrievalOptions options;
  options.embedder = std::make_shared<HashingTestEmbedder>(128);
  RetrievalService service(options);
  service.index_episode(episode("o", "e1", "Support group", "Caroline went to a support group"));
  service.index_episode(episode("o", "e2", "Painting", "Melanie painted a sunset by the lake"));
  service.index_episode(episode("o", "e3", "Camping", "The family went camping by the lake"));
  SearchOptions o;
  o.k = 3;
  const auto r = service.search("o", "lake sunset painting", o);
  EXPECT_EQ(r.mode, SearchMode::kHybrid);
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(r.hits[0].id, "e2");
  EXPECT_EQ(r.hits[0].bm25_rank, 1u);
  EXPECT_EQ(r.hits[0].vector_rank, 1u);
  EXPECT_NEAR(r.hits[0].score, 2.0 / 61, 1e-12);
  ASSERT_TRUE(r.hits[0].vector_score);
  EXPECT_GT(*r.hits[0].vector_score, 0.3);

  o.mode = SearchMode::kVector;
  const auto v = service.search("o", "lake sunset painting", o);
  EXPECT_EQ(v.mode, SearchMode::kVector);
  ASSERT_FALSE(v.hits.empty());
  EXPECT_EQ(v.hits[0].id, "e2");
  EXPECT_EQ(v.hits[0].bm25_score, std::nullopt);
  EXPECT_EQ(v.hits[0].score, v.hits[0].vector_score);
}

TEST(RetrievalService, HybridWithoutAnEmbedderRunsAsBm25AndVectorModeIsAConfigError) {
  RetrievalService service;
  service.index_episode(episode("o", "e1", "Kayak", "kayak trip"));
  SearchOptions o;  // hybrid by default
  const auto r = service.search("o", "kayak", o);
  EXPECT_EQ(r.mode, SearchMode::kBm25);
  EXPECT_THAT(ids_of(r), ElementsAre("e1"));
  o.mode = SearchMode::kVector;
  EXPECT_THROW(service.search("o", "kayak", o), ConfigError);
}

TEST(RetrievalService, UsesStoredEmbeddingVectorsAndQueryVectors) {
  RetrievalService service;  // no embedder
  Episode a = episode("o", "a", "A", "alpha");
  a.embedding_vector = std::vector<float>{1, 0, 0};
  Episode b = episode("o", "b", "B", "beta");
  b.embedding_vector = std::vector<float>{0, 1, 0};
  service.index_episodes(std::vector<Episode>{a, b});
  SearchOptions o;
  o.mode = SearchMode::kVector;
  o.query_vector = std::vector<float>{0.1f, 1, 0};
  EXPECT_THAT(ids_of(service.search("o", "", o)), ElementsAre("b", "a"));
  o.query_vector = std::vector<float>{1, 0};
  EXPECT_THROW(service.search("o", "", o), ValidationError);
  // A vector of another dimension is rejected and changes nothing.
  Episode c = episode("o", "c", "C", "gamma");
  c.embedding_vector = std::vector<float>{1, 0};
  EXPECT_THROW(service.index_episode(c), ValidationError);
  EXPECT_THAT(service.search("o", "gamma", bm25()).hits, IsEmpty());
}

TEST(RetrievalService, RawMessagesAreSearchableTheMomentTheyAreIndexed) {
  RetrievalService service;
  Message m;
  m.speaker_id = "caroline";
  m.user_name = "Caroline";
  m.content = "I went to a LGBTQ support group yesterday and it was so powerful.";
  m.timestamp = make_timestamp(2023, 5, 8, 13, 56);
  RawEvent ev = to_raw_event(m, "o");
  service.index_raw_event(ev);
  SearchOptions o = bm25();
  o.corpus = SearchCorpus::kRawEvents;
  const auto r = service.search("o", "support group", o);
  EXPECT_THAT(ids_of(r), ElementsAre(ev.data_id));
  EXPECT_EQ(r.hits[0].timestamp, make_timestamp(2023, 5, 8, 13, 56));
  EXPECT_THAT(ids_of(service.search("o", "Caroline", o)), ElementsAre(ev.data_id));
  // Episodes and raw events are separate corpora.
  EXPECT_THAT(service.search("o", "support group", bm25()).hits, IsEmpty());
  o.mode = SearchMode::kVector;  // no embedder, no query vector
  EXPECT_THROW(service.search("o", "support", o), ConfigError);
  EXPECT_TRUE(service.remove_raw_event("o", ev.data_id));
  o.mode = SearchMode::kBm25;
  EXPECT_THAT(service.search("o", "support group", o).hits, IsEmpty());
}

// An embedder that counts its calls and texts.
class CountingEmbedder final : public EmbeddingClient {
 public:
  explicit CountingEmbedder(std::string model = "hashing-test-32") : model_(std::move(model)) {}
  std::vector<std::vector<float>> embed(std::span<const std::string> texts) override {
    ++calls;
    this->texts += texts.size();
    return inner_.embed(texts);
  }
  std::size_t dimension() const override { return inner_.dimension(); }
  std::string model() const override { return model_; }
  std::atomic<int> calls{0};
  std::atomic<std::size_t> texts{0};

 private:
  HashingTestEmbedder inner_{32};
  std::string model_;
};

TEST(RetrievalService, MessagesWaitingForTheirEpisodeGetVectorsBuiltOnesDoNot) {
  RetrievalOptions options;
  auto embedder = std::make_shared<CountingEmbedder>();
  options.embedder = embedder;
  RetrievalService service(options);
  std::vector<RawEvent> events;
  for (int i = 0; i < 3; ++i) {
    Message m;
    m.speaker_id = "ana";
    m.content = i == 1 ? "the violin lesson went well" : "message number " + std::to_string(i);
    m.timestamp = make_timestamp(2023, 5, 8, 13, i);
    events.push_back(to_raw_event(m, "o"));
  }
  events[2].processed = true;  // its episode's vector carries it
  service.index_raw_events(events);
  EXPECT_EQ(embedder->calls.load(), 1);
  EXPECT_EQ(embedder->texts.load(), 2u);
  SearchOptions o;
  o.corpus = SearchCorpus::kRawEvents;
  o.mode = SearchMode::kVector;
  const auto r = service.search("o", "violin lesson", o);
  EXPECT_EQ(r.mode, SearchMode::kVector);
  ASSERT_EQ(r.hits.size(), 2u);  // the built message has no vector
  EXPECT_EQ(r.hits[0].id, events[1].data_id);
  EXPECT_GT(r.embed_ms, 0.0);
  EXPECT_GE(r.took_ms, r.embed_ms);
  o.mode = SearchMode::kHybrid;
  EXPECT_EQ(service.search("o", "violin lesson", o).hits[0].id, events[1].data_id);
}

TEST(RetrievalService, StoredVectorsOfAnotherModelOrDimensionAreRefusedNamingBoth) {
  RetrievalOptions options;
  auto embedder = std::make_shared<CountingEmbedder>("model-b");
  options.embedder = embedder;
  options.embed_missing = false;
  Episode stored = episode("o", "e1", "Violin", "the violin lesson");
  stored.embedding_vector = std::vector<float>(32, 0.1f);
  stored.embedding_model = "model-a";
  options.loader = [&](const std::string&) {
    OwnerData data;
    data.episodes = {stored};
    return data;
  };
  {
    RetrievalService service(options);
    try {
      service.search("o", "violin", SearchOptions{});
      FAIL() << "a vector of model-a was searched with model-b";
    } catch (const ConfigError& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("\"model-a\" (dimension 32)"), std::string::npos) << message;
      EXPECT_NE(message.find("\"model-b\" (dimension 32)"), std::string::npos) << message;
    }
  }
  stored.embedding_model = "model-b";
  stored.embedding_vector = std::vector<float>(16, 0.1f);
  {
    RetrievalService service(options);
    EXPECT_THROW(service.search("o", "violin", SearchOptions{}), ConfigError);
  }
  // Same model and dimension (or an unknown model of the right dimension): loaded, not embedded.
  stored.embedding_vector = std::vector<float>(32, 0.1f);
  for (const std::string model : {"model-b", ""}) {
    stored.embedding_model = model;
    RetrievalService service(options);
    const int before = embedder->calls.load();
    EXPECT_EQ(service.search("o", "violin", SearchOptions{}).mode, SearchMode::kHybrid);
    EXPECT_EQ(embedder->calls.load(), before + 1);  // the query only
    EXPECT_EQ(service.stats().vectors, 1u);
  }
}

TEST(RetrievalService, RejectsBadRequests) {
  RetrievalService service;
  EXPECT_THROW(service.index_episode(episode("", "e", "t", "c")), ValidationError);
  EXPECT_THROW(service.index_episode(episode("o", "", "t", "c")), ValidationError);
  EXPECT_THROW(service.search("", "x", bm25()), ValidationError);
  EXPECT_THROW(service.search("o", "x", bm25(0)), ValidationError);
  EXPECT_THROW(service.search("o", "x", bm25(10001)), ValidationError);
  RetrievalOptions bad;
  bad.max_owners = 2;  // without a loader
  EXPECT_THROW(RetrievalService{bad}, ConfigError);
}

// A storage stand-in: owner -> episodes, counting loads.
struct FakeStore {
  std::mutex mutex;
  std::map<std::string, std::vector<Episode>> episodes;
  std::map<std::string, int> loads;

  OwnerLoader loader() {
    return [this](const std::string& owner) {
      std::lock_guard lock(mutex);
      ++loads[owner];
      OwnerData data;
      data.episodes = episodes[owner];
      return data;
    };
  }
  void store(const Episode& e) {
    std::lock_guard lock(mutex);
    episodes[e.owner_id].push_back(e);
  }
  void remove(const std::string& owner, const std::string& id) {
    std::lock_guard lock(mutex);
    std::erase_if(episodes[owner], [&](const Episode& e) { return e.episode_id == id; });
  }
};

TEST(RetrievalService, EvictsLeastRecentlyUsedOwnersAndReloadsThemOnDemand) {
  FakeStore store;
  for (const char* owner : {"o1", "o2", "o3"}) {
    store.store(episode(owner, std::string(owner) + "-e", "Trip", std::string("trip of ") + owner));
  }
  RetrievalOptions options;
  options.loader = store.loader();
  options.max_owners = 2;
  RetrievalService service(options);

  EXPECT_THAT(ids_of(service.search("o1", "trip", bm25())), ElementsAre("o1-e"));
  EXPECT_THAT(ids_of(service.search("o2", "trip", bm25())), ElementsAre("o2-e"));
  EXPECT_THAT(ids_of(service.search("o3", "trip", bm25())), ElementsAre("o3-e"));
  EXPECT_FALSE(service.is_resident("o1"));  // least recently used
  EXPECT_TRUE(service.is_resident("o2"));
  EXPECT_TRUE(service.is_resident("o3"));
  auto s = service.stats();
  EXPECT_EQ(s.owners_resident, 2u);
  EXPECT_EQ(s.evictions, 1u);
  EXPECT_EQ(s.loads, 3u);

  // A write to storage, then to the index, of an evicted owner survives the reload.
  Episode extra = episode("o1", "o1-new", "Concert", "concert night");
  store.store(extra);
  service.index_episode(extra);
  EXPECT_THAT(ids_of(service.search("o1", "trip concert", bm25())),
              testing::UnorderedElementsAre("o1-e", "o1-new"));
  EXPECT_EQ(store.loads["o1"], 2);
  EXPECT_FALSE(service.is_resident("o2"));

  EXPECT_TRUE(service.evict("o3"));
  EXPECT_FALSE(service.evict("o3"));
  EXPECT_THAT(ids_of(service.search("o3", "trip", bm25())), ElementsAre("o3-e"));
  EXPECT_EQ(store.loads["o3"], 2);
}

TEST(RetrievalService, EvictsByMemoryBudget) {
  FakeStore store;
  for (int o = 0; o < 6; ++o) {
    for (int i = 0; i < 50; ++i) {
      store.store(episode("owner" + std::to_string(o), "e" + std::to_string(i), "Title",
                          "some words about topic " + std::to_string(i)));
    }
  }
  RetrievalOptions options;
  options.loader = store.loader();
  RetrievalService probe(options);
  probe.search("owner0", "topic", bm25());
  const std::size_t one_owner = probe.stats().memory_bytes;
  ASSERT_GT(one_owner, 0u);

  options.max_bytes = one_owner * 3 + one_owner / 2;
  RetrievalService service(options);
  for (int o = 0; o < 6; ++o) service.search("owner" + std::to_string(o), "topic", bm25());
  const auto s = service.stats();
  EXPECT_LE(s.memory_bytes, options.max_bytes);
  EXPECT_EQ(s.owners_resident, 3u);
  EXPECT_EQ(s.evictions, 3u);
  EXPECT_EQ(service.search("owner0", "topic", bm25(100)).hits.size(), 50u);  // reloaded
}

TEST(RetrievalService, PreloadBuildsOwnersFromTheLoaderInParallel) {
  FakeStore store;
  std::vector<std::string> owners;
  for (int o = 0; o < 8; ++o) {
    owners.push_back("p" + std::to_string(o));
    for (int i = 0; i < 20; ++i) {
      store.store(episode(owners.back(), "e" + std::to_string(i), "T", "word" + std::to_string(i)));
    }
  }
  RetrievalOptions options;
  options.loader = store.loader();
  options.load_threads = 4;
  RetrievalService service(options);
  const PreloadReport report = service.preload(owners);
  EXPECT_EQ(report.owners, 8u);
  EXPECT_EQ(report.episodes, 160u);
  EXPECT_EQ(service.stats().episodes, 160u);
  EXPECT_EQ(service.preload(owners).owners, 0u);  // already resident
  const auto r = service.search("p3", "word7", bm25());
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(r.hits[0].id, "e7");
}

TEST(RetrievalService, LoaderErrorsReachTheCallerAndLeaveTheOwnerUnloaded) {
  RetrievalOptions options;
  options.loader = [](const std::string&) -> OwnerData { throw StorageError("disk on fire"); };
  RetrievalService service(options);
  EXPECT_THROW(service.search("o", "x", bm25()), StorageError);
  EXPECT_FALSE(service.is_resident("o"));
}

TEST(RetrievalService, DropOwnerForgetsEverything) {
  RetrievalService service;
  service.index_episode(episode("o", "e1", "Kayak", "kayak"));
  service.drop_owner("o");
  EXPECT_THAT(service.search("o", "kayak", bm25()).hits, IsEmpty());
  EXPECT_EQ(service.stats().owners_known, 0u);
  service.index_episode(episode("o", "e2", "Kayak", "kayak"));
  EXPECT_THAT(ids_of(service.search("o", "kayak", bm25())), ElementsAre("e2"));
}

TEST(RetrievalService, ConcurrentSearchesDuringWritesSeeConsistentResults) {
  FakeStore store;
  RetrievalOptions options;
  options.embedder = std::make_shared<HashingTestEmbedder>(32);
  options.loader = store.loader();
  options.max_owners = 3;  // evictions and reloads happen during the run
  RetrievalService service(options);
  const int kOwners = 4, kWriters = 2, kReaders = 4, kEpisodes = 150;
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0}, searches{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      // Writes to owners that are not resident are cheap (they load nothing): start once the
      // readers run, so that the two really overlap.
      while (searches.load() == 0) std::this_thread::yield();
      for (int i = 0; i < kEpisodes; ++i) {
        const std::string owner = "o" + std::to_string((i + w) % kOwners);
        Episode e = episode(owner, "w" + std::to_string(w) + "-" + std::to_string(i), "Walk",
                            "walk number " + std::to_string(i) + " in the park");
        store.store(e);
        service.index_episode(e);
        if (i % 10 == 9) {
          store.remove(owner, e.episode_id);
          service.remove_episode(owner, e.episode_id);
        }
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      SearchOptions o;
      o.k = 5;
      o.mode = r % 2 ? SearchMode::kHybrid : SearchMode::kBm25;
      while (!stop.load()) {
        try {
          const auto res = service.search("o" + std::to_string(r % kOwners), "walk park", o);
          for (std::size_t i = 1; i < res.hits.size(); ++i) {
            if (res.hits[i - 1].score < res.hits[i].score) ++errors;
          }
          ++searches;
        } catch (...) {
          ++errors;
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[static_cast<std::size_t>(w)].join();
  stop = true;
  for (std::size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(errors.load(), 0);
  EXPECT_GT(searches.load(), 0);
  // Every owner ends with exactly the episodes written and not removed.
  for (int o = 0; o < kOwners; ++o) {
    const auto r = service.search("o" + std::to_string(o), "walk", bm25(1000));
    std::size_t expected = 0;
    for (int w = 0; w < kWriters; ++w) {
      for (int i = 0; i < kEpisodes; ++i) {
        if ((i + w) % kOwners == o && i % 10 != 9) ++expected;
      }
    }
    EXPECT_EQ(r.hits.size(), expected) << "owner " << o;
  }
}

TEST(RetrievalService, WritesDoNotLoadAnOwnerThatIsNotResident) {
  // A one-shot command stores and indexes, then exits: loading the whole owner just to add
  // the new documents would be thrown away. With a loader, storage already has them.
  FakeStore store;
  store.store(episode("o", "e1", "Trip", "trip to Lisbon"));
  RetrievalOptions options;
  options.loader = store.loader();
  RetrievalService service(options);
  Episode e2 = episode("o", "e2", "Concert", "concert in Porto");
  store.store(e2);
  service.index_episode(e2);
  EXPECT_EQ(store.loads["o"], 0);
  EXPECT_FALSE(service.is_resident("o"));
  EXPECT_THAT(ids_of(service.search("o", "lisbon porto", bm25())),
              testing::UnorderedElementsAre("e1", "e2"));
  EXPECT_EQ(store.loads["o"], 1);
  // Once resident, writes update the index in place (no reload).
  Episode e3 = episode("o", "e3", "Dinner", "dinner in Porto");
  store.store(e3);
  service.index_episode(e3);
  EXPECT_THAT(ids_of(service.search("o", "porto", bm25())),
              testing::UnorderedElementsAre("e2", "e3"));
  EXPECT_EQ(store.loads["o"], 1);
}

}  // namespace
}  // namespace nemori
