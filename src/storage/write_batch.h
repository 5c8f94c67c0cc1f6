// The checks of Storage::apply() that do not depend on the backend: every backend looks up
// what the batch names, then lets check_write_batch() decide, so that all of them accept and
// refuse the same batches with the same messages.
//
// Messages name the step and the position of the item, "raw_events[12] (data_id \"x\"): ...",
// "statements[3] (statement_id \"x\"): ...", so that a caller holding the batch's source (a
// dump) can point at the line.
//
// How a backend's apply() uses them, inside its one write transaction (or under its one lock):
//   1. validate_write_batch(batch, max_content_bytes): the batch alone, no lookups.
//   2. ids = ids_named_by(batch); fill a StoredRecords from the store as it is before the batch:
//      - raw_owner / episode_owner: the owner of every id of ids.raw / ids.episodes that is
//        stored (misses are simply absent);
//      - raw: the full stored events of batch.raw_events' ids (only with
//        skip_identical_raw_events);
//      - statement_owner: the owner of every id of ids.statements that is stored;
//      - statements: the full stored statement of every id of batch.statement_updates that is
//        stored (source_episode_ids may be left empty: they are not compared);
//      - statement_sources: for every statement supported by an episode of
//        ids.source_episodes, ALL of its source rows (episode ids in any order). This lets
//        the check work out which statements the batch's source_moves and delete_episodes
//        leave without a source (those are removed, so a later step may not name them).
//   3. check_write_batch(batch, stored): throws the error of the first bad item, else says
//      which raw events to store.
//   4. Run the steps in the order of WriteBatch's fields: delete_owners, raw_events, episodes,
//      links, processed_ids, source_moves, delete_episodes (with their cascade: links,
//      progress, sources, statements left without a source, reopening what those closed),
//      statements (with their source rows, in order), statement_updates (every field but
//      source_episode_ids), statement_sources (idempotent), semantic_progress (upsert).
// After step 3 accepted a batch, step 4 fails only when the backend fails (StorageError).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/storage/repository.h"

namespace nemori::detail {

/// Checks a batch on its own before any lookup: every record as store_batch() does (under
/// `max_content_bytes`), no id twice, non-empty owners to delete and link ends, a valid
/// processed_version; statements, statement updates and progress rows validate()d, every
/// statement with at least one source episode (none twice), no statement id twice among the
/// statements nor among the updates, no episode twice among delete_episodes nor among the
/// progress rows, non-empty ends of source moves and statement sources, no move of an episode
/// onto itself. Throws ValidationError or DuplicateError naming the item.
void validate_write_batch(const WriteBatch& batch, std::size_t max_content_bytes);

/// Every id a batch looks up in the store.
struct WriteBatchIds {
  std::vector<std::string> raw;  ///< raw_events, link raw ends and processed_ids (unique)
  /// episodes, link episode ends, both ends of source_moves, delete_episodes, the sources of
  /// statements, the episode ends of statement_sources and the episodes of semantic_progress
  /// (unique).
  std::vector<std::string> episodes;
  /// statements, statement_updates, the superseded_by of both, and the statement ends of
  /// statement_sources (unique).
  std::vector<std::string> statements;
  /// Both ends of source_moves and delete_episodes (unique): the episodes whose statements'
  /// source rows StoredRecords::statement_sources must hold.
  std::vector<std::string> source_episodes;
};

/// The ids `batch` names, each once.
WriteBatchIds ids_named_by(const WriteBatch& batch);

/// What a backend found stored for the ids of ids_named_by(), before the batch's deletions
/// (check_write_batch() leaves out what the deleted owners hold).
struct StoredRecords {
  std::unordered_map<std::string, std::string> raw_owner;      ///< data_id -> owner_id
  std::unordered_map<std::string, std::string> episode_owner;  ///< episode_id -> owner_id
  /// Full stored raw events for the ids of batch.raw_events; needed only with
  /// skip_identical_raw_events.
  std::unordered_map<std::string, RawEvent> raw;
  /// statement_id -> owner_id, for the stored ones among WriteBatchIds::statements.
  std::unordered_map<std::string, std::string> statement_owner;
  /// Full stored statements for the ids of batch.statement_updates (their sources unused).
  std::unordered_map<std::string, Statement> statements;
  /// statement_id -> every episode supporting it, for each statement supported by one of
  /// WriteBatchIds::source_episodes.
  std::unordered_map<std::string, std::vector<std::string>> statement_sources;
};

/// Checks `batch` (already validated) against the store. Returns one flag per raw event of
/// the batch: true to store it, false when it is stored already with identical content (only
/// with skip_identical_raw_events). Throws DuplicateError, NotFoundError or ValidationError
/// (a link, move or source joining two owners; a statement update changing a field that
/// cannot change) naming the ids. Each step sees the store as the steps before it leave it:
/// source_moves name episodes stored or in the batch; statements, statement_updates,
/// statement_sources and semantic_progress do not see the episodes of delete_episodes nor the
/// statements those leave without a source.
std::vector<bool> check_write_batch(const WriteBatch& batch, const StoredRecords& stored);

/// True when two raw events hold the same data (owner, type, content, source, temporal info,
/// metadata), whatever their processed state.
bool same_raw_data(const RawEvent& a, const RawEvent& b);

/// The ValidationError of a link between records of two owners, naming both ids and owners.
ValidationError cross_owner_link(const std::string& episode_id, const std::string& episode_owner,
                                 const std::string& raw_data_id, const std::string& raw_owner);

/// Links of `batch` without repeats, in first-seen order.
std::vector<EpisodeLink> unique_links(const WriteBatch& batch);

/// True when the batch has nothing to do.
bool empty_batch(const WriteBatch& batch);

}  // namespace nemori::detail
