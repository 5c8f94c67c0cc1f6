// BM25 full-text index over the documents of one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nemori/retrieval/document.h"
#include "nemori/retrieval/search_filter.h"
#include "nemori/text/tokenizer.h"

namespace nemori {

/// How much one occurrence of a term counts in each field. The defaults equal the original's
/// repetition of fields (title x3, summary x2, entities x2, topics x2, content x1).
struct FieldWeights {
  double title = 3.0;
  double content = 1.0;
  double summary = 2.0;
  double keywords = 2.0;
  double entities = 2.0;
};

/// BM25 parameters. Scoring uses weighted term frequencies: a term's frequency in a document is
/// sum over fields of weight(field) x occurrences(field), the document length is sum over fields
/// of weight(field) x tokens(field), and the classic BM25 formula is applied to those:
///
///   score(d, q) = sum over distinct query terms t of
///                 idf(t) * tf(t,d) * (k1 + 1) / (tf(t,d) + k1 * (1 - b + b * len(d) / avglen))
///   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))      (never negative)
///
/// where N is the number of documents and df(t) the number containing t. A field of weight w
/// thus scores exactly like the field repeated w times (the original's scheme), for any real w.
struct Bm25Options {
  double k1 = 1.2;  ///< Term-frequency saturation (>= 0).
  double b = 0.75;  ///< Length normalisation (0..1).
  FieldWeights weights;
  /// Deleted documents are compacted away once they exceed this share of all slots...
  double compact_ratio = 0.25;
  /// ...and this count (small indexes are not compacted for a handful of deletes).
  std::size_t compact_min_deleted = 1024;
};

/// Figures about an index.
struct Bm25Stats {
  std::size_t documents = 0;     ///< Live documents.
  std::size_t deleted = 0;       ///< Deleted documents not yet compacted away.
  std::size_t terms = 0;         ///< Distinct terms.
  std::size_t postings = 0;      ///< (term, document) pairs, deleted included.
  std::size_t memory_bytes = 0;  ///< Heap memory held (capacities, not sizes).
};

/// An incremental inverted index: term -> postings (document slot, weighted tf), with document
/// lengths, a forward index (document -> terms) for deletes, and tombstones that later writes
/// compact away. Insert, replace and delete cost the size of the document, never a
/// rebuild; after any sequence of writes the scores are exactly those of a fresh build of the
/// remaining documents (statistics are kept as integers and per-document values are computed
/// the same way whatever the history). Ties in score are broken by id (ascending), so rankings
/// do not depend on insertion order either.
///
/// Thread safety: const methods may run concurrently with each other; writes (upsert, remove,
/// compact) need exclusive access (RetrievalService provides the locking).
class Bm25Index {
 public:
  /// An empty index using `tokenizer` for documents and queries (null: a default Tokenizer).
  /// Throws ConfigError when an option is out of range (k1 < 0, b outside 0..1, a negative or
  /// non-finite weight).
  explicit Bm25Index(std::shared_ptr<const Tokenizer> tokenizer, Bm25Options options = {});
  /// Movable (a moved-from index may only be destroyed or assigned to); not copyable.
  ~Bm25Index();
  Bm25Index(Bm25Index&&) noexcept;
  Bm25Index& operator=(Bm25Index&&) noexcept;
  Bm25Index(const Bm25Index&) = delete;
  Bm25Index& operator=(const Bm25Index&) = delete;

  /// Adds `doc`, replacing any document with the same id. Throws ValidationError when the id is
  /// empty or longer than 255 bytes (text is never rejected: invalid UTF-8 is repaired).
  void upsert(const Document& doc);
  /// Removes the document with this id. Returns false when there was none.
  bool remove(std::string_view id);
  /// True when a document with this id is indexed.
  bool contains(std::string_view id) const;
  /// Number of documents.
  std::size_t size() const;

  /// The best `k` documents for `query` among those passing `filter`, best first. Only
  /// documents sharing at least one term with the query are returned. A query without terms
  /// (empty, only stop words) returns nothing. Never throws except std::bad_alloc.
  std::vector<ScoredDocument> search(std::string_view query, std::size_t k,
                                     const SearchFilter& filter = {}) const;
  /// The same with already tokenized query terms (duplicates count once).
  std::vector<ScoredDocument> search_terms(std::span<const std::string> terms, std::size_t k,
                                           const SearchFilter& filter = {}) const;
  /// The BM25 score of one document for `query` (0 when it does not match or is unknown).
  double score(std::string_view query, std::string_view id) const;

  /// When the document happened and how many words it has; nullopt for an unknown id.
  struct Info {
    Timestamp timestamp;
    std::string type;
    std::uint32_t word_count = 0;
  };
  /// Facts about one document, or nullopt.
  std::optional<Info> info(std::string_view id) const;
  /// Ids of all documents, in no particular order.
  std::vector<std::string> ids() const;

  /// Drops deleted documents from postings now (also happens automatically).
  void compact();
  /// Counts and memory.
  Bm25Stats stats() const;
  /// Heap memory held, estimated in O(1) from counters (stats() measures it exactly).
  std::size_t approximate_memory_bytes() const;
  /// The tokenizer used for documents and queries.
  const Tokenizer& tokenizer() const;
  /// The options in force.
  const Bm25Options& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemori
