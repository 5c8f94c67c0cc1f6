#include <algorithm>

#include "llm/http_transport.h"
#include "llm/wire.h"
#include "nemori/core/error.h"
#include "nemori/llm/openai.h"

namespace nemori {

OpenAiEmbedder::OpenAiEmbedder(OpenAiEmbeddingOptions options, std::shared_ptr<LlmStats> stats)
    : options_(std::move(options)),
      stats_(stats ? std::move(stats) : std::make_shared<LlmStats>()) {
  options_.base_url = wire::check_base_url("embedding.base_url", options_.base_url);
  if (options_.model.empty()) throw ConfigError("embedding.model: must not be empty");
  if (options_.batch_size == 0) throw ConfigError("embedding.batch_size: must be at least 1");
  if (options_.dimension && *options_.dimension == 0) {
    throw ConfigError("embedding.dimension: must be at least 1");
  }
  dimension_ = options_.dimension.value_or(0);
  transport_ = std::make_unique<HttpTransport>(options_.http, stats_);
}

OpenAiEmbedder::~OpenAiEmbedder() = default;

std::vector<std::vector<float>> OpenAiEmbedder::embed(std::span<const std::string> texts) {
  return embed(texts, options_.phase);
}

std::vector<std::vector<float>> OpenAiEmbedder::embed(std::span<const std::string> texts,
                                                      const std::string& phase) {
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (std::size_t start = 0; start < texts.size(); start += options_.batch_size) {
    const auto batch = texts.subspan(start, std::min(options_.batch_size, texts.size() - start));
    nlohmann::json body = {
        {"model", options_.model},
        {"input", nlohmann::json(std::vector<std::string>(batch.begin(), batch.end()))},
        {"encoding_format", "float"}};
    if (options_.dimension) body["dimensions"] = *options_.dimension;
    JsonPost post;
    post.url = options_.base_url + "/embeddings";
    if (!options_.api_key.empty())
      post.headers.push_back("Authorization: Bearer " + options_.api_key);
    post.body = body.dump();
    post.phase = phase;
    post.secret = options_.api_key;
    const nlohmann::json answer = transport_->post_json(post);

    const auto* data = wire::find(answer, "data");
    if (data == nullptr || !data->is_array()) transport_->fail_shape(post, "no data array");
    if (data->size() != batch.size()) {
      transport_->fail_shape(post, std::to_string(data->size()) + " embeddings for " +
                                       std::to_string(batch.size()) + " inputs");
    }
    std::vector<std::vector<float>> vectors(batch.size());
    std::vector<bool> seen(batch.size(), false);
    for (std::size_t i = 0; i < data->size(); ++i) {
      const auto& item = (*data)[i];
      const auto* index = wire::find(item, "index");
      const auto* embedding = wire::find(item, "embedding");
      if (index == nullptr || !index->is_number_unsigned() ||
          index->get<std::size_t>() >= batch.size() || seen[index->get<std::size_t>()]) {
        transport_->fail_shape(
            post, "data[" + std::to_string(i) + "].index is missing, repeated or out of range");
      }
      if (embedding == nullptr || !embedding->is_array() || embedding->empty() ||
          !std::all_of(embedding->begin(), embedding->end(),
                       [](const auto& v) { return v.is_number(); })) {
        transport_->fail_shape(
            post, "data[" + std::to_string(i) + "].embedding is not an array of numbers");
      }
      std::size_t expected = dimension_.load();
      if (expected == 0) {
        dimension_.compare_exchange_strong(expected, embedding->size());
        expected = dimension_.load();
      }
      if (embedding->size() != expected) {
        transport_->fail_shape(post, "an embedding of length " + std::to_string(embedding->size()) +
                                         ", expected " + std::to_string(expected) + " (model " +
                                         options_.model + ")");
      }
      const std::size_t at = index->get<std::size_t>();
      seen[at] = true;
      vectors[at] = embedding->get<std::vector<float>>();
    }
    stats_->record_success(phase, wire::usage(answer, "prompt_tokens", "completion_tokens"));
    for (auto& v : vectors) out.push_back(std::move(v));
  }
  return out;
}

}  // namespace nemori
