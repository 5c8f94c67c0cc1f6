// Hybrid ranking: BM25 and vector results fused by reciprocal rank fusion.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nemori/core/time.h"
#include "nemori/retrieval/document.h"

namespace nemori {

/// How a search ranks documents.
enum class SearchMode {
  kBm25,    ///< Full-text BM25 only.
  kVector,  ///< Embedding cosine similarity only.
  kHybrid,  ///< Both, fused by reciprocal rank fusion.
};

/// "bm25", "vector", "hybrid".
std::string_view to_string(SearchMode mode);
/// Inverse of to_string(SearchMode). Throws ValidationError on an unknown value.
SearchMode parse_search_mode(std::string_view text);

/// Reciprocal rank fusion: fused(d) = sum over methods m ranking d of weight_m / (k + rank_m(d)),
/// ranks starting at 1.
struct FusionOptions {
  double k = 60.0;             ///< RRF constant (> 0).
  double bm25_weight = 1.0;    ///< Weight of the BM25 ranking (>= 0).
  double vector_weight = 1.0;  ///< Weight of the vector ranking (>= 0).
};

/// One search result with the evidence of each method.
struct SearchHit {
  std::string id;  ///< episode_id (or data_id when raw events were searched)
  /// The ranking score: the fused RRF score in hybrid mode, else the method's own score.
  double score = 0;
  std::optional<double> bm25_score;        ///< BM25 score, when BM25 ranked it.
  std::optional<double> vector_score;      ///< Cosine similarity, when vectors ranked it.
  std::optional<std::size_t> bm25_rank;    ///< 1-based rank in the BM25 list.
  std::optional<std::size_t> vector_rank;  ///< 1-based rank in the vector list.
  Timestamp timestamp{};                   ///< When the document happened.
  std::uint32_t word_count = 0;            ///< Words of title + content (episodes).
};

/// Fuses two ranked lists (best first) and keeps the best `k`. Order: fused score descending,
/// then the best single rank, then id. Throws ValidationError on a non-positive k constant or
/// a negative weight.
std::vector<SearchHit> fuse_rrf(std::span<const ScoredDocument> bm25,
                                std::span<const ScoredDocument> vectors, std::size_t k,
                                const FusionOptions& options = {});

/// Turns one method's ranked list into hits (score = the method's score, its rank set).
std::vector<SearchHit> hits_from(std::span<const ScoredDocument> ranked, SearchMode method);

}  // namespace nemori
