// The shared state of one memory store: its tables, its lock and its open/closed state.
#pragma once

#include <mutex>
#include <shared_mutex>
#include <utility>

#include "nemori/core/error.h"
#include "nemori/storage/config.h"
#include "storage/memory/memory_tables.h"

namespace nemori::detail {

/// Tables guarded by one reader/writer lock; both repositories of a store share it, so a
/// write that touches raw events, episodes and links is one atomic step.
class MemoryStore {
 public:
  explicit MemoryStore(StorageConfig config) : config_(std::move(config)) {}

  /// Shared access for reading. Throws StorageError once the store is closed.
  std::shared_lock<std::shared_mutex> read() const {
    std::shared_lock lock(mutex_);
    throw_if_closed();
    return lock;
  }
  /// Exclusive access for writing. Throws StorageError once the store is closed.
  std::unique_lock<std::shared_mutex> write() {
    std::unique_lock lock(mutex_);
    throw_if_closed();
    return lock;
  }
  /// Marks the store closed and frees its data. Idempotent.
  void close() {
    std::unique_lock lock(mutex_);
    closed_ = true;
    tables_ = MemoryTables();
  }
  /// True once close() was called.
  bool closed() const {
    std::shared_lock lock(mutex_);
    return closed_;
  }

  /// The tables; call only while holding read() or write().
  MemoryTables& tables() { return tables_; }
  const MemoryTables& tables() const { return tables_; }
  /// The config the store was opened with.
  const StorageConfig& config() const { return config_; }

 private:
  void throw_if_closed() const {
    if (closed_) {
      throw StorageError("the memory storage is closed; open a new one with open_storage()");
    }
  }

  const StorageConfig config_;
  mutable std::shared_mutex mutex_;
  bool closed_ = false;
  MemoryTables tables_;
};

}  // namespace nemori::detail
