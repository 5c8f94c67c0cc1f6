// The statement corpus of one owner (internal to RetrievalService): BM25 over the statements'
// content, a vector index over their stored vectors, and a copy of every version with its
// validity, from which the "current" and "as of" filters are built as id allow-lists.
//
// Thread safety: const methods may run concurrently; writes need exclusive access (the
// service's per-owner lock provides it).
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "nemori/core/statement.h"
#include "nemori/retrieval/bm25_index.h"
#include "nemori/retrieval/document.h"
#include "nemori/retrieval/retrieval_service.h"
#include "nemori/retrieval/search_filter.h"
#include "nemori/retrieval/vector_index.h"

namespace nemori::retrieval_internal {

/// The document of a statement: title = subject, content = content, keywords = [category],
/// type = category name, timestamp = valid_from, word_count = words of content.
Document document_from_statement(const Statement& statement);

/// One owner's statements, every version.
class StatementIndex {
 public:
  /// An empty corpus ranking with `tokenizer` and `bm25`; the vector index is made when the
  /// first vector arrives (upsert()).
  StatementIndex(std::shared_ptr<const Tokenizer> tokenizer, Bm25Options bm25);

  /// Adds or replaces statements. `vectors[i]` is the vector to index for statements[i]
  /// (nullopt: BM25 only; an older vector of that id is dropped). `vector_options` makes the
  /// vector index on first use. Throws ValidationError (empty or too long id, a vector of
  /// another dimension) before changing anything.
  void upsert(std::span<const Statement> statements,
              std::span<const std::optional<std::vector<float>>> vectors,
              const VectorIndexOptions& vector_options);
  /// Removes one statement. Returns false when it was not indexed.
  bool remove(const std::string& statement_id);

  /// The copy of a statement, or null.
  const Statement* find(const std::string& statement_id) const;
  /// The filter a search runs with: `filter` narrowed to the versions `versions` asks for.
  SearchFilter search_filter(const SearchFilter& filter, const StatementFilter& versions) const;
  /// The k current statements nearest to `vector` by cosine (exact), best first.
  std::vector<ScoredDocument> nearest_current(std::span<const float> vector, std::size_t k) const;

  const Bm25Index& bm25() const { return bm25_; }
  /// Null until a statement with a vector is indexed.
  const VectorIndex* vectors() const { return vectors_ ? &*vectors_ : nullptr; }
  /// Statements indexed (every version).
  std::size_t size() const { return records_.size(); }
  /// Approximate heap memory.
  std::size_t approximate_bytes() const;

 private:
  Bm25Index bm25_;
  std::optional<VectorIndex> vectors_;
  std::unordered_map<std::string, Statement> records_;
  std::size_t records_bytes_ = 0;
  std::size_t closed_ = 0;  // records with valid_to set
};

}  // namespace nemori::retrieval_internal
