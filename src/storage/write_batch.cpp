#include "storage/write_batch.h"

#include <set>
#include <unordered_set>
#include <utility>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"
#include "storage/record_validation.h"

namespace nemori::detail {

namespace {

std::string item(std::string_view step, std::size_t index) {
  return std::string(step) + "[" + std::to_string(index) + "]";
}

std::string quoted(const std::string& text) {
  return "\"" + text + "\"";
}

// Rethrows a ValidationError of one item with the item named in front.
template <typename Check>
void check_item(const std::string& where, Check check) {
  try {
    check();
  } catch (const ValidationError& e) {
    throw ValidationError(where + ": " + e.what() + " (nothing was written)");
  }
}

// Throws DuplicateError when two items of one step share an id.
template <typename Record, typename IdOf>
void reject_repeats(const std::vector<Record>& records, IdOf id_of, std::string_view step,
                    std::string_view key) {
  std::unordered_map<std::string_view, std::size_t> first_seen;
  first_seen.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto [it, inserted] = first_seen.emplace(id_of(records[i]), i);
    if (!inserted) {
      throw DuplicateError(item(step, i) + ": " + std::string(key) + " " +
                           quoted(std::string(it->first)) + " appears twice in the batch (also " +
                           item(step, it->second) + "); nothing was written");
    }
  }
}

}  // namespace

bool same_raw_data(const RawEvent& a, const RawEvent& b) {
  return a.data_id == b.data_id && a.owner_id == b.owner_id && a.data_type == b.data_type &&
         a.content == b.content && a.source == b.source && a.temporal_info == b.temporal_info &&
         a.metadata == b.metadata;
}

ValidationError cross_owner_link(const std::string& episode_id, const std::string& episode_owner,
                                 const std::string& raw_data_id, const std::string& raw_owner) {
  return ValidationError("episode " + quoted(episode_id) + " of owner " + quoted(episode_owner) +
                         " cannot link raw event " + quoted(raw_data_id) + " of owner " +
                         quoted(raw_owner) + " (links never cross owners; nothing was linked)");
}

bool empty_batch(const WriteBatch& batch) {
  return batch.delete_owners.empty() && batch.raw_events.empty() && batch.episodes.empty() &&
         batch.links.empty() && batch.processed_ids.empty();
}

void validate_write_batch(const WriteBatch& batch, std::size_t max_content_bytes) {
  for (std::size_t i = 0; i < batch.delete_owners.size(); ++i) {
    if (batch.delete_owners[i].empty()) {
      throw ValidationError(item("delete_owners", i) +
                            ": owner_id is required (an empty owner never means every owner)");
    }
  }
  for (std::size_t i = 0; i < batch.raw_events.size(); ++i) {
    const RawEvent& event = batch.raw_events[i];
    check_item(item("raw_events", i) + " (data_id " + quoted(event.data_id) + ")",
               [&] { validate_for_storage(event, max_content_bytes); });
  }
  reject_repeats(
      batch.raw_events, [](const RawEvent& e) -> std::string_view { return e.data_id; },
      "raw_events", "data_id");
  for (std::size_t i = 0; i < batch.episodes.size(); ++i) {
    const Episode& episode = batch.episodes[i];
    check_item(item("episodes", i) + " (episode_id " + quoted(episode.episode_id) + ")",
               [&] { validate_for_storage(episode); });
  }
  reject_repeats(
      batch.episodes, [](const Episode& e) -> std::string_view { return e.episode_id; }, "episodes",
      "episode_id");
  for (std::size_t i = 0; i < batch.links.size(); ++i) {
    const EpisodeLink& link = batch.links[i];
    if (link.episode_id.empty() || link.raw_data_id.empty()) {
      throw ValidationError(item("links", i) +
                            ": episode_id and raw_data_id must both be non-empty");
    }
  }
  for (std::size_t i = 0; i < batch.processed_ids.size(); ++i) {
    if (batch.processed_ids[i].empty()) {
      throw ValidationError(item("processed_ids", i) + ": the id must be non-empty");
    }
  }
  if (!batch.processed_ids.empty()) validate_text(batch.processed_version, "processed_version");
}

WriteBatchIds ids_named_by(const WriteBatch& batch) {
  WriteBatchIds ids;
  std::unordered_set<std::string_view> raw_seen, episode_seen;
  auto add = [](std::vector<std::string>& out, std::unordered_set<std::string_view>& seen,
                const std::string& id) {
    if (seen.insert(id).second) out.push_back(id);
  };
  for (const RawEvent& e : batch.raw_events) add(ids.raw, raw_seen, e.data_id);
  for (const EpisodeLink& l : batch.links) add(ids.raw, raw_seen, l.raw_data_id);
  for (const std::string& id : batch.processed_ids) add(ids.raw, raw_seen, id);
  for (const Episode& e : batch.episodes) add(ids.episodes, episode_seen, e.episode_id);
  for (const EpisodeLink& l : batch.links) add(ids.episodes, episode_seen, l.episode_id);
  return ids;
}

std::vector<EpisodeLink> unique_links(const WriteBatch& batch) {
  std::vector<EpisodeLink> out;
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const EpisodeLink& link : batch.links) {
    if (seen.emplace(link.episode_id, link.raw_data_id).second) out.push_back(link);
  }
  return out;
}

std::vector<bool> check_write_batch(const WriteBatch& batch, const StoredRecords& stored) {
  const std::unordered_set<std::string_view> deleted(batch.delete_owners.begin(),
                                                     batch.delete_owners.end());
  // Owner of each id once the batch has run: stored (and not deleted), or added by the batch.
  std::unordered_map<std::string_view, std::string_view> raw_owner, episode_owner;
  for (const auto& [id, owner] : stored.raw_owner) {
    if (!deleted.contains(owner)) raw_owner.emplace(id, owner);
  }
  for (const auto& [id, owner] : stored.episode_owner) {
    if (!deleted.contains(owner)) episode_owner.emplace(id, owner);
  }

  std::vector<bool> store(batch.raw_events.size(), true);
  for (std::size_t i = 0; i < batch.raw_events.size(); ++i) {
    const RawEvent& event = batch.raw_events[i];
    const auto found = raw_owner.find(event.data_id);
    if (found == raw_owner.end()) continue;
    if (batch.skip_identical_raw_events) {
      const auto full = stored.raw.find(event.data_id);
      if (full != stored.raw.end() && same_raw_data(full->second, event)) {
        store[i] = false;
        continue;
      }
      throw DuplicateError(item("raw_events", i) + ": raw event " + quoted(event.data_id) +
                           " is already stored with different data (owner " +
                           quoted(std::string(found->second)) +
                           "); nothing was written (use update() to change it)");
    }
    throw DuplicateError(item("raw_events", i) + ": raw event " + quoted(event.data_id) +
                         " already exists; nothing was written (use update() to change it)");
  }
  for (std::size_t i = 0; i < batch.episodes.size(); ++i) {
    const Episode& episode = batch.episodes[i];
    if (episode_owner.contains(episode.episode_id)) {
      throw DuplicateError(item("episodes", i) + ": episode " + quoted(episode.episode_id) +
                           " already exists; nothing was written (use update() to change it)");
    }
  }
  for (const RawEvent& event : batch.raw_events) raw_owner[event.data_id] = event.owner_id;
  for (const Episode& episode : batch.episodes)
    episode_owner[episode.episode_id] = episode.owner_id;

  for (std::size_t i = 0; i < batch.links.size(); ++i) {
    const EpisodeLink& link = batch.links[i];
    const auto episode = episode_owner.find(link.episode_id);
    if (episode == episode_owner.end()) {
      throw NotFoundError(item("links", i) + ": episode " + quoted(link.episode_id) +
                          " does not exist; store it before linking (nothing was written)");
    }
    const auto raw = raw_owner.find(link.raw_data_id);
    if (raw == raw_owner.end()) {
      throw NotFoundError(item("links", i) + ": raw event " + quoted(link.raw_data_id) +
                          " does not exist; store it before linking (nothing was written)");
    }
    if (episode->second != raw->second) {
      throw ValidationError(item("links", i) + ": " +
                            cross_owner_link(link.episode_id, std::string(episode->second),
                                             link.raw_data_id, std::string(raw->second))
                                .what());
    }
  }
  for (std::size_t i = 0; i < batch.processed_ids.size(); ++i) {
    if (!raw_owner.contains(batch.processed_ids[i])) {
      throw NotFoundError(item("processed_ids", i) + ": raw event " +
                          quoted(batch.processed_ids[i]) + " does not exist (nothing was written)");
    }
  }
  return store;
}

}  // namespace nemori::detail
