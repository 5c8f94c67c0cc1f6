// Embedding episodes for storage: the vector and the name of the model that made it.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/retrieval/embedding.h"

namespace nemori {

/// Texts per embedding request when episodes are embedded for storage.
inline constexpr std::size_t kEpisodeEmbeddingBatch = 64;

/// One vector per text, in input order, in requests of kEpisodeEmbeddingBatch texts. Throws
/// LlmError when the embedder fails or answers the wrong number of vectors.
std::vector<std::vector<float>> embed_in_batches(EmbeddingClient& embedder,
                                                 std::span<const std::string> texts);

/// Sets embedding_vector (of embedding_text()) and embedding_model (embedder.model()) on every
/// episode, in requests of kEpisodeEmbeddingBatch texts. Throws LlmError when the embedder
/// fails or answers the wrong number of vectors; the episodes are left unchanged then.
void embed_episodes(EmbeddingClient& embedder, std::span<Episode> episodes);

/// True when the episode's stored vector was made by this embedder: same model (an unknown
/// model counts as the same) and the embedder's dimension (when it knows it).
bool has_current_embedding(const Episode& episode, const EmbeddingClient& embedder);

}  // namespace nemori
