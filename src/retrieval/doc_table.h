// The per-index document table shared by the BM25 and vector indexes (internal).
//
// Documents live in slots 0..slots()-1. A removed document leaves a dead slot behind until
// compact() renumbers the live ones (keeping their order).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nemori/core/time.h"
#include "nemori/retrieval/document.h"
#include "nemori/retrieval/search_filter.h"

namespace nemori::retrieval_internal {

inline constexpr std::uint32_t kNoSlot = std::numeric_limits<std::uint32_t>::max();

/// A SearchFilter resolved against one DocTable: a cheap per-slot test.
class SlotFilter {
 public:
  /// True when the slot passes (liveness is checked separately).
  bool pass(std::uint32_t slot) const {
    if (!active_) return true;
    if (check_time_) {
      const std::int64_t t = (*times_)[slot];
      if (t < since_ || t > until_) return false;
    }
    if (check_types_ && !allowed_types_[(*types_)[slot]]) return false;
    if (check_ids_ && ((id_bits_[slot >> 6] >> (slot & 63)) & 1u) == 0) return false;
    return true;
  }
  /// True when some condition is set.
  bool active() const { return active_; }
  /// True when no document can pass (unknown types, no known id).
  bool rejects_all() const { return rejects_all_; }

 private:
  friend class DocTable;
  bool active_ = false, rejects_all_ = false;
  bool check_time_ = false, check_types_ = false, check_ids_ = false;
  std::int64_t since_ = 0, until_ = 0;
  const std::vector<std::int64_t>* times_ = nullptr;
  const std::vector<std::uint16_t>* types_ = nullptr;
  std::vector<bool> allowed_types_;
  std::vector<std::uint64_t> id_bits_;
};

/// Ids, times and type tags of the documents of one index.
class DocTable {
 public:
  /// A new slot for `id` (which must not be present). Throws ValidationError on a bad id.
  std::uint32_t add(std::string_view id, Timestamp timestamp, std::string_view type);
  /// The live slot of `id`, or kNoSlot.
  std::uint32_t find(std::string_view id) const;
  /// Marks a live slot dead and forgets its id.
  void remove(std::uint32_t slot);

  bool live(std::uint32_t slot) const { return live_[slot] != 0; }
  std::uint32_t slots() const { return static_cast<std::uint32_t>(live_.size()); }
  std::size_t live_count() const { return live_count_; }
  std::size_t dead_count() const { return live_.size() - live_count_; }
  const std::string& id(std::uint32_t slot) const { return *ids_[slot]; }
  Timestamp time(std::uint32_t slot) const { return from_micros(times_[slot]); }
  const std::string& type_name(std::uint32_t slot) const { return type_names_[types_[slot]]; }
  /// Ids of the live documents.
  std::vector<std::string> live_ids() const;

  /// Renumbers the live slots 0..live_count()-1 in order; returns old slot -> new slot
  /// (kNoSlot for dead ones).
  std::vector<std::uint32_t> compact();
  /// Resolves a filter.
  SlotFilter compile(const SearchFilter& filter) const;
  /// Heap memory held.
  std::size_t memory_bytes() const;
  /// Approximate heap memory per document (for O(1) estimates).
  static constexpr std::size_t kBytesPerDocument = 8 + 8 + 2 + 1 + 96;

  /// Ranking order: higher score first, then smaller id.
  bool better(std::uint32_t a, double score_a, std::uint32_t b, double score_b) const {
    if (score_a != score_b) return score_a > score_b;
    return id(a) < id(b);
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, std::uint32_t, Hash, std::equal_to<>> slot_of_;
  std::vector<const std::string*> ids_;  // points at slot_of_ keys; null when dead
  std::vector<std::int64_t> times_;
  std::vector<std::uint16_t> types_;
  std::vector<std::uint8_t> live_;
  std::size_t live_count_ = 0;
  std::vector<std::string> type_names_;
  std::unordered_map<std::string, std::uint16_t, Hash, std::equal_to<>> type_ids_;
};

/// Keeps the best k (slot, score) pairs of a DocTable, in ranking order.
class TopK {
 public:
  TopK(const DocTable& table, std::size_t k) : table_(table), k_(k) { heap_.reserve(k); }
  /// Offers a candidate.
  void push(std::uint32_t slot, double score) {
    if (k_ == 0) return;
    if (heap_.size() < k_) {
      heap_.push_back({slot, score});
      sift_up();
    } else if (table_.better(slot, score, heap_[0].slot, heap_[0].score)) {
      heap_[0] = {slot, score};
      sift_down();
    }
  }
  /// The kept documents, best first (empties the heap).
  std::vector<ScoredDocument> finish();

 private:
  struct Entry {
    std::uint32_t slot;
    double score;
  };
  // Min-heap on ranking order: heap_[0] is the worst kept entry.
  bool worse(const Entry& a, const Entry& b) const {
    return table_.better(b.slot, b.score, a.slot, a.score);
  }
  void sift_up();
  void sift_down();

  const DocTable& table_;
  std::size_t k_;
  std::vector<Entry> heap_;
};

}  // namespace nemori::retrieval_internal
