// The reference, in-process implementation of the query semantics of query.h.
//
// The memory backend evaluates queries with exactly these functions; the SQL backends must
// return the same rows in the same order. Each rule, in SQL terms:
//
// - Lists (ids, owners, types, levels, sources): `col IN (...)`, skipped when the list is empty.
// - keywords / entities / topics: the query values are folded (fold_case) and an episode
//   matches when any folded element equals any folded query value (`folded_col && $folded`).
// - text_search / content_contains: fold_case(needle) is a byte-wise substring of the stored
//   folded text (folding.h): `strpos(search_text, $needle) > 0` / `contains(...)`. No LIKE, so
//   `%`, `_` and `\` are plain characters. An empty needle matches every row.
// - metadata: every filter key is present at the top level of the object with a JSON-equal
//   value (json_values_equal): numbers by exact value (1 == 1.0, 1 != "1"), strings byte-wise.
// - time_range: start <= timestamp <= end. recent_hours: timestamp >= now - hours * 3600 s
//   (now read once per query).
// - importance / recall bounds: inclusive.
// - Order (compare_*): the sort key, then ... then the id, all in the query's direction; ids
//   and other text compare byte-wise (PostgreSQL: COLLATE "C"). Episodes:
//     kTimestamp   -> timestamp, episode_id
//     kImportance  -> importance_score, episode_id
//     kRecallCount -> recall_count, episode_id
//     kRelevance   -> importance_score, recall_count, timestamp, episode_id
//   Raw events: kTimestamp and kRelevance -> timestamp, data_id.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "nemori/storage/query.h"
#include "storage/folding.h"

namespace nemori::detail {

/// JSON equality for metadata filters: like ==, except that numbers compare by exact value
/// whatever their representation (1 == 1.0 == 1u; 1.5 != 1; a string never equals a number).
/// Applies recursively inside arrays and objects.
bool json_values_equal(const nlohmann::json& a, const nlohmann::json& b);

/// True when `object` is a JSON object holding every key of `filter` with an equal value.
/// An empty filter matches everything.
bool metadata_matches(const nlohmann::json& object, const nlohmann::json& filter);

/// The cutoff of recent_hours: now - hours.
Timestamp recent_cutoff(Timestamp now, int hours);

/// A RawDataQuery with its needles prepared once; keeps a reference to the query.
struct PreparedRawQuery {
  const RawDataQuery& query;
  std::unordered_set<std::string> data_ids;
  std::unordered_set<std::string> owner_ids;
  std::unordered_set<std::string> sources;
  std::optional<std::string> needle;  ///< folded content_contains
  std::optional<Timestamp> recent_cutoff;
};

/// Prepares `query` (which must outlive the result), reading the clock once for recent_hours.
PreparedRawQuery prepare(const RawDataQuery& query, Timestamp now);

/// True when `event`, whose raw_search_text is `search_text`, passes every filter.
bool matches(const RawEvent& event, std::string_view search_text, const PreparedRawQuery& query);

/// An EpisodeQuery with its needles folded once; keeps a reference to the query.
struct PreparedEpisodeQuery {
  const EpisodeQuery& query;
  std::unordered_set<std::string> episode_ids;
  std::unordered_set<std::string> owner_ids;
  std::optional<std::string> needle;  ///< folded text_search
  std::unordered_set<std::string> keywords;
  std::unordered_set<std::string> entities;
  std::unordered_set<std::string> topics;
  std::optional<Timestamp> recent_cutoff;
};

/// Prepares `query` (which must outlive the result), reading the clock once for recent_hours.
PreparedEpisodeQuery prepare(const EpisodeQuery& query, Timestamp now);

/// True when `episode`, whose folded forms are `folds`, passes every filter (full_text is not
/// evaluated here).
bool matches(const Episode& episode, const EpisodeFolds& folds, const PreparedEpisodeQuery& query);

/// A column episodes are ordered by.
enum class EpisodeOrderKey { kTimestamp, kImportance, kRecallCount, kEpisodeId };

/// The columns episodes are ordered by for `sort_by`, most significant first, each in the
/// query's sort_order, always ending with the episode id (a total order). kRelevance is
/// importance, recall count, timestamp, id. The one definition of the order: compare_episodes
/// and the backends' ORDER BY (episode_order_by) read it.
std::span<const EpisodeOrderKey> episode_order_keys(SortBy sort_by);

/// The SQL ORDER BY list of episode_order_keys(sort_by) in `order`, each column name prefixed
/// with `prefix` (e.g. "e."): importance_score, recall_count, "timestamp", episode_id.
std::string episode_order_by(SortBy sort_by, SortOrder order, std::string_view prefix = "");

/// Three-way comparison in ascending order of `sort_by`'s key tuple (ending with the id):
/// negative when `a` comes first, 0 only for the same id.
int compare_episodes(const Episode& a, const Episode& b, SortBy sort_by);
/// The same for raw events (kImportance and kRecallCount fall back to timestamp order; the
/// query validation rejects them before).
int compare_raw_events(const RawEvent& a, const RawEvent& b, SortBy sort_by);

/// True when `a` is listed before `b` for this sort key and direction.
inline bool episode_before(const Episode& a, const Episode& b, SortBy sort_by, SortOrder order) {
  const int c = compare_episodes(a, b, sort_by);
  return order == SortOrder::kAsc ? c < 0 : c > 0;
}
/// True when `a` is listed before `b` for this sort key and direction.
inline bool raw_event_before(const RawEvent& a, const RawEvent& b, SortBy sort_by,
                             SortOrder order) {
  const int c = compare_raw_events(a, b, sort_by);
  return order == SortOrder::kAsc ? c < 0 : c > 0;
}

/// The [begin, end) indexes of one page over `total` sorted matches.
struct PageBounds {
  std::size_t begin = 0;
  std::size_t end = 0;
};
/// Applies offset, then limit (unset = all). has_more is offset + (end - begin) < total.
PageBounds page_bounds(std::size_t total, std::size_t offset, std::optional<std::size_t> limit);

}  // namespace nemori::detail
