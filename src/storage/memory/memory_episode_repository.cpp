#include "storage/memory/memory_episode_repository.h"

#include <algorithm>
#include <chrono>

#include "nemori/core/error.h"
#include "storage/filter_eval.h"
#include "storage/record_validation.h"
#include "storage/write_batch.h"

namespace nemori::detail {

namespace {

DuplicateError duplicate_episode(const std::string& id) {
  return DuplicateError("episode \"" + id +
                        "\" already exists; use update() to change it (nothing was stored)");
}

double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

// Copies the episodes with these ids, ordered by (timestamp, id) ascending.
template <typename Ids>
std::vector<Episode> episodes_by_time(const MemoryTables& tables, const Ids& ids) {
  std::vector<const Episode*> found;
  for (const std::string& id : ids) {
    if (const StoredEpisode* stored = tables.find_episode(id)) found.push_back(&stored->episode);
  }
  std::sort(found.begin(), found.end(), [](const Episode* a, const Episode* b) {
    return episode_before(*a, *b, SortBy::kTimestamp, SortOrder::kAsc);
  });
  std::vector<Episode> out;
  out.reserve(found.size());
  for (const Episode* e : found) out.push_back(*e);
  return out;
}

}  // namespace

void MemoryEpisodeRepository::store(const Episode& episode) {
  validate_for_storage(episode);
  auto lock = store_.write();
  if (store_.tables().find_episode(episode.episode_id) != nullptr) {
    throw duplicate_episode(episode.episode_id);
  }
  store_.tables().insert_episode(episode);
}

void MemoryEpisodeRepository::store_batch(std::span<const Episode> episodes) {
  if (episodes.empty()) return;
  validate_batch_for_storage(episodes);
  auto lock = store_.write();
  MemoryTables& tables = store_.tables();
  for (const Episode& episode : episodes) {
    if (tables.find_episode(episode.episode_id) != nullptr) {
      throw duplicate_episode(episode.episode_id);
    }
  }
  for (const Episode& episode : episodes) tables.insert_episode(episode);
}

std::optional<Episode> MemoryEpisodeRepository::get(const std::string& episode_id) {
  auto lock = store_.read();
  const StoredEpisode* stored = store_.tables().find_episode(episode_id);
  if (stored == nullptr) return std::nullopt;
  return stored->episode;
}

std::vector<std::optional<Episode>> MemoryEpisodeRepository::get_batch(
    std::span<const std::string> ids) {
  auto lock = store_.read();
  std::vector<std::optional<Episode>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    const StoredEpisode* stored = store_.tables().find_episode(id);
    out.push_back(stored == nullptr ? std::nullopt : std::optional<Episode>(stored->episode));
  }
  return out;
}

bool MemoryEpisodeRepository::update(const Episode& episode) {
  validate_for_storage(episode);
  auto lock = store_.write();
  if (store_.tables().find_episode(episode.episode_id) == nullptr) return false;
  store_.tables().replace_episode(episode);
  return true;
}

bool MemoryEpisodeRepository::remove(const std::string& episode_id) {
  auto lock = store_.write();
  return store_.tables().erase_episode(episode_id).records > 0;
}

EpisodeSearchResult MemoryEpisodeRepository::search(const EpisodeQuery& query) {
  const auto start = std::chrono::steady_clock::now();
  validate(query);
  if (query.full_text) {
    throw UnsupportedBackendError(
        "full_text search needs the postgresql backend; use the retrieval layer's BM25 "
        "(MemorySystem::search) or text_search instead");
  }
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  const PreparedEpisodeQuery prepared = prepare(query, now_utc());

  std::vector<const Episode*> hits;
  auto consider = [&](const std::string& id) {
    const StoredEpisode* stored = tables.find_episode(id);
    if (stored != nullptr && matches(stored->episode, stored->folds, prepared)) {
      hits.push_back(&stored->episode);
    }
  };
  if (!prepared.episode_ids.empty()) {
    for (const std::string& id : prepared.episode_ids) consider(id);
  } else if (!prepared.owner_ids.empty()) {
    for (const std::string& owner : prepared.owner_ids) {
      if (const TimeIndex* index = tables.episodes_of_owner(owner)) {
        for (const auto& key : *index) consider(key.second);
      }
    }
  } else {
    for (const auto& key : tables.episodes_by_time()) consider(key.second);
  }

  const PageBounds page = page_bounds(hits.size(), query.offset, query.limit);
  auto before = [&](const Episode* a, const Episode* b) {
    return episode_before(*a, *b, query.sort_by, query.sort_order);
  };
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(page.end), hits.end(),
                    before);

  EpisodeSearchResult result;
  result.episodes.reserve(page.end - page.begin);
  for (std::size_t i = page.begin; i < page.end; ++i) result.episodes.push_back(*hits[i]);
  result.total_count = hits.size();
  result.has_more = query.offset + result.episodes.size() < result.total_count;
  result.query_time_ms = elapsed_ms(start);
  return result;
}

bool MemoryEpisodeRepository::update_importance(const std::string& episode_id, double importance) {
  auto lock = store_.write();
  if (store_.tables().find_episode(episode_id) == nullptr) return false;
  store_.tables().set_importance(episode_id, clamp_importance(importance));
  return true;
}

bool MemoryEpisodeRepository::mark_accessed(const std::string& episode_id, Timestamp at) {
  auto lock = store_.write();
  if (store_.tables().find_episode(episode_id) == nullptr) return false;
  store_.tables().mark_accessed(episode_id, at);
  return true;
}

void MemoryEpisodeRepository::link(const std::string& episode_id,
                                   std::span<const std::string> raw_data_ids) {
  auto lock = store_.write();
  MemoryTables& tables = store_.tables();
  const StoredEpisode* episode = tables.find_episode(episode_id);
  if (episode == nullptr) {
    throw NotFoundError("episode \"" + episode_id +
                        "\" does not exist; store it before linking (nothing was linked)");
  }
  for (const std::string& raw_id : raw_data_ids) {
    const StoredRawEvent* raw = tables.find_raw(raw_id);
    if (raw == nullptr) {
      throw NotFoundError("raw event \"" + raw_id +
                          "\" does not exist; store it before linking (nothing was linked)");
    }
    if (raw->event.owner_id != episode->episode.owner_id) {
      throw cross_owner_link(episode_id, episode->episode.owner_id, raw_id, raw->event.owner_id);
    }
  }
  for (const std::string& raw_id : raw_data_ids) tables.add_link(episode_id, raw_id);
}

std::vector<std::string> MemoryEpisodeRepository::raw_ids_for_episode(
    const std::string& episode_id) {
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  std::vector<const RawEvent*> events;
  if (const auto* ids = tables.raw_ids_of(episode_id)) {
    for (const std::string& id : *ids) {
      if (const StoredRawEvent* stored = tables.find_raw(id)) events.push_back(&stored->event);
    }
  }
  std::sort(events.begin(), events.end(), [](const RawEvent* a, const RawEvent* b) {
    return raw_event_before(*a, *b, SortBy::kTimestamp, SortOrder::kAsc);
  });
  std::vector<std::string> out;
  out.reserve(events.size());
  for (const RawEvent* e : events) out.push_back(e->data_id);
  return out;
}

std::vector<Episode> MemoryEpisodeRepository::episodes_for_raw(const std::string& raw_data_id) {
  auto lock = store_.read();
  const auto* ids = store_.tables().episode_ids_of(raw_data_id);
  if (ids == nullptr) return {};
  return episodes_by_time(store_.tables(), *ids);
}

std::vector<EpisodeLink> MemoryEpisodeRepository::links(const std::string& owner_id) {
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  const TimeIndex* index =
      owner_id.empty() ? &tables.episodes_by_time() : tables.episodes_of_owner(owner_id);
  std::vector<EpisodeLink> out;
  if (index == nullptr) return out;
  std::vector<const std::string*> episode_ids;
  episode_ids.reserve(index->size());
  for (const auto& key : *index) episode_ids.push_back(&key.second);
  std::sort(episode_ids.begin(), episode_ids.end(),
            [](const std::string* a, const std::string* b) { return *a < *b; });
  for (const std::string* episode_id : episode_ids) {
    if (const auto* raw_ids = tables.raw_ids_of(*episode_id)) {
      for (const std::string& raw_id : *raw_ids) out.push_back(EpisodeLink{*episode_id, raw_id});
    }
  }
  return out;
}

std::size_t MemoryEpisodeRepository::cleanup_before(Timestamp cutoff, const std::string& owner_id) {
  auto lock = store_.write();
  MemoryTables& tables = store_.tables();
  const TimeIndex* index =
      owner_id.empty() ? &tables.episodes_by_time() : tables.episodes_of_owner(owner_id);
  if (index == nullptr) return 0;
  std::vector<std::string> doomed;
  for (auto it = index->begin(); it != index->end() && it->first < cutoff; ++it) {
    doomed.push_back(it->second);
  }
  for (const std::string& id : doomed) tables.erase_episode(id);
  return doomed.size();
}

std::size_t MemoryEpisodeRepository::count(const std::string& owner_id) {
  auto lock = store_.read();
  if (owner_id.empty()) return store_.tables().episode_count();
  const TimeIndex* index = store_.tables().episodes_of_owner(owner_id);
  return index == nullptr ? 0 : index->size();
}

}  // namespace nemori::detail
