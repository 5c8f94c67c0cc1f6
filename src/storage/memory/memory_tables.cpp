#include "storage/memory/memory_tables.h"

#include "nemori/core/json.h"

namespace nemori::detail {

namespace {

// Adds `key` to the index of `owner` in `by_owner`.
void add_to(std::map<std::string, TimeIndex>& by_owner, const std::string& owner,
            const TimeKey& key) {
  by_owner[owner].insert(key);
}

// Removes `key` from the index of `owner`, dropping the owner when it has nothing left.
void remove_from(std::map<std::string, TimeIndex>& by_owner, const std::string& owner,
                 const TimeKey& key) {
  const auto it = by_owner.find(owner);
  if (it == by_owner.end()) return;
  it->second.erase(key);
  if (it->second.empty()) by_owner.erase(it);
}

const TimeIndex* find_index(const std::map<std::string, TimeIndex>& by_owner,
                            const std::string& owner) {
  const auto it = by_owner.find(owner);
  return it == by_owner.end() ? nullptr : &it->second;
}

// Approximate length of `value` as compact JSON text, without serializing it (escapes are not
// counted; a number counts as 8 characters).
std::uint64_t json_text_size(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      std::uint64_t size = 2;
      for (const auto& [key, item] : value.items()) size += key.size() + 4 + json_text_size(item);
      return size;
    }
    case nlohmann::json::value_t::array: {
      std::uint64_t size = 2;
      for (const auto& item : value) size += 1 + json_text_size(item);
      return size;
    }
    case nlohmann::json::value_t::string:
      return value.get_ref<const std::string&>().size() + 2;
    case nlohmann::json::value_t::boolean:
      return 5;
    case nlohmann::json::value_t::null:
      return 4;
    default:
      return 8;
  }
}

std::uint64_t strings_size(const std::vector<std::string>& values) {
  std::uint64_t size = 0;
  for (const std::string& v : values) size += v.size() + 3;
  return size;
}

// Size of the JSON text of a record, for stats (which report it as an estimate): the text of
// a default record (field names, punctuation) plus the variable parts. Serializing every record
// instead cost more than the rest of a batch store put together.
std::uint64_t json_bytes(const RawEvent& e) {
  static const RawEvent kEmpty{};
  static const std::uint64_t kBase = to_json(kEmpty).dump().size();
  return kBase + e.data_id.size() + e.owner_id.size() + e.source.size() +
         e.processing_version.size() + e.temporal_info.precision.size() +
         e.temporal_info.timezone.value_or("").size() + json_text_size(e.content) +
         json_text_size(e.metadata);
}

std::uint64_t json_bytes(const Episode& e) {
  static const Episode kEmpty{};
  static const std::uint64_t kBase = to_json(kEmpty).dump().size();
  const EpisodeMetadata& m = e.metadata;
  return kBase + e.episode_id.size() + e.owner_id.size() + e.title.size() + e.content.size() +
         e.summary.size() + e.temporal_info.precision.size() +
         e.temporal_info.timezone.value_or("").size() + strings_size(m.source_data_ids) +
         12 * m.source_types.size() + strings_size(m.entities) + strings_size(m.topics) +
         strings_size(m.emotions) + strings_size(m.key_points) + strings_size(m.time_references) +
         strings_size(m.related_episode_ids) + json_text_size(m.custom_fields) +
         json_text_size(e.structured_data) + strings_size(e.search_keywords) +
         (e.embedding_vector ? 12 * e.embedding_vector->size() : 0);
}

StoredRawEvent make_stored(const RawEvent& event) {
  return StoredRawEvent{event, raw_search_text(event), json_bytes(event)};
}

StoredEpisode make_stored(const Episode& episode) {
  return StoredEpisode{episode, fold_episode(episode), json_bytes(episode)};
}

// Bytes one entry of a (timestamp, id) index costs: the key plus a tree node.
constexpr std::uint64_t kIndexNodeBytes = sizeof(TimeKey) + 32;

}  // namespace

// ---- raw events ----

const StoredRawEvent* MemoryTables::find_raw(const std::string& data_id) const {
  const auto it = raw_.find(data_id);
  return it == raw_.end() ? nullptr : &it->second;
}

void MemoryTables::index_raw(const StoredRawEvent& stored) {
  const RawEvent& e = stored.event;
  const TimeKey key{e.temporal_info.timestamp, e.data_id};
  raw_by_time_.insert(key);
  add_to(raw_by_owner_, e.owner_id, key);
  if (!e.processed) {
    unprocessed_.insert(key);
    add_to(unprocessed_by_owner_, e.owner_id, key);
  }
  ++raw_by_type_[static_cast<std::size_t>(e.data_type)];
  raw_bytes_ += stored.json_bytes;
}

void MemoryTables::unindex_raw(const StoredRawEvent& stored) {
  const RawEvent& e = stored.event;
  const TimeKey key{e.temporal_info.timestamp, e.data_id};
  raw_by_time_.erase(key);
  remove_from(raw_by_owner_, e.owner_id, key);
  if (!e.processed) {
    unprocessed_.erase(key);
    remove_from(unprocessed_by_owner_, e.owner_id, key);
  }
  --raw_by_type_[static_cast<std::size_t>(e.data_type)];
  raw_bytes_ -= stored.json_bytes;
}

void MemoryTables::insert_raw(const RawEvent& event) {
  auto [it, inserted] = raw_.emplace(event.data_id, make_stored(event));
  if (inserted) index_raw(it->second);
}

void MemoryTables::replace_raw(const RawEvent& event) {
  const auto it = raw_.find(event.data_id);
  if (it == raw_.end()) return;
  unindex_raw(it->second);
  it->second = make_stored(event);
  index_raw(it->second);
}

void MemoryTables::mark_processed(const std::string& data_id, const std::string& version) {
  const auto it = raw_.find(data_id);
  if (it == raw_.end()) return;
  RawEvent updated = it->second.event;
  updated.processed = true;
  updated.processing_version = version;
  unindex_raw(it->second);
  it->second.event = std::move(updated);
  it->second.json_bytes = json_bytes(it->second.event);
  index_raw(it->second);
}

Removal MemoryTables::erase_raw(const std::string& data_id) {
  const auto it = raw_.find(data_id);
  if (it == raw_.end()) return {};
  unindex_raw(it->second);
  raw_.erase(it);
  return Removal{1, erase_links(raw_to_episodes_, episode_to_raw_, data_id)};
}

const TimeIndex* MemoryTables::raw_of_owner(const std::string& owner_id) const {
  return find_index(raw_by_owner_, owner_id);
}

const TimeIndex* MemoryTables::unprocessed(const std::string& owner_id) const {
  if (owner_id.empty()) return &unprocessed_;
  return find_index(unprocessed_by_owner_, owner_id);
}

// ---- episodes ----

const StoredEpisode* MemoryTables::find_episode(const std::string& episode_id) const {
  const auto it = episodes_.find(episode_id);
  return it == episodes_.end() ? nullptr : &it->second;
}

void MemoryTables::index_episode(const StoredEpisode& stored) {
  const Episode& e = stored.episode;
  const TimeKey key{e.temporal_info.timestamp, e.episode_id};
  episodes_by_time_.insert(key);
  add_to(episodes_by_owner_, e.owner_id, key);
  ++episodes_by_type_[static_cast<std::size_t>(e.episode_type)];
  ++episodes_by_level_[static_cast<std::size_t>(e.level) - 1];
  episode_bytes_ += stored.json_bytes;
  if (e.metadata.custom_fields.contains("merged_from")) ++merged_episodes_;
}

void MemoryTables::unindex_episode(const StoredEpisode& stored) {
  const Episode& e = stored.episode;
  const TimeKey key{e.temporal_info.timestamp, e.episode_id};
  episodes_by_time_.erase(key);
  remove_from(episodes_by_owner_, e.owner_id, key);
  --episodes_by_type_[static_cast<std::size_t>(e.episode_type)];
  --episodes_by_level_[static_cast<std::size_t>(e.level) - 1];
  episode_bytes_ -= stored.json_bytes;
  if (e.metadata.custom_fields.contains("merged_from")) --merged_episodes_;
}

void MemoryTables::insert_episode(const Episode& episode) {
  auto [it, inserted] = episodes_.emplace(episode.episode_id, make_stored(episode));
  if (inserted) index_episode(it->second);
}

void MemoryTables::replace_episode(const Episode& episode) {
  const auto it = episodes_.find(episode.episode_id);
  if (it == episodes_.end()) return;
  unindex_episode(it->second);
  it->second = make_stored(episode);
  index_episode(it->second);
}

void MemoryTables::set_importance(const std::string& episode_id, double importance) {
  const auto it = episodes_.find(episode_id);
  if (it == episodes_.end()) return;
  StoredEpisode& stored = it->second;
  stored.episode.importance_score = importance;
  episode_bytes_ -= stored.json_bytes;
  stored.json_bytes = json_bytes(stored.episode);
  episode_bytes_ += stored.json_bytes;
}

void MemoryTables::mark_accessed(const std::string& episode_id, Timestamp at) {
  const auto it = episodes_.find(episode_id);
  if (it == episodes_.end()) return;
  StoredEpisode& stored = it->second;
  ++stored.episode.recall_count;
  stored.episode.last_accessed = at;
  episode_bytes_ -= stored.json_bytes;
  stored.json_bytes = json_bytes(stored.episode);
  episode_bytes_ += stored.json_bytes;
}

Removal MemoryTables::erase_episode(const std::string& episode_id) {
  return erase_episodes({episode_id});
}

Removal MemoryTables::erase_episodes(const std::vector<std::string>& episode_ids) {
  Removal removal;
  std::set<std::string> lost_a_source;
  for (const std::string& episode_id : episode_ids) {
    const auto it = episodes_.find(episode_id);
    if (it == episodes_.end()) continue;
    unindex_episode(it->second);
    episodes_.erase(it);
    ++removal.records;
    removal.links += erase_links(episode_to_raw_, raw_to_episodes_, episode_id);
    erase_progress(episode_id);
    for (std::string& id : erase_sources_of(episode_id)) lost_a_source.insert(std::move(id));
  }
  // Statements with no source left go, all of them before any reopening, so that a statement
  // closed by one orphan but itself an orphan is not counted as reopened.
  std::vector<std::string> orphans;
  for (const std::string& id : lost_a_source) {
    const auto it = statements_.find(id);
    if (it != statements_.end() && it->second.statement.source_episode_ids.empty())
      orphans.push_back(id);
  }
  std::set<std::string> reopened;
  for (const std::string& id : orphans) {
    if (const auto* closed = closed_by(id)) reopened.insert(closed->begin(), closed->end());
  }
  for (const std::string& id : orphans) {
    erase_statement(id);
    reopened.erase(id);
  }
  removal.statements = orphans.size();
  for (const std::string& id : reopened) {
    if (statements_.contains(id)) ++removal.reopened;
  }
  return removal;
}

const TimeIndex* MemoryTables::episodes_of_owner(const std::string& owner_id) const {
  return find_index(episodes_by_owner_, owner_id);
}

// ---- links ----

bool MemoryTables::add_link(const std::string& episode_id, const std::string& raw_data_id) {
  if (!episode_to_raw_[episode_id].insert(raw_data_id).second) return false;
  raw_to_episodes_[raw_data_id].insert(episode_id);
  ++link_count_;
  link_bytes_ += episode_id.size() + raw_data_id.size();
  return true;
}

std::size_t MemoryTables::erase_links(
    std::unordered_map<std::string, std::set<std::string>>& forward,
    std::unordered_map<std::string, std::set<std::string>>& backward, const std::string& id) {
  const auto it = forward.find(id);
  if (it == forward.end()) return 0;
  const std::size_t removed = it->second.size();
  for (const std::string& other : it->second) {
    const auto back = backward.find(other);
    if (back != backward.end()) {
      back->second.erase(id);
      if (back->second.empty()) backward.erase(back);
    }
    link_bytes_ -= id.size() + other.size();
  }
  forward.erase(it);
  link_count_ -= removed;
  return removed;
}

const std::set<std::string>* MemoryTables::raw_ids_of(const std::string& episode_id) const {
  const auto it = episode_to_raw_.find(episode_id);
  return it == episode_to_raw_.end() ? nullptr : &it->second;
}

const std::set<std::string>* MemoryTables::episode_ids_of(const std::string& raw_data_id) const {
  const auto it = raw_to_episodes_.find(raw_data_id);
  return it == raw_to_episodes_.end() ? nullptr : &it->second;
}

// ---- whole store ----

std::vector<std::string> MemoryTables::owners() const {
  std::vector<std::string> out;
  auto raw = raw_by_owner_.begin();
  auto ep = episodes_by_owner_.begin();
  while (raw != raw_by_owner_.end() || ep != episodes_by_owner_.end()) {
    if (ep == episodes_by_owner_.end() || (raw != raw_by_owner_.end() && raw->first < ep->first)) {
      out.push_back((raw++)->first);
    } else if (raw == raw_by_owner_.end() || ep->first < raw->first) {
      out.push_back((ep++)->first);
    } else {
      out.push_back(raw->first);
      ++raw;
      ++ep;
    }
  }
  return out;
}

std::uint64_t MemoryTables::index_bytes() const {
  const std::uint64_t raw_entries = 2 * raw_.size() + 2 * unprocessed_.size();
  const std::uint64_t episode_entries = 2 * episodes_.size() + 2 * statements_.size() +
                                        source_count_ + 2 * progress_.size();
  std::uint64_t id_bytes = 0;
  for (const auto& [id, stored] : raw_) id_bytes += (stored.event.processed ? 2 : 4) * id.size();
  for (const auto& [id, stored] : episodes_) id_bytes += 2 * id.size();
  // Each link is held in both directions.
  return (raw_entries + episode_entries + 2 * link_count_) * kIndexNodeBytes + id_bytes +
         2 * link_bytes_;
}

}  // namespace nemori::detail
