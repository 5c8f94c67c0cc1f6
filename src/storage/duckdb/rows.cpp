#include "storage/duckdb/rows.h"

#include <array>
#include <cstdint>
#include <exception>
#include <limits>

#include "nemori/core/error.h"
#include "nemori/core/json.h"

namespace nemori::detail::duck {

namespace {

using nlohmann::json;

// Column positions in the appenders (named explicitly, so that later migrations may add
// columns anywhere) and, for the first ones, in the SELECT lists below.
namespace raw_col {
enum : idx_t {
  kDataId,
  kOwnerId,
  kDataType,
  kContent,
  kSource,
  kTimestamp,
  kDuration,
  kTimezone,
  kPrecision,
  kMetadata,
  kProcessed,
  kProcessingVersion,
  kCreatedAt,
  kSearchText
};
}  // namespace raw_col

namespace episode_col {
enum : idx_t {
  kEpisodeId,
  kOwnerId,
  kEpisodeType,
  kLevel,
  kTitle,
  kContent,
  kSummary,
  kTimestamp,
  kDuration,
  kTimezone,
  kPrecision,
  kMetadata,
  kStructuredData,
  kSearchKeywords,
  kEmbedding,
  kRecallCount,
  kImportance,
  kLastAccessed,
  kCreatedAt,
  kSearchText,
  kKeywordsFolded,
  kEntitiesFolded,
  kTopicsFolded,
  kEmbeddingModel,  // migration 2
};
/// embedding_model's position in kEpisodeSelect (after the columns shared with the insert).
constexpr idx_t kSelectEmbeddingModel = kLastAccessed + 1;
}  // namespace episode_col

constexpr std::array<std::string_view, 14> kRawInsert = {
    "data_id",   "owner_id",           "data_type",  "content",    "source",
    "timestamp", "duration",           "timezone",   "precision",  "event_metadata",
    "processed", "processing_version", "created_at", "search_text"};
static_assert(kRawInsert.size() == raw_col::kSearchText + 1);

constexpr std::array<std::string_view, 24> kEpisodeInsert = {
    "episode_id",      "owner_id",         "episode_type",    "level",           "title",
    "content",         "summary",          "timestamp",       "duration",        "timezone",
    "precision",       "event_metadata",   "structured_data", "search_keywords", "embedding_vector",
    "recall_count",    "importance_score", "last_accessed",   "created_at",      "search_text",
    "keywords_folded", "entities_folded",  "topics_folded",   "embedding_model"};
static_assert(kEpisodeInsert.size() == episode_col::kEmbeddingModel + 1);

constexpr std::array<std::string_view, 12> kRawSelect = {
    "data_id",  "owner_id", "data_type",     "content",        "source",    "\"timestamp\"",
    "duration", "timezone", "\"precision\"", "event_metadata", "processed", "processing_version"};

constexpr std::array<std::string_view, 19> kEpisodeSelect = {
    "episode_id",    "owner_id",         "episode_type",    "\"level\"",       "title",
    "content",       "summary",          "\"timestamp\"",   "duration",        "timezone",
    "\"precision\"", "event_metadata",   "structured_data", "search_keywords", "embedding_vector",
    "recall_count",  "importance_score", "last_accessed",   "embedding_model"};
static_assert(kEpisodeSelect.size() == episode_col::kSelectEmbeddingModel + 1);

}  // namespace

std::string column_list(std::span<const std::string_view> columns, std::string_view alias) {
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (i > 0) out += ", ";
    if (!alias.empty()) {
      out += alias;
      out += '.';
    }
    out += columns[i];
  }
  return out;
}

namespace {

std::string dump(const json& value) {
  return value.dump();
}

// JSON text does not say whether a non-negative integer was signed; nlohmann reads it as
// unsigned. Stored integers come back signed whenever they fit in 64 signed bits (as they
// were built, e.g. json(42)); larger ones stay unsigned.
void sign_integers(json& value) {
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if (n <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      value = static_cast<std::int64_t>(n);
    }
  } else if (value.is_structured()) {
    for (json& item : value) sign_integers(item);
  }
}

void optional_double(Appender& appender, idx_t column, const std::optional<double>& value) {
  if (value) {
    appender.float64(column, *value);
  } else {
    appender.null(column);
  }
}

void optional_text(Appender& appender, idx_t column, const std::optional<std::string>& value) {
  if (value) {
    appender.text(column, *value);
  } else {
    appender.null(column);
  }
}

json parse_stored(std::string_view text, std::string_view what, std::string_view id) {
  return parse_stored_json(text, what, id);
}

}  // namespace

json parse_stored_json(std::string_view text, std::string_view what, std::string_view id) {
  try {
    json value = json::parse(text);
    sign_integers(value);
    return value;
  } catch (const std::exception& e) {
    throw StorageError("stored " + std::string(what) + " of \"" + std::string(id) +
                       "\" is not valid JSON (" + e.what() + "); the database may be damaged");
  }
}

std::string raw_event_columns(std::string_view alias) {
  return column_list(kRawSelect, alias);
}

std::string episode_columns(std::string_view alias) {
  return column_list(kEpisodeSelect, alias);
}

Appender raw_event_appender(Connection& connection) {
  return Appender(connection, "raw_data", kRawInsert);
}

Appender episode_appender(Connection& connection) {
  return Appender(connection, "episodes", kEpisodeInsert);
}

EncodedRawEvent encode(const RawEvent& event) {
  return EncodedRawEvent{&event, dump(event.content), dump(event.metadata), raw_search_text(event)};
}

void append_row(Appender& appender, const EncodedRawEvent& encoded, Timestamp created_at) {
  using namespace raw_col;
  const RawEvent& e = *encoded.event;
  appender.text(kDataId, e.data_id);
  appender.text(kOwnerId, e.owner_id);
  appender.text(kDataType, to_string(e.data_type));
  appender.text(kContent, encoded.content);
  appender.text(kSource, e.source);
  appender.timestamp(kTimestamp, e.temporal_info.timestamp);
  optional_double(appender, kDuration, e.temporal_info.duration);
  optional_text(appender, kTimezone, e.temporal_info.timezone);
  appender.text(kPrecision, e.temporal_info.precision);
  appender.text(kMetadata, encoded.metadata);
  appender.boolean(kProcessed, e.processed);
  appender.text(kProcessingVersion, e.processing_version);
  appender.timestamp(kCreatedAt, created_at);
  appender.text(kSearchText, encoded.search_text);
  appender.end_row();
}

RawEvent decode_raw_event(const Chunk& chunk, idx_t row) {
  using namespace raw_col;
  RawEvent e;
  e.data_id = chunk.text(kDataId, row);
  e.owner_id = chunk.text(kOwnerId, row);
  e.data_type = parse_data_type(chunk.text(kDataType, row));
  e.content = parse_stored(chunk.text(kContent, row), "content", e.data_id);
  e.source = chunk.text(kSource, row);
  e.temporal_info.timestamp = chunk.timestamp(kTimestamp, row);
  e.temporal_info.duration = chunk.optional_float64(kDuration, row);
  e.temporal_info.timezone = chunk.optional_text(kTimezone, row);
  e.temporal_info.precision = chunk.text(kPrecision, row);
  e.metadata = parse_stored(chunk.text(kMetadata, row), "metadata", e.data_id);
  e.processed = chunk.boolean(kProcessed, row);
  e.processing_version = chunk.text(kProcessingVersion, row);
  return e;
}

EncodedEpisode encode(const Episode& episode) {
  return EncodedEpisode{&episode, dump(to_json(episode.metadata)), dump(episode.structured_data),
                        fold_episode(episode)};
}

void append_row(Appender& appender, const EncodedEpisode& encoded, Timestamp created_at) {
  using namespace episode_col;
  const Episode& e = *encoded.episode;
  appender.text(kEpisodeId, e.episode_id);
  appender.text(kOwnerId, e.owner_id);
  appender.text(kEpisodeType, to_string(e.episode_type));
  appender.int32(kLevel, static_cast<std::int32_t>(e.level));
  appender.text(kTitle, e.title);
  appender.text(kContent, e.content);
  appender.text(kSummary, e.summary);
  appender.timestamp(kTimestamp, e.temporal_info.timestamp);
  optional_double(appender, kDuration, e.temporal_info.duration);
  optional_text(appender, kTimezone, e.temporal_info.timezone);
  appender.text(kPrecision, e.temporal_info.precision);
  appender.text(kMetadata, encoded.metadata);
  appender.text(kStructuredData, encoded.structured);
  appender.text_list(kSearchKeywords, e.search_keywords);
  if (e.embedding_vector) {
    appender.float_list(kEmbedding, *e.embedding_vector);
  } else {
    appender.null(kEmbedding);
  }
  appender.int64(kRecallCount, e.recall_count);
  appender.float64(kImportance, e.importance_score);
  if (e.last_accessed) {
    appender.timestamp(kLastAccessed, *e.last_accessed);
  } else {
    appender.null(kLastAccessed);
  }
  appender.timestamp(kCreatedAt, created_at);
  appender.text(kSearchText, encoded.folds.search_text);
  appender.text_list(kKeywordsFolded, encoded.folds.keywords);
  appender.text_list(kEntitiesFolded, encoded.folds.entities);
  appender.text_list(kTopicsFolded, encoded.folds.topics);
  if (e.embedding_model.empty()) {
    appender.null(kEmbeddingModel);
  } else {
    appender.text(kEmbeddingModel, e.embedding_model);
  }
  appender.end_row();
}

Episode decode_episode(const Chunk& chunk, idx_t row) {
  using namespace episode_col;
  Episode e;
  e.episode_id = chunk.text(kEpisodeId, row);
  e.owner_id = chunk.text(kOwnerId, row);
  e.episode_type = parse_episode_type(chunk.text(kEpisodeType, row));
  e.level = episode_level_from_int(chunk.int32(kLevel, row));
  e.title = chunk.text(kTitle, row);
  e.content = chunk.text(kContent, row);
  e.summary = chunk.text(kSummary, row);
  e.temporal_info.timestamp = chunk.timestamp(kTimestamp, row);
  e.temporal_info.duration = chunk.optional_float64(kDuration, row);
  e.temporal_info.timezone = chunk.optional_text(kTimezone, row);
  e.temporal_info.precision = chunk.text(kPrecision, row);
  try {
    e.metadata = episode_metadata_from_json(
        parse_stored(chunk.text(kMetadata, row), "metadata", e.episode_id));
  } catch (const ValidationError& error) {
    throw StorageError("stored metadata of \"" + e.episode_id + "\" cannot be read (" +
                       error.what() + "); the database may be damaged");
  }
  e.structured_data =
      parse_stored(chunk.text(kStructuredData, row), "structured_data", e.episode_id);
  e.search_keywords = chunk.text_list(kSearchKeywords, row);
  e.embedding_vector = chunk.float_list(kEmbedding, row);
  e.recall_count = chunk.int64(kRecallCount, row);
  e.importance_score = chunk.float64(kImportance, row);
  e.last_accessed = chunk.optional_timestamp(kLastAccessed, row);
  e.embedding_model = chunk.optional_text(kSelectEmbeddingModel, row).value_or("");
  return e;
}

}  // namespace nemori::detail::duck
