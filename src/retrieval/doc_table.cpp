#include "retrieval/doc_table.h"

#include <algorithm>

#include "nemori/core/error.h"

namespace nemori::retrieval_internal {

std::uint32_t DocTable::add(std::string_view id, Timestamp timestamp, std::string_view type) {
  if (id.empty()) throw ValidationError("id", "is required");
  if (id.size() > 255) throw ValidationError("id", "is longer than 255 bytes");
  if (live_.size() >= kNoSlot - 1) throw ValidationError("id", "index is full (2^32 slots)");
  auto type_it = type_ids_.find(type);
  std::uint16_t type_id;
  if (type_it != type_ids_.end()) {
    type_id = type_it->second;
  } else {
    if (type_names_.size() >= 65535) throw ValidationError("type", "too many distinct types");
    type_id = static_cast<std::uint16_t>(type_names_.size());
    type_names_.emplace_back(type);
    type_ids_.emplace(std::string(type), type_id);
  }
  const auto slot = static_cast<std::uint32_t>(live_.size());
  auto [it, inserted] = slot_of_.emplace(std::string(id), slot);
  if (!inserted) throw DuplicateError("document id '" + std::string(id) + "' is already indexed");
  ids_.push_back(&it->first);
  times_.push_back(to_micros(timestamp));
  types_.push_back(type_id);
  live_.push_back(1);
  ++live_count_;
  return slot;
}

std::uint32_t DocTable::find(std::string_view id) const {
  const auto it = slot_of_.find(id);
  return it == slot_of_.end() ? kNoSlot : it->second;
}

void DocTable::remove(std::uint32_t slot) {
  if (!live_[slot]) return;
  live_[slot] = 0;
  --live_count_;
  const std::string* id = ids_[slot];
  ids_[slot] = nullptr;
  slot_of_.erase(slot_of_.find(*id));
}

std::vector<std::string> DocTable::live_ids() const {
  std::vector<std::string> out;
  out.reserve(live_count_);
  for (std::uint32_t s = 0; s < slots(); ++s) {
    if (live_[s]) out.push_back(*ids_[s]);
  }
  return out;
}

std::vector<std::uint32_t> DocTable::compact() {
  std::vector<std::uint32_t> remap(live_.size(), kNoSlot);
  std::uint32_t next = 0;
  for (std::uint32_t s = 0; s < slots(); ++s) {
    if (!live_[s]) continue;
    remap[s] = next;
    ids_[next] = ids_[s];
    times_[next] = times_[s];
    types_[next] = types_[s];
    live_[next] = 1;
    slot_of_.find(*ids_[next])->second = next;
    ++next;
  }
  ids_.resize(next);
  times_.resize(next);
  types_.resize(next);
  live_.resize(next);
  ids_.shrink_to_fit();
  times_.shrink_to_fit();
  types_.shrink_to_fit();
  live_.shrink_to_fit();
  return remap;
}

SlotFilter DocTable::compile(const SearchFilter& filter) const {
  SlotFilter f;
  if (filter.empty()) return f;
  f.active_ = true;
  if (filter.since || filter.until) {
    f.check_time_ = true;
    f.times_ = &times_;
    f.since_ = filter.since ? to_micros(*filter.since) : std::numeric_limits<std::int64_t>::min();
    f.until_ = filter.until ? to_micros(*filter.until) : std::numeric_limits<std::int64_t>::max();
    if (f.since_ > f.until_) f.rejects_all_ = true;
  }
  if (!filter.types.empty()) {
    f.check_types_ = true;
    f.types_ = &types_;
    f.allowed_types_.assign(type_names_.size(), false);
    bool any = false;
    for (const auto& t : filter.types) {
      if (auto it = type_ids_.find(t); it != type_ids_.end()) {
        f.allowed_types_[it->second] = true;
        any = true;
      }
    }
    if (!any) f.rejects_all_ = true;
  }
  if (filter.ids) {
    f.check_ids_ = true;
    f.id_bits_.assign((live_.size() + 63) / 64, 0);
    bool any = false;
    for (const auto& id : *filter.ids) {
      const std::uint32_t s = find(id);
      if (s == kNoSlot) continue;
      f.id_bits_[s >> 6] |= std::uint64_t{1} << (s & 63);
      any = true;
    }
    if (!any) f.rejects_all_ = true;
  }
  return f;
}

std::size_t DocTable::memory_bytes() const {
  std::size_t bytes = ids_.capacity() * sizeof(void*) + times_.capacity() * 8 +
                      types_.capacity() * 2 + live_.capacity();
  // Hash map: one node (key string + value + hash + next) per id, plus the bucket array.
  bytes += slot_of_.bucket_count() * sizeof(void*);
  for (const auto& [id, slot] : slot_of_) {
    bytes += sizeof(std::string) + 24;
    if (id.capacity() > 15) bytes += id.capacity() + 1;
  }
  for (const auto& t : type_names_) bytes += sizeof(std::string) * 2 + 32 + t.capacity();
  return bytes;
}

std::vector<ScoredDocument> TopK::finish() {
  std::sort(heap_.begin(), heap_.end(), [this](const Entry& a, const Entry& b) {
    return table_.better(a.slot, a.score, b.slot, b.score);
  });
  std::vector<ScoredDocument> out;
  out.reserve(heap_.size());
  for (const Entry& e : heap_) out.push_back({table_.id(e.slot), e.score});
  heap_.clear();
  return out;
}

void TopK::sift_up() {
  std::size_t i = heap_.size() - 1;
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (!worse(heap_[i], heap_[parent])) break;
    std::swap(heap_[i], heap_[parent]);
    i = parent;
  }
}

void TopK::sift_down() {
  const std::size_t n = heap_.size();
  std::size_t i = 0;
  for (;;) {
    const std::size_t l = 2 * i + 1, r = l + 1;
    std::size_t worst = i;
    if (l < n && worse(heap_[l], heap_[worst])) worst = l;
    if (r < n && worse(heap_[r], heap_[worst])) worst = r;
    if (worst == i) break;
    std::swap(heap_[i], heap_[worst]);
    i = worst;
  }
}

}  // namespace nemori::retrieval_internal
