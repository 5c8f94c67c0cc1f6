// The memory backend: both repositories over one MemoryStore, plus lifecycle and statistics.
#include <chrono>

#include "nemori/core/error.h"
#include "storage/backends.h"
#include "storage/memory/memory_episode_repository.h"
#include "storage/memory/memory_raw_repository.h"
#include "storage/memory/memory_store.h"
#include "storage/write_batch.h"

namespace nemori::detail {

namespace {

/// A Storage whose data lives in this process only; lost when it is closed or destroyed.
class MemoryStorage final : public Storage {
 public:
  explicit MemoryStorage(const StorageConfig& config)
      : store_(config), raw_(store_), episodes_(store_) {}

  std::string backend() const override { return "memory"; }
  RawDataRepository& raw_data() override { return raw_; }
  EpisodeRepository& episodes() override { return episodes_; }

  OwnerDeletion delete_owner(const std::string& owner_id) override {
    if (owner_id.empty()) {
      throw ValidationError("owner_id", "is required (delete_owner never means every owner)");
    }
    auto lock = store_.write();
    return erase_owner(store_.tables(), owner_id);
  }

  // Everything is checked under the write lock before the first change, and the changes
  // themselves cannot fail, so a batch is applied whole or not at all.
  WriteBatchResult apply(const WriteBatch& batch) override {
    WriteBatchResult result;
    if (empty_batch(batch)) return result;
    validate_write_batch(batch, store_.config().max_content_bytes);
    auto lock = store_.write();
    MemoryTables& tables = store_.tables();
    StoredRecords stored;
    const WriteBatchIds ids = ids_named_by(batch);
    for (const std::string& id : ids.raw) {
      if (const StoredRawEvent* raw = tables.find_raw(id)) {
        stored.raw_owner.emplace(id, raw->event.owner_id);
      }
    }
    if (batch.skip_identical_raw_events) {
      for (const RawEvent& event : batch.raw_events) {
        if (const StoredRawEvent* raw = tables.find_raw(event.data_id)) {
          stored.raw.emplace(event.data_id, raw->event);
        }
      }
    }
    for (const std::string& id : ids.episodes) {
      if (const StoredEpisode* episode = tables.find_episode(id)) {
        stored.episode_owner.emplace(id, episode->episode.owner_id);
      }
    }
    const std::vector<bool> store = check_write_batch(batch, stored);

    for (const std::string& owner : batch.delete_owners) {
      const OwnerDeletion d = erase_owner(tables, owner);
      result.deleted.raw_events += d.raw_events;
      result.deleted.episodes += d.episodes;
      result.deleted.links += d.links;
    }
    for (std::size_t i = 0; i < batch.raw_events.size(); ++i) {
      if (store[i]) {
        tables.insert_raw(batch.raw_events[i]);
        ++result.raw_events_stored;
      } else {
        result.raw_already_stored.push_back(batch.raw_events[i].data_id);
      }
    }
    for (const Episode& episode : batch.episodes) tables.insert_episode(episode);
    result.episodes_stored = batch.episodes.size();
    for (const EpisodeLink& link : batch.links) {
      if (tables.add_link(link.episode_id, link.raw_data_id)) ++result.links_added;
    }
    for (const std::string& id : batch.processed_ids) {
      tables.mark_processed(id, batch.processed_version);
    }
    return result;
  }

 private:
  static OwnerDeletion erase_owner(MemoryTables& tables, const std::string& owner_id) {
    OwnerDeletion deleted;
    for (const std::string& id : ids_of(tables.raw_of_owner(owner_id))) {
      const Removal removal = tables.erase_raw(id);
      deleted.raw_events += removal.records;
      deleted.links += removal.links;
    }
    for (const std::string& id : ids_of(tables.episodes_of_owner(owner_id))) {
      const Removal removal = tables.erase_episode(id);
      deleted.episodes += removal.records;
      deleted.links += removal.links;
    }
    return deleted;
  }

 public:
  std::vector<std::string> list_owners() override {
    auto lock = store_.read();
    return store_.tables().owners();
  }

  HealthStatus health() override {
    const auto start = std::chrono::steady_clock::now();
    HealthStatus status;
    if (store_.closed()) {
      status.reason = "the storage is closed";
    } else {
      status.healthy = true;
    }
    status.latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return status;
  }

  StorageStats stats() override {
    auto lock = store_.read();
    const MemoryTables& tables = store_.tables();
    StorageStats stats;
    stats.backend = "memory";
    stats.owners = tables.owners().size();
    stats.total_raw_data = tables.raw_count();
    stats.processed_raw_data = tables.raw_count() - tables.unprocessed("")->size();
    for (DataType type : kAllDataTypes) {
      const std::size_t n = tables.raw_by_type()[static_cast<std::size_t>(type)];
      if (n > 0) stats.raw_data_by_type[std::string(to_string(type))] = n;
    }
    stats.total_episodes = tables.episode_count();
    for (EpisodeType type : kAllEpisodeTypes) {
      const std::size_t n = tables.episodes_by_type()[static_cast<std::size_t>(type)];
      if (n > 0) stats.episodes_by_type[std::string(to_string(type))] = n;
    }
    for (EpisodeLevel level : kAllEpisodeLevels) {
      const std::size_t n = tables.episodes_by_level()[static_cast<std::size_t>(level) - 1];
      if (n > 0) stats.episodes_by_level[static_cast<int>(level)] = n;
    }
    stats.total_links = tables.link_count();
    stats.storage_size_bytes = tables.data_bytes();
    stats.index_size_bytes = tables.index_bytes();
    const TimeIndex& raw = tables.raw_by_time();
    const TimeIndex& eps = tables.episodes_by_time();
    if (!raw.empty()) {
      stats.oldest_data = raw.begin()->first;
      stats.newest_data = raw.rbegin()->first;
    }
    if (!eps.empty()) {
      if (!stats.oldest_data || eps.begin()->first < *stats.oldest_data) {
        stats.oldest_data = eps.begin()->first;
      }
      if (!stats.newest_data || eps.rbegin()->first > *stats.newest_data) {
        stats.newest_data = eps.rbegin()->first;
      }
    }
    stats.details = {{"storage_size_is_estimate", true},
                     {"max_content_bytes", store_.config().max_content_bytes}};
    return stats;
  }

  void close() override { store_.close(); }

 private:
  static std::vector<std::string> ids_of(const TimeIndex* index) {
    std::vector<std::string> ids;
    if (index == nullptr) return ids;
    ids.reserve(index->size());
    for (const auto& key : *index) ids.push_back(key.second);
    return ids;
  }

  MemoryStore store_;
  MemoryRawRepository raw_;
  MemoryEpisodeRepository episodes_;
};

}  // namespace

std::unique_ptr<Storage> open_memory_storage(const StorageConfig& config) {
  return std::make_unique<MemoryStorage>(config);
}

}  // namespace nemori::detail
