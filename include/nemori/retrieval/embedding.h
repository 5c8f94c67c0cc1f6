// The seam between retrieval and whatever turns text into vectors.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace nemori {

/// Turns texts into embedding vectors. Implementations must be thread-safe: the retrieval
/// service calls embed() from many threads at once and never while holding an index lock.
class EmbeddingClient {
 public:
  virtual ~EmbeddingClient() = default;

  /// One vector per text, in input order, each of dimension() floats. Throws LlmError when the
  /// endpoint fails or answers something unusable (wrong count or length).
  virtual std::vector<std::vector<float>> embed(std::span<const std::string> texts) = 0;
  /// The length of every vector embed() returns. Never throws.
  virtual std::size_t dimension() const = 0;
  /// A name for the model, e.g. "text-embedding-3-small" (used in stats and logs).
  virtual std::string model() const = 0;
};

}  // namespace nemori
