// The checks of Storage::apply() that do not depend on the backend: every backend looks up
// what the batch names, then lets check_write_batch() decide, so that all of them accept and
// refuse the same batches with the same messages.
//
// Messages name the step and the position of the item, "raw_events[12] (data_id \"x\"): ...",
// so that a caller holding the batch's source (a dump) can point at the line.
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
/// processed_version. Throws ValidationError or DuplicateError naming the item.
void validate_write_batch(const WriteBatch& batch, std::size_t max_content_bytes);

/// Every id a batch looks up in the store.
struct WriteBatchIds {
  std::vector<std::string> raw;       ///< raw_events, link raw ends and processed_ids (unique)
  std::vector<std::string> episodes;  ///< episodes and link episode ends (unique)
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
};

/// Checks `batch` (already validated) against the store. Returns one flag per raw event of
/// the batch: true to store it, false when it is stored already with identical content (only
/// with skip_identical_raw_events). Throws DuplicateError, NotFoundError or ValidationError
/// (a link joining two owners) naming the ids.
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
