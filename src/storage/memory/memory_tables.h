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
#include "nemori/core/statement.h"
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

/// A statement (with its sources, in the order they were added) and what the backend derives
/// from it once.
struct StoredStatement {
  Statement statement;
  std::string search_text;     ///< fold_case(content)
  std::uint64_t json_bytes{};  ///< Size of its JSON text, for stats.
};

/// What removing records took with them.
struct Removal {
  std::size_t records = 0;
  std::size_t links = 0;
  std::size_t statements = 0;  ///< Statements left without a source, removed.
  std::size_t reopened = 0;    ///< Statements those had closed, reopened (and still stored).
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
  /// Removes an episode and its links, progress and source rows, then the statements left
  /// without a source, reopening the statements those had closed; returns what was removed
  /// (0 records when absent).
  Removal erase_episode(const std::string& episode_id);
  /// The same for several episodes at once (absent ids are skipped): a statement is removed
  /// when none of its sources survives, and only surviving statements count as reopened.
  Removal erase_episodes(const std::vector<std::string>& episode_ids);
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

  // ---- statements (memory_statement_tables.cpp) ----

  /// The stored statement, or null.
  const StoredStatement* find_statement(const std::string& statement_id) const;
  /// Adds a validated statement whose id is not stored yet, with its source rows (its episodes
  /// are stored and of its owner).
  void insert_statement(const Statement& statement);
  /// Replaces every field of a stored statement but its sources.
  void replace_statement(const Statement& statement);
  /// Adds a source row; false when the pair existed already.
  bool add_statement_source(const std::string& statement_id, const std::string& episode_id);
  /// Every source row (s, from) becomes (s, to), in place; a pair that exists already stays
  /// one. Statements losing their last source cannot happen here (to is stored).
  void move_statement_sources(const std::string& from_episode_id, const std::string& to_episode_id);
  /// Removes a statement and its source rows and reopens the statements it closed; returns
  /// how many were reopened, or nullopt when it was not stored.
  std::optional<std::size_t> erase_statement(const std::string& statement_id);
  /// All statements by (valid_from, id).
  const TimeIndex& statements_by_time() const { return statements_by_time_; }
  /// One owner's statements by (valid_from, id), or null when it has none.
  const TimeIndex* statements_of_owner(const std::string& owner_id) const;
  /// Statements an episode supports (sorted by id), or null.
  const std::set<std::string>* statements_of_episode(const std::string& episode_id) const;
  /// Statements whose superseded_by is `statement_id` (sorted by id), or null.
  const std::set<std::string>* closed_by(const std::string& statement_id) const;
  /// Number of statements.
  std::size_t statement_count() const { return statements_.size(); }
  /// Number of source rows.
  std::size_t statement_source_count() const { return source_count_; }

  // ---- semantic progress (memory_statement_tables.cpp) ----

  /// The progress row of an episode, or null.
  const SemanticProgress* find_progress(const std::string& episode_id) const;
  /// Inserts or replaces the progress row of a stored episode.
  void upsert_progress(const SemanticProgress& progress);
  /// Every progress row, by episode_id.
  const std::map<std::string, SemanticProgress>& progress_rows() const { return progress_; }
  /// Episode ids of one owner's progress rows (sorted), or null.
  const std::set<std::string>* progress_of_owner(const std::string& owner_id) const;
  /// Episodes whose custom_fields has "merged_from".
  std::size_t merged_episode_count() const { return merged_episodes_; }

  // ---- whole store ----

  /// Every owner with at least one raw event or episode, sorted byte-wise.
  std::vector<std::string> owners() const;
  /// Raw events per DataType (indexed by enum value).
  const std::array<std::size_t, 8>& raw_by_type() const { return raw_by_type_; }
  /// Episodes per EpisodeType (indexed by enum value).
  const std::array<std::size_t, 8>& episodes_by_type() const { return episodes_by_type_; }
  /// Episodes per level (index = level - 1).
  const std::array<std::size_t, 4>& episodes_by_level() const { return episodes_by_level_; }
  /// JSON size of every record plus the ids of every link and source row.
  std::uint64_t data_bytes() const {
    return raw_bytes_ + episode_bytes_ + link_bytes_ + statement_bytes_;
  }
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
  void index_statement(const StoredStatement& stored);
  void unindex_statement(const StoredStatement& stored);
  void erase_progress(const std::string& episode_id);
  // Removes the source rows of an episode; returns the statements that lost one.
  std::vector<std::string> erase_sources_of(const std::string& episode_id);

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

  std::unordered_map<std::string, StoredStatement> statements_;
  TimeIndex statements_by_time_;                       // (valid_from, id)
  std::map<std::string, TimeIndex> statements_by_owner_;  // (valid_from, id)
  std::unordered_map<std::string, std::set<std::string>> statements_of_episode_;
  std::unordered_map<std::string, std::set<std::string>> closed_by_;  // closer -> closed
  std::size_t source_count_ = 0;
  std::uint64_t statement_bytes_ = 0;

  std::map<std::string, SemanticProgress> progress_;
  std::map<std::string, std::set<std::string>> progress_by_owner_;
  std::size_t merged_episodes_ = 0;
};

}  // namespace nemori::detail
