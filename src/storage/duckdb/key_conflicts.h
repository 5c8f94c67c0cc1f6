// Writes that insert keys, retried around a DuckDB indexing limitation.
#pragma once

#include <algorithm>
#include <chrono>
#include <span>
#include <string>
#include <string_view>
#include <thread>

#include "nemori/core/error.h"
#include "storage/duckdb/error.h"
#include "storage/duckdb/store_context.h"

namespace nemori::detail::duck {

/// Runs ctx.write(fn) and copes with DuckDB's key checks.
///
/// DuckDB keeps a deleted key in its ART index until no transaction that started before the
/// delete is still running, and reports a constraint violation when the key is inserted again
/// meanwhile. So when a write fails with a constraint violation, `explain()` is called
/// (outside the write): it throws the right error (e.g. DuplicateError) when a key really
/// exists, and returns when none does; the write is then retried after a short pause, until
/// the readers of the old snapshot have finished. The same holds for a COMMIT refused with a
/// write-write conflict on a key (EngineError::is_key_write_conflict(): a row replaced, or
/// updated in an indexed or list column, a second time while a reader older than the first
/// replacement runs; docs/duckdb.md). Gives up with StorageError after ~5 s.
template <typename Fn, typename Explain>
void write_with_key_retry(StoreContext& ctx, Fn&& fn, Explain&& explain) {
  using std::chrono::milliseconds;
  constexpr int kAttempts = 100;
  for (int attempt = 1;; ++attempt) {
    try {
      ctx.write(fn);
      return;
    } catch (const EngineError& error) {
      if (error.is_key_write_conflict()) {
        // Nothing to explain: the keys exist (they were being replaced).
      } else if (error.is_constraint_violation()) {
        explain();
      } else {
        throw;
      }
      if (attempt == kAttempts) {
        throw StorageError(std::string(error.what()) +
                           " (a key deleted moments ago is still held by long-running reads; "
                           "retry when they have finished)");
      }
      std::this_thread::sleep_for(milliseconds(std::min(50, 1 << std::min(attempt, 6))));
    }
  }
}

/// An explain() for write_with_key_retry after an insert of `ids` into `table`: throws
/// DuplicateError naming the first of `ids` (in input order) whose `id_column` value is stored,
/// e.g. 'data_id "x" already exists; nothing was stored (use update() to replace a raw event)'.
/// `what` names the record in the hint ("a raw event").
void reject_stored_ids(StoreContext& ctx, std::string_view table, std::string_view id_column,
                       std::span<const std::string> ids, std::string_view what);

}  // namespace nemori::detail::duck
