// EpisodeRepository on DuckDB.
#pragma once

#include "nemori/storage/repository.h"
#include "storage/duckdb/store_context.h"

namespace nemori::detail::duck {

/// Episodes in the episodes table and their links in episode_raw_data. Semantics are those
/// of repository.h and query.h.
class DuckDbEpisodeRepository final : public EpisodeRepository {
 public:
  /// A repository over `context` (which must outlive it).
  explicit DuckDbEpisodeRepository(StoreContext& context) : ctx_(context) {}

  /// Validates, then inserts one episode.
  void store(const Episode& episode) override;
  /// Validates all, then appends all in one transaction.
  void store_batch(std::span<const Episode> episodes) override;
  /// Point lookup by primary key.
  std::optional<Episode> get(const std::string& episode_id) override;
  /// One query for all ids; results in input order.
  std::vector<std::optional<Episode>> get_batch(std::span<const std::string> ids) override;
  /// Replaces the row; links follow the new owner.
  bool update(const Episode& episode) override;
  /// Deletes the row and its links.
  bool remove(const std::string& episode_id) override;
  /// Page query plus, when needed, a COUNT, in one snapshot.
  EpisodeSearchResult search(const EpisodeQuery& query) override;
  /// One UPDATE of the clamped value.
  bool update_importance(const std::string& episode_id, double importance) override;
  /// recall_count + 1 in SQL (writers are serialised).
  bool mark_accessed(const std::string& episode_id, Timestamp at) override;
  /// Checks both sides exist, inserts the missing pairs.
  void link(const std::string& episode_id, std::span<const std::string> raw_data_ids) override;
  /// Joined with raw_data for the order.
  std::vector<std::string> raw_ids_for_episode(const std::string& episode_id) override;
  /// Episodes joined through the link table.
  std::vector<Episode> episodes_for_raw(const std::string& raw_data_id) override;
  /// Link rows of one owner (or all), ordered.
  std::vector<EpisodeLink> links(const std::string& owner_id) override;
  /// Deletes old episodes and their links in one transaction.
  std::size_t cleanup_before(Timestamp cutoff, const std::string& owner_id) override;
  /// COUNT(*) of one owner or all.
  std::size_t count(const std::string& owner_id) override;

 private:
  StoreContext& ctx_;
};

}  // namespace nemori::detail::duck
