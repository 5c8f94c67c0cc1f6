// EpisodeRepository of the memory backend.
#pragma once

#include "nemori/storage/repository.h"
#include "storage/memory/memory_store.h"

namespace nemori::detail {

/// Episodes and links held in a MemoryStore; see repository.h for the contract of every method.
class MemoryEpisodeRepository final : public EpisodeRepository {
 public:
  explicit MemoryEpisodeRepository(MemoryStore& store) : store_(store) {}

  void store(const Episode& episode) override;
  void store_batch(std::span<const Episode> episodes) override;
  std::optional<Episode> get(const std::string& episode_id) override;
  std::vector<std::optional<Episode>> get_batch(std::span<const std::string> ids) override;
  bool update(const Episode& episode) override;
  bool remove(const std::string& episode_id) override;
  EpisodeSearchResult search(const EpisodeQuery& query) override;
  bool update_importance(const std::string& episode_id, double importance) override;
  bool mark_accessed(const std::string& episode_id, Timestamp at) override;
  void link(const std::string& episode_id, std::span<const std::string> raw_data_ids) override;
  std::vector<std::string> raw_ids_for_episode(const std::string& episode_id) override;
  std::vector<Episode> episodes_for_raw(const std::string& raw_data_id) override;
  std::vector<EpisodeLink> links(const std::string& owner_id) override;
  std::size_t cleanup_before(Timestamp cutoff, const std::string& owner_id) override;
  std::size_t count(const std::string& owner_id) override;

 private:
  MemoryStore& store_;
};

}  // namespace nemori::detail
