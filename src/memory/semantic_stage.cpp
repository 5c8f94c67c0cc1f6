// Stage 2 of MemorySystem::process (docs/design/semantic-memory.md §2.1): the owner's episodes
// the semantic pass has not finished, oldest first (time order matters for supersession), each
// extracted and reconciled by the SemanticExtractor and applied as one transaction, then
// indexed so that the next episode sees its statements. A failure never fails the build: the
// episode gets a `retry` row (`failed` after semantic.max_attempts) and the error goes to
// on_error; the next process() of the owner tries again.
#include <exception>
#include <unordered_set>

#include "memory/index_freshness.h"
#include "nemori/core/utf8.h"
#include "nemori/memory/memory_system.h"
#include "nemori/semantic/indexed_known_statements.h"
#include "nemori/semantic/semantic_extractor.h"

namespace nemori {

std::pair<std::size_t, std::size_t> MemorySystem::extract_statements(
    const std::string& owner_id, std::span<const std::string> fresh) {
  SemanticMemoryRepository& repo = storage_->statements();
  const SemanticOptions& options = extractor_->options();
  std::vector<std::string> pending = repo.pending_episodes(owner_id, std::nullopt);
  if (pending.empty()) return {0, 0};
  if (!options.backlog) {
    // Episodes without a progress row were stored before the pass was on: skipped.
    std::unordered_set<std::string> seen(fresh.begin(), fresh.end());
    for (const SemanticProgress& p : repo.progress_rows(owner_id)) seen.insert(p.episode_id);
    WriteBatch skip;
    std::vector<std::string> kept;
    for (const std::string& id : pending) {
      if (seen.contains(id)) {
        kept.push_back(id);
        continue;
      }
      SemanticProgress p;
      p.episode_id = id;
      p.owner_id = owner_id;
      p.state = SemanticState::kSkipped;
      p.version = options.version;
      p.detail = "stored before the semantic pass was on (semantic.backlog = false)";
      p.updated_at = now_utc();
      skip.semantic_progress.push_back(std::move(p));
    }
    if (!skip.semantic_progress.empty()) storage_->apply(skip);
    pending = std::move(kept);
  }

  IndexedKnownStatements known(*retrieval_);
  std::size_t finished = 0;
  std::size_t added = 0;
  for (const std::string& episode_id : pending) {
    try {
      const std::optional<Episode> episode = storage_->episodes().get(episode_id);
      if (!episode || episode->owner_id != owner_id) continue;  // deleted meanwhile
      const std::vector<std::string> raw_ids =
          storage_->episodes().raw_ids_for_episode(episode_id);
      std::vector<RawEvent> events;
      for (auto& e : storage_->raw_data().get_batch(raw_ids)) {
        if (e) events.push_back(std::move(*e));
      }
      SemanticExtraction extraction = extractor_->extract(*episode, events, known, now_utc());
      const WriteBatchResult applied = storage_->apply(extraction.batch);
      std::vector<std::string> changed;
      for (const Statement& s : extraction.batch.statements) changed.push_back(s.statement_id);
      for (const Statement& s : extraction.batch.statement_updates)
        changed.push_back(s.statement_id);
      for (const StatementSource& s : extraction.batch.statement_sources)
        changed.push_back(s.statement_id);
      refresh_statements(owner_id, changed);
      freshness_->wrote(owner_id, 0, 0, applied.statements_stored);
      ++finished;
      added += extraction.added;
    } catch (const std::exception& e) {
      // Nothing of the extraction was written; count the attempt.
      try {
        SemanticProgress p;
        if (auto row = repo.progress(episode_id)) p = *row;
        p.episode_id = episode_id;
        p.owner_id = owner_id;
        p.version = options.version;
        p.attempts += 1;
        p.state = p.attempts >= options.max_attempts ? SemanticState::kFailed
                                                     : SemanticState::kRetry;
        p.detail = repair_utf8(e.what());  // the provider's text: keep it storable
        std::erase(p.detail, '\0');
        p.updated_at = now_utc();
        WriteBatch retry;
        retry.semantic_progress = {p};
        storage_->apply(retry);
      } catch (const std::exception& again) {
        report_error(owner_id, "recording the semantic failure of episode " + episode_id + ": " +
                                   again.what());
      }
      report_error(owner_id, "semantic memory of episode " + episode_id + ": " + e.what());
    }
  }
  return {finished, added};
}

}  // namespace nemori
