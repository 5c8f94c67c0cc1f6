#include "nemori/retrieval/episode_embedding.h"

#include <algorithm>
#include <string>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/retrieval/document.h"

namespace nemori {

std::vector<std::vector<float>> embed_in_batches(EmbeddingClient& embedder,
                                                 std::span<const std::string> texts) {
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (std::size_t begin = 0; begin < texts.size(); begin += kEpisodeEmbeddingBatch) {
    const auto chunk = texts.subspan(begin, std::min(kEpisodeEmbeddingBatch, texts.size() - begin));
    auto answer = embedder.embed(chunk);
    if (answer.size() != chunk.size()) {
      throw LlmError("embedder returned " + std::to_string(answer.size()) + " vectors for " +
                     std::to_string(chunk.size()) + " texts");
    }
    for (auto& v : answer) out.push_back(std::move(v));
  }
  return out;
}

void embed_episodes(EmbeddingClient& embedder, std::span<Episode> episodes) {
  std::vector<std::string> texts;
  texts.reserve(episodes.size());
  for (const Episode& e : episodes) texts.push_back(embedding_text(e));
  std::vector<std::vector<float>> vectors = embed_in_batches(embedder, texts);
  const std::string model = embedder.model();
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    episodes[i].embedding_vector = std::move(vectors[i]);
    episodes[i].embedding_model = model;
  }
}

bool has_current_embedding(const Episode& episode, const EmbeddingClient& embedder) {
  if (!episode.embedding_vector) return false;
  if (!episode.embedding_model.empty() && episode.embedding_model != embedder.model()) return false;
  const std::size_t dimension = embedder.dimension();
  return dimension == 0 || episode.embedding_vector->size() == dimension;
}

}  // namespace nemori
