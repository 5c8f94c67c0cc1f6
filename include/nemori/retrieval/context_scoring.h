// Context scoring: a document's score borrows from the documents around it in time.
//
// Conversations spread one matter over neighbouring episodes, and a day's conversation keeps
// coming back to the same subjects. A first ranking (BM25, vector or hybrid) scores each episode
// alone; context scoring then adds to each candidate
//
//   neighbour_weight x (score of the previous + score of the next document in time)
//   + sitting_weight x (best score among the candidates within +-sitting_window of it)
//
// and ranks again. Documents outside the first ranking's candidates count as score 0. On
// LoCoMo this raises evidence recall at 1000 words by about 0.03-0.04 (docs/retrieval.md).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "nemori/core/time.h"
#include "nemori/retrieval/hybrid.h"

namespace nemori {

/// Settings of context scoring; both weights 0 turn it off.
struct ContextScoringOptions {
  /// Share of the previous and of the next document's score added to a document's own (>= 0).
  double neighbour_weight = 0.0;
  /// Share of the best score within +-sitting_window added to a document's own (>= 0).
  double sitting_weight = 0.0;
  /// Half-width of the time window that counts as one sitting.
  std::chrono::seconds sitting_window = std::chrono::hours(6);
  /// Candidates taken from the first ranking (0 = max(200, 10 x k)).
  std::size_t candidates = 0;

  /// True when either weight is positive.
  bool enabled() const { return neighbour_weight > 0 || sitting_weight > 0; }
  /// Throws ValidationError naming the first invalid field.
  void validate() const;
};

/// The documents of one index in time order (timestamp, then id), kept in step with the index.
class Timeline {
 public:
  /// Records a document at `at` (no-op when already recorded there).
  void add(const std::string& id, Timestamp at);
  /// Forgets a document recorded at `at` (no-op when absent).
  void remove(const std::string& id, Timestamp at);
  /// The documents just before and just after (id, at) in time, when they exist.
  std::pair<std::optional<std::string>, std::optional<std::string>> around(const std::string& id,
                                                                           Timestamp at) const;
  /// Up to n documents just before (id, at), oldest first, and up to n just after it, oldest
  /// first; both empty when (id, at) is not recorded.
  std::pair<std::vector<std::string>, std::vector<std::string>> around(const std::string& id,
                                                                       Timestamp at,
                                                                       std::size_t n) const;
  /// Number of documents recorded.
  std::size_t size() const { return entries_.size(); }
  /// Heap memory held, estimated.
  std::size_t approximate_memory_bytes() const;

 private:
  std::set<std::pair<Timestamp, std::string>> entries_;
};

/// Re-ranks `hits` (a first ranking, best first, timestamps set) by context scoring and keeps
/// the best `k`. `timeline` gives each hit's neighbours in time (null: sittings only). Ties keep
/// the first ranking's order.
std::vector<SearchHit> rescore_in_context(std::vector<SearchHit> hits, const Timeline* timeline,
                                          const ContextScoringOptions& options, std::size_t k);

}  // namespace nemori
