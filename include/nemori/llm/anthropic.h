// A client for Anthropic's Messages API: POST {base_url}/v1/messages with `x-api-key` and
// `anthropic-version: 2023-06-01`. System messages of a ChatRequest go to the top-level
// `system` field; the answer's text content blocks are joined.
//
// JSON modes: the Messages API has no `response_format`; for kJsonObject and kJsonSchema the
// client adds a system instruction asking for one JSON object (with the schema when given) and
// strips a Markdown code fence around the answer, if any.
//
// Errors: LlmCallError. Thread safety: complete() may be called from any number of threads.
#pragma once

#include <memory>
#include <string>

#include "nemori/llm/chat.h"
#include "nemori/llm/http_options.h"
#include "nemori/llm/stats.h"

namespace nemori {

class HttpTransport;

/// Settings of an AnthropicChatClient.
struct AnthropicChatOptions {
  /// "https://api.anthropic.com"; a base ending in "/v1" is accepted too.
  std::string base_url = "https://api.anthropic.com";
  std::string model;
  std::string api_key;
  /// The `anthropic-version` header.
  std::string api_version = "2023-06-01";
  /// `max_tokens` when the request sets none (the API requires one).
  int default_max_tokens = 4096;
  HttpOptions http;
};

/// Chat over the Anthropic Messages wire format (non-streaming).
class AnthropicChatClient final : public ChatClient {
 public:
  /// Throws ConfigError when base_url is not http(s) or model is empty.
  AnthropicChatClient(AnthropicChatOptions options, std::shared_ptr<LlmStats> stats);
  ~AnthropicChatClient() override;
  AnthropicChatClient(const AnthropicChatClient&) = delete;
  AnthropicChatClient& operator=(const AnthropicChatClient&) = delete;

  ChatResponse complete(const ChatRequest& request) override;
  std::string model() const override { return options_.model; }
  /// The request body complete() would send (holds no key).
  nlohmann::json request_body(const ChatRequest& request) const;

 private:
  AnthropicChatOptions options_;
  std::shared_ptr<LlmStats> stats_;
  std::unique_ptr<HttpTransport> transport_;
};

}  // namespace nemori
