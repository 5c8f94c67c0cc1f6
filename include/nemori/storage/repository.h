// The storage contract: what every backend (memory, DuckDB, PostgreSQL) guarantees.
//
// Thread safety: a Storage and its repositories may be called from any number of threads at
// once without external locking.
//
// Durability: a call that returns has committed. A call that throws has changed nothing:
// every multi-row write (batches, links, owner deletion, cleanup) is one transaction.
//
// Errors (all derive from nemori::Error):
// - ValidationError: the input breaks a rule of core (see validate() in core) or of the query.
// - DuplicateError: an id that already exists is stored again (also inside a batch, or twice
//   in one batch); the whole batch is rejected.
// - NotFoundError: only where documented below; lookups return nullopt / false instead.
// - StorageError: the backend failed (I/O, connection lost); nothing was written.
//
// Ownership: every value passed in is copied; every value returned is a fresh copy.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "nemori/storage/query.h"

namespace nemori {

/// Raw events: stored verbatim the moment they arrive.
class RawDataRepository {
 public:
  virtual ~RawDataRepository() = default;

  /// Stores one event. Throws ValidationError, DuplicateError, StorageError.
  virtual void store(const RawEvent& event) = 0;
  /// Stores all events in one transaction: all or nothing. Empty input is a no-op.
  virtual void store_batch(std::span<const RawEvent> events) = 0;
  /// The event with this id, or nullopt.
  virtual std::optional<RawEvent> get(const std::string& data_id) = 0;
  /// One entry per id, in input order; nullopt for misses.
  virtual std::vector<std::optional<RawEvent>> get_batch(std::span<const std::string> ids) = 0;
  /// Replaces every field of the stored event with the same data_id (owner included).
  /// Returns false when no such event exists. Throws ValidationError.
  virtual bool update(const RawEvent& event) = 0;
  /// Deletes the event and its episode links. Returns false when it did not exist.
  virtual bool remove(const std::string& data_id) = 0;
  /// Matching events; see query.h for the semantics.
  virtual RawDataSearchResult search(const RawDataQuery& query) = 0;
  /// Sets processed = true and the version. Returns false when the event does not exist.
  virtual bool mark_processed(const std::string& data_id, const std::string& version) = 0;
  /// The same for many ids in one transaction; one flag per id, in input order.
  virtual std::vector<bool> mark_processed_batch(std::span<const std::string> ids,
                                                 const std::string& version) = 0;
  /// Unprocessed events of one owner (all owners when empty), optionally of one type, oldest
  /// first (timestamp, then id), at most `limit`.
  virtual std::vector<RawEvent> get_unprocessed(const std::string& owner_id,
                                                std::optional<DataType> type,
                                                std::optional<std::size_t> limit) = 0;
  /// Deletes events older than `cutoff` (strictly before) of one owner (all when empty), with
  /// their links, in one transaction. Returns how many events were deleted.
  virtual std::size_t cleanup_before(Timestamp cutoff, const std::string& owner_id) = 0;
  /// Number of events of one owner (all owners when empty).
  virtual std::size_t count(const std::string& owner_id) = 0;
};

/// One link between an episode and a raw event it was built from.
struct EpisodeLink {
  std::string episode_id;
  std::string raw_data_id;
  bool operator==(const EpisodeLink&) const = default;
};

/// Episodes and their links to raw events.
class EpisodeRepository {
 public:
  virtual ~EpisodeRepository() = default;

  /// Stores one episode (finalize() is not applied: store what you mean). Throws
  /// ValidationError, DuplicateError, StorageError.
  virtual void store(const Episode& episode) = 0;
  /// Stores all episodes in one transaction: all or nothing.
  virtual void store_batch(std::span<const Episode> episodes) = 0;
  /// The episode with this id, or nullopt.
  virtual std::optional<Episode> get(const std::string& episode_id) = 0;
  /// One entry per id, in input order; nullopt for misses.
  virtual std::vector<std::optional<Episode>> get_batch(std::span<const std::string> ids) = 0;
  /// Replaces every field of the stored episode. Returns false when it does not exist.
  virtual bool update(const Episode& episode) = 0;
  /// Deletes the episode and its links. Returns false when it did not exist.
  virtual bool remove(const std::string& episode_id) = 0;
  /// Matching episodes; see query.h for the semantics.
  virtual EpisodeSearchResult search(const EpisodeQuery& query) = 0;
  // The three lookups below are search() with a fixed query, the same for every backend.
  /// Episodes of one owner, newest first. An empty owner is a ValidationError.
  EpisodeSearchResult by_owner(const std::string& owner_id, std::optional<std::size_t> limit,
                               std::size_t offset);
  /// Episodes of one owner inside `range`, oldest first. An empty owner is a ValidationError.
  EpisodeSearchResult by_time_range(const std::string& owner_id, const TimeRange& range,
                                    std::optional<std::size_t> limit);
  /// Episodes of one owner (all when empty) from the last `hours`, newest first.
  EpisodeSearchResult recent(const std::string& owner_id, int hours,
                             std::optional<std::size_t> limit);
  /// Sets importance (clamped to 0..1). Returns false when the episode does not exist.
  virtual bool update_importance(const std::string& episode_id, double importance) = 0;
  /// Atomically increments recall_count and sets last_accessed = `at`. Returns false when the
  /// episode does not exist. Concurrent calls are never lost.
  virtual bool mark_accessed(const std::string& episode_id, Timestamp at) = 0;
  /// Links an episode to raw events it was built from, in one transaction. Idempotent (a pair
  /// linked twice stays one link). Throws NotFoundError naming the missing id when the episode
  /// or any raw event does not exist, and ValidationError naming both ids and both owners when
  /// a raw event belongs to another owner than the episode; nothing is linked then.
  virtual void link(const std::string& episode_id, std::span<const std::string> raw_data_ids) = 0;
  /// Raw event ids behind an episode, ordered by the raw events' timestamp, then id.
  virtual std::vector<std::string> raw_ids_for_episode(const std::string& episode_id) = 0;
  /// Episodes built from a raw event, ordered by timestamp, then id.
  virtual std::vector<Episode> episodes_for_raw(const std::string& raw_data_id) = 0;
  /// Every link of one owner's episodes (all owners when empty), ordered by episode_id then
  /// raw_data_id.
  virtual std::vector<EpisodeLink> links(const std::string& owner_id) = 0;
  /// Deletes episodes older than `cutoff` of one owner (all when empty), with their links, in
  /// one transaction. Returns how many were deleted.
  virtual std::size_t cleanup_before(Timestamp cutoff, const std::string& owner_id) = 0;
  /// Number of episodes of one owner (all owners when empty).
  virtual std::size_t count(const std::string& owner_id) = 0;
};

/// One (statement, episode) support row.
struct StatementSource {
  std::string statement_id;
  std::string episode_id;
  bool operator==(const StatementSource&) const = default;
};

/// Statements (semantic memory) and the semantic pass's per-episode progress. Writes go through
/// Storage::apply() (one transaction per episode's extraction or per merge); only remove()
/// writes on its own. Deleting episodes (EpisodeRepository::remove, cleanup_before, a batch's
/// delete_episodes, delete_owner) also deletes their source and progress rows and every
/// statement left without a source, reopening the statements those had closed.
class SemanticMemoryRepository {
 public:
  virtual ~SemanticMemoryRepository() = default;
  /// The statement with its sources, or nullopt.
  virtual std::optional<Statement> get(const std::string& statement_id) = 0;
  /// One entry per id, in input order; nullopt for misses.
  virtual std::vector<std::optional<Statement>> get_batch(std::span<const std::string> ids) = 0;
  /// Matching statements (query.h). Throws ValidationError on an invalid query.
  virtual StatementSearchResult search(const StatementQuery& query) = 0;
  /// The statement and every statement linked to it through superseded_by, in both directions,
  /// transitively, ordered by valid_from then id. Empty when the id is unknown.
  virtual std::vector<Statement> history(const std::string& statement_id) = 0;
  /// Deletes the statement and its source rows in one transaction and reopens the statements it
  /// closed (valid_to and superseded_by cleared). Returns false when it did not exist.
  virtual bool remove(const std::string& statement_id) = 0;
  /// Statements of one owner (all owners when empty) in that state.
  virtual std::size_t count(const std::string& owner_id, StatementState state) = 0;
  /// Every source row of one owner (all when empty), ordered by statement_id then episode_id.
  virtual std::vector<StatementSource> sources(const std::string& owner_id) = 0;
  /// The progress row of an episode, or nullopt (never seen by the semantic pass).
  virtual std::optional<SemanticProgress> progress(const std::string& episode_id) = 0;
  /// Episodes of the owner with no progress row or a pending/retry one, oldest first (episode
  /// timestamp, then id), at most `limit`. ValidationError on an empty owner.
  virtual std::vector<std::string> pending_episodes(const std::string& owner_id,
                                                    std::optional<std::size_t> limit) = 0;
  /// Owners with at least one pending episode (as pending_episodes), sorted.
  virtual std::vector<std::string> pending_owners() = 0;
  /// Every progress row of one owner (all when empty), ordered by episode_id.
  virtual std::vector<SemanticProgress> progress_rows(const std::string& owner_id) = 0;
};

/// Result of a health check.
struct HealthStatus {
  bool healthy = false;
  double latency_ms = 0;  ///< Time of the probe round trip.
  std::string reason;     ///< Why it is unhealthy (empty when healthy).
};

/// What Storage::check_integrity() or Storage::repair() found.
struct IntegrityReport {
  /// True when every check passed.
  bool consistent() const { return problems.empty(); }
  /// One line per failed check, naming the index, the table and what disagrees.
  std::vector<std::string> problems;
  /// What was checked, one line each ("ix_episodes_owner_id: 3 owners ...").
  std::vector<std::string> checked;
  /// What repair() rebuilt (empty for check_integrity()).
  std::vector<std::string> rebuilt;
};

/// What Storage::purge() did.
struct PurgeReport {
  /// How the deleted content was removed ("" when the backend keeps nothing to remove).
  std::string method;
  std::uint64_t bytes_before = 0;  ///< Size of the store's files before (where it can tell).
  std::uint64_t bytes_after = 0;   ///< ... and after.
  double seconds = 0;              ///< Time taken.
  /// Empty when every deleted row is gone from the files; otherwise why some may remain
  /// (PostgreSQL: a transaction older than the purge was still open) and what to do.
  std::string incomplete;
};

/// What a store holds; every field is computed from the data, none is a placeholder.
struct StorageStats {
  std::string backend;
  std::size_t owners = 0;
  std::size_t total_raw_data = 0;
  std::size_t processed_raw_data = 0;
  std::map<std::string, std::size_t> raw_data_by_type;  ///< by DataType text
  std::size_t total_episodes = 0;
  std::map<std::string, std::size_t> episodes_by_type;  ///< by EpisodeType text
  std::map<int, std::size_t> episodes_by_level;
  std::size_t total_links = 0;
  std::uint64_t storage_size_bytes = 0;  ///< Data on disk (or in memory, estimated).
  std::uint64_t index_size_bytes = 0;    ///< Indexes, where the backend can tell.
  std::optional<Timestamp> oldest_data;  ///< Oldest raw event or episode timestamp.
  std::optional<Timestamp> newest_data;
  std::size_t statements_current = 0;     ///< Statements with valid_to unset.
  std::size_t statements_superseded = 0;  ///< Statements with valid_to set.
  std::map<std::string, std::size_t> statements_by_category;  ///< by StatementCategory text
  std::size_t statement_sources = 0;      ///< Support rows.
  std::size_t merged_episodes = 0;        ///< Episodes with custom_fields.merged_from.
  std::map<std::string, std::size_t> semantic_progress;  ///< Progress rows by SemanticState text.
  /// LLM usage summed from the progress rows: "semantic_calls", "semantic_tokens",
  /// "merge_calls", "merge_tokens".
  std::map<std::string, std::uint64_t> semantic_usage;
  /// Backend-specific figures (pool in use/idle/waiting, table sizes...).
  nlohmann::json details = nlohmann::json::object();
};

/// What delete_owner removed.
struct OwnerDeletion {
  std::size_t raw_events = 0;
  std::size_t episodes = 0;
  std::size_t links = 0;
  std::size_t statements = 0;  ///< Statements (with their sources and progress rows).
};

/// One step of a merge: every statement supported by `from_episode_id` becomes supported by
/// `to_episode_id` instead.
struct SourceMove {
  std::string from_episode_id;
  std::string to_episode_id;
  bool operator==(const SourceMove&) const = default;
};

/// One unit of work for Storage::apply(). Its steps run in the order of the fields below, in
/// one transaction: all of them, or (on any error) none.
struct WriteBatch {
  /// Owners deleted first, with everything they own (as delete_owner()). Their ids may be
  /// stored again by the steps below (a "replace" of an owner's data is one batch).
  std::vector<std::string> delete_owners;
  /// Raw events to store (as store_batch(), under the store's max_content_bytes).
  std::vector<RawEvent> raw_events;
  /// When true, a raw event whose data_id is already stored with the same owner, type, content,
  /// source, temporal info and metadata (processed state aside) is skipped and reported in
  /// WriteBatchResult::raw_already_stored; the same id with anything else different is still a
  /// DuplicateError. Makes re-storing the same input a no-op (idempotent ingest).
  bool skip_identical_raw_events = false;
  /// Episodes to store (as store_batch()).
  std::vector<Episode> episodes;
  /// Links to add (as link(), idempotent): both ends stored before or by this batch, with the
  /// same owner.
  std::vector<EpisodeLink> links;
  /// Raw events to mark processed (as mark_processed_batch()) with `processed_version`; each
  /// must be stored before or by this batch.
  std::vector<std::string> processed_ids;
  /// The processing_version set on `processed_ids`.
  std::string processed_version = "1.0";
  /// Merges: every source row (s, from) becomes (s, to); a pair that exists already stays one.
  /// Both episodes stored before or by this batch, of the same owner.
  std::vector<SourceMove> source_moves;
  /// Episodes deleted as EpisodeRepository::remove() does (links, progress, sources, statements
  /// left without a source, reopening what those closed). Each must be stored: NotFoundError.
  std::vector<std::string> delete_episodes;
  /// New statements: valid (validate()), source_episode_ids non-empty, each episode stored
  /// before or by this batch and of the same owner; superseded_by, when set, names a statement
  /// stored or in this batch, of the same owner.
  std::vector<Statement> statements;
  /// Full replacements of stored statements (strengthen, close). Only confidence, valid_to,
  /// superseded_by, updated_at, metadata and the embedding may differ from the stored row;
  /// another field differing is a ValidationError naming it; a missing id is a NotFoundError.
  /// Their source_episode_ids are ignored (sources change through statement_sources and
  /// source_moves).
  std::vector<Statement> statement_updates;
  /// Support rows added (idempotent): both ends stored before or by this batch, same owner.
  std::vector<StatementSource> statement_sources;
  /// Progress rows upserted; the episode stored before or by this batch, same owner.
  std::vector<SemanticProgress> semantic_progress;
};

/// What Storage::apply() did.
struct WriteBatchResult {
  /// What the owner deletions removed (summed over delete_owners).
  OwnerDeletion deleted;
  /// Raw events newly stored.
  std::size_t raw_events_stored = 0;
  /// Ids of raw events skipped because they were stored already (skip_identical_raw_events),
  /// in input order.
  std::vector<std::string> raw_already_stored;
  /// Episodes stored.
  std::size_t episodes_stored = 0;
  /// Links that did not exist before.
  std::size_t links_added = 0;
  std::size_t statements_stored = 0;    ///< New statements.
  std::size_t statements_updated = 0;   ///< statement_updates applied.
  std::size_t sources_added = 0;        ///< Support rows that did not exist before.
  std::size_t episodes_deleted = 0;     ///< delete_episodes removed.
  std::size_t statements_removed = 0;   ///< Statements left without a source, removed.
  std::size_t statements_reopened = 0;  ///< Statements those had closed, reopened.
};

/// One opened backend: both repositories plus lifecycle. Obtain one from open_storage()
/// (factory.h). Closing happens in the destructor or with close().
class Storage {
 public:
  virtual ~Storage() = default;
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  /// "memory", "duckdb" or "postgresql".
  virtual std::string backend() const = 0;
  /// The raw event repository (owned by this Storage).
  virtual RawDataRepository& raw_data() = 0;
  /// The episode repository (owned by this Storage).
  virtual EpisodeRepository& episodes() = 0;
  /// The statement repository (owned by this Storage).
  virtual SemanticMemoryRepository& statements() = 0;
  /// Deletes every raw event, episode and link of the owner, with its statements, their sources
  /// and its semantic progress rows, in one transaction.
  virtual OwnerDeletion delete_owner(const std::string& owner_id) = 0;
  /// Applies a WriteBatch atomically: every record and reference is checked (against the
  /// batch itself and the store after the batch's deletions) before anything is written, with
  /// the errors of the single calls: ValidationError (a record breaks a rule or a limit of this
  /// store; a link joins two owners; an empty owner to delete), DuplicateError (an id stored
  /// already or twice in the batch), NotFoundError (a link or processed mark names a record
  /// that is neither stored nor in the batch), each naming the id; StorageError when the
  /// backend fails. On any error nothing of the batch is written. An empty batch is a no-op.
  virtual WriteBatchResult apply(const WriteBatch& batch) = 0;
  /// Routes every read of this Storage, searches included, to the primary server while the
  /// returned handle is alive (handles may overlap, from any thread), so that a reader that
  /// must see every committed row (export, migrate) never reads a lagging read replica.
  /// Backends without replicas return a handle that does nothing. Never throws.
  virtual std::shared_ptr<void> read_from_primary() { return nullptr; }
  /// Waits until no one else holds `owner_id`, then holds it until the returned handle is
  /// destroyed: the right to build that owner's episodes, exclusive across threads and, on
  /// PostgreSQL, across every process using the database (a session advisory lock on a
  /// connection the handle keeps; the server releases it if the process dies). DuckDB and
  /// memory stores are reached by one process only, so a lock inside the process is enough
  /// there (DuckDB: one per file, shared by every store of the process on it). The handle must
  /// not outlive the Storage. Throws StorageError (PostgreSQL: the server cannot be reached).
  virtual std::shared_ptr<void> lock_owner(const std::string& owner_id);
  /// Every owner with at least one raw event or episode, sorted.
  virtual std::vector<std::string> list_owners() = 0;
  /// Probes the backend (a trivial query); never throws.
  virtual HealthStatus health() = 0;
  /// Checks that the backend's own derived structures agree with its tables. DuckDB: every
  /// secondary index returns, for each key, as many rows as a table scan finds (`thorough`:
  /// every key; otherwise the keys of each table's newest 2,000 rows, which is where a lost
  /// write-ahead-log replay shows; docs/duckdb.md). Backends whose server maintains its own
  /// indexes (memory, PostgreSQL) report nothing to check. Throws StorageError when the store
  /// cannot be read.
  virtual IntegrityReport check_integrity(bool thorough) {
    (void)thorough;
    return {};
  }
  /// Removes what deletions left behind in the store's files, so that deleted content can no
  /// longer be read from them by any means (the right to erasure). DuckDB: copies the live
  /// data into a new file that replaces the old one (cost: a read and write of the whole
  /// store; docs/duckdb.md); this store must be the only one of this process on the file.
  /// PostgreSQL: VACUUM FULL of the schema's tables, which rewrites them and takes an
  /// exclusive lock on each meanwhile (docs/postgresql.md). Memory: nothing to do. Throws
  /// StorageError; on failure the store is left as it was.
  virtual PurgeReport purge() { return {}; }
  /// Rebuilds every derived structure check_integrity() looks at from the tables, in one
  /// transaction, then runs the thorough check and returns its findings with what was rebuilt.
  /// Nothing in the tables changes. Throws StorageError.
  virtual IntegrityReport repair() { return check_integrity(true); }
  /// Statistics computed from the stored data.
  virtual StorageStats stats() = 0;
  /// Releases connections and files. Later calls throw StorageError. Idempotent.
  virtual void close() = 0;
};

}  // namespace nemori
