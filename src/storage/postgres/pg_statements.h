// Statements (semantic memory) on PostgreSQL: the SemanticMemoryRepository, the steps of
// Storage::apply() that write them, and the cascade that runs wherever episodes are deleted
// (docs/design/semantic-memory.md §1.2, §1.4, §1.5).
//
// Reads follow the routing of the other repositories (PgContext): lookups on the primary,
// searches on the read replica when one is configured and no read_from_primary() scope is
// open. Every write runs in the caller's transaction, except remove(), which is its own.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nemori/storage/repository.h"
#include "storage/postgres/pg_client.h"
#include "storage/postgres/pg_context.h"
#include "storage/write_batch.h"

namespace nemori::detail {

/// What deleting a set of episodes removed.
struct EpisodeCascade {
  std::size_t episodes = 0;             ///< Episode rows deleted.
  std::size_t statements_removed = 0;   ///< Statements no remaining episode supports.
  std::size_t statements_reopened = 0;  ///< Statements those had closed, reopened.
};

/// Deletes the episodes that `selection` (a SELECT of episode_id from the episodes table, with
/// `params`) returns, in one statement: first the statements that only they support are found,
/// the statements those closed are reopened and the orphans deleted; then the episodes go, and
/// their links, source rows and progress rows with them (ON DELETE CASCADE). Runs on `c` in the
/// caller's transaction, if any.
EpisodeCascade delete_episodes_cascading(pg::Connection& c, const PgContext& ctx,
                                         const std::string& selection, const pg::Params& params);

/// Fills the statement parts of `stored` (statement_owner, statements, statement_sources) for
/// the ids of ids_named_by(batch), read on `c` inside the batch's transaction.
void look_up_statement_records(pg::Connection& c, const PgContext& ctx, const WriteBatch& batch,
                               const WriteBatchIds& ids, StoredRecords& stored);

/// Runs the batch's steps after processed_ids, in their documented order (source_moves,
/// delete_episodes, statements, statement_updates, statement_sources, semantic_progress), on
/// `c` inside the batch's transaction, after check_write_batch() accepted the batch. Adds
/// what it did to `result`. Throws NotFoundError when a statement to update was removed
/// concurrently since the checks.
void apply_statement_steps(pg::Connection& c, const PgContext& ctx, const WriteBatch& batch,
                           WriteBatchResult& result);

/// The SemanticMemoryRepository of a PostgreSQL Storage. Thread-safe (PgContext's pools).
class PgStatementRepository final : public SemanticMemoryRepository {
 public:
  /// Uses `ctx`, which must outlive the repository.
  explicit PgStatementRepository(PgContext& ctx) : ctx_(ctx) {}

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
  // The statements selected by `where_sql` (conditions on alias s) in `order_sql`.
  std::vector<Statement> select(pg::Connection& c, const std::string& where_sql,
                                const pg::Params& params, const std::string& order_sql);

  PgContext& ctx_;
};

}  // namespace nemori::detail
