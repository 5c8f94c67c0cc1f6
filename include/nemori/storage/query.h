// Queries over raw events and episodes, and their results.
//
// Semantics are identical in every backend (the conformance suite is the proof):
// - Fields combine with AND; the values inside one list combine with OR; an empty list or an
//   unset optional is no filter.
// - String lists (keywords, entities, topics) match elements case-insensitively and exactly
//   (after fold_case), not as substrings.
// - `text_search` / `content_contains` is a case-insensitive substring match (fold_case on both
//   sides); `%`, `_` and backslashes in the needle are plain characters.
// - `metadata` filters: every key must be present at the top level of the event's `metadata`
//   (raw events) or the episode's `metadata.custom_fields`, with a JSON-equal value (numbers
//   compare by value: 1 equals 1.0; strings are case-sensitive).
// - Time ranges include both ends. `recent_hours` keeps timestamp >= now - hours.
// - Sorting always ends with the id (same direction) as tie-breaker, so pages never overlap.
//   Ids compare byte-wise.
// - SortBy::kRelevance at the storage layer is a fixed "most memorable first" order:
//   importance_score, then recall_count, then timestamp, then id, all in `sort_order`
//   (DESC by default). Ranking by query relevance is the retrieval layer's job. For raw events
//   kRelevance means timestamp order; kImportance and kRecallCount are rejected.
// - `limit` unset returns every match; `total_count` counts every match before limit/offset;
//   `has_more` is offset + returned < total_count.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/enums.h"
#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "nemori/core/statement.h"
#include "nemori/core/time.h"

namespace nemori {

/// Sort key of a query.
enum class SortBy { kTimestamp, kImportance, kRecallCount, kRelevance };
/// Sort direction of a query.
enum class SortOrder { kAsc, kDesc };

/// "timestamp", "importance", "recall_count", "relevance".
std::string_view to_string(SortBy sort_by);
/// Throws ValidationError on an unknown value.
SortBy parse_sort_by(std::string_view text);
/// "asc", "desc".
std::string_view to_string(SortOrder order);
/// Throws ValidationError on an unknown value.
SortOrder parse_sort_order(std::string_view text);

/// An inclusive time interval; a missing end is unbounded.
struct TimeRange {
  std::optional<Timestamp> start;
  std::optional<Timestamp> end;
  /// True when `t` lies inside.
  bool contains(Timestamp t) const { return (!start || t >= *start) && (!end || t <= *end); }
};

/// Filters, order and page for RawDataRepository::search.
struct RawDataQuery {
  std::vector<std::string> data_ids;
  std::vector<std::string> owner_ids;
  std::vector<DataType> data_types;
  std::vector<std::string> sources;  ///< exact match
  std::optional<TimeRange> time_range;
  std::optional<bool> processed;  ///< true: processed only; false: unprocessed only
  /// Case-insensitive substring of searchable_text(event) (see below).
  std::optional<std::string> content_contains;
  /// Key = value filters on `metadata` (a JSON object; empty = none).
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<int> recent_hours;
  std::optional<std::size_t> limit;
  std::size_t offset = 0;
  SortBy sort_by = SortBy::kTimestamp;
  SortOrder sort_order = SortOrder::kDesc;
};

/// Filters, order and page for EpisodeRepository::search.
struct EpisodeQuery {
  std::vector<std::string> episode_ids;
  std::vector<std::string> owner_ids;
  std::vector<EpisodeType> episode_types;
  std::vector<EpisodeLevel> levels;
  std::optional<TimeRange> time_range;
  /// Case-insensitive substring of title, content or summary (precisely: of
  /// title + "\n" + content + "\n" + summary).
  std::optional<std::string> text_search;
  std::vector<std::string> keywords;  ///< matches search_keywords
  std::vector<std::string> entities;  ///< matches metadata.entities
  std::vector<std::string> topics;    ///< matches metadata.topics
  /// Key = value filters on metadata.custom_fields (a JSON object; empty = none).
  nlohmann::json metadata = nlohmann::json::object();
  std::optional<double> min_importance, max_importance;
  std::optional<std::int64_t> min_recall_count, max_recall_count;
  std::optional<int> recent_hours;
  /// Full-text query ranked by the backend's own engine (PostgreSQL ts_rank_cd). Backends
  /// without one throw UnsupportedBackendError; when set, results are ordered by rank.
  std::optional<std::string> full_text;
  std::optional<std::size_t> limit;
  std::size_t offset = 0;
  SortBy sort_by = SortBy::kTimestamp;
  SortOrder sort_order = SortOrder::kDesc;
};

/// A page of raw events.
struct RawDataSearchResult {
  std::vector<RawEvent> events;
  std::size_t total_count = 0;
  bool has_more = false;
  double query_time_ms = 0;
};

/// A page of episodes. `scores` is parallel to `episodes` when the query ranked them
/// (full_text), empty otherwise.
struct EpisodeSearchResult {
  std::vector<Episode> episodes;
  std::vector<double> scores;
  std::size_t total_count = 0;
  bool has_more = false;
  double query_time_ms = 0;
};

/// Which statements a StatementQuery returns.
enum class StatementState {
  kCurrent,     ///< valid_to unset.
  kSuperseded,  ///< valid_to set.
  kAll,
};

/// Filters, order and page for SemanticMemoryRepository::search: AND across fields, OR inside a
/// list; ordered by the sort key, then statement_id in the same direction.
struct StatementQuery {
  std::vector<std::string> statement_ids;
  std::vector<std::string> owner_ids;  ///< Empty: every owner.
  StatementState state = StatementState::kCurrent;
  /// Statements valid at this instant (valid_from <= t < valid_to), superseded ones included;
  /// `state` is ignored when set.
  std::optional<Timestamp> as_of;
  std::vector<StatementCategory> categories;
  /// Case-insensitive substring of content (fold_case both sides; %, _ and \ are literal).
  std::optional<std::string> text_contains;
  /// Only statements this episode supports.
  std::optional<std::string> source_episode_id;
  /// The order of the results.
  enum class Sort { kValidFromDesc, kValidFromAsc, kUpdatedDesc };
  Sort sort = Sort::kValidFromDesc;
  std::optional<std::size_t> limit;
  std::size_t offset = 0;
};

/// A page of statements (each with its source_episode_ids).
struct StatementSearchResult {
  std::vector<Statement> statements;
  std::size_t total_count = 0;  ///< Every match before limit/offset.
  bool has_more = false;        ///< offset + returned < total_count.
};

/// The text `content_contains` searches: for a string content, the string; for an object with a
/// string "content" field (a message), that field; otherwise the compact JSON text.
std::string searchable_text(const RawEvent& event);

/// Throws ValidationError when a query is inconsistent (negative bounds, min > max, unsupported
/// sort for raw events, non-object metadata filter, invalid UTF-8 in strings).
void validate(const RawDataQuery& query);
void validate(const EpisodeQuery& query);
void validate(const StatementQuery& query);

}  // namespace nemori
