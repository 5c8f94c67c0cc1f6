// MemorySystem: the facade the library, the `nemori` command and the REST server go through.
//
// Data flow: messages / raw events are stored at once (durable and searchable as raw messages
// the moment add_* returns); process() cuts an owner's unprocessed events into episodes
// (segmenter), writes each (episode generator), stores it with links to its raw events, marks
// the events processed and indexes the episode for retrieval; search() ranks an owner's
// episodes for a query.
//
// When episodes get built: with MemoryConfig::building.workers = 0 (the default) only when
// process() / flush() is called. With workers, also in the background: an owner is built when
// `after_messages` messages arrived since its last build (the newest segment stays open, so a
// conversation fed a message at a time gives the episodes it gives fed whole), and when nothing
// was added to it for `idle_after` (the newest segment is closed). flush() builds at once.
// Messages not yet built stay pending in storage; a MemorySystem opened later picks them up.
//
// Tenancy: every call names an owner; no read returns another owner's data.
// Thread safety: all methods may be called from many threads at once; processing of one owner
// is serialised, different owners proceed in parallel.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/message.h"
#include "nemori/core/statement.h"
#include "nemori/episodes/episode_generator.h"
#include "nemori/episodes/segmenter.h"
#include "nemori/llm/config.h"
#include "nemori/memory/clock.h"
#include "nemori/retrieval/retrieval_service.h"
#include "nemori/semantic/semantic_options.h"
#include "nemori/storage/config.h"
#include "nemori/storage/repository.h"

namespace nemori {

class EpisodeMerger;
class SemanticExtractor;

namespace detail {
class BackgroundBuilder;
class IndexFreshness;
}

/// When episodes get built without an explicit process() / flush().
struct BackgroundBuildOptions {
  /// Threads building episodes in the background. 0 (the default): none, episodes are built
  /// only by process() / flush() (what the `nemori` command does: ingest, then flush).
  std::size_t workers = 0;
  /// Size trigger: build an owner once this many of its messages arrived since its last build
  /// (0 = never by size). The build keeps the newest segment open.
  std::size_t after_messages = 8;
  /// Idle trigger: build an owner, closing its newest segment, once nothing was added to it
  /// for this long (by `clock`).
  std::chrono::milliseconds idle_after{std::chrono::minutes(10)};
  /// The clock idleness is measured on; null = SteadyTimeSource. Tests pass a ManualTimeSource.
  std::shared_ptr<const TimeSource> clock;
  /// Called from a worker thread when a background build fails (the owner's events stay
  /// pending; it is tried again after another `idle_after`), with an empty owner when reading
  /// the owners with pending events at start failed. Null: the message goes to stderr.
  std::function<void(const std::string& owner_id, const std::string& error)> on_error;
};

/// What a build does with an owner's newest segment.
enum class NewestSegment {
  kClose,     ///< Build every pending message (the input has ended: flush, idleness).
  kKeepOpen,  ///< Leave the newest segment pending until more messages decide where it ends.
};

/// Settings of a MemorySystem.
struct MemoryConfig {
  /// Where raw events and episodes live.
  StorageConfig storage;
  /// How the LLM-free segmenter cuts conversations.
  HeuristicSegmenterOptions segmentation;
  /// Retrieval indexes: tokenizer (also used by the segmenter), BM25 weights, vectors, owners
  /// kept in memory. Its loader is set by MemorySystem (owners load from storage on demand).
  RetrievalOptions retrieval;
  /// Background episode building (off by default).
  BackgroundBuildOptions building;
  /// The language and embedding models (make_llm_clients() builds them from an LlmConfig).
  /// A null `chat` is the LLM-free mode: the heuristic segmenter and the extractive episode
  /// writer. A null `embedder`: no vectors, BM25 search only. With an embedder, episodes are
  /// embedded when built (requests of 64 texts) and stored with their vectors and its model;
  /// owners load their stored vectors, never re-embedding them, and a stored vector of another
  /// model or dimension makes searches of its owner fail with a ConfigError naming both
  /// (`nemori reembed` re-embeds the store). Used as retrieval.embedder unless that is set.
  LlmClients llm;
  /// Staleness bound of searches: before a search of an owner whose index is in memory, at
  /// most once per this interval, the owner's raw event and episode counts in storage are
  /// compared with what the index holds (two indexed counts); when another process (or
  /// another MemorySystem on the same DuckDB file) wrote to the owner, the owner's index is
  /// reloaded from storage. So a search sees what others committed at most this long ago (plus
  /// the reload). 0: check before every search. Not checked on memory:// (no one else writes).
  std::chrono::milliseconds index_check_interval{100};
  /// Semantic memory: statements extracted from each new episode (needs `llm.chat` and
  /// `llm.embedder`; off without them).
  SemanticOptions semantic;
  /// Episode merging: a new episode close in meaning and time to a recent one may be merged
  /// with it (needs `llm.chat` and `llm.embedder`; off without them).
  MergingOptions merging;
};

/// The context scoring MemorySystem::search applies unless told otherwise.
ContextScoringOptions default_context_scoring();

/// A search over one owner's episodes.
struct MemorySearchRequest {
  std::string owner_id;
  std::string query;
  /// Hits to return before neighbour expansion.
  std::size_t limit = 10;
  /// BM25, vector or hybrid. Unset: hybrid (reciprocal rank fusion) with an embedder, BM25
  /// without. Vector or hybrid without an embedder is a ConfigError, never a quiet BM25.
  std::optional<SearchMode> mode;
  /// Also return this many episodes before and after each hit in time (marked as neighbours).
  std::size_t neighbours = 0;
  /// Stop adding episodes once their words would exceed this budget (0 = no budget).
  std::size_t word_budget = 0;
  /// Only episodes inside this time range.
  std::optional<TimeRange> time_range;
  /// Bump recall_count / last_accessed of the returned hits.
  bool mark_accessed = false;
  /// Also rank the owner's raw messages and fuse, by reciprocal rank, each episode's own rank
  /// with the rank of its best message: an episode that holds the one message answering the
  /// query rises even when the rest of it is about something else. Off by default: on LoCoMo
  /// it did not raise evidence recall (docs/performance.md).
  bool message_evidence = false;
  /// Context scoring: each episode's score also borrows from its neighbours in time and from
  /// the best hit of the same sitting (retrieval/context_scoring.h). On by default: it raised
  /// LoCoMo evidence recall at 1000 words (docs/retrieval.md); both weights 0 turn it off.
  ContextScoringOptions context = default_context_scoring();
  /// Statements (semantic memory) to return beside the episodes, ranked separately: current
  /// ones unless `as_of` or `include_superseded` says otherwise. 0: none.
  std::size_t statement_limit = 10;
  /// Stop adding statements once their words would exceed this budget (0 = no budget).
  std::size_t statement_word_budget = 0;
  /// Statements valid at this instant (valid_from <= t < valid_to), superseded ones included.
  std::optional<Timestamp> as_of;
  /// Every version of a fact: superseded statements are ranked too (ignored with `as_of`).
  bool include_superseded = false;
};

/// One episode found, with its scores and evidence.
struct MemoryHit {
  Episode episode;
  double score = 0;         ///< Final (fused) score.
  double bm25_score = 0;    ///< 0 when BM25 did not rank it.
  double vector_score = 0;  ///< 0 when vectors did not rank it.
  /// Ids of the raw events the episode was built from (the evidence).
  std::vector<std::string> raw_event_ids;
  /// True when the episode was added as a time neighbour of a hit rather than ranked itself.
  bool neighbour = false;
  /// word_count(episode): what the hit costs of a word budget.
  std::size_t words = 0;
};

/// One statement found, with its scores.
struct StatementHit {
  Statement statement;      ///< With its source_episode_ids.
  double score = 0;         ///< Final (fused) score.
  double bm25_score = 0;    ///< 0 when BM25 did not rank it.
  double vector_score = 0;  ///< 0 when vectors did not rank it.
  bool current = true;      ///< statement.current(): not superseded nor closed.
  std::size_t words = 0;    ///< Whitespace-separated words of its content.
};

/// Whitespace-separated words of a statement's content (what it costs of a word budget).
std::size_t statement_words(const Statement& statement);

/// The answer to a search.
struct MemorySearchResponse {
  std::vector<MemoryHit> hits;
  std::size_t words = 0;  ///< Words in all returned episodes (title + content).
  /// Statements of the owner for the query, best first (MemorySearchRequest::statement_limit).
  std::vector<StatementHit> statements;
  std::size_t statement_words = 0;  ///< Words in all returned statements.
  double took_ms = 0;     ///< Time spent, the query's embedding included.
  double embed_ms = 0;    ///< Of which embedding the query (0 when not embedded).
};

/// A raw message found by the raw-message index.
struct MessageHit {
  RawEvent event;
  double score = 0;
};

/// What MemorySystem::add() stored.
struct AddResult {
  /// Ids of the stored messages, in input order.
  std::vector<std::string> message_ids;
  /// Raw events stored as given.
  std::size_t raw_events = 0;
  /// Messages and raw events that were stored already with the same data (skipped; counted
  /// in message_ids / raw_events too).
  std::size_t already_stored = 0;
};

/// How a raw event reads as a message (speaker, text, time), for segmentation and for showing
/// it: a conversation event whose content is a message object is that message; any other
/// event (a list of messages, a document, a sensor reading...) is "spoken" by its source (else
/// its data type), its text is searchable_text(event) (what the raw-event index holds) and its
/// time the event's. Never throws.
Message message_of(const RawEvent& event);

/// Raw events of one owner stored but not yet built into episodes (process() builds them).
/// Throws what the storage throws.
std::size_t pending_raw_events(Storage& storage, const std::string& owner_id);
/// pending_raw_events() of every owner that has any, by owner id.
std::map<std::string, std::size_t> pending_by_owner(Storage& storage);

/// What one process() call did.
struct ProcessResult {
  std::size_t raw_events = 0;  ///< Events consumed.
  std::size_t episodes = 0;    ///< Episodes written.
  /// Events of the open newest segment left pending (NewestSegment::kKeepOpen only).
  std::size_t left_open = 0;
  /// Episodes the semantic pass finished (done or dropped; retried ones are not counted).
  std::size_t semantic_episodes = 0;
  std::size_t statements_added = 0;  ///< New statements stored by the semantic pass.
  std::size_t merges = 0;            ///< Episode pairs merged into one.
};

/// What a process() call does beyond building episodes, and why (MemorySystem::semantic_status).
struct SemanticStatus {
  /// "on", "off (LLM-free)", "off (needs an embedding model)" or "off (disabled)".
  std::string semantic;
  /// The same for episode merging.
  std::string merging;
  bool semantic_on() const { return semantic == "on"; }
  bool merging_on() const { return merging == "on"; }
};

/// What MemorySystem::delete_statement did.
struct StatementDeletion {
  bool deleted = false;  ///< False when the owner has no statement with that id.
  /// Statements the deleted one had closed, now current again (as they are stored now).
  std::vector<Statement> reopened;
};

/// What MemorySystem::delete_episode did.
struct EpisodeDeletion {
  bool deleted = false;  ///< False when the owner has no episode with that id.
  /// Statements no other episode supported, removed with it.
  std::size_t statements_removed = 0;
  /// Statements those had closed, reopened.
  std::size_t statements_reopened = 0;
};

/// The memory engine. Create with open().
class MemorySystem {
 public:
  /// Opens storage and builds the components from `config`. Throws what open_storage throws.
  static std::unique_ptr<MemorySystem> open(const MemoryConfig& config);
  /// Uses an already opened storage. With config.building.workers > 0, starts the workers; the
  /// first asks storage which owners have pending messages and schedules them.
  MemorySystem(std::unique_ptr<Storage> storage, const MemoryConfig& config);
  /// Stops the background workers (a build under way completes first; what is still pending
  /// stays pending in storage), then closes storage.
  ~MemorySystem();
  MemorySystem(const MemorySystem&) = delete;
  MemorySystem& operator=(const MemorySystem&) = delete;

  /// Stores messages of `owner_id` as conversation raw events in one transaction, indexes
  /// them as raw messages and tells the background workers (if any); builds nothing itself, so
  /// it returns in about one storage transaction. Returns their ids in input order. Idempotent: a
  /// message's id is derived from its owner and external_id (else its timestamp, speaker and
  /// content), and a message stored already with the same data is skipped, so adding a message
  /// twice stores it once (a message with neither external_id nor timestamp gets a fresh id).
  /// Throws ValidationError (nothing stored) on a bad message, DuplicateError naming the id when
  /// the same external_id was stored with other data.
  std::vector<std::string> add_messages(const std::string& owner_id,
                                        std::span<const Message> messages,
                                        const std::string& source = "");
  /// Stores raw events (each with its own owner_id) in one transaction. An event whose
  /// data_id is stored already with the same data is skipped (DuplicateError when the data
  /// differs). Returns how many were skipped.
  std::size_t add_raw_events(std::span<const RawEvent> events);
  /// Stores messages of `owner_id` (as add_messages) and raw events of the same owner
  /// together, in one transaction: all or nothing. The batch holds the messages first, then
  /// the events, so a storage error naming "item N" means messages[N], or
  /// events[N - messages.size()]. Throws ValidationError naming the event and both owners
  /// when an event's owner_id is not `owner_id` (an empty one is not filled in either).
  AddResult add(const std::string& owner_id, std::span<const Message> messages,
                std::span<const RawEvent> events, const std::string& source = "");

  /// Builds episodes from the unprocessed events of `owner_id`, oldest first: all of them
  /// (kClose), or all but the newest, still open segment (kKeepOpen). Blocks while another
  /// thread (or, on PostgreSQL, another process) builds the same owner. Throws what the
  /// storage throws (nothing is stored then; the events stay pending).
  ProcessResult process(const std::string& owner_id, NewestSegment newest = NewestSegment::kClose);
  /// process() for every owner with unprocessed events.
  ProcessResult process_all();
  /// Builds every pending message of `owner_id` now, open segment included, and returns when
  /// they are built (process() with kClose; waits for a worker building the owner).
  ProcessResult flush(const std::string& owner_id) { return process(owner_id); }
  /// flush() of every owner with pending messages.
  ProcessResult flush_all() { return process_all(); }
  /// Makes the background workers look at the clock now and returns once none is building and
  /// no owner is due (size or idle trigger). Returns at once without workers. For tests that
  /// move a ManualTimeSource, and for callers that want the background work done.
  void settle();

  /// Ranks the owner's episodes for the query (see MemorySearchRequest).
  MemorySearchResponse search(const MemorySearchRequest& request);
  /// Ranks the owner's raw messages (available before any episode exists): hybrid with an
  /// embedder (messages waiting for their episode are found by meaning), else BM25.
  std::vector<MessageHit> search_messages(const std::string& owner_id, const std::string& query,
                                          std::size_t limit);

  /// The owner's episode with this id, or nullopt (also when it belongs to another owner).
  std::optional<Episode> get_episode(const std::string& owner_id, const std::string& episode_id);
  /// The owner's episodes, newest first.
  std::vector<Episode> list_episodes(const std::string& owner_id, std::size_t limit,
                                     std::size_t offset);
  /// Deletes everything of the owner: raw events, episodes, links, statements and index entries.
  OwnerDeletion delete_owner(const std::string& owner_id);
  /// Deletes one episode of the owner with its links, semantic progress and source rows, and
  /// every statement no other episode supports (reopening what those closed), in one
  /// transaction; then updates the indexes. Another owner's id is not found (deleted = false).
  EpisodeDeletion delete_episode(const std::string& owner_id, const std::string& episode_id);

  /// The owner's statements matching `query` (its owner_ids are replaced by the owner).
  /// Throws ValidationError on an invalid query, what the storage throws.
  StatementSearchResult list_statements(const std::string& owner_id, StatementQuery query);
  /// The owner's statement with this id, or nullopt (also when it belongs to another owner).
  std::optional<Statement> get_statement(const std::string& owner_id,
                                         const std::string& statement_id);
  /// The statement and every statement linked to it through superseded_by, oldest first. Empty
  /// when the owner has no statement with this id.
  std::vector<Statement> statement_history(const std::string& owner_id,
                                           const std::string& statement_id);
  /// Deletes the owner's statement and reopens what it had closed (in storage and index).
  /// Another owner's id is not found (deleted = false).
  StatementDeletion delete_statement(const std::string& owner_id, const std::string& statement_id);
  /// Whether process() runs the semantic pass and merging, and if not why.
  SemanticStatus semantic_status() const;

  /// The underlying storage.
  Storage& storage() { return *storage_; }
  /// The tokenizer used for indexing and segmentation.
  const Tokenizer& tokenizer() const { return retrieval_->tokenizer(); }
  /// The retrieval indexes (statistics, preload).
  RetrievalService& retrieval() { return *retrieval_; }

 private:
  std::mutex& owner_mutex(const std::string& owner_id);
  /// process() under the owner's mutex: the three stages under lock_owner.
  ProcessResult build(const std::string& owner_id, NewestSegment newest);
  /// Stage 1: episodes from the owner's pending events; `fresh` gets the ids of the episodes
  /// this call stored, oldest first.
  ProcessResult build_episodes(const std::string& owner_id, NewestSegment newest,
                               std::vector<std::string>& fresh);
  /// Stage 2 (semantic_stage.cpp): the owner's pending episodes, oldest first, each extracted
  /// and reconciled in its own transaction. A failure marks the episode retry (failed after
  /// max_attempts) and goes to on_error. Returns (episodes finished, statements added).
  std::pair<std::size_t, std::size_t> extract_statements(const std::string& owner_id,
                                                         std::span<const std::string> fresh);
  /// Stage 3 (merge_stage.cpp): each episode of `fresh` still stored merged with at most one
  /// close episode. A failure leaves both and goes to on_error. Returns the merges made.
  std::size_t merge_episodes(const std::string& owner_id, std::span<const std::string> fresh);
  /// Reports a failure of stage 2 or 3 (on_error, else stderr).
  void report_error(const std::string& owner_id, const std::string& error) const;
  /// One store_batch, then the in-process raw-event index (resident owners only).
  std::size_t store_raw_events(std::span<const RawEvent> events);
  /// The mode a search runs in: `asked`, else hybrid with an embedder and BM25 without.
  /// Throws ConfigError for vector or hybrid without an embedder.
  SearchMode search_mode(std::optional<SearchMode> asked) const;
  /// False when the backend has no statement repository (Storage::statements() unsupported).
  bool statements_supported();
  /// Brings the index's copies of these statements of the owner in line with storage: each
  /// stored one re-indexed (sources, validity), each gone removed.
  void refresh_statements(const std::string& owner_id, std::span<const std::string> ids);
  /// Ranks the owner's statements for the request (mode and query vector of the episode
  /// search) into response.statements.
  void search_statements(const MemorySearchRequest& request, const SearchOptions& episode_options,
                         MemorySearchResponse& response);
  /// Re-ranks episode hits with the rank of each episode's best raw message (RRF, k = 60).
  void fuse_message_evidence(const MemorySearchRequest& request, SearchResponse& found);

  MemoryConfig config_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Segmenter> segmenter_;
  std::unique_ptr<EpisodeGenerator> generator_;
  std::unique_ptr<SemanticExtractor> extractor_;  // null: the semantic pass is off
  std::unique_ptr<EpisodeMerger> merger_;         // null: merging is off
  std::unique_ptr<RetrievalService> retrieval_;
  std::shared_ptr<EmbeddingClient> embedder_;          // null: BM25 only
  std::unique_ptr<detail::IndexFreshness> freshness_;  // sees other processes' writes
  std::mutex owners_mutex_;
  std::unordered_map<std::string, std::unique_ptr<std::mutex>> owner_mutexes_;
  std::unique_ptr<detail::BackgroundBuilder> builder_;  // last: stopped first
};

}  // namespace nemori
