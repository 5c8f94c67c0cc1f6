// SemanticMemoryRepository on DuckDB.
#pragma once

#include "nemori/storage/repository.h"
#include "storage/duckdb/store_context.h"

namespace nemori::detail::duck {

/// Statements in the statements table, their sources in statement_sources and the semantic
/// pass's progress in semantic_progress. Semantics are those of repository.h and query.h;
/// writes other than remove() go through DuckDbStorage::apply().
class DuckDbSemanticMemoryRepository final : public SemanticMemoryRepository {
 public:
  /// A repository over `context` (which must outlive it).
  explicit DuckDbSemanticMemoryRepository(StoreContext& context) : ctx_(context) {}

  /// Point lookup by primary key, then its sources.
  std::optional<nemori::Statement> get(const std::string& statement_id) override;
  /// One query for the rows and one for their sources; results in input order.
  std::vector<std::optional<nemori::Statement>> get_batch(
      std::span<const std::string> ids) override;
  /// Page, sources and, when needed, a COUNT, in one snapshot.
  StatementSearchResult search(const StatementQuery& query) override;
  /// Follows superseded_by both ways, one query per step of the chain, in one snapshot.
  std::vector<nemori::Statement> history(const std::string& statement_id) override;
  /// Deletes the row and its sources and reopens what it closed, in one transaction.
  bool remove(const std::string& statement_id) override;
  /// COUNT(*) of one owner or all, in that state.
  std::size_t count(const std::string& owner_id, StatementState state) override;
  /// Source rows of one owner (or all), ordered.
  std::vector<StatementSource> sources(const std::string& owner_id) override;
  /// Point lookup by episode_id.
  std::optional<SemanticProgress> progress(const std::string& episode_id) override;
  /// Episodes left joined with their progress, oldest first.
  std::vector<std::string> pending_episodes(const std::string& owner_id,
                                            std::optional<std::size_t> limit) override;
  /// Distinct owners of pending episodes, sorted.
  std::vector<std::string> pending_owners() override;
  /// Progress rows of one owner (or all), by episode_id.
  std::vector<SemanticProgress> progress_rows(const std::string& owner_id) override;

 private:
  StoreContext& ctx_;
};

}  // namespace nemori::detail::duck
