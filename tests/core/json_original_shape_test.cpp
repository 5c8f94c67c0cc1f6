// Compatibility: JSON exported by the original Python system loads, and nemori writes the same
// shape.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "nemori/core/json.h"

namespace nemori {
namespace {

using nlohmann::json;
using std::chrono::microseconds;

json load_data(const std::string& name) {
  const std::string path = std::string(NEMORI_TEST_DATA_DIR) + "/core/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_json(buffer.str(), path);
}

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> keys;
  for (const auto& [key, value] : j.items()) keys.insert(key);
  return keys;
}

const std::set<std::string> kOriginalEpisodeKeys = {
    "episode_id",   "owner_id",         "episode_type",    "level",
    "title",        "content",          "summary",         "temporal_info",
    "metadata",     "structured_data",  "search_keywords", "embedding_vector",
    "recall_count", "importance_score", "last_accessed"};

const std::set<std::string> kOriginalMetadataKeys = {"source_data_ids",
                                                     "source_types",
                                                     "processing_timestamp",
                                                     "processing_version",
                                                     "entities",
                                                     "topics",
                                                     "emotions",
                                                     "key_points",
                                                     "time_references",
                                                     "duration_seconds",
                                                     "confidence_score",
                                                     "completeness_score",
                                                     "relevance_score",
                                                     "related_episode_ids",
                                                     "custom_fields"};

const std::set<std::string> kOriginalTemporalKeys = {"timestamp", "duration", "timezone",
                                                     "precision"};

TEST(OriginalShape, PythonEpisodeDictLoads) {
  const json original = load_data("original_episode.json");
  ASSERT_EQ(keys_of(original), kOriginalEpisodeKeys);
  ASSERT_EQ(keys_of(original["metadata"]), kOriginalMetadataKeys);

  const Episode e = episode_from_json(original);
  EXPECT_EQ(e.episode_id, "8f14e45f-ceea-4e7a-9d1b-2c5f0a7b3e91");
  EXPECT_EQ(e.owner_id, "caroline_0");
  EXPECT_EQ(e.episode_type, EpisodeType::kConversational);
  EXPECT_EQ(e.level, EpisodeLevel::kCompound);
  // \u escapes and surrogate pairs written by Python's json.dumps decode to UTF-8.
  EXPECT_EQ(e.title, "Caroline's LGBTQ support group 🌈");
  EXPECT_NE(e.content.find("the café afterwards"), std::string::npos);
  // A summary that is present is kept as written, not regenerated.
  EXPECT_EQ(e.summary, original["summary"].get<std::string>());
  // Naive timestamps (no offset) are read as UTC.
  EXPECT_EQ(e.temporal_info.timestamp, make_timestamp(2023, 5, 8, 13, 56));
  EXPECT_EQ(e.temporal_info.duration, 1740.0);
  EXPECT_EQ(e.temporal_info.timezone, "UTC");
  EXPECT_EQ(e.temporal_info.precision, "second");
  EXPECT_EQ(e.metadata.processing_timestamp,
            make_timestamp(2025, 7, 1, 10, 15, 30) + microseconds(123456));
  EXPECT_EQ(e.metadata.source_data_ids,
            std::vector<std::string>{"4c2a8e1d-3b7f-4f9a-8e6d-1a2b3c4d5e6f"});
  EXPECT_EQ(e.metadata.source_types, std::vector<DataType>{DataType::kConversation});
  EXPECT_EQ(e.metadata.duration_seconds, 1740.0);
  EXPECT_EQ(e.metadata.confidence_score, 1.0);
  EXPECT_EQ(e.metadata.custom_fields["_owner_id"], "caroline_0");
  EXPECT_EQ(e.metadata.custom_fields["message_count"], 12);
  EXPECT_EQ(e.structured_data["conversation_data"]["participants"],
            json::array({"caroline", "melanie"}));
  EXPECT_EQ(e.search_keywords.size(), 5u);
  EXPECT_FALSE(e.embedding_vector.has_value());
  EXPECT_EQ(e.recall_count, 0);
  EXPECT_EQ(e.importance_score, 0.0);
  EXPECT_FALSE(e.last_accessed.has_value());
}

TEST(OriginalShape, ReexportedEpisodeHasTheOriginalKeys) {
  const Episode e = episode_from_json(load_data("original_episode.json"));
  const json j = to_json(e);
  EXPECT_EQ(keys_of(j), kOriginalEpisodeKeys);
  EXPECT_EQ(keys_of(j["metadata"]), kOriginalMetadataKeys);
  EXPECT_EQ(keys_of(j["temporal_info"]), kOriginalTemporalKeys);
  EXPECT_EQ(j["level"], 2);
  EXPECT_TRUE(j["embedding_vector"].is_null());
  EXPECT_TRUE(j["last_accessed"].is_null());
  // The instant is unchanged; only an explicit UTC offset is added.
  EXPECT_EQ(j["temporal_info"]["timestamp"], "2023-05-08T13:56:00+00:00");
  EXPECT_EQ(episode_from_json(j), e);
}

TEST(OriginalShape, PythonRawEventDictWithOwnerInMetadataLoads) {
  const json original = load_data("original_raw_event.json");
  ASSERT_FALSE(original.contains("owner_id"));

  const RawEvent e = raw_event_from_json(original);
  EXPECT_EQ(e.data_id, "4c2a8e1d-3b7f-4f9a-8e6d-1a2b3c4d5e6f");
  EXPECT_EQ(e.owner_id, "caroline_0");  // taken from metadata._owner_id
  EXPECT_EQ(e.data_type, DataType::kConversation);
  EXPECT_EQ(e.source, "locomo_dataset");
  ASSERT_TRUE(e.content.is_array());
  ASSERT_EQ(e.content.size(), 2u);
  EXPECT_EQ(e.content[1]["content"].get<std::string>().substr(0, 13), "Hey Caroline!");
  EXPECT_NE(e.content[1]["content"].get<std::string>().find("😊"), std::string::npos);
  EXPECT_EQ(e.temporal_info.timestamp, make_timestamp(2023, 5, 8, 13, 56));
  EXPECT_EQ(e.temporal_info.duration, 300.0);
  EXPECT_FALSE(e.processed);
  EXPECT_EQ(e.processing_version, "1.0");
  EXPECT_EQ(e.metadata["_owner_id"], "caroline_0");
  EXPECT_NO_THROW(validate(e));

  // Each message object of the original's list content reads as a Message.
  const Message second = message_from_json(e.content[1], "content[1]");
  EXPECT_EQ(second.speaker_id, "melanie");
  EXPECT_EQ(second.user_name, "Melanie");
  EXPECT_EQ(second.timestamp, make_timestamp(2023, 5, 8, 13, 56, 30) + microseconds(500000));
}

TEST(OriginalShape, ReexportedRawEventAddsOnlyOwnerId) {
  const json original = load_data("original_raw_event.json");
  const json j = to_json(raw_event_from_json(original));
  std::set<std::string> expected = keys_of(original);
  expected.insert("owner_id");
  EXPECT_EQ(keys_of(j), expected);
  EXPECT_EQ(j["owner_id"], "caroline_0");
  EXPECT_EQ(j["content"], original["content"]);
  EXPECT_EQ(j["metadata"], original["metadata"]);
}

TEST(OriginalShape, ExplicitOwnerIdWinsOverMetadata) {
  json j = load_data("original_raw_event.json");
  j["owner_id"] = "agent";
  EXPECT_EQ(raw_event_from_json(j).owner_id, "agent");
}

TEST(OriginalShape, MinimalDictsGetTheOriginalDefaults) {
  const Timestamp before = now_utc();
  const RawEvent e = raw_event_from_json(json{{"content", "hello"}});
  const Timestamp after = now_utc();
  EXPECT_FALSE(e.data_id.empty());
  EXPECT_EQ(e.data_type, DataType::kCustom);
  EXPECT_EQ(e.source, "");
  EXPECT_EQ(e.metadata, json::object());
  EXPECT_FALSE(e.processed);
  EXPECT_EQ(e.processing_version, "1.0");
  EXPECT_GE(e.temporal_info.timestamp, before);
  EXPECT_LE(e.temporal_info.timestamp, after);
  EXPECT_EQ(e.owner_id, "");  // decodable, but validate() refuses to store it

  const Episode ep = episode_from_json(json{{"owner_id", "alice"}, {"content", "Went hiking."}});
  EXPECT_FALSE(ep.episode_id.empty());
  EXPECT_EQ(ep.episode_type, EpisodeType::kMixed);
  EXPECT_EQ(ep.level, EpisodeLevel::kAtomic);
  EXPECT_EQ(ep.summary, "Went hiking.");
  EXPECT_EQ(ep.title, "Went hiking.");
  EXPECT_EQ(ep.recall_count, 0);
  EXPECT_EQ(ep.importance_score, 0.0);
  EXPECT_EQ(ep.metadata.processing_version, "1.0");
  EXPECT_EQ(ep.metadata.confidence_score, 1.0);
  EXPECT_EQ(ep.metadata.completeness_score, 1.0);
  EXPECT_EQ(ep.metadata.relevance_score, 1.0);
  EXPECT_GE(ep.metadata.processing_timestamp, before);
  EXPECT_GE(ep.temporal_info.timestamp, before);
}

TEST(OriginalShape, SourceTypesInAnyOrderWithoutDuplicates) {
  const EpisodeMetadata m =
      episode_metadata_from_json(json{{"source_types", {"media", "conversation", "media"}}});
  EXPECT_EQ(m.source_types, (std::vector<DataType>{DataType::kMedia, DataType::kConversation}));
}

TEST(OriginalShape, PythonIsoformatVariantsLoad) {
  // datetime.isoformat() of naive, aware and microsecond values.
  const Timestamp base = make_timestamp(2024, 1, 15, 10, 30);
  EXPECT_EQ(temporal_info_from_json(json{{"timestamp", "2024-01-15T10:30:00"}}).timestamp, base);
  EXPECT_EQ(temporal_info_from_json(json{{"timestamp", "2024-01-15T10:30:00+00:00"}}).timestamp,
            base);
  EXPECT_EQ(temporal_info_from_json(json{{"timestamp", "2024-01-15T12:30:00+02:00"}}).timestamp,
            base);
  EXPECT_EQ(temporal_info_from_json(json{{"timestamp", "2024-01-15T10:30:00.000250"}}).timestamp,
            base + microseconds(250));
}

}  // namespace
}  // namespace nemori
