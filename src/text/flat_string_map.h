// A compact open-addressing hash map from strings to small values (internal).
//
// Faster than std::unordered_map for the millions of short-word lookups of tokenizing and
// indexing: one probe array of (hash, index) pairs, entries stored contiguously, no node per
// entry. Supports lookup, insert and clear (no erase: rebuild instead).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nemori::text_internal {

/// A fast 64-bit hash of a short byte string (8 bytes at a time).
inline std::uint64_t hash_bytes(std::string_view s) {
  std::uint64_t h = 0x9E3779B97F4A7C15ull ^ (s.size() * 0xFF51AFD7ED558CCDull);
  const char* p = s.data();
  std::size_t n = s.size();
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
    p += 8;
    n -= 8;
  }
  if (n > 0) {  // (p is never null here)
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    h = (h ^ w) * 0x94D049BB133111EBull;
    h ^= h >> 29;
  }
  return h * 0xD6E8FEB86659FD93ull ^ (h >> 32);
}

template <typename V>
class FlatStringMap {
 public:
  /// The value of `key`, or null. Pointers stay valid until the next insert.
  V* find(std::string_view key) { return find(key, hash_bytes(key)); }
  const V* find(std::string_view key) const {
    return const_cast<FlatStringMap*>(this)->find(key, hash_bytes(key));
  }
  /// The same with hash_bytes(key) already computed.
  V* find(std::string_view key, std::uint64_t hash) {
    if (slots_.empty()) return nullptr;
    const std::uint32_t tag = tag_of(key, hash);
    const Prefix prefix = prefix_of(key);
    for (std::size_t i = hash & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.tag == 0) return nullptr;
      if (s.tag != tag || s.prefix.lo != prefix.lo || s.prefix.hi != prefix.hi) continue;
      // Same length and first 16 bytes: equal when the key is that short, else compare.
      if (key.size() <= 16 || keys_[s.index] == key) return &s.value;
    }
  }

  /// Inserts key -> value unless present; returns the stored value and whether it was new.
  /// The returned pointer is valid until the next insert.
  std::pair<V*, bool> insert(std::string_view key, V value) {
    return insert(key, std::move(value), hash_bytes(key));
  }
  /// The same with hash_bytes(key) already computed.
  std::pair<V*, bool> insert(std::string_view key, V value, std::uint64_t hash) {
    if (V* v = find(key, hash)) return {v, false};
    if ((keys_.size() + 1) * 4 > slots_.size() * 3) grow();
    keys_.emplace_back(key);
    Slot& s = place(hash, static_cast<std::uint32_t>(keys_.size() - 1));
    s.value = std::move(value);
    return {&s.value, true};
  }

  std::size_t size() const { return keys_.size(); }
  void clear() {
    keys_.clear();
    slots_.clear();
    mask_ = 0;
  }
  void reserve(std::size_t n) {
    keys_.reserve(n);
    while (n * 4 > slots_.size() * 3) grow();
  }
  /// Calls fn(key, value) for every entry, in no particular order.
  template <typename Fn>
  void for_each(Fn fn) const {
    for (const Slot& s : slots_) {
      if (s.tag != 0) fn(std::string_view(keys_[s.index]), s.value);
    }
  }
  /// Heap bytes held.
  std::size_t memory_bytes() const {
    std::size_t bytes = slots_.capacity() * sizeof(Slot) + keys_.capacity() * sizeof(std::string);
    for (const auto& k : keys_) {
      if (k.capacity() > 15) bytes += k.capacity() + 1;
    }
    return bytes;
  }

 private:
  // The first 16 bytes of a key, zero-padded.
  struct Prefix {
    std::uint64_t lo = 0, hi = 0;
  };

  // A probe slot holds the value and enough of the key (length, first 16 bytes) to settle
  // most lookups without touching the key itself.
  struct Slot {
    std::uint32_t tag = 0;    // 0: empty; else hash bits | 0x100 | min(length, 255)
    std::uint32_t index = 0;  // into keys_
    Prefix prefix;
    V value{};
  };

  static std::uint32_t tag_of(std::string_view key, std::uint64_t hash) {
    const auto length = static_cast<std::uint32_t>(key.size() < 255 ? key.size() : 255);
    return (static_cast<std::uint32_t>(hash >> 32) & 0xFFFFFE00u) | 0x100u | length;
  }

  static Prefix prefix_of(std::string_view key) {
    char bytes[16] = {};
    if (!key.empty()) std::memcpy(bytes, key.data(), key.size() < 16 ? key.size() : 16);
    Prefix p;
    std::memcpy(&p.lo, bytes, 8);
    std::memcpy(&p.hi, bytes + 8, 8);
    return p;
  }

  Slot& place(std::uint64_t hash, std::uint32_t index) {
    const std::string& key = keys_[index];
    std::size_t i = hash & mask_;
    while (slots_[i].tag != 0) i = (i + 1) & mask_;
    Slot& s = slots_[i];
    s.tag = tag_of(key, hash);
    s.index = index;
    s.prefix = prefix_of(key);
    return s;
  }

  void grow() {
    const std::size_t size = slots_.empty() ? 16 : slots_.size() * 2;
    std::vector<Slot> old(size);
    old.swap(slots_);
    mask_ = size - 1;
    for (Slot& s : old) {
      if (s.tag == 0) continue;
      place(hash_bytes(keys_[s.index]), s.index).value = std::move(s.value);
    }
  }

  std::vector<std::string> keys_;
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
};

}  // namespace nemori::text_internal
