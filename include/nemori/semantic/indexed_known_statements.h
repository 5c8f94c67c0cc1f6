// KnownStatements answered from the retrieval index's statement corpus (RetrievalService,
// SearchCorpus::kStatements): what MemorySystem gives the semantic extractor.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "nemori/retrieval/retrieval_service.h"
#include "nemori/semantic/semantic_extractor.h"

namespace nemori {

/// An owner's current statements as the retrieval index holds them. Reads only: after the
/// extractor's batch is applied to storage, the caller indexes its statements
/// (RetrievalService::index_statements) so the next episode sees them. Thread-safe as
/// RetrievalService is; it keeps a reference, so the service must outlive it.
class IndexedKnownStatements final : public KnownStatements {
 public:
  explicit IndexedKnownStatements(RetrievalService& retrieval);

  /// Hybrid search of the current statements (BM25 only when `vector` is empty: no query is
  /// embedded here), vector hits at cosine <= `floor` dropped, the indexed copies (with their
  /// vectors and sources) best first.
  std::vector<Statement> related(const std::string& owner_id, const std::string& text,
                                 std::span<const float> vector, std::size_t limit,
                                 double floor) override;
  /// RetrievalService::nearest_statements with the indexed copies.
  std::vector<RelatedStatement> nearest(const std::string& owner_id, std::span<const float> vector,
                                        std::size_t limit) override;

 private:
  RetrievalService& retrieval_;
};

}  // namespace nemori
