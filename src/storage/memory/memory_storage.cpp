// The memory backend: the three repositories over one MemoryStore, plus lifecycle and
// statistics.
#include <chrono>

#include "nemori/core/error.h"
#include "storage/backends.h"
#include "storage/memory/memory_episode_repository.h"
#include "storage/memory/memory_raw_repository.h"
#include "storage/memory/memory_statement_repository.h"
#include "storage/memory/memory_store.h"
#include "storage/write_batch.h"

namespace nemori::detail {

namespace {

/// A Storage whose data lives in this process only; lost when it is closed or destroyed.
class MemoryStorage final : public Storage {
 public:
  explicit MemoryStorage(const StorageConfig& config)
      : store_(config), raw_(store_), episodes_(store_), statements_(store_) {}

  std::string backend() const override { return "memory"; }
  RawDataRepository& raw_data() override { return raw_; }
  EpisodeRepository& episodes() override { return episodes_; }
  SemanticMemoryRepository& statements() override { return statements_; }

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
    look_up_statements(tables, batch, ids, stored);
    const std::vector<bool> store = check_write_batch(batch, stored);

    for (const std::string& owner : batch.delete_owners) {
      const OwnerDeletion d = erase_owner(tables, owner);
      result.deleted.raw_events += d.raw_events;
      result.deleted.episodes += d.episodes;
      result.deleted.links += d.links;
      result.deleted.statements += d.statements;
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
    apply_semantic_steps(tables, batch, result);
    return result;
  }

 private:
  // What check_write_batch needs to know about the statements a batch names.
  static void look_up_statements(const MemoryTables& tables, const WriteBatch& batch,
                                 const WriteBatchIds& ids, StoredRecords& stored) {
    for (const std::string& id : ids.statements) {
      if (const StoredStatement* s = tables.find_statement(id)) {
        stored.statement_owner.emplace(id, s->statement.owner_id);
      }
    }
    for (const Statement& update : batch.statement_updates) {
      if (const StoredStatement* s = tables.find_statement(update.statement_id)) {
        stored.statements.emplace(update.statement_id, s->statement);
      }
    }
    for (const std::string& episode : ids.source_episodes) {
      const auto* supported = tables.statements_of_episode(episode);
      if (supported == nullptr) continue;
      for (const std::string& id : *supported) {
        if (const StoredStatement* s = tables.find_statement(id)) {
          stored.statement_sources.emplace(id, s->statement.source_episode_ids);
        }
      }
    }
  }

  // The steps after processed_ids, in WriteBatch's order (already checked).
  static void apply_semantic_steps(MemoryTables& tables, const WriteBatch& batch,
                                   WriteBatchResult& result) {
    for (const SourceMove& move : batch.source_moves) {
      tables.move_statement_sources(move.from_episode_id, move.to_episode_id);
    }
    if (!batch.delete_episodes.empty()) {
      const Removal removal = tables.erase_episodes(batch.delete_episodes);
      result.episodes_deleted = removal.records;
      result.statements_removed = removal.statements;
      result.statements_reopened = removal.reopened;
    }
    for (const Statement& statement : batch.statements) tables.insert_statement(statement);
    result.statements_stored = batch.statements.size();
    for (const Statement& update : batch.statement_updates) tables.replace_statement(update);
    result.statements_updated = batch.statement_updates.size();
    for (const StatementSource& source : batch.statement_sources) {
      if (tables.add_statement_source(source.statement_id, source.episode_id))
        ++result.sources_added;
    }
    for (const SemanticProgress& progress : batch.semantic_progress)
      tables.upsert_progress(progress);
  }

  static OwnerDeletion erase_owner(MemoryTables& tables, const std::string& owner_id) {
    OwnerDeletion deleted;
    for (const std::string& id : ids_of(tables.raw_of_owner(owner_id))) {
      const Removal removal = tables.erase_raw(id);
      deleted.raw_events += removal.records;
      deleted.links += removal.links;
    }
    const Removal removal = tables.erase_episodes(ids_of(tables.episodes_of_owner(owner_id)));
    deleted.episodes = removal.records;
    deleted.links += removal.links;
    deleted.statements = removal.statements;
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
    add_semantic_stats(tables, stats);
    stats.details = {{"storage_size_is_estimate", true},
                     {"max_content_bytes", store_.config().max_content_bytes}};
    return stats;
  }

  void close() override { store_.close(); }

 private:
  static void add_semantic_stats(const MemoryTables& tables, StorageStats& stats) {
    for (const auto& key : tables.statements_by_time()) {
      const StoredStatement* stored = tables.find_statement(key.second);
      if (stored == nullptr) continue;
      const Statement& s = stored->statement;
      ++(s.current() ? stats.statements_current : stats.statements_superseded);
      ++stats.statements_by_category[std::string(to_string(s.category))];
    }
    stats.statement_sources = tables.statement_source_count();
    stats.merged_episodes = tables.merged_episode_count();
    stats.semantic_usage = {
        {"semantic_calls", 0}, {"semantic_tokens", 0}, {"merge_calls", 0}, {"merge_tokens", 0}};
    for (const auto& [id, p] : tables.progress_rows()) {
      ++stats.semantic_progress[std::string(to_string(p.state))];
      stats.semantic_usage["semantic_calls"] += p.semantic_calls;
      stats.semantic_usage["semantic_tokens"] += p.semantic_tokens;
      stats.semantic_usage["merge_calls"] += p.merge_calls;
      stats.semantic_usage["merge_tokens"] += p.merge_tokens;
    }
  }

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
  MemoryStatementRepository statements_;
};

}  // namespace

std::unique_ptr<Storage> open_memory_storage(const StorageConfig& config) {
  return std::make_unique<MemoryStorage>(config);
}

}  // namespace nemori::detail
