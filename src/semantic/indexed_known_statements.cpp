#include "nemori/semantic/indexed_known_statements.h"

#include <algorithm>

namespace nemori {

namespace {

constexpr std::size_t kMaxLimit = 10000;  // RetrievalService's largest k

}  // namespace

IndexedKnownStatements::IndexedKnownStatements(RetrievalService& retrieval)
    : retrieval_(retrieval) {}

std::vector<Statement> IndexedKnownStatements::related(const std::string& owner_id,
                                                       const std::string& text,
                                                       std::span<const float> vector,
                                                       std::size_t limit, double floor) {
  if (limit == 0) return {};
  SearchOptions options;
  options.k = std::min(limit, kMaxLimit);
  options.corpus = SearchCorpus::kStatements;
  options.mode = vector.empty() ? SearchMode::kBm25 : SearchMode::kHybrid;
  if (!vector.empty()) options.query_vector = std::vector<float>(vector.begin(), vector.end());
  options.vector_floor = floor;
  const SearchResponse response = retrieval_.search(owner_id, text, options);
  std::vector<std::string> ids;
  ids.reserve(response.hits.size());
  for (const SearchHit& hit : response.hits) ids.push_back(hit.id);
  std::vector<Statement> out;
  for (auto& s : retrieval_.statements(owner_id, ids)) {
    if (s) out.push_back(std::move(*s));
  }
  return out;
}

std::vector<RelatedStatement> IndexedKnownStatements::nearest(const std::string& owner_id,
                                                              std::span<const float> vector,
                                                              std::size_t limit) {
  const auto hits = retrieval_.nearest_statements(owner_id, vector, limit);
  std::vector<std::string> ids;
  ids.reserve(hits.size());
  for (const ScoredDocument& hit : hits) ids.push_back(hit.id);
  const auto copies = retrieval_.statements(owner_id, ids);
  std::vector<RelatedStatement> out;
  for (std::size_t i = 0; i < hits.size(); ++i) {
    if (copies[i]) out.push_back({std::move(*copies[i]), hits[i].score});
  }
  return out;
}

}  // namespace nemori
