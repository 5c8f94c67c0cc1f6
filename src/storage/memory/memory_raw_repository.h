// RawDataRepository of the memory backend.
#pragma once

#include "nemori/storage/repository.h"
#include "storage/memory/memory_store.h"

namespace nemori::detail {

/// Raw events held in a MemoryStore; see repository.h for the contract of every method.
class MemoryRawRepository final : public RawDataRepository {
 public:
  explicit MemoryRawRepository(MemoryStore& store) : store_(store) {}

  void store(const RawEvent& event) override;
  void store_batch(std::span<const RawEvent> events) override;
  std::optional<RawEvent> get(const std::string& data_id) override;
  std::vector<std::optional<RawEvent>> get_batch(std::span<const std::string> ids) override;
  bool update(const RawEvent& event) override;
  bool remove(const std::string& data_id) override;
  RawDataSearchResult search(const RawDataQuery& query) override;
  bool mark_processed(const std::string& data_id, const std::string& version) override;
  std::vector<bool> mark_processed_batch(std::span<const std::string> ids,
                                         const std::string& version) override;
  std::vector<RawEvent> get_unprocessed(const std::string& owner_id, std::optional<DataType> type,
                                        std::optional<std::size_t> limit) override;
  std::size_t cleanup_before(Timestamp cutoff, const std::string& owner_id) override;
  std::size_t count(const std::string& owner_id) override;

 private:
  MemoryStore& store_;
};

}  // namespace nemori::detail
