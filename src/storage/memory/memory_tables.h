// The data of the memory backend: records plus the secondary indexes that serve its queries.
//
// Not thread-safe on its own: MemoryStore (memory_store.h) guards it with a shared mutex.
// Every mutator keeps every index consistent, including when an update moves a record to
// another owner, timestamp or processed state.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "storage/folding.h"

namespace nemori::detail {

/// Orders records by timestamp, then id (byte-wise).
using TimeKey = std::pair<Timestamp, std::string>;
/// Records in (timestamp, id) order.
using TimeIndex = std::set<TimeKey>;

/// A raw event with what the backend derives from it once.
struct StoredRawEvent {
  RawEvent event;
  std::string search_text;     ///< raw_search_text(event)
  std::uint64_t json_bytes{};  ///< Size of its JSON text, for stats.
};

/// An episode with what the backend derives from it once.
struct StoredEpisode {
  Episode episode;
  EpisodeFolds folds;
  std::uint64_t json_bytes{};  ///< Size of its JSON text, for stats.
};

/// What removing records took with them.
struct Removal {
  std::size_t records = 0;
  std::size_t links = 0;
};

/// Records and indexes of one memory store.
class MemoryTables {
 public:
  // ---- raw events ----

  /// The stored raw event, or null.
  const StoredRawEvent* find_raw(const std::string& data_id) const;
  /// Adds a validated event whose id is not stored yet.
  void insert_raw(const RawEvent& event);
  /// Replaces a stored event (same data_id), moving it between indexes as needed.
  void replace_raw(const RawEvent& event);
  /// Sets processed = true and the version of a stored event.
  void mark_processed(const std::string& data_id, const std::string& version);
  /// Removes an event and its links; returns what was removed (0 records when absent).
  Removal erase_raw(const std::string& data_id);
  /// All raw events, by (timestamp, id).
  const TimeIndex& raw_by_time() const { return raw_by_time_; }
  /// One owner's raw events by (timestamp, id), or null when it has none.
  const TimeIndex* raw_of_owner(const std::string& owner_id) const;
  /// Unprocessed raw events by (timestamp, id), of one owner (all when empty), or null.
  const TimeIndex* unprocessed(const std::string& owner_id) const;
  /// Number of raw events.
  std::size_t raw_count() const { return raw_.size(); }

  // ---- episodes ----

  /// The stored episode, or null.
  const StoredEpisode* find_episode(const std::string& episode_id) const;
  /// Adds a validated episode whose id is not stored yet.
  void insert_episode(const Episode& episode);
  /// Replaces a stored episode (same episode_id), moving it between indexes as needed.
  void replace_episode(const Episode& episode);
  /// Sets the importance of a stored episode.
  void set_importance(const std::string& episode_id, double importance);
  /// Increments recall_count and sets last_accessed of a stored episode.
  void mark_accessed(const std::string& episode_id, Timestamp at);
  /// Removes an episode and its links; returns what was removed (0 records when absent).
  Removal erase_episode(const std::string& episode_id);
  /// All episodes, by (timestamp, id).
  const TimeIndex& episodes_by_time() const { return episodes_by_time_; }
  /// One owner's episodes by (timestamp, id), or null when it has none.
  const TimeIndex* episodes_of_owner(const std::string& owner_id) const;
  /// Number of episodes.
  std::size_t episode_count() const { return episodes_.size(); }

  // ---- links ----

  /// Links a stored episode to a stored raw event; false when the pair was already linked.
  bool add_link(const std::string& episode_id, const std::string& raw_data_id);
  /// Raw ids linked to an episode (sorted by id), or null.
  const std::set<std::string>* raw_ids_of(const std::string& episode_id) const;
  /// Episode ids linked to a raw event (sorted by id), or null.
  const std::set<std::string>* episode_ids_of(const std::string& raw_data_id) const;
  /// Number of links.
  std::size_t link_count() const { return link_count_; }

  // ---- whole store ----

  /// Every owner with at least one raw event or episode, sorted byte-wise.
  std::vector<std::string> owners() const;
  /// Raw events per DataType (indexed by enum value).
  const std::array<std::size_t, 8>& raw_by_type() const { return raw_by_type_; }
  /// Episodes per EpisodeType (indexed by enum value).
  const std::array<std::size_t, 8>& episodes_by_type() const { return episodes_by_type_; }
  /// Episodes per level (index = level - 1).
  const std::array<std::size_t, 4>& episodes_by_level() const { return episodes_by_level_; }
  /// JSON size of every record plus the ids of every link.
  std::uint64_t data_bytes() const { return raw_bytes_ + episode_bytes_ + link_bytes_; }
  /// Estimated size of the secondary indexes.
  std::uint64_t index_bytes() const;

 private:
  void index_raw(const StoredRawEvent& stored);
  void unindex_raw(const StoredRawEvent& stored);
  void index_episode(const StoredEpisode& stored);
  void unindex_episode(const StoredEpisode& stored);
  std::size_t erase_links(std::unordered_map<std::string, std::set<std::string>>& forward,
                          std::unordered_map<std::string, std::set<std::string>>& backward,
                          const std::string& id);

  std::unordered_map<std::string, StoredRawEvent> raw_;
  TimeIndex raw_by_time_;
  std::map<std::string, TimeIndex> raw_by_owner_;
  TimeIndex unprocessed_;
  std::map<std::string, TimeIndex> unprocessed_by_owner_;
  std::array<std::size_t, 8> raw_by_type_{};
  std::uint64_t raw_bytes_ = 0;

  std::unordered_map<std::string, StoredEpisode> episodes_;
  TimeIndex episodes_by_time_;
  std::map<std::string, TimeIndex> episodes_by_owner_;
  std::array<std::size_t, 8> episodes_by_type_{};
  std::array<std::size_t, 4> episodes_by_level_{};
  std::uint64_t episode_bytes_ = 0;

  std::unordered_map<std::string, std::set<std::string>> episode_to_raw_;
  std::unordered_map<std::string, std::set<std::string>> raw_to_episodes_;
  std::size_t link_count_ = 0;
  std::uint64_t link_bytes_ = 0;
};

}  // namespace nemori::detail
