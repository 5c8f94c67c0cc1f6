#include "llm/http_transport.h"
#include "llm/wire.h"
#include "nemori/core/error.h"
#include "nemori/llm/anthropic.h"

namespace nemori {

namespace {

// A JSON answer wrapped in a Markdown fence ("```json\n{...}\n```") loses the fence.
std::string strip_fence(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || text.compare(first, 3, "```") != 0) return text;
  const auto body = text.find('\n', first);
  const auto close = text.rfind("```");
  if (body == std::string::npos || close == std::string::npos || close <= body) return text;
  return text.substr(body + 1, close - body - 1);
}

}  // namespace

AnthropicChatClient::AnthropicChatClient(AnthropicChatOptions options,
                                         std::shared_ptr<LlmStats> stats)
    : options_(std::move(options)),
      stats_(stats ? std::move(stats) : std::make_shared<LlmStats>()) {
  options_.base_url = wire::check_base_url("llm.base_url", options_.base_url);
  if (options_.base_url.size() >= 3 &&
      options_.base_url.compare(options_.base_url.size() - 3, 3, "/v1") == 0) {
    options_.base_url.resize(options_.base_url.size() - 3);
  }
  if (options_.model.empty()) throw ConfigError("llm.model: must not be empty");
  transport_ = std::make_unique<HttpTransport>(options_.http, stats_);
}

AnthropicChatClient::~AnthropicChatClient() = default;

nlohmann::json AnthropicChatClient::request_body(const ChatRequest& request) const {
  std::string system;
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& m : request.messages) {
    if (m.role == "system") {
      system += (system.empty() ? "" : "\n\n") + m.content;
    } else {
      messages.push_back(
          {{"role", m.role},
           {"content", nlohmann::json::array({{{"type", "text"}, {"text", m.content}}})}});
    }
  }
  if (request.format != ResponseFormat::kText) {
    std::string instruction = "Answer with one JSON object and nothing else.";
    if (request.format == ResponseFormat::kJsonSchema) {
      instruction += " It must match this JSON Schema: " + request.json_schema.dump();
    }
    system += (system.empty() ? "" : "\n\n") + instruction;
  }
  nlohmann::json body = {{"model", options_.model},
                         {"max_tokens", request.max_tokens.value_or(options_.default_max_tokens)},
                         {"messages", messages}};
  if (!system.empty()) body["system"] = system;
  if (request.temperature) body["temperature"] = *request.temperature;
  return body;
}

ChatResponse AnthropicChatClient::complete(const ChatRequest& request) {
  JsonPost post;
  post.url = options_.base_url + "/v1/messages";
  if (!options_.api_key.empty()) post.headers.push_back("x-api-key: " + options_.api_key);
  post.headers.push_back("anthropic-version: " + options_.api_version);
  post.body = request_body(request).dump();
  post.phase = request.phase;
  post.secret = options_.api_key;
  const nlohmann::json answer = transport_->post_json(post);

  const auto* content = wire::find(answer, "content");
  if (content == nullptr || !content->is_array()) transport_->fail_shape(post, "no content array");
  std::string text;
  bool any_text = false;
  for (const auto& block : *content) {
    const auto* type = wire::find(block, "type");
    const auto* t = wire::find(block, "text");
    if (type != nullptr && *type == "text" && t != nullptr && t->is_string()) {
      text += t->get<std::string>();
      any_text = true;
    }
  }
  if (!any_text) transport_->fail_shape(post, "no text content block");
  ChatResponse response;
  response.text = request.format == ResponseFormat::kText ? text : strip_fence(text);
  response.model = answer.value("model", options_.model);
  if (const auto* reason = wire::find(answer, "stop_reason");
      reason != nullptr && reason->is_string()) {
    response.finish_reason = reason->get<std::string>();
  }
  response.usage = wire::usage(answer, "input_tokens", "output_tokens");
  stats_->record_success(request.phase, response.usage);
  return response;
}

}  // namespace nemori
