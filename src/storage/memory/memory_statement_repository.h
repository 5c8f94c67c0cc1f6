// SemanticMemoryRepository of the memory backend.
#pragma once

#include "nemori/storage/repository.h"
#include "storage/memory/memory_store.h"

namespace nemori::detail {

/// Statements, their sources and the semantic pass's progress held in a MemoryStore; see
/// repository.h for the contract of every method.
class MemoryStatementRepository final : public SemanticMemoryRepository {
 public:
  explicit MemoryStatementRepository(MemoryStore& store) : store_(store) {}

  std::optional<Statement> get(const std::string& statement_id) override;
  std::vector<std::optional<Statement>> get_batch(std::span<const std::string> ids) override;
  StatementSearchResult search(const StatementQuery& query) override;
  std::vector<Statement> history(const std::string& statement_id) override;
  bool remove(const std::string& statement_id) override;
  std::size_t count(const std::string& owner_id, StatementState state) override;
  std::vector<StatementSource> sources(const std::string& owner_id) override;
  std::optional<SemanticProgress> progress(const std::string& episode_id) override;
  std::vector<std::string> pending_episodes(const std::string& owner_id,
                                            std::optional<std::size_t> limit) override;
  std::vector<std::string> pending_owners() override;
  std::vector<SemanticProgress> progress_rows(const std::string& owner_id) override;

 private:
  MemoryStore& store_;
};

}  // namespace nemori::detail
