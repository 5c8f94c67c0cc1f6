#include "memory/index_freshness.h"

namespace nemori::detail {

OwnerWatermark read_watermark(Storage& storage, const std::string& owner_id) {
  OwnerWatermark w;
  w.raw_events = storage.raw_data().count(owner_id);
  w.episodes = storage.episodes().count(owner_id);
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
                           std::size_t episodes) {
  if (raw_events == 0 && episodes == 0) return;
  std::lock_guard lock(mutex_);
  const auto it = owners_.find(owner_id);
  if (it == owners_.end()) return;
  it->second.watermark.raw_events += raw_events;
  it->second.watermark.episodes += episodes;
}

void IndexFreshness::forget(const std::string& owner_id) {
  std::lock_guard lock(mutex_);
  owners_.erase(owner_id);
}

}  // namespace nemori::detail
