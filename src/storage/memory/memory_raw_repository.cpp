#include "storage/memory/memory_raw_repository.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"
#include "storage/filter_eval.h"
#include "storage/record_validation.h"

namespace nemori::detail {

namespace {

DuplicateError duplicate_raw(const std::string& id) {
  return DuplicateError("raw event \"" + id +
                        "\" already exists; use update() to change it (nothing was stored)");
}

double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

}  // namespace

void MemoryRawRepository::store(const RawEvent& event) {
  validate_for_storage(event, store_.config().max_content_bytes);
  auto lock = store_.write();
  if (store_.tables().find_raw(event.data_id) != nullptr) throw duplicate_raw(event.data_id);
  store_.tables().insert_raw(event);
}

void MemoryRawRepository::store_batch(std::span<const RawEvent> events) {
  if (events.empty()) return;
  validate_batch_for_storage(events, store_.config().max_content_bytes);
  auto lock = store_.write();
  MemoryTables& tables = store_.tables();
  for (const RawEvent& event : events) {
    if (tables.find_raw(event.data_id) != nullptr) throw duplicate_raw(event.data_id);
  }
  for (const RawEvent& event : events) tables.insert_raw(event);
}

std::optional<RawEvent> MemoryRawRepository::get(const std::string& data_id) {
  auto lock = store_.read();
  const StoredRawEvent* stored = store_.tables().find_raw(data_id);
  if (stored == nullptr) return std::nullopt;
  return stored->event;
}

std::vector<std::optional<RawEvent>> MemoryRawRepository::get_batch(
    std::span<const std::string> ids) {
  auto lock = store_.read();
  std::vector<std::optional<RawEvent>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    const StoredRawEvent* stored = store_.tables().find_raw(id);
    out.push_back(stored == nullptr ? std::nullopt : std::optional<RawEvent>(stored->event));
  }
  return out;
}

bool MemoryRawRepository::update(const RawEvent& event) {
  validate_for_storage(event, store_.config().max_content_bytes);
  auto lock = store_.write();
  if (store_.tables().find_raw(event.data_id) == nullptr) return false;
  store_.tables().replace_raw(event);
  return true;
}

bool MemoryRawRepository::remove(const std::string& data_id) {
  auto lock = store_.write();
  return store_.tables().erase_raw(data_id).records > 0;
}

RawDataSearchResult MemoryRawRepository::search(const RawDataQuery& query) {
  const auto start = std::chrono::steady_clock::now();
  validate(query);
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  const PreparedRawQuery prepared = prepare(query, now_utc());

  std::vector<const RawEvent*> hits;
  auto consider = [&](const std::string& id) {
    const StoredRawEvent* stored = tables.find_raw(id);
    if (stored != nullptr && matches(stored->event, stored->search_text, prepared)) {
      hits.push_back(&stored->event);
    }
  };
  if (!prepared.data_ids.empty()) {
    for (const std::string& id : prepared.data_ids) consider(id);
  } else if (!prepared.owner_ids.empty()) {
    for (const std::string& owner : prepared.owner_ids) {
      if (const TimeIndex* index = tables.raw_of_owner(owner)) {
        for (const auto& key : *index) consider(key.second);
      }
    }
  } else {
    for (const auto& key : tables.raw_by_time()) consider(key.second);
  }

  const PageBounds page = page_bounds(hits.size(), query.offset, query.limit);
  auto before = [&](const RawEvent* a, const RawEvent* b) {
    return raw_event_before(*a, *b, query.sort_by, query.sort_order);
  };
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(page.end), hits.end(),
                    before);

  RawDataSearchResult result;
  result.events.reserve(page.end - page.begin);
  for (std::size_t i = page.begin; i < page.end; ++i) result.events.push_back(*hits[i]);
  result.total_count = hits.size();
  result.has_more = query.offset + result.events.size() < result.total_count;
  result.query_time_ms = elapsed_ms(start);
  return result;
}

bool MemoryRawRepository::mark_processed(const std::string& data_id, const std::string& version) {
  validate_text(version, "version");
  auto lock = store_.write();
  if (store_.tables().find_raw(data_id) == nullptr) return false;
  store_.tables().mark_processed(data_id, version);
  return true;
}

std::vector<bool> MemoryRawRepository::mark_processed_batch(std::span<const std::string> ids,
                                                            const std::string& version) {
  validate_text(version, "version");
  auto lock = store_.write();
  std::vector<bool> flags;
  flags.reserve(ids.size());
  for (const std::string& id : ids) {
    const bool exists = store_.tables().find_raw(id) != nullptr;
    if (exists) store_.tables().mark_processed(id, version);
    flags.push_back(exists);
  }
  return flags;
}

std::vector<RawEvent> MemoryRawRepository::get_unprocessed(const std::string& owner_id,
                                                           std::optional<DataType> type,
                                                           std::optional<std::size_t> limit) {
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  std::vector<RawEvent> out;
  const TimeIndex* index = tables.unprocessed(owner_id);
  if (index == nullptr) return out;
  for (const auto& key : *index) {
    if (limit && out.size() >= *limit) break;
    const StoredRawEvent* stored = tables.find_raw(key.second);
    if (stored == nullptr || (type && stored->event.data_type != *type)) continue;
    out.push_back(stored->event);
  }
  return out;
}

std::size_t MemoryRawRepository::cleanup_before(Timestamp cutoff, const std::string& owner_id) {
  auto lock = store_.write();
  MemoryTables& tables = store_.tables();
  const TimeIndex* index = owner_id.empty() ? &tables.raw_by_time() : tables.raw_of_owner(owner_id);
  if (index == nullptr) return 0;
  std::vector<std::string> doomed;
  for (auto it = index->begin(); it != index->end() && it->first < cutoff; ++it) {
    doomed.push_back(it->second);
  }
  for (const std::string& id : doomed) tables.erase_raw(id);
  return doomed.size();
}

std::size_t MemoryRawRepository::count(const std::string& owner_id) {
  auto lock = store_.read();
  if (owner_id.empty()) return store_.tables().raw_count();
  const TimeIndex* index = store_.tables().raw_of_owner(owner_id);
  return index == nullptr ? 0 : index->size();
}

}  // namespace nemori::detail
