// RetrievalService: the per-owner search indexes behind MemorySystem::search.
//
// Every owner has its own indexes: BM25 over its episodes, BM25 over its raw events (so a
// message is searchable the moment it is stored), a vector index over episode embeddings and,
// with an embedder, one over the raw events still waiting for their episode (found by meaning
// before the episode exists; embedded when indexed and again when the owner is loaded: they
// are few, and once built the episode's stored vector carries their meaning). A third corpus
// holds the owner's statements (semantic memory): BM25 over their content and a vector index
// over their stored vectors, every version kept with its validity so that "current" and
// "as of" are filters (SearchCorpus::kStatements).
//
// Stored episode vectors are indexed as they are; a vector of another model or dimension than
// the embedder's is refused with a ConfigError naming both (`nemori reembed` fixes the store).
// Owners are loaded on first use (from a loader callback, typically reading the storage
// backend), and, when limits are set, the least recently used idle owners are evicted and
// reloaded on demand.
//
// Thread safety: every method may be called from any number of threads at once. Each owner has
// a reader-writer lock: searches of one owner run concurrently, writes to one owner are
// serialised, different owners never wait for each other. Embedding calls (network) are made
// outside the locks.
//
// The index keeps a copy of every episode it indexes (with the ids of its raw events), so that
// a search reads what it returns, the hits' neighbours in time and the episodes behind raw
// messages from memory: episodes(), episodes_of_raw_events(), no storage round trip per hit.
//
// Consistency with storage: write to storage first, then call index_* / remove_*. An owner that
// is evicted and reloaded then sees every write (the loader reads storage again). With a
// loader, index_* leave owners that are not resident alone: their next load reads the write
// from storage, so a write never loads an owner (a one-shot `nemori ingest` builds no index).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "nemori/core/statement.h"
#include "nemori/retrieval/bm25_index.h"
#include "nemori/retrieval/context_scoring.h"
#include "nemori/retrieval/embedding.h"
#include "nemori/retrieval/hybrid.h"
#include "nemori/retrieval/search_filter.h"
#include "nemori/retrieval/vector_index.h"
#include "nemori/text/tokenizer.h"

namespace nemori {

/// What a loader returns for one owner: everything that should be searchable.
struct OwnerData {
  std::vector<Episode> episodes;
  std::vector<RawEvent> raw_events;
  /// (episode_id, raw data_id) links, e.g. EpisodeRepository::links(owner): the evidence of
  /// episodes whose metadata.source_data_ids is empty (episodes with source_data_ids use those),
  /// limited to `raw_events` and in their time order, as raw_ids_for_episode gives it.
  std::vector<std::pair<std::string, std::string>> links;
  /// Every statement of the owner, current and closed, with its source_episode_ids (e.g.
  /// SemanticMemoryRepository::search with StatementState::kAll). Indexed as
  /// index_statements() does.
  std::vector<Statement> statements;
};

/// Reads one owner's data, e.g. from EpisodeRepository::by_owner and RawDataRepository::search.
/// May throw (StorageError...); the owner then stays unloaded and the error reaches the caller.
using OwnerLoader = std::function<OwnerData(const std::string& owner_id)>;

/// Settings of a RetrievalService.
struct RetrievalOptions {
  /// How text becomes terms (documents and queries).
  TokenizerOptions tokenizer;
  /// BM25 parameters and field weights for episodes.
  Bm25Options bm25;
  /// Field weights for raw events (title = the speaker's name, content = the message).
  FieldWeights raw_event_weights{1.0, 1.0, 1.0, 1.0, 1.0};
  /// Vector index settings. dimension 0 means: the embedder's, else the first vector's.
  VectorIndexOptions vectors;
  /// Embeds queries (vector and hybrid modes) and episodes without embedding_vector. Null:
  /// only episodes that carry an embedding_vector get one, and only queries that bring a
  /// query_vector can use vector search.
  std::shared_ptr<EmbeddingClient> embedder;
  /// Embed episodes that have no embedding_vector when they are indexed or loaded.
  bool embed_missing = true;
  /// Loads an owner on first use or after eviction. Null: owners start empty and are never
  /// evicted (their data would be lost).
  OwnerLoader loader;
  /// Keep at most this many owners in memory (0 = no limit). Needs a loader.
  std::size_t max_owners = 0;
  /// Keep at most about this many bytes of indexes in memory (0 = no limit). Needs a loader.
  std::size_t max_bytes = 0;
  /// Threads used by preload() (0 = all hardware threads).
  std::size_t load_threads = 0;
};

/// Which documents of an owner a search ranks.
enum class SearchCorpus {
  kEpisodes,   ///< Episodes (BM25, vector or hybrid).
  kRawEvents,  ///< Raw events such as chat messages (vectors: the unprocessed ones only).
  /// Statements: BM25 over content (title field = subject, keyword = category) and their
  /// stored vectors. SearchFilter applies to them as: since/until on valid_from, types =
  /// category names, ids = statement ids; SearchOptions::statements picks the versions.
  kStatements,
};

/// Which versions of an owner's statements a search over SearchCorpus::kStatements ranks.
struct StatementFilter {
  /// Closed (superseded) statements are ranked too; false: current ones only. Ignored when
  /// as_of is set.
  bool include_superseded = false;
  /// Only statements valid at this instant (valid_from <= t < valid_to), closed ones included.
  std::optional<Timestamp> as_of;
};

/// One search request's settings.
struct SearchOptions {
  /// Number of hits wanted (1..10000).
  std::size_t k = 10;
  /// BM25, vector or hybrid. Hybrid without any way to embed the query (no embedder, no
  /// query_vector) or over an owner without vectors runs as BM25 (SearchResponse::mode says so).
  SearchMode mode = SearchMode::kHybrid;
  SearchCorpus corpus = SearchCorpus::kEpisodes;
  /// Time range, types (to_string(EpisodeType) or to_string(DataType)), allowed ids.
  SearchFilter filter;
  /// RRF constant and per-method weights (hybrid mode).
  FusionOptions fusion;
  /// Candidates taken from each method before fusion (0 = 2 x k).
  std::size_t candidates = 0;
  /// Use this query embedding instead of calling the embedder.
  std::optional<std::vector<float>> query_vector;
  /// Re-rank by context in time (episodes: neighbours and sitting; raw events: sitting only;
  /// statements: not applied).
  ContextScoringOptions context;
  /// SearchCorpus::kStatements only: which versions are ranked (default: current ones).
  StatementFilter statements;
  /// Vector hits with a cosine at or below this are dropped before fusion (nullopt: none are).
  std::optional<double> vector_floor;
};

/// The answer to a search.
struct SearchResponse {
  std::vector<SearchHit> hits;           ///< Best first.
  SearchMode mode = SearchMode::kBm25;   ///< The mode actually used.
  std::vector<std::string> query_terms;  ///< The query's terms after tokenization.
  double took_ms = 0;                    ///< Time spent, embedding included.
  double embed_ms = 0;                   ///< Of which embedding the query (0 when not embedded).
};

/// Figures about the resident indexes.
struct RetrievalStats {
  std::size_t owners_resident = 0;  ///< Owners whose indexes are in memory.
  std::size_t owners_known = 0;     ///< Owners seen (resident or evicted).
  std::size_t episodes = 0;         ///< Episodes indexed in resident owners.
  std::size_t raw_events = 0;       ///< Raw events indexed in resident owners.
  std::size_t vectors = 0;          ///< Episode vectors in resident owners.
  std::size_t statements = 0;       ///< Statements (every version) in resident owners.
  std::size_t memory_bytes = 0;     ///< Approximate heap memory of resident indexes.
  std::uint64_t loads = 0;          ///< Owner loads since start.
  std::uint64_t evictions = 0;      ///< Owner evictions since start.
};

/// What preload() did.
struct PreloadReport {
  std::size_t owners = 0;      ///< Owners loaded now (already resident ones are skipped).
  std::size_t episodes = 0;    ///< Episodes indexed.
  std::size_t raw_events = 0;  ///< Raw events indexed.
  double took_ms = 0;          ///< Wall time.
};

/// An episode as the owner's index holds it: the version last indexed or loaded.
struct IndexedEpisode {
  /// Never null in what RetrievalService returns.
  std::shared_ptr<const Episode> episode;
  /// The raw events it was built from: metadata.source_data_ids, else its links when loaded
  /// (OwnerData::links).
  std::vector<std::string> raw_event_ids;
  /// word_count(*episode), counted once when it was indexed.
  std::size_t words = 0;
};

/// An indexed episode with its neighbours in time (order: timestamp, then episode_id).
struct EpisodeInContext {
  /// The episode; nullopt when it is not indexed (removed since it was ranked).
  std::optional<IndexedEpisode> episode;
  /// Up to the asked number of episodes just before it, oldest first.
  std::vector<IndexedEpisode> before;
  /// Up to the asked number of episodes just after it, oldest first.
  std::vector<IndexedEpisode> after;
};

/// The per-owner index registry. See the top of this file for thread safety and consistency.
class RetrievalService {
 public:
  /// Throws ConfigError on invalid options (BM25 parameters, vector settings, max_owners or
  /// max_bytes without a loader).
  explicit RetrievalService(RetrievalOptions options = {});
  ~RetrievalService();
  RetrievalService(const RetrievalService&) = delete;
  RetrievalService& operator=(const RetrievalService&) = delete;

  /// Indexes (or re-indexes, replacing the old version) one episode of episode.owner_id: BM25
  /// always; its embedding_vector, or an embedding of embedding_text(episode) when embed_missing
  /// and an embedder is set. Throws ValidationError (empty owner or id, vector dimension
  /// mismatch), LlmError (embedder), or what the loader throws; nothing changes then.
  void index_episode(const Episode& episode);
  /// The same for many episodes (any owners), embedding in batches. Not atomic across owners:
  /// on an error, owners processed before it keep their new episodes.
  void index_episodes(std::span<const Episode> episodes);
  /// Removes an episode from the owner's indexes. Returns false when it was not indexed.
  /// Throws ValidationError on an empty owner, or what the loader throws.
  bool remove_episode(const std::string& owner_id, const std::string& episode_id);

  /// Indexes one raw event (a chat message: speaker + text) for SearchCorpus::kRawEvents,
  /// replacing an older version. Throws ValidationError on an empty owner or id.
  void index_raw_event(const RawEvent& event);
  /// The same for many raw events (any owners).
  void index_raw_events(std::span<const RawEvent> events);
  /// Removes a raw event. Returns false when it was not indexed.
  bool remove_raw_event(const std::string& owner_id, const std::string& data_id);

  /// Indexes statements of `owner_id` for SearchCorpus::kStatements, each replacing an older
  /// version with its id: BM25 over content (subject as title, category as keyword), the
  /// stored embedding_vector when there is one (statements are never embedded here; one of
  /// another model or dimension than the embedder's is left out, so that statement is found
  /// by BM25 only), and a copy (statements()). Throws ValidationError (empty owner or id, a
  /// statement of another owner, a vector whose dimension differs from the owner's statement
  /// vectors) or what the loader throws; nothing changes then.
  void index_statements(const std::string& owner_id, std::span<const Statement> statements);
  /// Removes statements from the owner's index. Returns how many were indexed. Throws
  /// ValidationError on an empty owner, or what the loader throws.
  std::size_t remove_statements(const std::string& owner_id,
                                std::span<const std::string> statement_ids);
  /// The indexed copies of these statements (with sources and vector), in the same order;
  /// nullopt for ids not indexed. Throws as episodes().
  std::vector<std::optional<Statement>> statements(const std::string& owner_id,
                                                   std::span<const std::string> statement_ids);
  /// The owner's `k` current statements with a vector nearest to `vector` by cosine (exact
  /// scan, whatever the index size), best first, ties by id; the score is the cosine. Empty
  /// when the owner has no statement vector. Throws ValidationError (empty owner, a vector of
  /// another dimension than the owner's statement vectors), or what the loader throws.
  std::vector<ScoredDocument> nearest_statements(const std::string& owner_id,
                                                 std::span<const float> vector, std::size_t k);

  /// Ranks the owner's episodes (or raw events, or statements) for `query`. An unknown owner, or a query
  /// without terms in BM25 mode, gives no hits. Throws ValidationError (empty owner, k outside
  /// 1..10000, query_vector of the wrong dimension), ConfigError
  /// (vector mode with no embedder and no query_vector), LlmError (embedder), or what the
  /// loader throws. Stored vectors of another model or dimension than the embedder's: ConfigError
  /// naming both.
  SearchResponse search(const std::string& owner_id, std::string_view query,
                        const SearchOptions& options = {});

  /// The owner's indexed episodes with these ids, in the same order, each with up to
  /// `neighbours` episodes before and after it in time; read from memory under one read lock
  /// (loading the owner first if needed). Unknown ids give an empty EpisodeInContext. Throws
  /// ValidationError on an empty owner, or what the loader throws.
  std::vector<EpisodeInContext> episodes(const std::string& owner_id,
                                         std::span<const std::string> episode_ids,
                                         std::size_t neighbours = 0);
  /// For each raw event id, the ids of the owner's indexed episodes built from it (in the
  /// order they were indexed; empty when none). Throws as episodes().
  std::vector<std::vector<std::string>> episodes_of_raw_events(
      const std::string& owner_id, std::span<const std::string> raw_data_ids);
  /// Records a recall on the indexed copies of these episodes (recall_count + 1, last_accessed
  /// = at), after EpisodeRepository::mark_accessed did so in storage. Unknown ids and owners
  /// that are not resident are left alone.
  void record_access(const std::string& owner_id, std::span<const std::string> episode_ids,
                     Timestamp at);

  /// Forgets every index of the owner (after its data was deleted from storage).
  void drop_owner(const std::string& owner_id);
  /// Frees the owner's indexes now; they are reloaded on next use. Returns false when the owner
  /// was not resident or there is no loader (eviction would lose data).
  bool evict(const std::string& owner_id);
  /// Loads these owners now, in parallel (start-up warm-up). Throws what the loader throws
  /// (owners loaded before the error stay loaded).
  PreloadReport preload(std::span<const std::string> owner_ids);
  /// True when the owner's indexes are in memory.
  bool is_resident(const std::string& owner_id) const;

  /// Totals over resident owners.
  RetrievalStats stats() const;
  /// The tokenizer every index of this service uses.
  const Tokenizer& tokenizer() const;
  /// The options in force.
  const RetrievalOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemori
