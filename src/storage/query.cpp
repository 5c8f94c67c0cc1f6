#include "nemori/storage/query.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/core/utf8.h"

namespace nemori {

std::string_view to_string(SortBy sort_by) {
  switch (sort_by) {
    case SortBy::kTimestamp:
      return "timestamp";
    case SortBy::kImportance:
      return "importance";
    case SortBy::kRecallCount:
      return "recall_count";
    case SortBy::kRelevance:
      return "relevance";
  }
  return "timestamp";
}

SortBy parse_sort_by(std::string_view text) {
  for (SortBy value :
       {SortBy::kTimestamp, SortBy::kImportance, SortBy::kRecallCount, SortBy::kRelevance}) {
    if (to_string(value) == text) return value;
  }
  throw ValidationError("sort_by", "unknown value \"" + std::string(text) +
                                       "\" (valid: timestamp, importance, recall_count, "
                                       "relevance)");
}

std::string_view to_string(SortOrder order) {
  return order == SortOrder::kAsc ? "asc" : "desc";
}

SortOrder parse_sort_order(std::string_view text) {
  if (text == "asc") return SortOrder::kAsc;
  if (text == "desc") return SortOrder::kDesc;
  throw ValidationError("sort_order",
                        "unknown value \"" + std::string(text) + "\" (valid: asc, desc)");
}

std::string searchable_text(const RawEvent& event) {
  const nlohmann::json& content = event.content;
  if (content.is_string()) return content.get<std::string>();
  if (content.is_object()) {
    const auto it = content.find("content");
    if (it != content.end() && it->is_string()) return it->get<std::string>();
  }
  return content.dump();
}

namespace {

void validate_strings(const std::vector<std::string>& items, const std::string& field) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    validate_text(items[i], field + "[" + std::to_string(i) + "]");
  }
}

void validate_time_range(const std::optional<TimeRange>& range) {
  if (range && range->start && range->end && *range->start > *range->end) {
    throw ValidationError("time_range", "start is after end");
  }
}

void validate_recent_hours(const std::optional<int>& hours) {
  if (hours && *hours < 0) throw ValidationError("recent_hours", "must not be negative");
}

void validate_metadata_filter(const nlohmann::json& metadata) {
  if (!metadata.is_object()) {
    throw ValidationError("metadata", "the filter must be a JSON object of key = value pairs");
  }
  validate_json_text(metadata, "metadata");
}

void validate_bound(const std::optional<double>& bound, std::string_view field) {
  if (!bound) return;
  if (std::isnan(*bound)) throw ValidationError(field, "must be a number, not NaN");
  if (*bound < 0.0) throw ValidationError(field, "must not be negative");
}

}  // namespace

void validate(const RawDataQuery& query) {
  validate_strings(query.data_ids, "data_ids");
  validate_strings(query.owner_ids, "owner_ids");
  validate_strings(query.sources, "sources");
  validate_time_range(query.time_range);
  if (query.content_contains) validate_text(*query.content_contains, "content_contains");
  validate_metadata_filter(query.metadata);
  validate_recent_hours(query.recent_hours);
  if (query.sort_by == SortBy::kImportance || query.sort_by == SortBy::kRecallCount) {
    throw ValidationError("sort_by", "\"" + std::string(to_string(query.sort_by)) +
                                         "\" does not apply to raw events (use timestamp)");
  }
}

void validate(const EpisodeQuery& query) {
  validate_strings(query.episode_ids, "episode_ids");
  validate_strings(query.owner_ids, "owner_ids");
  validate_time_range(query.time_range);
  if (query.text_search) validate_text(*query.text_search, "text_search");
  validate_strings(query.keywords, "keywords");
  validate_strings(query.entities, "entities");
  validate_strings(query.topics, "topics");
  validate_metadata_filter(query.metadata);
  validate_bound(query.min_importance, "min_importance");
  validate_bound(query.max_importance, "max_importance");
  if (query.min_importance && query.max_importance &&
      *query.min_importance > *query.max_importance) {
    throw ValidationError("min_importance", "is greater than max_importance");
  }
  if (query.min_recall_count && *query.min_recall_count < 0) {
    throw ValidationError("min_recall_count", "must not be negative");
  }
  if (query.max_recall_count && *query.max_recall_count < 0) {
    throw ValidationError("max_recall_count", "must not be negative");
  }
  if (query.min_recall_count && query.max_recall_count &&
      *query.min_recall_count > *query.max_recall_count) {
    throw ValidationError("min_recall_count", "is greater than max_recall_count");
  }
  validate_recent_hours(query.recent_hours);
  if (query.full_text) validate_text(*query.full_text, "full_text");
}

void validate(const StatementQuery& query) {
  validate_strings(query.statement_ids, "statement_ids");
  for (std::size_t i = 0; i < query.owner_ids.size(); ++i) {
    if (query.owner_ids[i].empty()) {
      throw ValidationError("owner_ids[" + std::to_string(i) + "]",
                            "must not be empty (leave owner_ids empty for every owner)");
    }
  }
  validate_strings(query.owner_ids, "owner_ids");
  if (query.as_of) validate_timestamp(*query.as_of, "as_of");
  if (query.text_contains) validate_text(*query.text_contains, "text_contains");
  if (query.source_episode_id) {
    if (query.source_episode_id->empty())
      throw ValidationError("source_episode_id", "must not be empty when set");
    validate_text(*query.source_episode_id, "source_episode_id");
  }
  // limit = 0 is a count (an empty page with the exact total), as for episodes. Both bounds
  // must fit the signed 64-bit integers SQL backends bind them as.
  constexpr std::size_t kMaxBound = static_cast<std::size_t>(INT64_MAX);
  if (query.limit && *query.limit > kMaxBound)
    throw ValidationError("limit", "must be at most " + std::to_string(kMaxBound));
  if (query.offset > kMaxBound)
    throw ValidationError("offset", "must be at most " + std::to_string(kMaxBound));
}

}  // namespace nemori
