// The storage conformance suite: every backend must pass every test here unchanged.
#include "conformance_suite.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>

#include "nemori/core/error.h"
#include "nemori/core/time.h"
#include "nemori/storage/dump.h"
#include "nemori/storage/factory.h"

namespace nemori::testing {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using ::testing::UnorderedElementsAreArray;
using Ids = std::vector<std::string>;

void StorageConformanceTest::SetUp() {
  storage = GetParam().open_fresh();
  ASSERT_NE(storage, nullptr);
}

void StorageConformanceTest::TearDown() {
  if (storage) storage->close();
  storage.reset();
}

void StorageConformanceTest::reopen() {
  storage->close();
  storage.reset();
  storage = GetParam().reopen();
  ASSERT_NE(storage, nullptr);
}

namespace {

// ---- building records ----

// 2024-01-<day> <hour>:00:00 UTC.
Timestamp day(unsigned d, unsigned hour = 0) {
  return make_timestamp(2024, 1, d, hour);
}

RawEvent make_raw(const std::string& id, const std::string& owner, Timestamp t,
                  nlohmann::json content = "hello") {
  RawEvent e;
  e.data_id = id;
  e.owner_id = owner;
  e.data_type = DataType::kConversation;
  e.content = std::move(content);
  e.source = "chat";
  e.temporal_info.timestamp = t;
  return e;
}

Episode make_episode(const std::string& id, const std::string& owner, Timestamp t,
                     const std::string& title = "A title", const std::string& content = "Content") {
  Episode e;
  e.episode_id = id;
  e.owner_id = owner;
  e.episode_type = EpisodeType::kConversational;
  e.title = title;
  e.content = content;
  e.summary = "Summary";
  e.temporal_info.timestamp = t;
  e.metadata.processing_timestamp = t;
  return e;
}

// A raw event with every field set to something unusual.
RawEvent full_raw_event() {
  RawEvent e;
  e.data_id = "raw-full";
  e.owner_id = "alice";
  e.data_type = DataType::kDocument;
  e.content = {
      {"speaker_id", "alice"}, {"content", "Hi ☕"}, {"n", 1.5}, {"list", {1, "two", nullptr}}};
  e.source = "mail";
  e.temporal_info.timestamp = from_micros(1683554160123456);  // 2023-05-08T13:56:00.123456Z
  e.temporal_info.duration = 12.25;
  e.temporal_info.timezone = "Europe/Paris";
  e.temporal_info.precision = "minute";
  e.metadata = {{"lang", "fr"}, {"score", 0.1}, {"nested", {{"a", true}}}};
  e.processed = true;
  e.processing_version = "2.1";
  return e;
}

// An episode with every field set to something unusual.
Episode full_episode() {
  Episode e;
  e.episode_id = "ep-full";
  e.owner_id = "alice";
  e.episode_type = EpisodeType::kSocial;
  e.level = EpisodeLevel::kThematic;
  e.title = "Café with Bob";
  e.content = "On May 8, 2023 Alice met Bob.\nThey talked.";
  e.summary = "Alice met Bob ☕";
  e.temporal_info.timestamp = from_micros(-1);  // 1969-12-31T23:59:59.999999Z
  e.temporal_info.duration = 0.1 + 0.2;
  e.temporal_info.timezone = "UTC";
  e.temporal_info.precision = "day";
  auto& m = e.metadata;
  m.source_data_ids = {"raw-full", "raw-2"};
  m.source_types = {DataType::kConversation, DataType::kDocument};
  m.processing_timestamp = from_micros(1700000000654321);
  m.processing_version = "3.0";
  m.entities = {"Alice", "Bob"};
  m.topics = {"coffee"};
  m.emotions = {"joy"};
  m.key_points = {"met at the café"};
  m.time_references = {"May 8, 2023"};
  m.duration_seconds = 3600.5;
  m.confidence_score = 0.123456789012345678;
  m.completeness_score = 0.7;
  m.relevance_score = 1.0 / 3.0;
  m.related_episode_ids = {"ep-other"};
  m.custom_fields = {{"mood", "happy"}, {"weight", 0.3}, {"tags", {"a", "b"}}};
  e.structured_data = {{"participants", {"alice", "bob"}}, {"place", {{"name", "Café"}}}};
  e.search_keywords = {"coffee", "Morning"};
  e.embedding_vector = std::vector<float>{0.1f, -2.5f, 1e-7f, 123456.789f};
  e.embedding_model = "text-embedding-3-small";
  e.recall_count = 42;
  e.importance_score = 0.9;
  e.last_accessed = from_micros(1700000000000001);
  return e;
}

// ---- reading results ----

Ids ids_of(const RawDataSearchResult& r) {
  Ids out;
  for (const auto& e : r.events) out.push_back(e.data_id);
  return out;
}
Ids ids_of(const EpisodeSearchResult& r) {
  Ids out;
  for (const auto& e : r.episodes) out.push_back(e.episode_id);
  return out;
}
Ids ids_of(const std::vector<Episode>& episodes) {
  Ids out;
  for (const auto& e : episodes) out.push_back(e.episode_id);
  return out;
}
Ids ids_of(const std::vector<RawEvent>& events) {
  Ids out;
  for (const auto& e : events) out.push_back(e.data_id);
  return out;
}
Ids sorted(Ids ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Ids of the raw events a query finds, in id order.
Ids find_raw(Storage& s, RawDataQuery q) {
  return sorted(ids_of(s.raw_data().search(q)));
}
// Ids of the episodes a query finds, in id order.
Ids find_episodes(Storage& s, EpisodeQuery q) {
  return sorted(ids_of(s.episodes().search(q)));
}

// The record lines of a store's dump: without the header and the end line, whose created_at
// and checksums differ from one dump to the next.
std::string dump_text(Storage& s) {
  std::ostringstream out;
  write_dump(s, out);
  std::string text = out.str();
  text.erase(0, text.find('\n') + 1);
  text.pop_back();
  text.erase(text.rfind('\n') + 1);
  return text;
}

}  // namespace

// =============================================================================================
// Storage basics
// =============================================================================================

TEST_P(StorageConformanceTest, ReportsItsBackendName) {
  EXPECT_EQ(storage->backend(), GetParam().name);
}

TEST_P(StorageConformanceTest, NewStoreIsEmptyAndHealthy) {
  EXPECT_EQ(storage->raw_data().count(""), 0u);
  EXPECT_EQ(storage->episodes().count(""), 0u);
  EXPECT_THAT(storage->list_owners(), IsEmpty());
  const HealthStatus health = storage->health();
  EXPECT_TRUE(health.healthy) << health.reason;
  EXPECT_TRUE(health.reason.empty());
  EXPECT_GE(health.latency_ms, 0.0);
}

TEST_P(StorageConformanceTest, ClosedStoreIsUnhealthyAndEveryCallThrowsStorageError) {
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  storage->close();
  storage->close();  // idempotent
  const HealthStatus health = storage->health();
  EXPECT_FALSE(health.healthy);
  EXPECT_FALSE(health.reason.empty());
  EXPECT_THROW(storage->raw_data().get("r1"), StorageError);
  EXPECT_THROW(storage->raw_data().store(make_raw("r2", "alice", day(1))), StorageError);
  EXPECT_THROW(storage->raw_data().count(""), StorageError);
  EXPECT_THROW(storage->episodes().search(EpisodeQuery{}), StorageError);
  EXPECT_THROW(storage->episodes().count(""), StorageError);
  EXPECT_THROW(storage->list_owners(), StorageError);
  EXPECT_THROW(storage->stats(), StorageError);
  EXPECT_THROW(storage->delete_owner("alice"), StorageError);
}

// =============================================================================================
// Raw events: store, get, update, remove
// =============================================================================================

TEST_P(StorageConformanceTest, RawEventRoundTripsEveryField) {
  const RawEvent event = full_raw_event();
  storage->raw_data().store(event);
  const auto got = storage->raw_data().get(event.data_id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, event);
  EXPECT_EQ(got->temporal_info.timestamp, from_micros(1683554160123456));
  EXPECT_EQ(got->temporal_info.duration, 12.25);
  EXPECT_EQ(got->metadata["score"].get<double>(), 0.1);
}

TEST_P(StorageConformanceTest, RawEventContentOfEveryJsonKindRoundTrips) {
  const std::vector<nlohmann::json> contents = {
      "plain text", nlohmann::json::array({1, 2.5, "x"}),
      42,           -7.25,
      true,         nlohmann::json::object({{"k", nlohmann::json::array()}})};
  for (std::size_t i = 0; i < contents.size(); ++i) {
    storage->raw_data().store(make_raw("r" + std::to_string(i), "alice", day(1), contents[i]));
  }
  for (std::size_t i = 0; i < contents.size(); ++i) {
    const auto got = storage->raw_data().get("r" + std::to_string(i));
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->content, contents[i]) << i;
    EXPECT_EQ(got->content.type(), contents[i].type()) << i;
  }
}

TEST_P(StorageConformanceTest, ReturnedRawEventIsACopy) {
  storage->raw_data().store(make_raw("r1", "alice", day(1), "original"));
  auto got = storage->raw_data().get("r1");
  got->content = "changed by the caller";
  EXPECT_EQ(storage->raw_data().get("r1")->content, "original");
}

TEST_P(StorageConformanceTest, GetOfMissingRawEventIsNullopt) {
  EXPECT_FALSE(storage->raw_data().get("nope").has_value());
}

TEST_P(StorageConformanceTest, RawGetBatchKeepsInputOrderWithNulloptForMisses) {
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  storage->raw_data().store(make_raw("r2", "alice", day(2)));
  const Ids wanted = {"r2", "missing", "r1", "r2"};
  const auto got = storage->raw_data().get_batch(wanted);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0]->data_id, "r2");
  EXPECT_FALSE(got[1].has_value());
  EXPECT_EQ(got[2]->data_id, "r1");
  EXPECT_EQ(got[3]->data_id, "r2");
  EXPECT_THAT(storage->raw_data().get_batch(Ids{}), IsEmpty());
}

TEST_P(StorageConformanceTest, StoringAnExistingRawIdThrowsDuplicateAndKeepsTheOriginal) {
  storage->raw_data().store(make_raw("r1", "alice", day(1), "first"));
  EXPECT_THROW(storage->raw_data().store(make_raw("r1", "bob", day(2), "second")), DuplicateError);
  EXPECT_EQ(storage->raw_data().get("r1")->content, "first");
  EXPECT_EQ(storage->raw_data().count(""), 1u);
}

TEST_P(StorageConformanceTest, RawBatchIsStoredWholeAndEmptyBatchIsANoOp) {
  std::vector<RawEvent> batch;
  for (int i = 0; i < 10; ++i) batch.push_back(make_raw("r" + std::to_string(i), "alice", day(1)));
  storage->raw_data().store_batch(batch);
  storage->raw_data().store_batch(std::vector<RawEvent>{});
  EXPECT_EQ(storage->raw_data().count(""), 10u);
  EXPECT_EQ(storage->raw_data().get("r7")->data_id, "r7");
}

TEST_P(StorageConformanceTest, RawBatchWithTheSameIdTwiceStoresNothing) {
  std::vector<RawEvent> batch = {make_raw("a", "alice", day(1)), make_raw("b", "alice", day(1)),
                                 make_raw("a", "alice", day(2))};
  EXPECT_THROW(storage->raw_data().store_batch(batch), DuplicateError);
  EXPECT_EQ(storage->raw_data().count(""), 0u);
  EXPECT_FALSE(storage->raw_data().get("b").has_value());
}

TEST_P(StorageConformanceTest, RawBatchWhoseFiftiethItemExistsStoresNothing) {
  storage->raw_data().store(make_raw("taken", "alice", day(1)));
  std::vector<RawEvent> batch;
  for (int i = 0; i < 60; ++i) batch.push_back(make_raw("r" + std::to_string(i), "bob", day(2)));
  batch[49].data_id = "taken";
  EXPECT_THROW(storage->raw_data().store_batch(batch), DuplicateError);
  EXPECT_EQ(storage->raw_data().count(""), 1u);
  EXPECT_EQ(storage->raw_data().count("bob"), 0u);
  EXPECT_EQ(storage->raw_data().get("taken")->owner_id, "alice");
}

TEST_P(StorageConformanceTest, RawBatchWhoseFiftiethItemIsInvalidStoresNothing) {
  std::vector<RawEvent> batch;
  for (int i = 0; i < 60; ++i) batch.push_back(make_raw("r" + std::to_string(i), "bob", day(2)));
  batch[49].content = nullptr;
  EXPECT_THROW(storage->raw_data().store_batch(batch), ValidationError);
  batch[49].content = std::string("nul\0inside", 10);
  EXPECT_THROW(storage->raw_data().store_batch(batch), ValidationError);
  EXPECT_EQ(storage->raw_data().count(""), 0u);
}

TEST_P(StorageConformanceTest, InvalidRawEventsAreRejectedWithValidationError) {
  auto rejects = [&](RawEvent e) {
    EXPECT_THROW(storage->raw_data().store(e), ValidationError) << e.data_id;
  };
  RawEvent e = make_raw("ok", "alice", day(1));
  rejects([&] {
    auto x = e;
    x.data_id = "";
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.owner_id = "";
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.content = nullptr;
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.content = std::string("a\0b", 3);
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.content = "bad \xff utf8";
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.source = std::string("s\0", 2);
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.metadata = nlohmann::json::array();
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.metadata = {{std::string("k\0", 2), 1}};
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.metadata = {{"k", std::string("v\0", 2)}};
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.content = {{"deep", {std::string("x\0", 2)}}};
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.temporal_info.precision = "fortnight";
    return x;
  }());
  EXPECT_EQ(storage->raw_data().count(""), 0u);
}

TEST_P(StorageConformanceTest, RawUpdateReplacesEveryFieldAndMovesTheEventBetweenFilters) {
  storage->raw_data().store(make_raw("r1", "alice", day(1), "old words"));
  RawEvent changed = full_raw_event();
  changed.data_id = "r1";
  changed.owner_id = "bob";
  changed.processed = false;
  changed.content = "new words";
  EXPECT_TRUE(storage->raw_data().update(changed));
  EXPECT_EQ(*storage->raw_data().get("r1"), changed);

  EXPECT_EQ(storage->raw_data().count("alice"), 0u);
  EXPECT_EQ(storage->raw_data().count("bob"), 1u);
  RawDataQuery old_words;
  old_words.content_contains = "old";
  EXPECT_THAT(find_raw(*storage, old_words), IsEmpty());
  RawDataQuery new_words;
  new_words.content_contains = "NEW";
  new_words.owner_ids = {"bob"};
  new_words.data_types = {DataType::kDocument};
  new_words.sources = {"mail"};
  EXPECT_THAT(find_raw(*storage, new_words), ElementsAre("r1"));
  EXPECT_THAT(ids_of(storage->raw_data().get_unprocessed("bob", std::nullopt, std::nullopt)),
              ElementsAre("r1"));
  EXPECT_THAT(storage->list_owners(), ElementsAre("bob"));
}

TEST_P(StorageConformanceTest, RawUpdateOfMissingIdReturnsFalseAndInvalidUpdateChangesNothing) {
  EXPECT_FALSE(storage->raw_data().update(make_raw("ghost", "alice", day(1))));
  EXPECT_FALSE(storage->raw_data().get("ghost").has_value());
  storage->raw_data().store(make_raw("r1", "alice", day(1), "keep"));
  RawEvent bad = make_raw("r1", "alice", day(1), nullptr);
  EXPECT_THROW(storage->raw_data().update(bad), ValidationError);
  EXPECT_EQ(storage->raw_data().get("r1")->content, "keep");
}

TEST_P(StorageConformanceTest, RawRemoveDeletesTheEventAndItsLinks) {
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  storage->raw_data().store(make_raw("r2", "alice", day(2)));
  storage->episodes().store(make_episode("e1", "alice", day(3)));
  storage->episodes().link("e1", Ids{"r1", "r2"});
  EXPECT_TRUE(storage->raw_data().remove("r1"));
  EXPECT_FALSE(storage->raw_data().get("r1").has_value());
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), ElementsAre("r2"));
  EXPECT_THAT(storage->episodes().episodes_for_raw("r1"), IsEmpty());
  EXPECT_EQ(storage->stats().total_links, 1u);
  EXPECT_FALSE(storage->raw_data().remove("r1"));
  EXPECT_FALSE(storage->raw_data().remove("never"));
}

// =============================================================================================
// Raw events: processing state, unprocessed queue, cleanup, count
// =============================================================================================

TEST_P(StorageConformanceTest, MarkProcessedSetsFlagAndVersionAndReportsMissingIds) {
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  EXPECT_TRUE(storage->raw_data().mark_processed("r1", "2.0"));
  const auto got = storage->raw_data().get("r1");
  EXPECT_TRUE(got->processed);
  EXPECT_EQ(got->processing_version, "2.0");
  EXPECT_FALSE(storage->raw_data().mark_processed("missing", "2.0"));
  EXPECT_FALSE(storage->raw_data().get("missing").has_value());
}

TEST_P(StorageConformanceTest, MarkProcessedBatchReturnsOneFlagPerIdInInputOrder) {
  for (const char* id : {"r1", "r2", "r3"})
    storage->raw_data().store(make_raw(id, "alice", day(1)));
  const Ids ids = {"r3", "missing", "r1"};
  EXPECT_THAT(storage->raw_data().mark_processed_batch(ids, "1.5"), ElementsAre(true, false, true));
  EXPECT_TRUE(storage->raw_data().get("r1")->processed);
  EXPECT_FALSE(storage->raw_data().get("r2")->processed);
  EXPECT_TRUE(storage->raw_data().get("r3")->processed);
  EXPECT_EQ(storage->raw_data().get("r3")->processing_version, "1.5");
  EXPECT_THAT(storage->raw_data().mark_processed_batch(Ids{}, "1.5"), IsEmpty());
}

TEST_P(StorageConformanceTest, GetUnprocessedReturnsOldestFirstPerOwnerAndType) {
  auto& raw = storage->raw_data();
  raw.store(make_raw("c", "alice", day(3)));
  raw.store(make_raw("b", "alice", day(1)));
  raw.store(make_raw("a", "alice", day(1)));  // same time as b: id decides
  raw.store(make_raw("done", "alice", day(0 + 1, 1)));
  raw.store(make_raw("bob1", "bob", day(2)));
  RawEvent doc = make_raw("doc", "alice", day(2));
  doc.data_type = DataType::kDocument;
  raw.store(doc);
  raw.mark_processed("done", "1.0");

  EXPECT_THAT(ids_of(raw.get_unprocessed("alice", std::nullopt, std::nullopt)),
              ElementsAre("a", "b", "doc", "c"));
  EXPECT_THAT(ids_of(raw.get_unprocessed("alice", DataType::kConversation, std::nullopt)),
              ElementsAre("a", "b", "c"));
  EXPECT_THAT(ids_of(raw.get_unprocessed("alice", std::nullopt, 2)), ElementsAre("a", "b"));
  EXPECT_THAT(ids_of(raw.get_unprocessed("", std::nullopt, std::nullopt)),
              ElementsAre("a", "b", "bob1", "doc", "c"));
  EXPECT_THAT(ids_of(raw.get_unprocessed("nobody", std::nullopt, std::nullopt)), IsEmpty());
  EXPECT_THAT(ids_of(raw.get_unprocessed("alice", DataType::kSensor, std::nullopt)), IsEmpty());
}

TEST_P(StorageConformanceTest, RawCleanupDeletesStrictlyOlderEventsOfOneOwnerWithTheirLinks) {
  auto& raw = storage->raw_data();
  raw.store(make_raw("old", "alice", day(1)));
  raw.store(make_raw("edge", "alice", day(2)));
  raw.store(make_raw("new", "alice", day(3)));
  raw.store(make_raw("bob-old", "bob", day(1)));
  storage->episodes().store(make_episode("e1", "alice", day(4)));
  storage->episodes().link("e1", Ids{"old", "new"});

  EXPECT_EQ(raw.cleanup_before(day(2), "alice"), 1u);
  EXPECT_FALSE(raw.get("old").has_value());
  EXPECT_TRUE(raw.get("edge").has_value());
  EXPECT_TRUE(raw.get("bob-old").has_value());
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), ElementsAre("new"));

  EXPECT_EQ(raw.cleanup_before(day(2), ""), 1u);
  EXPECT_FALSE(raw.get("bob-old").has_value());
  EXPECT_EQ(raw.cleanup_before(day(2), ""), 0u);
  EXPECT_EQ(raw.count(""), 2u);
}

TEST_P(StorageConformanceTest, RawCountIsPerOwnerOrTotal) {
  storage->raw_data().store(make_raw("a1", "alice", day(1)));
  storage->raw_data().store(make_raw("a2", "alice", day(1)));
  storage->raw_data().store(make_raw("b1", "bob", day(1)));
  EXPECT_EQ(storage->raw_data().count("alice"), 2u);
  EXPECT_EQ(storage->raw_data().count("bob"), 1u);
  EXPECT_EQ(storage->raw_data().count("carol"), 0u);
  EXPECT_EQ(storage->raw_data().count(""), 3u);
}

// =============================================================================================
// Raw events: search
// =============================================================================================

namespace {

// Four events that differ in every filterable field.
void fill_raw_events(Storage& s) {
  RawEvent r1 = make_raw("r1", "alice", day(1), "Hello World");
  r1.metadata = {{"lang", "en"}, {"n", 1}};
  RawEvent r2 =
      make_raw("r2", "alice", day(2), {{"speaker_id", "bob"}, {"content", "Grüße aus München"}});
  r2.data_type = DataType::kDocument;
  r2.source = "mail";
  r2.metadata = {{"lang", "de"}, {"n", 2.0}};
  r2.processed = true;
  RawEvent r3 = make_raw("r3", "bob", day(3), nlohmann::json::array({"x", "HELLO again"}));
  r3.metadata = {{"lang", "en"}, {"n", "1"}};
  RawEvent r4 = make_raw("r4", "bob", day(4), 42.5);
  r4.data_type = DataType::kSensor;
  r4.source = "";
  r4.processed = true;
  s.raw_data().store_batch(std::vector<RawEvent>{r1, r2, r3, r4});
}

}  // namespace

TEST_P(StorageConformanceTest, RawSearchEachFilterAlone) {
  fill_raw_events(*storage);
  auto find = [&](auto set) {
    RawDataQuery q;
    set(q);
    return find_raw(*storage, q);
  };
  EXPECT_THAT(find([](auto&) {}), ElementsAre("r1", "r2", "r3", "r4"));
  EXPECT_THAT(find([](auto& q) { q.data_ids = {"r3", "r1", "zz"}; }), ElementsAre("r1", "r3"));
  EXPECT_THAT(find([](auto& q) { q.owner_ids = {"bob"}; }), ElementsAre("r3", "r4"));
  EXPECT_THAT(find([](auto& q) {
                q.data_types = {DataType::kConversation, DataType::kDocument};
              }),
              ElementsAre("r1", "r2", "r3"));
  EXPECT_THAT(find([](auto& q) { q.sources = {"chat"}; }), ElementsAre("r1", "r3"));
  EXPECT_THAT(find([](auto& q) { q.sources = {""}; }), ElementsAre("r4"));
  EXPECT_THAT(find([](auto& q) { q.sources = {"CHAT"}; }), IsEmpty());  // exact match
  EXPECT_THAT(find([](auto& q) {
                q.time_range = TimeRange{day(2), day(3)};
              }),
              ElementsAre("r2", "r3"));
  EXPECT_THAT(find([](auto& q) {
                q.time_range = TimeRange{day(3), std::nullopt};
              }),
              ElementsAre("r3", "r4"));
  EXPECT_THAT(find([](auto& q) {
                q.time_range = TimeRange{std::nullopt, day(1)};
              }),
              ElementsAre("r1"));
  EXPECT_THAT(find([](auto& q) { q.processed = true; }), ElementsAre("r2", "r4"));
  EXPECT_THAT(find([](auto& q) { q.processed = false; }), ElementsAre("r1", "r3"));
  EXPECT_THAT(find([](auto& q) { q.recent_hours = 24; }), IsEmpty());
}

TEST_P(StorageConformanceTest, RawContentContainsIsCaseInsensitiveOnTheSearchableText) {
  fill_raw_events(*storage);
  auto find = [&](const std::string& needle) {
    RawDataQuery q;
    q.content_contains = needle;
    return find_raw(*storage, q);
  };
  EXPECT_THAT(find("hello"), ElementsAre("r1", "r3"));  // r3: compact JSON of an array
  EXPECT_THAT(find("WORLD"), ElementsAre("r1"));
  EXPECT_THAT(find("GRÜSSE AUS"), ElementsAre("r2"));  // full case folding: ß = ss
  EXPECT_THAT(find("münchen"), ElementsAre("r2"));
  EXPECT_THAT(find("speaker_id"), IsEmpty());  // a message is searched on its "content" only
  EXPECT_THAT(find("[\"x\",\"hello"), ElementsAre("r3"));
  EXPECT_THAT(find("42.5"), ElementsAre("r4"));
  EXPECT_THAT(find("absent"), IsEmpty());
  EXPECT_THAT(find(""), ElementsAre("r1", "r2", "r3", "r4"));
}

TEST_P(StorageConformanceTest, RawMetadataFilterComparesJsonValues) {
  fill_raw_events(*storage);
  auto find = [&](nlohmann::json filter) {
    RawDataQuery q;
    q.metadata = std::move(filter);
    return find_raw(*storage, q);
  };
  EXPECT_THAT(find({{"lang", "en"}}), ElementsAre("r1", "r3"));
  EXPECT_THAT(find({{"lang", "EN"}}), IsEmpty());  // strings are case-sensitive
  EXPECT_THAT(find({{"n", 1}}), ElementsAre("r1"));
  EXPECT_THAT(find({{"n", 1.0}}), ElementsAre("r1"));  // 1 == 1.0
  EXPECT_THAT(find({{"n", 2}}), ElementsAre("r2"));    // stored as 2.0
  EXPECT_THAT(find({{"n", "1"}}), ElementsAre("r3"));  // a string is not a number
  EXPECT_THAT(find({{"lang", "en"}, {"n", 1}}), ElementsAre("r1"));
  EXPECT_THAT(find({{"missing", nullptr}}), IsEmpty());
  EXPECT_THAT(find(nlohmann::json::object()), ElementsAre("r1", "r2", "r3", "r4"));
}

TEST_P(StorageConformanceTest, RawFiltersCombineWithAndAcrossFieldsAndOrWithinLists) {
  fill_raw_events(*storage);
  RawDataQuery q;
  q.owner_ids = {"alice", "bob"};
  q.processed = false;
  q.content_contains = "hello";
  q.data_types = {DataType::kConversation, DataType::kSensor};
  EXPECT_THAT(find_raw(*storage, q), ElementsAre("r1", "r3"));
  q.owner_ids = {"bob"};
  EXPECT_THAT(find_raw(*storage, q), ElementsAre("r3"));
  q.metadata = {{"lang", "de"}};
  EXPECT_THAT(find_raw(*storage, q), IsEmpty());
}

TEST_P(StorageConformanceTest, RawRecentHoursKeepsOnlyRecentEvents) {
  fill_raw_events(*storage);
  storage->raw_data().store(make_raw("fresh", "alice", now_utc() - std::chrono::hours(1)));
  storage->raw_data().store(make_raw("stale", "alice", now_utc() - std::chrono::hours(30)));
  RawDataQuery q;
  q.recent_hours = 24;
  EXPECT_THAT(find_raw(*storage, q), ElementsAre("fresh"));
  q.recent_hours = 48;
  EXPECT_THAT(find_raw(*storage, q), ElementsAre("fresh", "stale"));
}

TEST_P(StorageConformanceTest, RawSortByTimestampBothOrdersBreaksTiesById) {
  storage->raw_data().store(make_raw("b", "alice", day(1)));
  storage->raw_data().store(make_raw("c", "alice", day(2)));
  storage->raw_data().store(make_raw("a", "alice", day(1)));
  RawDataQuery q;
  q.sort_order = SortOrder::kAsc;
  EXPECT_THAT(ids_of(storage->raw_data().search(q)), ElementsAre("a", "b", "c"));
  q.sort_order = SortOrder::kDesc;
  EXPECT_THAT(ids_of(storage->raw_data().search(q)), ElementsAre("c", "b", "a"));
  q.sort_by = SortBy::kRelevance;  // timestamp order for raw events
  EXPECT_THAT(ids_of(storage->raw_data().search(q)), ElementsAre("c", "b", "a"));
  EXPECT_THAT(ids_of(storage->raw_data().search(RawDataQuery{})), ElementsAre("c", "b", "a"));
}

TEST_P(StorageConformanceTest, RawSortByImportanceOrRecallIsRejected) {
  RawDataQuery q;
  q.sort_by = SortBy::kImportance;
  EXPECT_THROW(storage->raw_data().search(q), ValidationError);
  q.sort_by = SortBy::kRecallCount;
  EXPECT_THROW(storage->raw_data().search(q), ValidationError);
}

TEST_P(StorageConformanceTest, InconsistentRawQueriesAreRejected) {
  auto rejects = [&](auto set) {
    RawDataQuery q;
    set(q);
    EXPECT_THROW(storage->raw_data().search(q), ValidationError);
  };
  rejects([](auto& q) { q.metadata = nlohmann::json::array({1}); });
  rejects([](auto& q) { q.recent_hours = -1; });
  rejects([](auto& q) { q.time_range = TimeRange{day(3), day(2)}; });
  rejects([](auto& q) { q.content_contains = "bad \xc3"; });
  rejects([](auto& q) { q.content_contains = std::string("\0", 1); });
}

TEST_P(StorageConformanceTest, RawPaginationWalksEveryRowExactlyOnce) {
  std::vector<RawEvent> events;
  for (int i = 0; i < 23; ++i) {
    // Several events share a timestamp so that the id tie-break matters across pages.
    events.push_back(make_raw("r" + std::to_string(100 + i), i % 3 ? "alice" : "bob",
                              day(1 + static_cast<unsigned>(i / 4))));
  }
  storage->raw_data().store_batch(events);
  for (SortOrder order : {SortOrder::kAsc, SortOrder::kDesc}) {
    RawDataQuery all;
    all.sort_order = order;
    const Ids expected = ids_of(storage->raw_data().search(all));
    ASSERT_EQ(expected.size(), 23u);
    Ids walked;
    RawDataQuery page = all;
    page.limit = 5;
    for (std::size_t offset = 0;; offset += 5) {
      page.offset = offset;
      const auto result = storage->raw_data().search(page);
      EXPECT_EQ(result.total_count, 23u);
      EXPECT_EQ(result.has_more, offset + 5 < 23) << offset;
      for (const auto& id : ids_of(result)) walked.push_back(id);
      if (!result.has_more) break;
    }
    EXPECT_EQ(walked, expected);
    EXPECT_EQ(std::set<std::string>(walked.begin(), walked.end()).size(), 23u);
  }
}

TEST_P(StorageConformanceTest, RawLimitZeroAndOffsetPastTheEndGiveEmptyPagesWithExactTotals) {
  fill_raw_events(*storage);
  RawDataQuery q;
  q.limit = 0;
  auto result = storage->raw_data().search(q);
  EXPECT_THAT(result.events, IsEmpty());
  EXPECT_EQ(result.total_count, 4u);
  EXPECT_TRUE(result.has_more);
  q.limit = 10;
  q.offset = 10;
  result = storage->raw_data().search(q);
  EXPECT_THAT(result.events, IsEmpty());
  EXPECT_EQ(result.total_count, 4u);
  EXPECT_FALSE(result.has_more);
  q.offset = 3;
  result = storage->raw_data().search(q);
  EXPECT_THAT(ids_of(result), ElementsAre("r1"));
  EXPECT_FALSE(result.has_more);
}

// =============================================================================================
// Episodes: store, get, update, remove
// =============================================================================================

TEST_P(StorageConformanceTest, EpisodeRoundTripsEveryField) {
  const Episode episode = full_episode();
  storage->episodes().store(episode);
  const auto got = storage->episodes().get(episode.episode_id);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, episode);
}

TEST_P(StorageConformanceTest, EmbeddingsAreStoredByApplyWithTheirModelAndDumpedBesideIt) {
  WriteBatch batch;
  Episode with = make_episode("ep-vec", "alice", day(1));
  with.embedding_vector = std::vector<float>{0.5f, -0.25f, 0.125f};
  with.embedding_model = "nomic-embed-text";
  batch.episodes = {with, make_episode("ep-none", "alice", day(2))};
  storage->apply(batch);
  EXPECT_EQ(*storage->episodes().get("ep-vec"), with);
  const Episode none = *storage->episodes().get("ep-none");
  EXPECT_FALSE(none.embedding_vector.has_value());
  EXPECT_EQ(none.embedding_model, "");
  // The dump carries the model beside the vector only (an episode without one keeps the
  // original's keys).
  std::ostringstream out;
  write_dump(*storage, out);
  std::istringstream lines(out.str());
  std::size_t with_model = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("\"embedding_model\"") == std::string::npos) continue;
    ++with_model;
    EXPECT_NE(line.find("\"embedding_model\":\"nomic-embed-text\""), std::string::npos) << line;
  }
  EXPECT_EQ(with_model, 1u);
  // Re-embedding replaces vector and model (update).
  with.embedding_vector = std::vector<float>{1.0f, 0.0f};
  with.embedding_model = "text-embedding-3-small";
  EXPECT_TRUE(storage->episodes().update(with));
  EXPECT_EQ(*storage->episodes().get("ep-vec"), with);
  // A model without a vector is refused.
  Episode bad = make_episode("ep-bad", "alice", day(3));
  bad.embedding_model = "m";
  EXPECT_THROW(storage->episodes().store(bad), ValidationError);
}

TEST_P(StorageConformanceTest, DoublesAndFloatsRoundTripExactly) {
  Episode e = full_episode();
  storage->episodes().store(e);
  const Episode got = *storage->episodes().get(e.episode_id);
  EXPECT_EQ(got.importance_score, 0.9);
  EXPECT_EQ(got.temporal_info.duration, 0.1 + 0.2);
  EXPECT_EQ(got.metadata.confidence_score, 0.123456789012345678);
  EXPECT_EQ(got.metadata.relevance_score, 1.0 / 3.0);
  EXPECT_EQ(got.metadata.duration_seconds, 3600.5);
  EXPECT_EQ(got.metadata.custom_fields["weight"].get<double>(), 0.3);
  EXPECT_EQ(*got.embedding_vector, (std::vector<float>{0.1f, -2.5f, 1e-7f, 123456.789f}));
  EXPECT_TRUE(storage->episodes().update_importance(e.episode_id, 0.7));
  EXPECT_EQ(storage->episodes().get(e.episode_id)->importance_score, 0.7);
}

TEST_P(StorageConformanceTest, TimestampsRoundTripWithMicrosecondPrecision) {
  Episode e = make_episode("e1", "alice", from_micros(1683554160123456));
  e.metadata.processing_timestamp = from_micros(-1);
  e.last_accessed = from_micros(1);
  storage->episodes().store(e);
  RawEvent r = make_raw("r1", "alice", from_micros(-86400000000LL * 365 * 30 + 7));
  storage->raw_data().store(r);
  const Episode got = *storage->episodes().get("e1");
  EXPECT_EQ(to_micros(got.temporal_info.timestamp), 1683554160123456);
  EXPECT_EQ(to_micros(got.metadata.processing_timestamp), -1);
  EXPECT_EQ(to_micros(*got.last_accessed), 1);
  EXPECT_EQ(storage->raw_data().get("r1")->temporal_info.timestamp, r.temporal_info.timestamp);
  const Timestamp at = from_micros(1700000000999999);
  storage->episodes().mark_accessed("e1", at);
  EXPECT_EQ(*storage->episodes().get("e1")->last_accessed, at);
  // Time filters see the microseconds too.
  EpisodeQuery q;
  q.time_range = TimeRange{from_micros(1683554160123456), from_micros(1683554160123456)};
  EXPECT_THAT(find_episodes(*storage, q), ElementsAre("e1"));
  q.time_range = TimeRange{from_micros(1683554160123457), std::nullopt};
  EXPECT_THAT(find_episodes(*storage, q), IsEmpty());
}

TEST_P(StorageConformanceTest, EpisodeIsStoredAsGivenWithoutFinalizing) {
  Episode e = make_episode("e1", "alice", day(1), "", "Only content here");
  e.summary = "";
  storage->episodes().store(e);
  const Episode got = *storage->episodes().get("e1");
  EXPECT_EQ(got.title, "");
  EXPECT_EQ(got.summary, "");
  EXPECT_FALSE(got.embedding_vector.has_value());
  EXPECT_FALSE(got.last_accessed.has_value());
}

TEST_P(StorageConformanceTest, EmptyEmbeddingStaysEmptyNotNull) {
  Episode e = make_episode("e1", "alice", day(1));
  e.embedding_vector = std::vector<float>{};
  storage->episodes().store(e);
  const Episode got = *storage->episodes().get("e1");
  ASSERT_TRUE(got.embedding_vector.has_value());
  EXPECT_THAT(*got.embedding_vector, IsEmpty());
}

TEST_P(StorageConformanceTest, GetOfMissingEpisodeIsNulloptAndBatchKeepsOrder) {
  EXPECT_FALSE(storage->episodes().get("nope").has_value());
  storage->episodes().store(make_episode("e1", "alice", day(1)));
  const Ids wanted = {"missing", "e1"};
  const auto got = storage->episodes().get_batch(wanted);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_FALSE(got[0].has_value());
  EXPECT_EQ(got[1]->episode_id, "e1");
}

TEST_P(StorageConformanceTest, StoringAnExistingEpisodeIdThrowsDuplicateAndKeepsTheOriginal) {
  storage->episodes().store(make_episode("e1", "alice", day(1), "first"));
  EXPECT_THROW(storage->episodes().store(make_episode("e1", "bob", day(1), "second")),
               DuplicateError);
  EXPECT_EQ(storage->episodes().get("e1")->title, "first");
  EXPECT_EQ(storage->episodes().count("bob"), 0u);
}

TEST_P(StorageConformanceTest, EpisodeBatchesAreAllOrNothing) {
  storage->episodes().store(make_episode("taken", "alice", day(1)));
  std::vector<Episode> batch;
  for (int i = 0; i < 60; ++i)
    batch.push_back(make_episode("e" + std::to_string(i), "bob", day(2)));
  batch[49].episode_id = "taken";
  EXPECT_THROW(storage->episodes().store_batch(batch), DuplicateError);
  batch[49].episode_id = "e0";  // twice inside the batch
  EXPECT_THROW(storage->episodes().store_batch(batch), DuplicateError);
  batch[49].episode_id = "e49";
  batch[49].importance_score = 1.5;
  EXPECT_THROW(storage->episodes().store_batch(batch), ValidationError);
  EXPECT_EQ(storage->episodes().count(""), 1u);
  batch[49].importance_score = 0.5;
  storage->episodes().store_batch(batch);
  storage->episodes().store_batch(std::vector<Episode>{});
  EXPECT_EQ(storage->episodes().count("bob"), 60u);
}

TEST_P(StorageConformanceTest, InvalidEpisodesAreRejectedWithValidationError) {
  const Episode e = make_episode("ok", "alice", day(1));
  auto rejects = [&](Episode x) { EXPECT_THROW(storage->episodes().store(x), ValidationError); };
  rejects([&] {
    auto x = e;
    x.episode_id = "";
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.owner_id = "";
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.title = "";
    x.content = "";
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.title = std::string("t\0", 2);
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.content = "\xc0\xaf";
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.search_keywords = {std::string("k\0", 2)};
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.metadata.entities = {"ok", std::string("\0", 1)};
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.metadata.custom_fields = {{"k", std::string("v\0", 2)}};
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.structured_data = {{"k", std::string("v\0", 2)}};
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.metadata.custom_fields = nlohmann::json::array();
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.importance_score = 1.5;
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.importance_score = -0.1;
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.recall_count = -1;
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.metadata.confidence_score = std::nan("");
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.embedding_vector = std::vector<float>{1.0f, INFINITY};
    return x;
  }());
  rejects([&] {
    auto x = e;
    x.temporal_info.precision = "week";
    return x;
  }());
  EXPECT_EQ(storage->episodes().count(""), 0u);
}

TEST_P(StorageConformanceTest, EpisodeUpdateReplacesEveryFieldAndRefreshesEveryFilter) {
  Episode e = make_episode("e1", "alice", day(1), "Old title", "old content");
  e.search_keywords = {"oldkey"};
  e.metadata.entities = {"OldEntity"};
  storage->episodes().store(e);
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  storage->episodes().link("e1", Ids{"r1"});

  Episode changed = full_episode();
  changed.episode_id = "e1";
  changed.owner_id = "bob";
  EXPECT_TRUE(storage->episodes().update(changed));
  EXPECT_EQ(*storage->episodes().get("e1"), changed);
  EXPECT_EQ(storage->episodes().count("alice"), 0u);
  EXPECT_EQ(storage->episodes().by_owner("bob", std::nullopt, 0).total_count, 1u);

  EpisodeQuery old_key;
  old_key.keywords = {"oldkey"};
  EXPECT_THAT(find_episodes(*storage, old_key), IsEmpty());
  EpisodeQuery old_text;
  old_text.text_search = "old content";
  EXPECT_THAT(find_episodes(*storage, old_text), IsEmpty());
  EpisodeQuery now;
  now.keywords = {"morning"};
  now.entities = {"bob"};
  now.text_search = "café";
  now.levels = {EpisodeLevel::kThematic};
  now.episode_types = {EpisodeType::kSocial};
  EXPECT_THAT(find_episodes(*storage, now), ElementsAre("e1"));
  // Links survive an update.
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), ElementsAre("r1"));
}

TEST_P(StorageConformanceTest, EpisodeUpdateOfMissingIdReturnsFalse) {
  EXPECT_FALSE(storage->episodes().update(make_episode("ghost", "alice", day(1))));
  EXPECT_FALSE(storage->episodes().get("ghost").has_value());
  storage->episodes().store(make_episode("e1", "alice", day(1), "keep"));
  Episode bad = make_episode("e1", "alice", day(1));
  bad.importance_score = 2.0;
  EXPECT_THROW(storage->episodes().update(bad), ValidationError);
  EXPECT_EQ(storage->episodes().get("e1")->title, "keep");
}

TEST_P(StorageConformanceTest, EpisodeRemoveDeletesItAndItsLinks) {
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  storage->episodes().store(make_episode("e1", "alice", day(1)));
  storage->episodes().store(make_episode("e2", "alice", day(2)));
  storage->episodes().link("e1", Ids{"r1"});
  storage->episodes().link("e2", Ids{"r1"});
  EXPECT_TRUE(storage->episodes().remove("e1"));
  EXPECT_FALSE(storage->episodes().get("e1").has_value());
  EXPECT_THAT(ids_of(storage->episodes().episodes_for_raw("r1")), ElementsAre("e2"));
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), IsEmpty());
  EXPECT_EQ(storage->stats().total_links, 1u);
  EXPECT_FALSE(storage->episodes().remove("e1"));
  EXPECT_TRUE(storage->raw_data().get("r1").has_value());
}

TEST_P(StorageConformanceTest, UpdateImportanceClampsAndReportsMissingIds) {
  storage->episodes().store(make_episode("e1", "alice", day(1)));
  EXPECT_TRUE(storage->episodes().update_importance("e1", 1.7));
  EXPECT_EQ(storage->episodes().get("e1")->importance_score, 1.0);
  EXPECT_TRUE(storage->episodes().update_importance("e1", -0.3));
  EXPECT_EQ(storage->episodes().get("e1")->importance_score, 0.0);
  EXPECT_TRUE(storage->episodes().update_importance("e1", 0.9));
  EXPECT_EQ(storage->episodes().get("e1")->importance_score, 0.9);
  EXPECT_FALSE(storage->episodes().update_importance("missing", 0.5));
  EXPECT_FALSE(storage->episodes().get("missing").has_value());
}

TEST_P(StorageConformanceTest, MarkAccessedIncrementsRecallAndSetsLastAccessed) {
  storage->episodes().store(make_episode("e1", "alice", day(1)));
  const Timestamp at = from_micros(1700000000123456);
  EXPECT_TRUE(storage->episodes().mark_accessed("e1", at));
  EXPECT_TRUE(storage->episodes().mark_accessed("e1", at + std::chrono::seconds(1)));
  const Episode got = *storage->episodes().get("e1");
  EXPECT_EQ(got.recall_count, 2);
  EXPECT_EQ(*got.last_accessed, at + std::chrono::seconds(1));
  EXPECT_FALSE(storage->episodes().mark_accessed("missing", at));
}

TEST_P(StorageConformanceTest, MarkAccessedFromEightThreadsLosesNoIncrement) {
  storage->episodes().store(make_episode("e1", "alice", day(1)));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        if (!storage->episodes().mark_accessed("e1", now_utc())) ++failures;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(storage->episodes().get("e1")->recall_count, 400);
}

// =============================================================================================
// Episodes: search
// =============================================================================================

namespace {

// Four episodes that differ in every filterable field.
void fill_episodes(Storage& s) {
  Episode e1 = make_episode("e1", "alice", day(1), "Café talk", "Alice met Bob at the café.");
  e1.summary = "";
  e1.search_keywords = {"coffee", "Morning"};
  e1.metadata.entities = {"Alice", "Bob"};
  e1.metadata.topics = {"Food"};
  e1.metadata.custom_fields = {{"mood", "happy"}, {"n", 1}};
  e1.importance_score = 0.2;
  e1.recall_count = 0;

  Episode e2 = make_episode("e2", "alice", day(2), "École", "Visit to the ÉCOLE primaire");
  e2.episode_type = EpisodeType::kBehavioral;
  e2.level = EpisodeLevel::kCompound;
  e2.search_keywords = {"school"};
  e2.metadata.entities = {"école"};
  e2.metadata.topics = {"education", "Kids"};
  e2.metadata.custom_fields = {{"mood", "Happy"}, {"n", 1.5}};
  e2.importance_score = 0.5;
  e2.recall_count = 2;

  Episode e3 = make_episode("e3", "bob", day(3), "100% done", "user_1 said: path C:\\temp");
  e3.level = EpisodeLevel::kThematic;
  e3.summary = "Progress report";
  e3.search_keywords = {"progress"};
  e3.metadata.entities = {"Bob"};
  e3.metadata.custom_fields = {{"n", "1"}, {"nested", {{"a", {1, 2}}}}};
  e3.importance_score = 0.9;
  e3.recall_count = 5;

  Episode e4 = make_episode("e4", "bob", day(4), "Party", "A big party with alice");
  e4.episode_type = EpisodeType::kSocial;
  e4.metadata.entities = {"Alice Smith"};
  e4.metadata.topics = {"food"};
  e4.importance_score = 1.0;
  e4.recall_count = 10;

  s.episodes().store_batch(std::vector<Episode>{e1, e2, e3, e4});
}

}  // namespace

TEST_P(StorageConformanceTest, EpisodeSearchEachFilterAlone) {
  fill_episodes(*storage);
  auto find = [&](auto set) {
    EpisodeQuery q;
    set(q);
    return find_episodes(*storage, q);
  };
  EXPECT_THAT(find([](auto&) {}), ElementsAre("e1", "e2", "e3", "e4"));
  EXPECT_THAT(find([](auto& q) { q.episode_ids = {"e4", "e1", "zz"}; }), ElementsAre("e1", "e4"));
  EXPECT_THAT(find([](auto& q) { q.owner_ids = {"bob"}; }), ElementsAre("e3", "e4"));
  EXPECT_THAT(find([](auto& q) {
                q.owner_ids = {"alice", "bob"};
              }),
              ElementsAre("e1", "e2", "e3", "e4"));
  EXPECT_THAT(find([](auto& q) { q.episode_types = {EpisodeType::kConversational}; }),
              ElementsAre("e1", "e3"));
  EXPECT_THAT(find([](auto& q) {
                q.episode_types = {EpisodeType::kConversational, EpisodeType::kSocial};
              }),
              ElementsAre("e1", "e3", "e4"));
  EXPECT_THAT(find([](auto& q) { q.levels = {EpisodeLevel::kAtomic}; }), ElementsAre("e1", "e4"));
  EXPECT_THAT(find([](auto& q) { q.levels = {EpisodeLevel::kArchival}; }), IsEmpty());
  EXPECT_THAT(find([](auto& q) {
                q.time_range = TimeRange{day(2), day(3)};
              }),
              ElementsAre("e2", "e3"));
  EXPECT_THAT(find([](auto& q) { q.min_importance = 0.5; }), ElementsAre("e2", "e3", "e4"));
  EXPECT_THAT(find([](auto& q) { q.max_importance = 0.5; }), ElementsAre("e1", "e2"));
  EXPECT_THAT(find([](auto& q) {
                q.min_importance = 0.5;
                q.max_importance = 0.9;
              }),
              ElementsAre("e2", "e3"));
  EXPECT_THAT(find([](auto& q) { q.min_recall_count = 2; }), ElementsAre("e2", "e3", "e4"));
  EXPECT_THAT(find([](auto& q) { q.max_recall_count = 5; }), ElementsAre("e1", "e2", "e3"));
  EXPECT_THAT(find([](auto& q) {
                q.min_recall_count = 2;
                q.max_recall_count = 5;
              }),
              ElementsAre("e2", "e3"));
  EXPECT_THAT(find([](auto& q) { q.recent_hours = 24; }), IsEmpty());
}

TEST_P(StorageConformanceTest, TextSearchIsACaseInsensitiveSubstringOfTitleContentOrSummary) {
  fill_episodes(*storage);
  auto find = [&](const std::string& needle) {
    EpisodeQuery q;
    q.text_search = needle;
    return find_episodes(*storage, q);
  };
  EXPECT_THAT(find("CAFÉ"), ElementsAre("e1"));
  EXPECT_THAT(find("alice"), ElementsAre("e1", "e4"));
  EXPECT_THAT(find("école"), ElementsAre("e2"));
  EXPECT_THAT(find("report"), ElementsAre("e3"));  // summary
  EXPECT_THAT(find("PARTY"), ElementsAre("e4"));   // title and content
  EXPECT_THAT(find("talk"), ElementsAre("e1"));    // title only
  EXPECT_THAT(find("nothing like this"), IsEmpty());
}

TEST_P(StorageConformanceTest, ListFiltersMatchWholeElementsCaseInsensitively) {
  fill_episodes(*storage);
  auto find = [&](auto set) {
    EpisodeQuery q;
    set(q);
    return find_episodes(*storage, q);
  };
  EXPECT_THAT(find([](auto& q) { q.keywords = {"MORNING"}; }), ElementsAre("e1"));
  EXPECT_THAT(find([](auto& q) { q.keywords = {"morn"}; }), IsEmpty());  // not a substring match
  EXPECT_THAT(find([](auto& q) { q.keywords = {"school", "progress"}; }), ElementsAre("e2", "e3"));
  EXPECT_THAT(find([](auto& q) { q.entities = {"alice"}; }),
              ElementsAre("e1"));  // not "Alice Smith"
  EXPECT_THAT(find([](auto& q) { q.entities = {"ÉCOLE"}; }), ElementsAre("e2"));
  EXPECT_THAT(find([](auto& q) {
                q.entities = {"bob", "alice smith"};
              }),
              ElementsAre("e1", "e3", "e4"));
  EXPECT_THAT(find([](auto& q) { q.topics = {"FOOD"}; }), ElementsAre("e1", "e4"));
  EXPECT_THAT(find([](auto& q) { q.topics = {"kids"}; }), ElementsAre("e2"));
  EXPECT_THAT(find([](auto& q) { q.topics = {"foo"}; }), IsEmpty());
}

TEST_P(StorageConformanceTest, EpisodeMetadataFilterMatchesCustomFieldsByJsonValue) {
  fill_episodes(*storage);
  auto find = [&](nlohmann::json filter) {
    EpisodeQuery q;
    q.metadata = std::move(filter);
    return find_episodes(*storage, q);
  };
  EXPECT_THAT(find({{"mood", "happy"}}), ElementsAre("e1"));  // case-sensitive string
  EXPECT_THAT(find({{"n", 1}}), ElementsAre("e1"));
  EXPECT_THAT(find({{"n", 1.0}}), ElementsAre("e1"));
  EXPECT_THAT(find({{"n", 1.5}}), ElementsAre("e2"));
  EXPECT_THAT(find({{"n", "1"}}), ElementsAre("e3"));
  EXPECT_THAT(find({{"nested", {{"a", {1.0, 2}}}}}), ElementsAre("e3"));
  EXPECT_THAT(find({{"nested", {{"a", {2, 1}}}}}), IsEmpty());
  EXPECT_THAT(find({{"mood", "happy"}, {"n", 1.5}}), IsEmpty());
}

TEST_P(StorageConformanceTest, EpisodeFiltersCombineWithAndAcrossFields) {
  fill_episodes(*storage);
  EpisodeQuery q;
  q.owner_ids = {"alice"};
  q.text_search = "café";
  EXPECT_THAT(find_episodes(*storage, q), ElementsAre("e1"));
  q = EpisodeQuery{};
  q.owner_ids = {"bob"};
  q.topics = {"food"};
  EXPECT_THAT(find_episodes(*storage, q), ElementsAre("e4"));
  q = EpisodeQuery{};
  q.episode_types = {EpisodeType::kConversational};
  q.min_importance = 0.5;
  EXPECT_THAT(find_episodes(*storage, q), ElementsAre("e3"));
  q = EpisodeQuery{};
  q.keywords = {"coffee", "progress"};
  q.entities = {"bob"};
  q.levels = {EpisodeLevel::kThematic, EpisodeLevel::kAtomic};
  q.time_range = TimeRange{day(2), std::nullopt};
  EXPECT_THAT(find_episodes(*storage, q), ElementsAre("e3"));
}

TEST_P(StorageConformanceTest, InconsistentEpisodeQueriesAreRejected) {
  auto rejects = [&](auto set) {
    EpisodeQuery q;
    set(q);
    EXPECT_THROW(storage->episodes().search(q), ValidationError);
  };
  rejects([](auto& q) { q.min_importance = 0.8, q.max_importance = 0.2; });
  rejects([](auto& q) { q.min_importance = -0.1; });
  rejects([](auto& q) { q.max_importance = std::nan(""); });
  rejects([](auto& q) { q.min_recall_count = -1; });
  rejects([](auto& q) { q.min_recall_count = 5, q.max_recall_count = 2; });
  rejects([](auto& q) { q.recent_hours = -3; });
  rejects([](auto& q) { q.metadata = "mood"; });
  rejects([](auto& q) { q.time_range = TimeRange{day(5), day(1)}; });
  rejects([](auto& q) { q.keywords = {"\xff"}; });
  rejects([](auto& q) { q.text_search = std::string("a\0", 2); });
}

namespace {

// Six episodes with ties on every sort key.
void fill_sortable(Storage& s) {
  struct Row {
    const char* id;
    unsigned day;
    double importance;
    std::int64_t recall;
  };
  const Row rows[] = {{"e1", 1, 0.5, 3}, {"e2", 2, 0.9, 0}, {"e3", 2, 0.5, 3},
                      {"e4", 3, 0.1, 7}, {"e5", 1, 0.9, 0}, {"e6", 3, 0.5, 1}};
  for (const Row& row : rows) {
    Episode e = make_episode(row.id, "alice", day(row.day));
    e.importance_score = row.importance;
    e.recall_count = row.recall;
    s.episodes().store(e);
  }
}

}  // namespace

TEST_P(StorageConformanceTest, EpisodeSortByEachKeyBothOrdersBreaksTiesById) {
  fill_sortable(*storage);
  auto order = [&](SortBy by, SortOrder direction) {
    EpisodeQuery q;
    q.sort_by = by;
    q.sort_order = direction;
    return ids_of(storage->episodes().search(q));
  };
  using enum SortBy;
  using enum SortOrder;
  EXPECT_THAT(order(kTimestamp, kAsc), ElementsAre("e1", "e5", "e2", "e3", "e4", "e6"));
  EXPECT_THAT(order(kTimestamp, kDesc), ElementsAre("e6", "e4", "e3", "e2", "e5", "e1"));
  EXPECT_THAT(order(kImportance, kAsc), ElementsAre("e4", "e1", "e3", "e6", "e2", "e5"));
  EXPECT_THAT(order(kImportance, kDesc), ElementsAre("e5", "e2", "e6", "e3", "e1", "e4"));
  EXPECT_THAT(order(kRecallCount, kAsc), ElementsAre("e2", "e5", "e6", "e1", "e3", "e4"));
  EXPECT_THAT(order(kRecallCount, kDesc), ElementsAre("e4", "e3", "e1", "e6", "e5", "e2"));
  // Relevance: importance, then recall_count, then timestamp, then id.
  EXPECT_THAT(order(kRelevance, kDesc), ElementsAre("e2", "e5", "e3", "e1", "e6", "e4"));
  EXPECT_THAT(order(kRelevance, kAsc), ElementsAre("e4", "e6", "e1", "e3", "e5", "e2"));
}

TEST_P(StorageConformanceTest, EpisodePaginationWalksEveryRowExactlyOnceForEverySort) {
  std::vector<Episode> batch;
  for (int i = 0; i < 23; ++i) {
    Episode e = make_episode("e" + std::to_string(100 + i), i % 3 ? "alice" : "bob",
                             day(1 + static_cast<unsigned>(i / 5)));
    e.importance_score = (i % 4) * 0.25;
    e.recall_count = i % 3;
    batch.push_back(e);
  }
  storage->episodes().store_batch(batch);
  for (SortBy by :
       {SortBy::kTimestamp, SortBy::kImportance, SortBy::kRecallCount, SortBy::kRelevance}) {
    for (SortOrder direction : {SortOrder::kAsc, SortOrder::kDesc}) {
      EpisodeQuery all;
      all.sort_by = by;
      all.sort_order = direction;
      const Ids expected = ids_of(storage->episodes().search(all));
      ASSERT_EQ(expected.size(), 23u);
      Ids walked;
      EpisodeQuery page = all;
      page.limit = 4;
      for (std::size_t offset = 0;; offset += 4) {
        page.offset = offset;
        const auto result = storage->episodes().search(page);
        EXPECT_EQ(result.total_count, 23u);
        EXPECT_EQ(result.has_more, offset + 4 < 23);
        for (const auto& id : ids_of(result)) walked.push_back(id);
        if (!result.has_more) break;
      }
      EXPECT_EQ(walked, expected) << to_string(by) << " " << to_string(direction);
    }
  }
}

TEST_P(StorageConformanceTest, ByOwnerIsNewestFirstWithPages) {
  fill_sortable(*storage);
  storage->episodes().store(make_episode("other", "bob", day(9)));
  auto page = storage->episodes().by_owner("alice", 4, 0);
  EXPECT_THAT(ids_of(page), ElementsAre("e6", "e4", "e3", "e2"));
  EXPECT_EQ(page.total_count, 6u);
  EXPECT_TRUE(page.has_more);
  page = storage->episodes().by_owner("alice", 4, 4);
  EXPECT_THAT(ids_of(page), ElementsAre("e5", "e1"));
  EXPECT_FALSE(page.has_more);
  EXPECT_EQ(storage->episodes().by_owner("alice", std::nullopt, 0).episodes.size(), 6u);
  EXPECT_THAT(ids_of(storage->episodes().by_owner("nobody", std::nullopt, 0)), IsEmpty());
  EXPECT_THROW(storage->episodes().by_owner("", std::nullopt, 0), ValidationError);
}

TEST_P(StorageConformanceTest, ByTimeRangeIsInclusiveAndOldestFirst) {
  fill_sortable(*storage);
  storage->episodes().store(make_episode("other", "bob", day(2)));
  const TimeRange range{day(2), day(3)};
  EXPECT_THAT(ids_of(storage->episodes().by_time_range("alice", range, std::nullopt)),
              ElementsAre("e2", "e3", "e4", "e6"));
  const auto limited = storage->episodes().by_time_range("alice", range, 3);
  EXPECT_THAT(ids_of(limited), ElementsAre("e2", "e3", "e4"));
  EXPECT_EQ(limited.total_count, 4u);
  EXPECT_TRUE(limited.has_more);
  EXPECT_THROW(storage->episodes().by_time_range("", range, std::nullopt), ValidationError);
}

TEST_P(StorageConformanceTest, RecentReturnsEpisodesOfTheLastHoursNewestFirst) {
  const Timestamp now = now_utc();
  storage->episodes().store(make_episode("a-1h", "alice", now - std::chrono::hours(1)));
  storage->episodes().store(make_episode("a-2h", "alice", now - std::chrono::hours(2)));
  storage->episodes().store(make_episode("a-30h", "alice", now - std::chrono::hours(30)));
  storage->episodes().store(make_episode("b-3h", "bob", now - std::chrono::hours(3)));
  EXPECT_THAT(ids_of(storage->episodes().recent("alice", 24, std::nullopt)),
              ElementsAre("a-1h", "a-2h"));
  EXPECT_THAT(ids_of(storage->episodes().recent("", 24, std::nullopt)),
              ElementsAre("a-1h", "a-2h", "b-3h"));
  EXPECT_THAT(ids_of(storage->episodes().recent("alice", 48, 2)), ElementsAre("a-1h", "a-2h"));
  EXPECT_THROW(storage->episodes().recent("alice", -1, std::nullopt), ValidationError);
}

TEST_P(StorageConformanceTest, EpisodeLimitZeroAndOffsetPastTheEnd) {
  fill_episodes(*storage);
  EpisodeQuery q;
  q.limit = 0;
  auto result = storage->episodes().search(q);
  EXPECT_THAT(result.episodes, IsEmpty());
  EXPECT_EQ(result.total_count, 4u);
  EXPECT_TRUE(result.has_more);
  q.limit = std::nullopt;
  q.offset = 9;
  result = storage->episodes().search(q);
  EXPECT_THAT(result.episodes, IsEmpty());
  EXPECT_EQ(result.total_count, 4u);
  EXPECT_FALSE(result.has_more);
  EXPECT_THAT(result.scores, IsEmpty());
}

TEST_P(StorageConformanceTest, FullTextRanksOrIsClearlyUnsupported) {
  fill_episodes(*storage);
  EpisodeQuery q;
  q.full_text = "party";
  try {
    const auto result = storage->episodes().search(q);
    ASSERT_NE(GetParam().name, "memory");
    EXPECT_THAT(ids_of(result), ElementsAre("e4"));
    ASSERT_EQ(result.scores.size(), result.episodes.size());
  } catch (const UnsupportedBackendError& e) {
    EXPECT_NE(GetParam().name, "postgresql");
    EXPECT_THAT(e.what(), ::testing::HasSubstr("full_text"));
  }
}

// =============================================================================================
// Links
// =============================================================================================

TEST_P(StorageConformanceTest, LinksAreASetOrderedByRawTimestampThenId) {
  auto& raw = storage->raw_data();
  raw.store(make_raw("r1", "alice", day(2)));
  raw.store(make_raw("r3", "alice", day(1)));
  raw.store(make_raw("r2", "alice", day(1)));
  storage->episodes().store(make_episode("e1", "alice", day(5)));
  storage->episodes().link("e1", Ids{"r1", "r2"});
  storage->episodes().link("e1", Ids{"r2", "r3", "r3"});  // r2 again: still one link
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), ElementsAre("r2", "r3", "r1"));
  EXPECT_EQ(storage->stats().total_links, 3u);
  EXPECT_THAT(
      storage->episodes().links("alice"),
      ElementsAre(EpisodeLink{"e1", "r1"}, EpisodeLink{"e1", "r2"}, EpisodeLink{"e1", "r3"}));
  storage->episodes().link("e1", Ids{});  // nothing to add
  EXPECT_EQ(storage->stats().total_links, 3u);
}

TEST_P(StorageConformanceTest, LinkingToAMissingRecordThrowsNotFoundAndLinksNothing) {
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  storage->raw_data().store(make_raw("r2", "alice", day(1)));
  storage->episodes().store(make_episode("e1", "alice", day(1)));
  try {
    storage->episodes().link("e1", Ids{"r1", "missing-raw", "r2"});
    ADD_FAILURE() << "expected NotFoundError";
  } catch (const NotFoundError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("missing-raw"));
  }
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), IsEmpty());
  try {
    storage->episodes().link("missing-episode", Ids{"r1"});
    ADD_FAILURE() << "expected NotFoundError";
  } catch (const NotFoundError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("missing-episode"));
  }
  EXPECT_THROW(storage->episodes().link("missing-episode", Ids{}), NotFoundError);
  EXPECT_THAT(storage->episodes().episodes_for_raw("r1"), IsEmpty());
  EXPECT_THAT(storage->episodes().links(""), IsEmpty());
}

TEST_P(StorageConformanceTest, EpisodesForRawAreOrderedByTimestampThenId) {
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  storage->episodes().store(make_episode("late", "alice", day(3)));
  storage->episodes().store(make_episode("b-early", "alice", day(1)));
  storage->episodes().store(make_episode("a-early", "alice", day(1)));
  storage->episodes().store(make_episode("unlinked", "alice", day(2)));
  for (const char* id : {"late", "b-early", "a-early"}) storage->episodes().link(id, Ids{"r1"});
  EXPECT_THAT(ids_of(storage->episodes().episodes_for_raw("r1")),
              ElementsAre("a-early", "b-early", "late"));
  EXPECT_THAT(storage->episodes().episodes_for_raw("unknown"), IsEmpty());
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("unknown"), IsEmpty());
}

TEST_P(StorageConformanceTest, LinksListIsPerOwnerOrderedByEpisodeThenRawId) {
  for (const char* id : {"ra", "rb"}) storage->raw_data().store(make_raw(id, "alice", day(1)));
  storage->raw_data().store(make_raw("rx", "bob", day(1)));
  storage->episodes().store(make_episode("e2", "alice", day(1)));
  storage->episodes().store(make_episode("e1", "alice", day(2)));
  storage->episodes().store(make_episode("eb", "bob", day(1)));
  storage->episodes().link("e2", Ids{"rb", "ra"});
  storage->episodes().link("e1", Ids{"rb"});
  storage->episodes().link("eb", Ids{"rx"});
  EXPECT_THAT(
      storage->episodes().links("alice"),
      ElementsAre(EpisodeLink{"e1", "rb"}, EpisodeLink{"e2", "ra"}, EpisodeLink{"e2", "rb"}));
  EXPECT_THAT(storage->episodes().links("bob"), ElementsAre(EpisodeLink{"eb", "rx"}));
  EXPECT_EQ(storage->episodes().links("").size(), 4u);
  EXPECT_THAT(storage->episodes().links("nobody"), IsEmpty());
}

TEST_P(StorageConformanceTest, EpisodeCleanupDeletesStrictlyOlderEpisodesWithTheirLinks) {
  storage->raw_data().store(make_raw("r1", "alice", day(1)));
  storage->episodes().store(make_episode("old", "alice", day(1)));
  storage->episodes().store(make_episode("edge", "alice", day(2)));
  storage->episodes().store(make_episode("bob-old", "bob", day(1)));
  storage->episodes().link("old", Ids{"r1"});
  EXPECT_EQ(storage->episodes().cleanup_before(day(2), "alice"), 1u);
  EXPECT_FALSE(storage->episodes().get("old").has_value());
  EXPECT_TRUE(storage->episodes().get("edge").has_value());
  EXPECT_TRUE(storage->episodes().get("bob-old").has_value());
  EXPECT_THAT(storage->episodes().episodes_for_raw("r1"), IsEmpty());
  EXPECT_EQ(storage->stats().total_links, 0u);
  EXPECT_EQ(storage->episodes().cleanup_before(day(2), ""), 1u);
  EXPECT_EQ(storage->episodes().count(""), 1u);
  EXPECT_TRUE(storage->raw_data().get("r1").has_value());
}

TEST_P(StorageConformanceTest, EpisodeCountIsPerOwnerOrTotal) {
  fill_episodes(*storage);
  EXPECT_EQ(storage->episodes().count("alice"), 2u);
  EXPECT_EQ(storage->episodes().count("bob"), 2u);
  EXPECT_EQ(storage->episodes().count("carol"), 0u);
  EXPECT_EQ(storage->episodes().count(""), 4u);
}

// =============================================================================================
// Owners
// =============================================================================================

namespace {

// Two owners with the same kinds of records and the same words.
void fill_two_owners(Storage& s) {
  for (const std::string owner : {"alice", "bob"}) {
    s.raw_data().store(make_raw(owner + "-r1", owner, day(1), "shared words"));
    s.raw_data().store(make_raw(owner + "-r2", owner, day(2), "shared words"));
    Episode e = make_episode(owner + "-e1", owner, day(3), "Shared title", "shared words");
    e.search_keywords = {"shared"};
    s.episodes().store(e);
    s.episodes().store(make_episode(owner + "-e2", owner, now_utc() - std::chrono::hours(1)));
    s.episodes().link(owner + "-e1", Ids{owner + "-r1", owner + "-r2"});
  }
}

}  // namespace

TEST_P(StorageConformanceTest, OwnerFilteredReadsNeverShowAnotherOwnersRows) {
  fill_two_owners(*storage);
  RawDataQuery raw_query;
  raw_query.owner_ids = {"alice"};
  raw_query.content_contains = "shared";
  EXPECT_THAT(find_raw(*storage, raw_query), ElementsAre("alice-r1", "alice-r2"));
  EpisodeQuery episode_query;
  episode_query.owner_ids = {"alice"};
  episode_query.keywords = {"shared"};
  episode_query.text_search = "shared";
  EXPECT_THAT(find_episodes(*storage, episode_query), ElementsAre("alice-e1"));
  EXPECT_THAT(sorted(ids_of(storage->episodes().by_owner("alice", std::nullopt, 0))),
              ElementsAre("alice-e1", "alice-e2"));
  EXPECT_THAT(ids_of(storage->episodes().recent("alice", 24, std::nullopt)),
              ElementsAre("alice-e2"));
  EXPECT_THAT(ids_of(storage->episodes().by_time_range("alice", TimeRange{}, std::nullopt)),
              ElementsAre("alice-e1", "alice-e2"));
  EXPECT_THAT(ids_of(storage->raw_data().get_unprocessed("alice", std::nullopt, std::nullopt)),
              ElementsAre("alice-r1", "alice-r2"));
  EXPECT_THAT(storage->episodes().links("alice"), ElementsAre(EpisodeLink{"alice-e1", "alice-r1"},
                                                              EpisodeLink{"alice-e1", "alice-r2"}));
  EXPECT_EQ(storage->raw_data().count("alice"), 2u);
  EXPECT_EQ(storage->episodes().count("alice"), 2u);
  EXPECT_EQ(storage->raw_data().cleanup_before(day(9), "alice"), 2u);
  EXPECT_EQ(storage->raw_data().count("bob"), 2u);
}

TEST_P(StorageConformanceTest, DeleteOwnerRemovesEverythingOfThatOwnerOnly) {
  fill_two_owners(*storage);
  const OwnerDeletion deleted = storage->delete_owner("alice");
  EXPECT_EQ(deleted.raw_events, 2u);
  EXPECT_EQ(deleted.episodes, 2u);
  EXPECT_EQ(deleted.links, 2u);
  EXPECT_EQ(storage->raw_data().count("alice"), 0u);
  EXPECT_EQ(storage->episodes().count("alice"), 0u);
  EXPECT_THAT(storage->episodes().links("alice"), IsEmpty());
  EXPECT_FALSE(storage->raw_data().get("alice-r1").has_value());
  EXPECT_THAT(storage->list_owners(), ElementsAre("bob"));
  EXPECT_EQ(storage->raw_data().count("bob"), 2u);
  EXPECT_EQ(storage->episodes().count("bob"), 2u);
  EXPECT_EQ(storage->episodes().links("bob").size(), 2u);
  EXPECT_EQ(storage->stats().total_links, 2u);

  const OwnerDeletion again = storage->delete_owner("alice");
  EXPECT_EQ(again.raw_events + again.episodes + again.links, 0u);
  EXPECT_THROW(storage->delete_owner(""), ValidationError);
  EXPECT_EQ(storage->raw_data().count(""), 2u);
}

TEST_P(StorageConformanceTest, ListOwnersIsSortedAndIncludesOwnersWithOnlyOneKindOfRecord) {
  storage->raw_data().store(make_raw("r1", "zoe", day(1)));
  storage->episodes().store(make_episode("e1", "adam", day(1)));
  storage->raw_data().store(make_raw("r2", "Mia", day(1)));
  storage->episodes().store(make_episode("e2", "zoe", day(1)));
  EXPECT_THAT(storage->list_owners(), ElementsAre("Mia", "adam", "zoe"));  // byte order
  storage->raw_data().remove("r2");
  EXPECT_THAT(storage->list_owners(), ElementsAre("adam", "zoe"));
}

// =============================================================================================
// Statistics
// =============================================================================================

TEST_P(StorageConformanceTest, StatsAreComputedFromTheData) {
  auto& raw = storage->raw_data();
  raw.store(make_raw("r1", "alice", day(2)));
  raw.store(make_raw("r2", "alice", day(5)));
  RawEvent doc = make_raw("r3", "bob", day(3));
  doc.data_type = DataType::kDocument;
  raw.store(doc);
  raw.mark_processed("r2", "1.0");
  storage->episodes().store(make_episode("e1", "alice", day(1)));
  Episode e2 = make_episode("e2", "carol", day(4));
  e2.episode_type = EpisodeType::kSocial;
  e2.level = EpisodeLevel::kCompound;
  storage->episodes().store(e2);
  storage->episodes().link("e1", Ids{"r1", "r2"});

  const StorageStats stats = storage->stats();
  EXPECT_EQ(stats.backend, GetParam().name);
  EXPECT_EQ(stats.owners, 3u);
  EXPECT_EQ(stats.total_raw_data, 3u);
  EXPECT_EQ(stats.processed_raw_data, 1u);
  EXPECT_THAT(stats.raw_data_by_type,
              UnorderedElementsAre(std::pair<const std::string, std::size_t>{"conversation", 2},
                                   std::pair<const std::string, std::size_t>{"document", 1}));
  EXPECT_EQ(stats.total_episodes, 2u);
  EXPECT_THAT(stats.episodes_by_type,
              UnorderedElementsAre(std::pair<const std::string, std::size_t>{"conversational", 1},
                                   std::pair<const std::string, std::size_t>{"social", 1}));
  EXPECT_THAT(stats.episodes_by_level,
              UnorderedElementsAre(std::pair<const int, std::size_t>{1, 1},
                                   std::pair<const int, std::size_t>{2, 1}));
  EXPECT_EQ(stats.total_links, 2u);
  EXPECT_GT(stats.storage_size_bytes, 0u);
  EXPECT_EQ(stats.oldest_data, day(1));
  EXPECT_EQ(stats.newest_data, day(5));
  EXPECT_TRUE(stats.details.is_object());

  storage->delete_owner("alice");
  storage->delete_owner("bob");
  storage->delete_owner("carol");
  const StorageStats empty = storage->stats();
  EXPECT_EQ(empty.owners, 0u);
  EXPECT_EQ(empty.total_raw_data + empty.total_episodes + empty.total_links, 0u);
  EXPECT_THAT(empty.raw_data_by_type, IsEmpty());
  EXPECT_THAT(empty.episodes_by_level, IsEmpty());
  EXPECT_FALSE(empty.oldest_data.has_value());
  EXPECT_FALSE(empty.newest_data.has_value());
}

// =============================================================================================
// Hostile input
// =============================================================================================

namespace {

const std::vector<std::string>& hostile_strings() {
  static const std::vector<std::string> strings = {"it's \"quoted\"",
                                                   "100%",
                                                   "user_1",
                                                   "back\\slash",
                                                   "'; DROP TABLE raw_data; --",
                                                   "emoji 😀👍🏽 ok",
                                                   "tab\tnew\nline",
                                                   "$1 ? :name {{x}}"};
  return strings;
}

}  // namespace

TEST_P(StorageConformanceTest, HostileStringsAreStoredAndFoundVerbatim) {
  const auto& strings = hostile_strings();
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const std::string& s = strings[i];
    std::string id = "id " + std::to_string(i) + " " + s.substr(0, 6);
    std::erase_if(id, [](char c) { return c == '\t' || c == '\n'; });  // ids hold no controls
    RawEvent r = make_raw("raw " + id, "owner'; --" + std::to_string(i), day(1), s);
    r.source = s;
    r.metadata = {{"k", s}, {s, "v"}};
    storage->raw_data().store(r);
    Episode e = make_episode("ep " + id, r.owner_id, day(1), s, s);
    e.search_keywords = {s};
    e.metadata.entities = {s};
    e.metadata.custom_fields = {{"k", s}};
    storage->episodes().store(e);
    EXPECT_EQ(*storage->raw_data().get(r.data_id), r);
    EXPECT_EQ(*storage->episodes().get(e.episode_id), e);
  }
  storage->raw_data().store(make_raw("decoy", "x", day(1), "userX1 100 backslash"));
  for (std::size_t i = 0; i < strings.size(); ++i) {
    const std::string& s = strings[i];
    const std::string owner = "owner'; --" + std::to_string(i);
    RawDataQuery by_content;
    by_content.content_contains = s;
    const auto raw_hits = storage->raw_data().search(by_content);
    ASSERT_EQ(raw_hits.total_count, 1u) << s;
    EXPECT_EQ(raw_hits.events[0].owner_id, owner);
    RawDataQuery by_source;
    by_source.sources = {s};
    by_source.metadata = {{"k", s}};
    by_source.owner_ids = {owner};
    EXPECT_EQ(storage->raw_data().search(by_source).total_count, 1u) << s;
    EpisodeQuery episode_query;
    episode_query.text_search = s;
    episode_query.keywords = {s};
    episode_query.entities = {s};
    episode_query.metadata = {{"k", s}};
    EXPECT_EQ(storage->episodes().search(episode_query).total_count, 1u) << s;
  }
  EXPECT_EQ(storage->list_owners().size(), strings.size() + 1);
}

TEST_P(StorageConformanceTest, LikeWildcardsAndBackslashesAreLiteralCharacters) {
  for (const char* text : {"100%", "user_1", "userX1", "a\\b", "ab", "100 percent"}) {
    storage->raw_data().store(make_raw(text, "alice", day(1), text));
    storage->episodes().store(make_episode(text, "alice", day(1), "t", text));
  }
  auto raw_find = [&](const std::string& needle) {
    RawDataQuery q;
    q.content_contains = needle;
    return find_raw(*storage, q);
  };
  auto episode_find = [&](const std::string& needle) {
    EpisodeQuery q;
    q.text_search = needle;
    return find_episodes(*storage, q);
  };
  for (auto find : {std::function<Ids(const std::string&)>(raw_find),
                    std::function<Ids(const std::string&)>(episode_find)}) {
    EXPECT_THAT(find("%"), ElementsAre("100%"));
    EXPECT_THAT(find("100%"), ElementsAre("100%"));
    EXPECT_THAT(find("_"), ElementsAre("user_1"));
    EXPECT_THAT(find("user_1"), ElementsAre("user_1"));
    EXPECT_THAT(find("\\"), ElementsAre("a\\b"));
    EXPECT_THAT(find("a\\b"), ElementsAre("a\\b"));
    EXPECT_THAT(find("%1"), IsEmpty());
  }
}

TEST_P(StorageConformanceTest, HundredKilobyteContentRoundTripsAndIsSearchable) {
  std::string big(100 * 1024, 'x');
  big.replace(70000, 12, "NEEDLE-HERE!");
  storage->raw_data().store(make_raw("big", "alice", day(1), big));
  storage->episodes().store(make_episode("big", "alice", day(1), "Big", big));
  EXPECT_EQ(storage->raw_data().get("big")->content.get<std::string>(), big);
  EXPECT_EQ(storage->episodes().get("big")->content, big);
  RawDataQuery q;
  q.content_contains = "needle-here";
  EXPECT_THAT(find_raw(*storage, q), ElementsAre("big"));
  EpisodeQuery eq;
  eq.text_search = "NEEDLE-HERE!";
  EXPECT_THAT(find_episodes(*storage, eq), ElementsAre("big"));
}

// =============================================================================================
// Concurrency
// =============================================================================================

TEST_P(StorageConformanceTest, ConcurrentWritersAndReadersLoseNoRows) {
  constexpr int kWriters = 4;
  constexpr int kPerWriter = 40;
  std::atomic<bool> writing{true};
  std::atomic<int> reader_errors{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::size_t last = 0;
      while (writing.load()) {
        const std::size_t now = storage->raw_data().count("");
        if (now < last) ++reader_errors;  // rows never disappear
        last = now;
        RawDataQuery q;
        q.content_contains = "writer";
        q.limit = 5;
        const auto page = storage->raw_data().search(q);
        if (page.events.size() > 5 || page.total_count < page.events.size()) ++reader_errors;
        storage->episodes().search(EpisodeQuery{});
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      const std::string owner = "writer" + std::to_string(w);
      std::vector<RawEvent> batch;
      for (int i = 0; i < kPerWriter; ++i) {
        RawEvent e = make_raw(owner + "-" + std::to_string(i), owner, day(1), "writer text");
        if (i % 2 == 0) {
          storage->raw_data().store(e);
        } else {
          batch.push_back(e);
        }
        if (batch.size() == 5) {
          storage->raw_data().store_batch(batch);
          batch.clear();
        }
        if (i % 10 == 0) {
          storage->episodes().store(make_episode(owner + "-e" + std::to_string(i), owner, day(2)));
        }
      }
      storage->raw_data().store_batch(batch);
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  for (auto& t : readers) t.join();
  EXPECT_EQ(reader_errors.load(), 0);
  EXPECT_EQ(storage->raw_data().count(""), static_cast<std::size_t>(kWriters * kPerWriter));
  EXPECT_EQ(storage->episodes().count(""), static_cast<std::size_t>(kWriters * 4));
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_EQ(storage->raw_data().count("writer" + std::to_string(w)),
              static_cast<std::size_t>(kPerWriter));
  }
}

// =============================================================================================
// Persistence and dumps
// =============================================================================================

namespace {

// A small store touching every kind of record and state.
void fill_everything(Storage& s) {
  s.raw_data().store(full_raw_event());
  RawEvent plain = make_raw("raw-2", "alice", day(2), "second ☕");
  s.raw_data().store(plain);
  s.raw_data().store(make_raw("raw-bob", "bob", day(3), {{"content", "bob's message"}}));
  s.episodes().store(full_episode());
  Episode bare = make_episode("ep-bare", "bob", day(4), "", "Only content");
  bare.summary = "";
  s.episodes().store(bare);
  s.episodes().link("ep-full", Ids{"raw-full", "raw-2"});
  s.episodes().link("ep-bare", Ids{"raw-bob"});
  s.raw_data().mark_processed("raw-2", "1.1");
  s.episodes().mark_accessed("ep-bare", from_micros(1700000000000007));
}

}  // namespace

TEST_P(StorageConformanceTest, EverythingSurvivesAReopen) {
  if (!GetParam().reopen) GTEST_SKIP() << GetParam().name << " keeps nothing after close";
  fill_everything(*storage);
  const std::string before = dump_text(*storage);
  reopen();
  EXPECT_EQ(dump_text(*storage), before);
  EXPECT_EQ(*storage->episodes().get("ep-full"), full_episode());
  EXPECT_EQ(*storage->raw_data().get("raw-full"), full_raw_event());
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("ep-full"), ElementsAre("raw-full", "raw-2"));
  EXPECT_TRUE(storage->raw_data().get("raw-2")->processed);
  EXPECT_EQ(storage->episodes().get("ep-bare")->recall_count, 1);
}

TEST_P(StorageConformanceTest, DumpRestoredIntoAFreshStoreDumpsIdentically) {
  fill_everything(*storage);
  const std::string text = dump_text(*storage);
  std::unique_ptr<Storage> copy = GetParam().open_fresh();
  std::ostringstream full;
  write_dump(*storage, full);
  std::istringstream in(full.str());
  const DumpCounts counts = restore_dump(*copy, in, false);
  EXPECT_EQ(counts, (DumpCounts{3, 2, 3}));
  EXPECT_EQ(dump_text(*copy), text);
  EXPECT_EQ(*copy->episodes().get("ep-full"), full_episode());
  EXPECT_EQ(copy->episodes().get("ep-bare")->summary, "");
  copy->close();
}

// =============================================================================================
// Units of work (Storage::apply) and owners on links
// =============================================================================================

namespace {

// Ids r1, r2 and e1 of alice, e1 linked to r1; bob's rb and eb, linked.
void fill_for_apply(Storage& s) {
  s.raw_data().store(make_raw("r1", "alice", day(1)));
  s.raw_data().store(make_raw("r2", "alice", day(2)));
  s.episodes().store(make_episode("e1", "alice", day(3)));
  s.episodes().link("e1", Ids{"r1"});
  s.raw_data().store(make_raw("rb", "bob", day(1)));
  s.episodes().store(make_episode("eb", "bob", day(2)));
  s.episodes().link("eb", Ids{"rb"});
}

// The message of the error `apply` throws as E, or "" (with a failure) when it does not.
template <typename E>
std::string apply_error(Storage& s, const WriteBatch& batch) {
  try {
    s.apply(batch);
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

}  // namespace

TEST_P(StorageConformanceTest, LinkAcrossOwnersIsRefusedNamingBothOwnersAndIds) {
  fill_for_apply(*storage);
  try {
    storage->episodes().link("e1", Ids{"r2", "rb"});
    ADD_FAILURE() << "expected ValidationError";
  } catch (const ValidationError& e) {
    for (const char* part : {"\"e1\"", "\"alice\"", "\"rb\"", "\"bob\""}) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(part));
    }
  }
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), ElementsAre("r1"));
  EXPECT_THAT(storage->episodes().episodes_for_raw("rb"),
              ElementsAre(::testing::Field(&Episode::episode_id, "eb")));
}

TEST_P(StorageConformanceTest, ApplyWritesEveryStepInOneUnit) {
  fill_for_apply(*storage);
  WriteBatch batch;
  batch.raw_events = {make_raw("n1", "carol", day(4)), make_raw("n2", "carol", day(5))};
  batch.episodes = {make_episode("ne", "carol", day(6))};
  batch.links = {{"ne", "n1"}, {"ne", "n2"}, {"ne", "n1"}, {"e1", "r2"}, {"e1", "r1"}};
  batch.processed_ids = {"n1", "r2"};
  batch.processed_version = "7.1";
  const WriteBatchResult result = storage->apply(batch);
  EXPECT_EQ(result.raw_events_stored, 2u);
  EXPECT_EQ(result.episodes_stored, 1u);
  EXPECT_EQ(result.links_added, 3u);  // e1 -> r1 existed, ne -> n1 came twice
  EXPECT_THAT(result.raw_already_stored, IsEmpty());
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("ne"), ElementsAre("n1", "n2"));
  EXPECT_THAT(storage->episodes().raw_ids_for_episode("e1"), ElementsAre("r1", "r2"));
  EXPECT_TRUE(storage->raw_data().get("n1")->processed);
  EXPECT_EQ(storage->raw_data().get("r2")->processing_version, "7.1");
  EXPECT_FALSE(storage->raw_data().get("n2")->processed);
  EXPECT_EQ(storage->stats().total_links, 5u);
  EXPECT_EQ(storage->apply(WriteBatch{}).raw_events_stored, 0u);  // empty: a no-op
}

TEST_P(StorageConformanceTest, ApplyWithAFailureInTheLastItemWritesNothing) {
  fill_for_apply(*storage);
  const std::string before = dump_text(*storage);
  // Every step has work to do, and the last item of one step is bad.
  auto batch = [] {
    WriteBatch b;
    b.delete_owners = {"bob"};
    for (int i = 0; i < 50; ++i) {
      b.raw_events.push_back(make_raw("n" + std::to_string(100 + i), "alice", day(4)));
    }
    b.episodes = {make_episode("ne", "alice", day(5))};
    b.links = {{"ne", "n100"}, {"ne", "r2"}};
    b.processed_ids = {"n100", "r1"};
    return b;
  };
  WriteBatch too_big = batch();
  too_big.raw_events.back().content = std::string((16u << 20) + 1, 'x');
  EXPECT_THAT(apply_error<ValidationError>(*storage, too_big),
              ::testing::HasSubstr("raw_events[49] (data_id \"n149\")"));
  WriteBatch stored_id = batch();
  stored_id.raw_events.back().data_id = "r2";
  EXPECT_THAT(apply_error<DuplicateError>(*storage, stored_id), ::testing::HasSubstr("\"r2\""));
  WriteBatch twice = batch();
  twice.raw_events.back().data_id = "n100";
  EXPECT_THAT(apply_error<DuplicateError>(*storage, twice), ::testing::HasSubstr("\"n100\""));
  WriteBatch missing = batch();
  missing.links.back().raw_data_id = "ghost";
  EXPECT_THAT(apply_error<NotFoundError>(*storage, missing), ::testing::HasSubstr("\"ghost\""));
  WriteBatch deleted = batch();
  deleted.links.back() = {"ne", "rb"};  // bob's raw event is deleted by the same batch
  EXPECT_THAT(apply_error<NotFoundError>(*storage, deleted), ::testing::HasSubstr("\"rb\""));
  WriteBatch crossing = batch();
  crossing.delete_owners.clear();
  crossing.links.back() = {"ne", "rb"};
  EXPECT_THAT(apply_error<ValidationError>(*storage, crossing),
              ::testing::HasSubstr("of owner \"bob\""));
  WriteBatch unmarked = batch();
  unmarked.processed_ids.back() = "nope";
  EXPECT_THAT(apply_error<NotFoundError>(*storage, unmarked), ::testing::HasSubstr("\"nope\""));
  WriteBatch stored_episode = batch();
  stored_episode.episodes.push_back(make_episode("e1", "alice", day(5)));
  EXPECT_THAT(apply_error<DuplicateError>(*storage, stored_episode),
              ::testing::HasSubstr("\"e1\""));
  EXPECT_EQ(dump_text(*storage), before);
  EXPECT_THAT(storage->list_owners(), ElementsAre("alice", "bob"));
  // The same batch without the bad item goes through whole.
  const WriteBatchResult result = storage->apply(batch());
  EXPECT_EQ(result.deleted.raw_events, 1u);
  EXPECT_EQ(result.deleted.episodes, 1u);
  EXPECT_EQ(result.raw_events_stored, 50u);
  EXPECT_THAT(storage->list_owners(), ElementsAre("alice"));
}

TEST_P(StorageConformanceTest, ApplyDeletesAndStoresTheSameIdsInOneBatch) {
  fill_for_apply(*storage);
  WriteBatch batch;
  batch.delete_owners = {"alice", "bob"};
  batch.raw_events = {make_raw("r1", "alice", day(9), "new text"), make_raw("rb", "dora", day(9))};
  batch.episodes = {make_episode("e1", "alice", day(9), "New title"),
                    make_episode("eb", "dora", day(9))};
  batch.links = {{"e1", "r1"}, {"eb", "rb"}};
  const WriteBatchResult result = storage->apply(batch);
  EXPECT_EQ(result.deleted.raw_events, 3u);
  EXPECT_EQ(result.deleted.episodes, 2u);
  EXPECT_EQ(result.deleted.links, 2u);
  EXPECT_EQ(result.links_added, 2u);
  EXPECT_EQ(storage->raw_data().get("r1")->content, "new text");
  EXPECT_FALSE(storage->raw_data().get("r2").has_value());
  EXPECT_EQ(storage->episodes().get("e1")->title, "New title");
  EXPECT_EQ(storage->raw_data().get("rb")->owner_id, "dora");
  EXPECT_THAT(storage->list_owners(), ElementsAre("alice", "dora"));
  EXPECT_THAT(storage->episodes().links("dora"), ElementsAre(EpisodeLink{"eb", "rb"}));
  EXPECT_EQ(storage->stats().total_links, 2u);
}

TEST_P(StorageConformanceTest, ApplySkipsIdenticalRawEventsAndRefusesChangedOnes) {
  fill_for_apply(*storage);
  storage->raw_data().mark_processed("r1", "2.0");  // processed state does not count
  WriteBatch batch;
  batch.skip_identical_raw_events = true;
  batch.raw_events = {make_raw("r1", "alice", day(1)), make_raw("n1", "alice", day(3))};
  const WriteBatchResult result = storage->apply(batch);
  EXPECT_EQ(result.raw_events_stored, 1u);
  EXPECT_THAT(result.raw_already_stored, ElementsAre("r1"));
  EXPECT_TRUE(storage->raw_data().get("r1")->processed);
  EXPECT_EQ(storage->raw_data().count("alice"), 3u);
  EXPECT_EQ(storage->apply(batch).raw_already_stored.size(), 2u);  // again: nothing new
  WriteBatch changed = batch;
  changed.raw_events[0].content = "other text";
  EXPECT_THAT(apply_error<DuplicateError>(*storage, changed), ::testing::HasSubstr("\"r1\""));
  EXPECT_EQ(storage->raw_data().get("r1")->content, "hello");
  changed.skip_identical_raw_events = false;
  changed.raw_events[0].content = "hello";
  EXPECT_THROW(storage->apply(changed), DuplicateError);  // without the flag: a duplicate
}

TEST_P(StorageConformanceTest, RestoreReplaceWithAFailureLateInTheDumpLeavesTheTargetAsItWas) {
  fill_for_apply(*storage);
  const std::string before = dump_text(*storage);
  // A dump written by a store with a larger content limit than the target's: its last raw
  // event is over the target's limit.
  StorageConfig roomy;
  roomy.backend = "memory";
  roomy.max_content_bytes = 64u << 20;
  std::unique_ptr<Storage> source = open_storage(roomy);
  for (int i = 0; i < 20; ++i) {
    source->raw_data().store(make_raw("s" + std::to_string(10 + i), "zed", day(1)));
  }
  source->raw_data().store(make_raw("zz-big", "zed", day(2), std::string((16u << 20) + 1, 'x')));
  source->episodes().store(make_episode("se", "zed", day(3)));
  source->episodes().link("se", Ids{"s10", "zz-big"});
  std::ostringstream dump;
  write_dump(*source, dump);
  std::istringstream in(dump.str());
  try {
    restore_dump(*storage, in, true);
    ADD_FAILURE() << "expected ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("dump line 22:"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("zz-big"));
  }
  EXPECT_EQ(dump_text(*storage), before);

  // A raw event id twice, late in the dump: refused before anything is written.
  std::string text = dump.str();
  const std::size_t big = text.rfind('\n', text.find(R"("data_id":"zz-big")")) + 1;
  text.erase(big, text.find('\n', big) + 1 - big);
  const std::size_t first = text.find(R"({"type":"raw_event")");
  const std::string first_line = text.substr(first, text.find('\n', first) + 1 - first);
  const std::size_t episodes = text.find(R"({"type":"episode")");
  text.insert(episodes, first_line);
  std::istringstream twice(text);
  EXPECT_THROW(restore_dump(*storage, twice, true, 1000, {}, false), ValidationError);
  EXPECT_EQ(dump_text(*storage), before);
}

TEST_P(StorageConformanceTest, LockOwnerIsExclusivePerOwnerUntilReleased) {
  std::shared_ptr<void> held = storage->lock_owner("alice");
  std::atomic<bool> acquired{false};
  std::thread waiter([&] {
    std::shared_ptr<void> second = storage->lock_owner("alice");
    acquired = true;
  });
  // Another owner is free meanwhile.
  EXPECT_NE(storage->lock_owner("bob"), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(acquired) << "a second holder got alice while the first held her";
  held.reset();
  waiter.join();
  EXPECT_TRUE(acquired);
}

}  // namespace nemori::testing
