#include "nemori/retrieval/context_scoring.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <unordered_map>

#include "nemori/core/error.h"

namespace nemori {

void ContextScoringOptions::validate() const {
  if (!(neighbour_weight >= 0) || !std::isfinite(neighbour_weight))
    throw ValidationError("neighbour_weight", "must be a finite number >= 0");
  if (!(sitting_weight >= 0) || !std::isfinite(sitting_weight))
    throw ValidationError("sitting_weight", "must be a finite number >= 0");
  if (sitting_window.count() < 0) throw ValidationError("sitting_window", "must be >= 0");
}

void Timeline::add(const std::string& id, Timestamp at) {
  entries_.emplace(at, id);
}

void Timeline::remove(const std::string& id, Timestamp at) {
  entries_.erase({at, id});
}

std::pair<std::optional<std::string>, std::optional<std::string>> Timeline::around(
    const std::string& id, Timestamp at) const {
  std::pair<std::optional<std::string>, std::optional<std::string>> out;
  const auto it = entries_.find({at, id});
  if (it == entries_.end()) return out;
  if (it != entries_.begin()) out.first = std::prev(it)->second;
  if (const auto next = std::next(it); next != entries_.end()) out.second = next->second;
  return out;
}

std::pair<std::vector<std::string>, std::vector<std::string>> Timeline::around(
    const std::string& id, Timestamp at, std::size_t n) const {
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  const auto it = entries_.find({at, id});
  if (it == entries_.end() || n == 0) return out;
  for (auto b = it; b != entries_.begin() && out.first.size() < n;) {
    --b;
    out.first.push_back(b->second);
  }
  std::reverse(out.first.begin(), out.first.end());
  for (auto a = std::next(it); a != entries_.end() && out.second.size() < n; ++a) {
    out.second.push_back(a->second);
  }
  return out;
}

std::size_t Timeline::approximate_memory_bytes() const {
  // A red-black tree node: three pointers and a colour, then the pair.
  std::size_t bytes =
      entries_.size() * (4 * sizeof(void*) + sizeof(Timestamp) + sizeof(std::string));
  for (const auto& [at, id] : entries_) {
    if (id.size() >= sizeof(std::string)) bytes += id.capacity() + 1;
  }
  return bytes;
}

std::vector<SearchHit> rescore_in_context(std::vector<SearchHit> hits, const Timeline* timeline,
                                          const ContextScoringOptions& options, std::size_t k) {
  options.validate();
  if (!options.enabled() || hits.empty()) {
    if (hits.size() > k) hits.resize(k);
    return hits;
  }
  const std::size_t n = hits.size();
  std::unordered_map<std::string, double> first_score;
  first_score.reserve(n * 2);
  for (const SearchHit& h : hits) first_score.emplace(h.id, h.score);
  const auto score_of = [&](const std::optional<std::string>& id) {
    if (!id) return 0.0;
    const auto it = first_score.find(*id);
    return it == first_score.end() ? 0.0 : it->second;
  };

  std::vector<double> boosted(n);
  for (std::size_t i = 0; i < n; ++i) boosted[i] = hits[i].score;

  if (options.neighbour_weight > 0 && timeline != nullptr) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto [before, after] = timeline->around(hits[i].id, hits[i].timestamp);
      boosted[i] += options.neighbour_weight * (score_of(before) + score_of(after));
    }
  }

  if (options.sitting_weight > 0) {
    // Best first-ranking score within +-window of each hit: a sliding-window maximum over the
    // hits in time order (a deque of indexes with decreasing scores).
    std::vector<std::size_t> by_time(n);
    for (std::size_t i = 0; i < n; ++i) by_time[i] = i;
    std::stable_sort(by_time.begin(), by_time.end(), [&](std::size_t a, std::size_t b) {
      return hits[a].timestamp < hits[b].timestamp;
    });
    const auto window = options.sitting_window;
    std::deque<std::size_t> best;  // positions in by_time, scores decreasing
    std::size_t right = 0;
    for (std::size_t pos = 0; pos < n; ++pos) {
      const Timestamp at = hits[by_time[pos]].timestamp;
      while (right < n && hits[by_time[right]].timestamp <= at + window) {
        while (!best.empty() && hits[by_time[best.back()]].score <= hits[by_time[right]].score)
          best.pop_back();
        best.push_back(right++);
      }
      while (hits[by_time[best.front()]].timestamp < at - window) best.pop_front();
      boosted[by_time[pos]] += options.sitting_weight * hits[by_time[best.front()]].score;
    }
  }

  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return boosted[a] > boosted[b]; });
  std::vector<SearchHit> out;
  out.reserve(std::min(k, n));
  for (std::size_t i = 0; i < n && out.size() < k; ++i) {
    SearchHit h = std::move(hits[order[i]]);
    h.score = boosted[order[i]];
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace nemori
