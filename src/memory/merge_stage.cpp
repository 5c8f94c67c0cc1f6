// Stage 3 of MemorySystem::process (docs/design/semantic-memory.md §3): each episode built in
// this call may be merged with one close episode of its owner. Candidates come from the
// owner's vector index (nearest by stored embedding inside the time window), the EpisodeMerger
// filters them and asks the model; a merge replaces both episodes by the merged one in one
// storage transaction, then the indexes follow.
#include <algorithm>
#include <chrono>
#include <exception>
#include <set>
#include <utility>

#include "memory/index_freshness.h"
#include "nemori/episodes/episode_merger.h"
#include "nemori/memory/memory_system.h"
#include "nemori/retrieval/episode_embedding.h"

namespace nemori {

std::size_t MemorySystem::merge_episodes(const std::string& owner_id,
                                         std::span<const std::string> fresh) {
  std::size_t merges = 0;
  const EpisodeMergerOptions& options = merger_->options();
  // Pairs asked about in this call: two new episodes near each other are asked about once.
  std::set<std::pair<std::string, std::string>> asked;
  for (const std::string& episode_id : fresh) {
    try {
      const std::optional<Episode> episode = storage_->episodes().get(episode_id);
      if (!episode || !episode->embedding_vector) continue;  // merged away meanwhile
      // The nearest episodes inside the window, by stored embedding (the episode itself is
      // among them).
      SearchOptions search;
      search.k = options.candidates + 1;
      search.mode = SearchMode::kVector;
      search.corpus = SearchCorpus::kEpisodes;
      search.query_vector = *episode->embedding_vector;
      search.filter.since = episode->temporal_info.timestamp - options.window;
      search.filter.until = episode->temporal_info.timestamp + options.window;
      std::vector<std::string> ids;
      for (const SearchHit& hit : retrieval_->search(owner_id, "", search).hits) {
        if (hit.id != episode_id) ids.push_back(hit.id);
      }
      std::vector<Episode> nearby;
      for (auto& e : storage_->episodes().get_batch(ids)) {
        if (e) nearby.push_back(std::move(*e));
      }
      std::vector<MergeCandidate> candidates = select_merge_candidates(*episode, nearby, options);
      std::erase_if(candidates, [&](const MergeCandidate& c) {
        return !asked.insert(std::minmax(episode_id, c.episode.episode_id)).second;
      });
      if (candidates.empty()) continue;  // no call
      const MergeOutcome outcome = merger_->merge(*episode, candidates, now_utc());
      if (!outcome.merged) continue;
      const auto partner = std::find_if(candidates.begin(), candidates.end(), [&](const auto& c) {
        return c.episode.episode_id == outcome.partner_id;
      });
      const Episode* const both[] = {&*episode, &partner->episode};
      Episode merged = *outcome.merged;
      std::span<Episode> one(&merged, 1);
      embed_episodes(*embedder_, one);  // throws LlmError: nothing written

      // One transaction: the merged episode, the links of both, their statements re-pointed,
      // both deleted, and the merged episode's progress row.
      WriteBatch batch;
      batch.episodes = {merged};
      for (const Episode* e : both) {
        for (const std::string& raw_id : storage_->episodes().raw_ids_for_episode(e->episode_id))
          batch.links.push_back({merged.episode_id, raw_id});
        batch.source_moves.push_back({e->episode_id, merged.episode_id});
        batch.delete_episodes.push_back(e->episode_id);
      }
      SemanticProgress progress;
      progress.episode_id = merged.episode_id;
      progress.owner_id = owner_id;
      progress.version = config_.semantic.version;
      bool both_done = true;
      for (const Episode* e : both) {
        const auto row = storage_->statements().progress(e->episode_id);
        both_done = both_done && row && row->state == SemanticState::kDone;
        if (row) {
          progress.semantic_calls += row->semantic_calls;
          progress.semantic_tokens += row->semantic_tokens;
          progress.merge_calls += row->merge_calls;
          progress.merge_tokens += row->merge_tokens;
        }
      }
      progress.state = both_done ? SemanticState::kDone : SemanticState::kPending;
      progress.merge_calls += outcome.calls;
      progress.merge_tokens += outcome.tokens;
      progress.updated_at = now_utc();
      batch.semantic_progress = {progress};
      const WriteBatchResult applied = storage_->apply(batch);

      retrieval_->index_episode(merged);
      retrieval_->remove_episode(owner_id, episode->episode_id);
      retrieval_->remove_episode(owner_id, partner->episode.episode_id);
      freshness_->wrote(owner_id, 0, applied.episodes_stored);
      freshness_->removed(owner_id, applied.episodes_deleted, applied.statements_removed);
      StatementQuery moved;
      moved.owner_ids = {owner_id};
      moved.state = StatementState::kAll;
      moved.source_episode_id = merged.episode_id;
      std::vector<std::string> statement_ids;
      for (const Statement& s : storage_->statements().search(moved).statements)
        statement_ids.push_back(s.statement_id);
      refresh_statements(owner_id, statement_ids);
      ++merges;
    } catch (const std::exception& e) {
      // Nothing of this merge was written: both episodes stay as they were.
      report_error(owner_id, "merging episode " + episode_id + ": " + e.what());
    }
  }
  return merges;
}

}  // namespace nemori
