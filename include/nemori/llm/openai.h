// Clients for OpenAI-compatible endpoints: POST {base_url}/chat/completions and
// POST {base_url}/embeddings. The same code talks to OpenAI, OpenRouter, Ollama
// (http://localhost:11434/v1), vLLM and llama.cpp's server (http://host:8000/v1), LM Studio and
// Gemini's OpenAI-compatible endpoint.
//
// Authentication: `Authorization: Bearer <api_key>` when a key is set; no header otherwise
// (local servers). Errors: LlmCallError (llm_error.h). Thread safety: both clients may be
// called from any number of threads at once; each keeps a pool of at most
// HttpOptions::max_concurrency reused connections.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "nemori/llm/chat.h"
#include "nemori/llm/http_options.h"
#include "nemori/llm/stats.h"
#include "nemori/retrieval/embedding.h"

namespace nemori {

class HttpTransport;

/// Settings of an OpenAiChatClient.
struct OpenAiChatOptions {
  /// e.g. "https://api.openai.com/v1" (a trailing '/' is ignored).
  std::string base_url = "https://api.openai.com/v1";
  std::string model;
  /// Empty: no Authorization header.
  std::string api_key;
  /// Models that take `max_completion_tokens` and no `temperature` (OpenAI's o1/o3/o4 and
  /// gpt-5 families). Unset: decided from the model name by is_reasoning_model().
  std::optional<bool> reasoning_model;
  HttpOptions http;
};

/// True for model names of OpenAI's reasoning families (o1*, o3*, o4*, gpt-5*, with or
/// without an "openai/" prefix), which reject `temperature` and `max_tokens`.
bool is_reasoning_model(const std::string& model);

/// Chat completions over the OpenAI wire format (non-streaming).
class OpenAiChatClient final : public ChatClient {
 public:
  /// Throws ConfigError when base_url is not http(s) or model is empty.
  OpenAiChatClient(OpenAiChatOptions options, std::shared_ptr<LlmStats> stats);
  ~OpenAiChatClient() override;
  OpenAiChatClient(const OpenAiChatClient&) = delete;
  OpenAiChatClient& operator=(const OpenAiChatClient&) = delete;

  /// See ChatClient::complete. The text is choices[0].message.content.
  ChatResponse complete(const ChatRequest& request) override;
  std::string model() const override { return options_.model; }
  /// The request body complete() would send (for tests and debugging; holds no key).
  nlohmann::json request_body(const ChatRequest& request) const;

 private:
  OpenAiChatOptions options_;
  std::shared_ptr<LlmStats> stats_;
  std::unique_ptr<HttpTransport> transport_;
};

/// Settings of an OpenAiEmbedder.
struct OpenAiEmbeddingOptions {
  std::string base_url = "https://api.openai.com/v1";
  std::string model;
  std::string api_key;
  /// When set, sent as `dimensions` (text-embedding-3 models shorten their vectors) and every
  /// answer must have this length. Unset: the length of the first answer, kept from then on.
  std::optional<std::size_t> dimension;
  /// Texts per request (OpenAI accepts up to 2048 inputs per request).
  std::size_t batch_size = 64;
  /// The phase embed() records under.
  std::string phase = "embedding";
  HttpOptions http;
};

/// Embeddings over the OpenAI wire format, batched. Implements the retrieval layer's
/// EmbeddingClient.
class OpenAiEmbedder final : public EmbeddingClient {
 public:
  /// Throws ConfigError when base_url is not http(s), model is empty, batch_size or a set
  /// dimension is 0.
  OpenAiEmbedder(OpenAiEmbeddingOptions options, std::shared_ptr<LlmStats> stats);
  ~OpenAiEmbedder() override;
  OpenAiEmbedder(const OpenAiEmbedder&) = delete;
  OpenAiEmbedder& operator=(const OpenAiEmbedder&) = delete;

  /// One vector per text, in input order (ordered by each answer's `index`), in requests of
  /// batch_size texts. Empty input sends nothing. Throws LlmCallError when a request fails,
  /// or an answer has the wrong count, a missing or repeated index, or a vector of another
  /// length than dimension().
  std::vector<std::vector<float>> embed(std::span<const std::string> texts) override;
  /// The same, recorded under `phase` instead of the configured one.
  std::vector<std::vector<float>> embed(std::span<const std::string> texts,
                                        const std::string& phase);
  /// The configured dimension, else the length of the first vector received, else 0.
  std::size_t dimension() const override { return dimension_.load(); }
  std::string model() const override { return options_.model; }

 private:
  OpenAiEmbeddingOptions options_;
  std::shared_ptr<LlmStats> stats_;
  std::unique_ptr<HttpTransport> transport_;
  std::atomic<std::size_t> dimension_{0};
};

}  // namespace nemori
