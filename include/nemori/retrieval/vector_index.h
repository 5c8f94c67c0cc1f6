// Vector index over the documents of one owner: exact cosine scan, HNSW above a size.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nemori/core/time.h"
#include "nemori/retrieval/document.h"
#include "nemori/retrieval/search_filter.h"

namespace nemori {

/// Settings of a VectorIndex.
struct VectorIndexOptions {
  /// Length of every vector (required, > 0).
  std::size_t dimension = 0;
  /// Above this many vectors an HNSW graph answers searches; at or below it an exact scan does.
  /// 0 disables HNSW (always exact).
  std::size_t hnsw_threshold = 20000;
  /// HNSW graph degree (hnswlib's M).
  std::size_t hnsw_m = 16;
  /// HNSW candidate list size while building (hnswlib's ef_construction).
  std::size_t hnsw_ef_construction = 100;
  /// HNSW candidate list size while searching: at least this...
  std::size_t hnsw_ef_search = 64;
  /// ...and at least this many times k (0 = no per-k minimum; k itself is always a minimum).
  std::size_t hnsw_ef_search_per_k = 8;
  /// Threads used to build the HNSW graph in upsert_batch and when crossing the threshold
  /// (0 = all hardware threads).
  std::size_t build_threads = 1;
  /// Answer far queries exactly: a query whose best graph hit is less similar than all but
  /// 5% of a sample of stored vectors are to their nearest neighbour (measured when the graph
  /// is built and each time it doubles) is far from every stored vector, where graph search
  /// loses recall; the exact scan answers it instead.
  bool hnsw_exact_fallback = true;
  /// Keep an int8 copy of every vector (1 byte per dimension + 12 bytes) for the exact scan,
  /// which then reads a quarter of the bytes and re-scores only its best candidates in float
  /// (same results as a float scan). Off: the exact scan reads the float vectors.
  bool quantised_scan = true;
  /// Threads used by one exact scan with quantised_scan (0 = all hardware threads, at most
  /// 64); each thread gets at least 4 MB of int8 codes, so small scans use fewer.
  std::size_t search_threads = 0;
  /// Deleted vectors are dropped (graph rebuilt) once they exceed this share of all vectors.
  double rebuild_ratio = 0.3;
};

/// A vector with its document id, time and type tag (for filters).
struct VectorDocument {
  std::string id;
  std::vector<float> vector;
  Timestamp timestamp{};
  std::string type;
};

/// Figures about a vector index.
struct VectorIndexStats {
  std::size_t vectors = 0;  ///< Live vectors.
  std::size_t deleted = 0;  ///< Deleted, not yet dropped.
  std::size_t dimension = 0;
  bool hnsw = false;             ///< True when an HNSW graph answers searches.
  std::size_t memory_bytes = 0;  ///< Heap memory held (vectors, graph, ids).
};

/// Cosine-similarity index. Vectors are L2-normalised on insert (a zero vector stays zero and
/// scores 0 against everything). Small indexes are searched exactly: a vectorised scan of an
/// int8 copy of the vectors with an error bound per vector, then float re-scoring of the
/// candidates the bound cannot rule out (the same result as a float scan; see quantised_scan).
/// Once the index holds more than hnsw_threshold vectors they move into an HNSW graph
/// (hnswlib, inner product on normalised vectors) and searches become approximate (see
/// hnsw_ef_search and hnsw_exact_fallback). Scores are cosine similarities in -1..1, best
/// first, ties broken by id.
///
/// Filtered searches: when few documents pass the filter they are scanned exactly; otherwise
/// the graph is asked for more candidates until k pass.
///
/// Thread safety: const methods may run concurrently; writes need exclusive access.
class VectorIndex {
 public:
  /// An empty index. Throws ConfigError when dimension is 0 or another option is out of range.
  explicit VectorIndex(VectorIndexOptions options);
  /// Movable (a moved-from index may only be destroyed or assigned to); not copyable.
  ~VectorIndex();
  VectorIndex(VectorIndex&&) noexcept;
  VectorIndex& operator=(VectorIndex&&) noexcept;
  VectorIndex(const VectorIndex&) = delete;
  VectorIndex& operator=(const VectorIndex&) = delete;

  /// Adds a vector, replacing any with the same id. Throws ValidationError when the id is empty
  /// or the vector's length differs from dimension() (the message gives both) or holds a
  /// non-finite value; nothing changes then.
  void upsert(const VectorDocument& doc);
  /// Adds many vectors (HNSW insertion on build_threads threads). Checks every vector first:
  /// on a ValidationError nothing is added.
  void upsert_batch(std::span<const VectorDocument> docs);
  /// Removes the vector with this id. Returns false when there was none.
  bool remove(std::string_view id);
  /// True when a vector with this id is indexed.
  bool contains(std::string_view id) const;
  /// Number of vectors.
  std::size_t size() const;
  /// The vector length.
  std::size_t dimension() const;
  /// True when searches go through the HNSW graph.
  bool uses_hnsw() const;
  /// Changes hnsw_ef_search and hnsw_ef_search_per_k (a write: needs exclusive access). Throws
  /// ConfigError when ef_search is 0 or ef_search_per_k is above 1000.
  void set_hnsw_ef_search(std::size_t ef_search, std::size_t ef_search_per_k);
  /// Changes hnsw_exact_fallback (a write: needs exclusive access).
  void set_hnsw_exact_fallback(bool on);

  /// The `k` most similar documents passing `filter` (HNSW when active, else exact). Throws
  /// ValidationError when the query length differs from dimension().
  std::vector<ScoredDocument> search(std::span<const float> query, std::size_t k,
                                     const SearchFilter& filter = {}) const;
  /// The exact top k by a full scan, whatever the index size. Throws like search().
  std::vector<ScoredDocument> search_exact(std::span<const float> query, std::size_t k,
                                           const SearchFilter& filter = {}) const;

  /// Counts and memory.
  VectorIndexStats stats() const;
  /// Heap memory held, estimated in O(1).
  std::size_t approximate_memory_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemori
