#include "nemori/retrieval/hashing_test_embedder.h"

#include <cmath>
#include <cstdint>

#include "nemori/core/error.h"

namespace nemori {

namespace {

std::uint64_t fnv1a64(std::string_view s) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

HashingTestEmbedder::HashingTestEmbedder(std::size_t dimension, TokenizerOptions tokenizer)
    : dimension_(dimension), tokenizer_(std::move(tokenizer)) {
  if (dimension_ == 0) throw ConfigError("HashingTestEmbedder dimension must be > 0");
}

std::vector<float> HashingTestEmbedder::embed_one(const std::string& text) const {
  std::vector<float> v(dimension_, 0.0f);
  thread_local std::vector<std::string> tokens;
  tokens.clear();
  tokenizer_.tokenize(text, tokens);
  for (const auto& t : tokens) {
    const std::uint64_t h = fnv1a64(t);
    v[h % dimension_] += (h >> 63) ? -1.0f : 1.0f;
  }
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  if (norm > 0) {
    const auto scale = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= scale;
  }
  return v;
}

std::vector<std::vector<float>> HashingTestEmbedder::embed(std::span<const std::string> texts) {
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(embed_one(t));
  return out;
}

}  // namespace nemori
