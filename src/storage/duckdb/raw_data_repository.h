// RawDataRepository on DuckDB.
#pragma once

#include "nemori/storage/repository.h"
#include "storage/duckdb/store_context.h"

namespace nemori::detail::duck {

/// Raw events in the raw_data table. Semantics are those of repository.h and query.h.
class DuckDbRawDataRepository final : public RawDataRepository {
 public:
  /// A repository over `context` (which must outlive it).
  explicit DuckDbRawDataRepository(StoreContext& context) : ctx_(context) {}

  /// Validates, then inserts one event.
  void store(const RawEvent& event) override;
  /// Validates all, then appends all in one transaction.
  void store_batch(std::span<const RawEvent> events) override;
  /// Point lookup by primary key.
  std::optional<RawEvent> get(const std::string& data_id) override;
  /// One query for all ids; results in input order.
  std::vector<std::optional<RawEvent>> get_batch(std::span<const std::string> ids) override;
  /// Replaces the row (delete + insert, one transaction).
  bool update(const RawEvent& event) override;
  /// Deletes the row and its links.
  bool remove(const std::string& data_id) override;
  /// Page query plus, when needed, a COUNT, in one snapshot.
  RawDataSearchResult search(const RawDataQuery& query) override;
  /// One UPDATE; false when no row matched.
  bool mark_processed(const std::string& data_id, const std::string& version) override;
  /// One UPDATE ... RETURNING for all ids.
  std::vector<bool> mark_processed_batch(std::span<const std::string> ids,
                                         const std::string& version) override;
  /// Oldest unprocessed events first.
  std::vector<RawEvent> get_unprocessed(const std::string& owner_id, std::optional<DataType> type,
                                        std::optional<std::size_t> limit) override;
  /// Deletes old events and their links in one transaction.
  std::size_t cleanup_before(Timestamp cutoff, const std::string& owner_id) override;
  /// COUNT(*) of one owner or all.
  std::size_t count(const std::string& owner_id) override;

 private:
  StoreContext& ctx_;
};

}  // namespace nemori::detail::duck
