#include "memory/index_freshness.h"

#include "nemori/core/error.h"

namespace nemori::detail {

OwnerWatermark read_watermark(Storage& storage, const std::string& owner_id) {
  OwnerWatermark w;
  w.raw_events = storage.raw_data().count(owner_id);
  w.episodes = storage.episodes().count(owner_id);
  try {
    w.statements = storage.statements().count(owner_id, StatementState::kAll);
  } catch (const UnsupportedBackendError&) {
    w.statements = 0;  // a backend without semantic memory: nothing to compare
  }
  return w;
}

IndexFreshness::IndexFreshness(Storage& storage, RetrievalService& retrieval,
                               std::chrono::milliseconds interval)
    : storage_(storage), retrieval_(retrieval), interval_(interval) {}

void IndexFreshness::loaded(const std::string& owner_id, const OwnerWatermark& watermark) {
  std::lock_guard lock(mutex_);
  owners_[owner_id] = State{watermark, Clock::now()};
}

void IndexFreshness::before_read(const std::string& owner_id) {
  if (interval_.count() < 0) return;
  const Clock::time_point now = Clock::now();
  bool recorded = false;
  {
    std::lock_guard lock(mutex_);
    const auto it = owners_.find(owner_id);
    if (it != owners_.end()) {
      if (now - it->second.checked < interval_) return;
      it->second.checked = now;
      recorded = true;
    }
  }
  // Not resident: the read loads it, and the loader records the watermark.
  if (!retrieval_.is_resident(owner_id)) return;
  if (!recorded) {
    // Resident without a record (loaded while it was being forgotten): reload to get one.
    retrieval_.evict(owner_id);
    return;
  }
  const OwnerWatermark current = read_watermark(storage_, owner_id);
  {
    std::lock_guard lock(mutex_);
    const auto it = owners_.find(owner_id);
    if (it == owners_.end() || it->second.watermark == current) return;
    owners_.erase(it);  // the reload records the new watermark
  }
  retrieval_.evict(owner_id);
}

void IndexFreshness::wrote(const std::string& owner_id, std::size_t raw_events,
                           std::size_t episodes, std::size_t statements) {
  if (raw_events == 0 && episodes == 0 && statements == 0) return;
  std::lock_guard lock(mutex_);
  const auto it = owners_.find(owner_id);
  if (it == owners_.end()) return;
  it->second.watermark.raw_events += raw_events;
  it->second.watermark.episodes += episodes;
  it->second.watermark.statements += statements;
}

void IndexFreshness::removed(const std::string& owner_id, std::size_t episodes,
                             std::size_t statements) {
  if (episodes == 0 && statements == 0) return;
  std::lock_guard lock(mutex_);
  const auto it = owners_.find(owner_id);
  if (it == owners_.end()) return;
  OwnerWatermark& w = it->second.watermark;
  // A count below zero means the record was already off: the next check reloads anyway.
  w.episodes = w.episodes >= episodes ? w.episodes - episodes : 0;
  w.statements = w.statements >= statements ? w.statements - statements : 0;
}

void IndexFreshness::forget(const std::string& owner_id) {
  std::lock_guard lock(mutex_);
  owners_.erase(owner_id);
}

}  // namespace nemori::detail
