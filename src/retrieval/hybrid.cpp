#include "nemori/retrieval/hybrid.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "nemori/core/error.h"

namespace nemori {

std::string_view to_string(SearchMode mode) {
  switch (mode) {
    case SearchMode::kBm25:
      return "bm25";
    case SearchMode::kVector:
      return "vector";
    case SearchMode::kHybrid:
      return "hybrid";
  }
  return "bm25";
}

SearchMode parse_search_mode(std::string_view text) {
  if (text == "bm25" || text == "text") return SearchMode::kBm25;
  if (text == "vector" || text == "embedding") return SearchMode::kVector;
  if (text == "hybrid") return SearchMode::kHybrid;
  throw ValidationError(
      "mode", "unknown search mode '" + std::string(text) + "' (use bm25, vector or hybrid)");
}

std::vector<SearchHit> fuse_rrf(std::span<const ScoredDocument> bm25,
                                std::span<const ScoredDocument> vectors, std::size_t k,
                                const FusionOptions& options) {
  if (!(options.k > 0) || !std::isfinite(options.k)) {
    throw ValidationError("fusion.k", "must be a positive number");
  }
  if (!(options.bm25_weight >= 0) || !(options.vector_weight >= 0) ||
      !std::isfinite(options.bm25_weight) || !std::isfinite(options.vector_weight)) {
    throw ValidationError("fusion weights", "must be finite and >= 0");
  }
  std::vector<SearchHit> hits;
  hits.reserve(bm25.size() + vectors.size());
  std::unordered_map<std::string_view, std::size_t> position;
  auto hit_for = [&](const std::string& id) -> SearchHit& {
    auto [it, inserted] = position.emplace(id, hits.size());
    if (inserted) {
      hits.emplace_back();
      hits.back().id = id;
    }
    return hits[it->second];
  };
  for (std::size_t r = 0; r < bm25.size(); ++r) {
    SearchHit& h = hit_for(bm25[r].id);
    if (h.bm25_rank) continue;  // a list naming an id twice: its first rank counts
    h.bm25_rank = r + 1;
    h.bm25_score = bm25[r].score;
    h.score += options.bm25_weight / (options.k + static_cast<double>(r + 1));
  }
  for (std::size_t r = 0; r < vectors.size(); ++r) {
    SearchHit& h = hit_for(vectors[r].id);
    if (h.vector_rank) continue;
    h.vector_rank = r + 1;
    h.vector_score = vectors[r].score;
    h.score += options.vector_weight / (options.k + static_cast<double>(r + 1));
  }
  auto best_rank = [](const SearchHit& h) {
    return std::min(h.bm25_rank.value_or(SIZE_MAX), h.vector_rank.value_or(SIZE_MAX));
  };
  std::sort(hits.begin(), hits.end(), [&](const SearchHit& a, const SearchHit& b) {
    if (a.score != b.score) return a.score > b.score;
    const std::size_t ra = best_rank(a), rb = best_rank(b);
    if (ra != rb) return ra < rb;
    return a.id < b.id;
  });
  if (hits.size() > k) hits.resize(k);
  return hits;
}

std::vector<SearchHit> hits_from(std::span<const ScoredDocument> ranked, SearchMode method) {
  std::vector<SearchHit> hits;
  hits.reserve(ranked.size());
  for (std::size_t r = 0; r < ranked.size(); ++r) {
    SearchHit h;
    h.id = ranked[r].id;
    h.score = ranked[r].score;
    if (method == SearchMode::kVector) {
      h.vector_score = ranked[r].score;
      h.vector_rank = r + 1;
    } else {
      h.bm25_score = ranked[r].score;
      h.bm25_rank = r + 1;
    }
    hits.push_back(std::move(h));
  }
  return hits;
}

}  // namespace nemori
