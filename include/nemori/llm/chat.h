// The seam between nemori and a chat model: one request in, one answer with its usage out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/llm/stats.h"

namespace nemori {

/// One message of a conversation sent to a chat model.
struct ChatMessage {
  std::string role;  ///< "system", "user" or "assistant".
  std::string content;
};

/// What shape the answer must have.
enum class ResponseFormat {
  kText,        ///< Free text.
  kJsonObject,  ///< One JSON object (OpenAI `response_format: {"type": "json_object"}`).
  kJsonSchema,  ///< JSON matching ChatRequest::json_schema (OpenAI `json_schema`, strict).
};

/// One chat completion request.
struct ChatRequest {
  std::vector<ChatMessage> messages;
  ResponseFormat format = ResponseFormat::kText;
  /// The JSON Schema of the answer when format is kJsonSchema.
  nlohmann::json json_schema;
  /// The schema's name (OpenAI requires one: letters, digits, '_' and '-').
  std::string schema_name = "answer";
  /// Sampling temperature; unset leaves the model's default. Ignored for models that take
  /// none (see OpenAiChatOptions::reasoning_model).
  std::optional<double> temperature;
  /// Upper bound of generated tokens; unset: the provider's default (Anthropic: 4096).
  std::optional<int> max_tokens;
  /// Sampling seed (OpenAI-compatible `seed`, for reproducible runs where the provider
  /// supports it); unset: none sent. Not sent to Anthropic, which takes none.
  std::optional<std::int64_t> seed;
  /// Which phase the usage is recorded under in LlmStats.
  std::string phase = "chat";
};

/// The model's answer.
struct ChatResponse {
  std::string text;           ///< The assistant message's text (content blocks joined).
  TokenUsage usage;           ///< As the provider reported it (zero when it reported none).
  std::string model;          ///< The model that answered, as the provider named it.
  std::string finish_reason;  ///< OpenAI `finish_reason` / Anthropic `stop_reason`.
};

/// A chat model. Implementations are thread-safe: complete() may be called from any number of
/// threads at once (each client caps how many requests are on the wire).
class ChatClient {
 public:
  virtual ~ChatClient() = default;
  /// Sends the request, retrying what HttpOptions says is retryable. Throws LlmCallError when
  /// the call fails for good or the answer has no text where the protocol puts it; a JSON
  /// answer is returned as text and not validated here (the caller knows its shape).
  virtual ChatResponse complete(const ChatRequest& request) = 0;
  /// The configured model name, e.g. "gpt-4o-mini". Never throws.
  virtual std::string model() const = 0;
};

}  // namespace nemori
