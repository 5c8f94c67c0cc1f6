// Keeps an owner's resident search index in step with writes made elsewhere: by another process
// on the same PostgreSQL database, or by another MemorySystem on the same DuckDB file.
//
// The watermark of an owner is the number of its raw events, of its episodes and of its
// statements in storage (three indexed counts, no schema of its own). The loader records the watermark it read just before
// loading the owner; writes this MemorySystem makes add what they stored to it. Before a read
// of a resident owner's index, at most once per `interval`, the watermark is read again: when
// it differs from the recorded one, someone else wrote, and the owner is evicted so that the
// read reloads it from storage. So a search sees what another process committed at most
// `interval` (plus one reload) earlier.
//
// A mismatch that comes from this process's own write racing a load (the load counted the write
// and the write then adds it again) only costs one extra reload: the reload records the truth.
// Blind spot: another process deleting exactly as many of the owner's rows as it inserted
// between two checks (nemori's add and build only insert; delete_owner empties the owner).
//
// Thread safety: every method may be called from any thread; one mutex guards the map, storage
// is read outside it.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "nemori/retrieval/retrieval_service.h"
#include "nemori/storage/repository.h"

namespace nemori::detail {

/// How many raw events, episodes and statements an owner has in storage.
struct OwnerWatermark {
  std::size_t raw_events = 0;
  std::size_t episodes = 0;
  std::size_t statements = 0;  ///< Every state; 0 on a backend without statements.
  bool operator==(const OwnerWatermark&) const = default;
};

/// Reads the owner's watermark (three counts). Throws what the storage throws.
OwnerWatermark read_watermark(Storage& storage, const std::string& owner_id);

class IndexFreshness {
 public:
  /// `interval` < 0: never check (a store no one else writes to, such as memory://).
  IndexFreshness(Storage& storage, RetrievalService& retrieval, std::chrono::milliseconds interval);
  IndexFreshness(const IndexFreshness&) = delete;
  IndexFreshness& operator=(const IndexFreshness&) = delete;

  /// The loader read `watermark` right before loading the owner's data.
  void loaded(const std::string& owner_id, const OwnerWatermark& watermark);
  /// Before reading the owner's index: when its check is due, compares the watermark in storage
  /// with the recorded one and evicts the owner on a difference. Throws what the storage throws.
  void before_read(const std::string& owner_id);
  /// This MemorySystem stored (and indexed) that many new raw events and episodes of the owner.
  void wrote(const std::string& owner_id, std::size_t raw_events, std::size_t episodes,
             std::size_t statements = 0);
  /// This MemorySystem deleted that many episodes and statements of the owner (and updated the
  /// index).
  void removed(const std::string& owner_id, std::size_t episodes, std::size_t statements);
  /// The owner was deleted or dropped from the index.
  void forget(const std::string& owner_id);

 private:
  using Clock = std::chrono::steady_clock;
  struct State {
    OwnerWatermark watermark;  // what the resident index reflects
    Clock::time_point checked;
  };

  Storage& storage_;
  RetrievalService& retrieval_;
  const std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::unordered_map<std::string, State> owners_;  // owners loaded since their last eviction
};

}  // namespace nemori::detail
