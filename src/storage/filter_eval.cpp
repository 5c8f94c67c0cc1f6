#include "storage/filter_eval.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <compare>
#include <cstdint>
#include <limits>

#include "nemori/core/utf8.h"

namespace nemori::detail {

using nlohmann::json;

namespace {

// nlohmann's is_number_integer() is also true for unsigned numbers.
bool is_integer(const json& v) {
  return v.is_number_integer();
}

bool is_negative_integer(const json& v) {
  return !v.is_number_unsigned() && v.get<std::int64_t>() < 0;
}

// Exact comparison of an integer JSON number with a double.
bool integer_equals_double(const json& integer, double d) {
  if (!std::isfinite(d) || std::trunc(d) != d) return false;
  // 2^63 and 2^64 are exact doubles; anything outside the integer's range cannot be equal.
  constexpr double kTwo63 = 9223372036854775808.0;
  constexpr double kTwo64 = 18446744073709551616.0;
  if (integer.is_number_unsigned()) {
    if (d < 0.0 || d >= kTwo64) return false;
    return integer.get<std::uint64_t>() == static_cast<std::uint64_t>(d);
  }
  if (d < -kTwo63 || d >= kTwo63) return false;
  return integer.get<std::int64_t>() == static_cast<std::int64_t>(d);
}

bool numbers_equal(const json& a, const json& b) {
  if (is_integer(a) && is_integer(b)) {
    const bool a_neg = is_negative_integer(a);
    const bool b_neg = is_negative_integer(b);
    if (a_neg != b_neg) return false;
    if (a_neg) return a.get<std::int64_t>() == b.get<std::int64_t>();
    return a.get<std::uint64_t>() == b.get<std::uint64_t>();
  }
  if (is_integer(a)) return integer_equals_double(a, b.get<double>());
  if (is_integer(b)) return integer_equals_double(b, a.get<double>());
  return a.get<double>() == b.get<double>();
}

template <typename T>
int three_way(const T& a, const T& b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int compare_ids(const std::string& a, const std::string& b) {
  const int c = a.compare(b);  // char_traits<char>::compare is byte-wise (unsigned)
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

template <typename List>
bool contains(const List& list, const typename List::value_type& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

bool any_in(const std::vector<std::string>& folded, const std::unordered_set<std::string>& wanted) {
  if (wanted.empty()) return true;
  return std::any_of(folded.begin(), folded.end(),
                     [&](const std::string& item) { return wanted.count(item) > 0; });
}

std::unordered_set<std::string> as_set(const std::vector<std::string>& items) {
  return {items.begin(), items.end()};
}

std::unordered_set<std::string> folded_set(const std::vector<std::string>& items) {
  std::unordered_set<std::string> out;
  for (const std::string& item : items) out.insert(fold_case(item));
  return out;
}

}  // namespace

bool json_values_equal(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return numbers_equal(a, b);
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!json_values_equal(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      const auto other = b.find(it.key());
      if (other == b.end() || !json_values_equal(it.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

bool metadata_matches(const json& object, const json& filter) {
  if (filter.empty()) return true;
  if (!object.is_object()) return false;
  for (auto it = filter.begin(); it != filter.end(); ++it) {
    const auto found = object.find(it.key());
    if (found == object.end() || !json_values_equal(*found, it.value())) return false;
  }
  return true;
}

Timestamp recent_cutoff(Timestamp now, int hours) {
  return now - std::chrono::hours(hours);
}

PreparedRawQuery prepare(const RawDataQuery& query, Timestamp now) {
  PreparedRawQuery prepared{query,
                            as_set(query.data_ids),
                            as_set(query.owner_ids),
                            as_set(query.sources),
                            std::nullopt,
                            std::nullopt};
  if (query.content_contains) prepared.needle = fold_case(*query.content_contains);
  if (query.recent_hours) prepared.recent_cutoff = recent_cutoff(now, *query.recent_hours);
  return prepared;
}

bool matches(const RawEvent& event, std::string_view search_text, const PreparedRawQuery& p) {
  const RawDataQuery& q = p.query;
  if (!p.data_ids.empty() && p.data_ids.count(event.data_id) == 0) return false;
  if (!p.owner_ids.empty() && p.owner_ids.count(event.owner_id) == 0) return false;
  if (!q.data_types.empty() && !contains(q.data_types, event.data_type)) return false;
  if (!p.sources.empty() && p.sources.count(event.source) == 0) return false;
  const Timestamp t = event.temporal_info.timestamp;
  if (q.time_range && !q.time_range->contains(t)) return false;
  if (p.recent_cutoff && t < *p.recent_cutoff) return false;
  if (q.processed && event.processed != *q.processed) return false;
  if (p.needle && search_text.find(*p.needle) == std::string_view::npos) return false;
  return metadata_matches(event.metadata, q.metadata);
}

PreparedEpisodeQuery prepare(const EpisodeQuery& query, Timestamp now) {
  PreparedEpisodeQuery prepared{query,
                                as_set(query.episode_ids),
                                as_set(query.owner_ids),
                                std::nullopt,
                                folded_set(query.keywords),
                                folded_set(query.entities),
                                folded_set(query.topics),
                                std::nullopt};
  if (query.text_search) prepared.needle = fold_case(*query.text_search);
  if (query.recent_hours) prepared.recent_cutoff = recent_cutoff(now, *query.recent_hours);
  return prepared;
}

bool matches(const Episode& episode, const EpisodeFolds& folds, const PreparedEpisodeQuery& p) {
  const EpisodeQuery& q = p.query;
  if (!p.episode_ids.empty() && p.episode_ids.count(episode.episode_id) == 0) return false;
  if (!p.owner_ids.empty() && p.owner_ids.count(episode.owner_id) == 0) return false;
  if (!q.episode_types.empty() && !contains(q.episode_types, episode.episode_type)) return false;
  if (!q.levels.empty() && !contains(q.levels, episode.level)) return false;
  const Timestamp t = episode.temporal_info.timestamp;
  if (q.time_range && !q.time_range->contains(t)) return false;
  if (p.recent_cutoff && t < *p.recent_cutoff) return false;
  if (q.min_importance && episode.importance_score < *q.min_importance) return false;
  if (q.max_importance && episode.importance_score > *q.max_importance) return false;
  if (q.min_recall_count && episode.recall_count < *q.min_recall_count) return false;
  if (q.max_recall_count && episode.recall_count > *q.max_recall_count) return false;
  if (p.needle && folds.search_text.find(*p.needle) == std::string::npos) return false;
  if (!any_in(folds.keywords, p.keywords)) return false;
  if (!any_in(folds.entities, p.entities)) return false;
  if (!any_in(folds.topics, p.topics)) return false;
  return metadata_matches(episode.metadata.custom_fields, q.metadata);
}

std::span<const EpisodeOrderKey> episode_order_keys(SortBy sort_by) {
  using K = EpisodeOrderKey;
  static constexpr K kTimestamp[] = {K::kTimestamp, K::kEpisodeId};
  static constexpr K kImportance[] = {K::kImportance, K::kEpisodeId};
  static constexpr K kRecallCount[] = {K::kRecallCount, K::kEpisodeId};
  static constexpr K kRelevance[] = {K::kImportance, K::kRecallCount, K::kTimestamp, K::kEpisodeId};
  switch (sort_by) {
    case SortBy::kImportance:
      return kImportance;
    case SortBy::kRecallCount:
      return kRecallCount;
    case SortBy::kRelevance:
      return kRelevance;
    case SortBy::kTimestamp:
      break;
  }
  return kTimestamp;
}

std::string episode_order_by(SortBy sort_by, SortOrder order, std::string_view prefix) {
  const std::string_view dir = order == SortOrder::kAsc ? " ASC" : " DESC";
  std::string out;
  for (const EpisodeOrderKey key : episode_order_keys(sort_by)) {
    if (!out.empty()) out += ", ";
    out += prefix;
    switch (key) {
      case EpisodeOrderKey::kTimestamp:
        out += "\"timestamp\"";
        break;
      case EpisodeOrderKey::kImportance:
        out += "importance_score";
        break;
      case EpisodeOrderKey::kRecallCount:
        out += "recall_count";
        break;
      case EpisodeOrderKey::kEpisodeId:
        out += "episode_id";
        break;
    }
    out += dir;
  }
  return out;
}

int compare_episodes(const Episode& a, const Episode& b, SortBy sort_by) {
  for (const EpisodeOrderKey key : episode_order_keys(sort_by)) {
    int c = 0;
    switch (key) {
      case EpisodeOrderKey::kTimestamp:
        c = three_way(a.temporal_info.timestamp, b.temporal_info.timestamp);
        break;
      case EpisodeOrderKey::kImportance:
        c = three_way(a.importance_score, b.importance_score);
        break;
      case EpisodeOrderKey::kRecallCount:
        c = three_way(a.recall_count, b.recall_count);
        break;
      case EpisodeOrderKey::kEpisodeId:
        c = compare_ids(a.episode_id, b.episode_id);
        break;
    }
    if (c != 0) return c;
  }
  return 0;
}

int compare_raw_events(const RawEvent& a, const RawEvent& b, SortBy /*sort_by*/) {
  const int c = three_way(a.temporal_info.timestamp, b.temporal_info.timestamp);
  return c != 0 ? c : compare_ids(a.data_id, b.data_id);
}

PageBounds page_bounds(std::size_t total, std::size_t offset, std::optional<std::size_t> limit) {
  PageBounds page;
  page.begin = std::min(offset, total);
  page.end = limit ? page.begin + std::min(*limit, total - page.begin) : total;
  return page;
}

}  // namespace nemori::detail
