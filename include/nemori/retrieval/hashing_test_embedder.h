// A deterministic, offline embedder for tests and LLM-free demos. Not a semantic model.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nemori/retrieval/embedding.h"
#include "nemori/text/tokenizer.h"

namespace nemori {

/// Feature hashing of tokens: each token of the text (same tokenizer as BM25) adds +1 or -1 to
/// one of `dimension` buckets chosen by a 64-bit FNV-1a hash; the result is L2-normalised (a
/// text without tokens gives the zero vector). Texts sharing words get similar vectors; the
/// output is identical on every machine and run. Thread-safe.
class HashingTestEmbedder final : public EmbeddingClient {
 public:
  /// Throws ConfigError when dimension is 0 (or the tokenizer options are invalid).
  explicit HashingTestEmbedder(std::size_t dimension = 256, TokenizerOptions tokenizer = {});

  /// Never throws except std::bad_alloc.
  std::vector<std::vector<float>> embed(std::span<const std::string> texts) override;
  std::size_t dimension() const override { return dimension_; }
  std::string model() const override { return "hashing-test-" + std::to_string(dimension_); }

  /// Embeds one text.
  std::vector<float> embed_one(const std::string& text) const;

 private:
  std::size_t dimension_;
  Tokenizer tokenizer_;
};

}  // namespace nemori
