#include "nemori/memory/reembed.h"

#include <vector>

#include "nemori/retrieval/episode_embedding.h"

namespace nemori {

namespace {

constexpr std::size_t kPage = 256;

// Stricter than has_current_embedding(): a vector of an unknown model is done again, so that
// after a run every vector names its model.
bool done_by(const Episode& e, const EmbeddingClient& embedder) {
  return !e.embedding_model.empty() && has_current_embedding(e, embedder);
}

}  // namespace

ReembedReport reembed(Storage& storage, EmbeddingClient& embedder, const ReembedOptions& options) {
  std::vector<std::string> owners;
  if (options.owner_id.empty()) {
    owners = storage.list_owners();
  } else {
    owners.push_back(options.owner_id);
  }
  std::size_t total = 0;
  for (const auto& owner : owners) total += storage.episodes().count(owner);
  ReembedReport report;
  std::vector<Episode> batch;
  const auto store_batch = [&] {
    if (batch.empty()) return;
    embed_episodes(embedder, batch);
    for (const Episode& e : batch) {
      if (storage.episodes().update(e)) ++report.reembedded;  // deleted meanwhile: gone
    }
    batch.clear();
  };
  for (const auto& owner : owners) {
    const std::shared_ptr<void> held = storage.lock_owner(owner);
    ++report.owners;
    // Pages in a fixed order (newest first); updates change no episode's place in it.
    for (std::size_t offset = 0;; offset += kPage) {
      EpisodeSearchResult page = storage.episodes().by_owner(owner, kPage, offset);
      for (Episode& e : page.episodes) {
        ++report.episodes;
        if (done_by(e, embedder)) {
          ++report.up_to_date;
          continue;
        }
        batch.push_back(std::move(e));
        if (batch.size() == kEpisodeEmbeddingBatch) store_batch();
      }
      store_batch();
      if (options.progress) options.progress(report.episodes, total);
      if (!page.has_more) break;
    }
  }
  return report;
}

}  // namespace nemori
