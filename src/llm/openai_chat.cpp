#include <algorithm>
#include <cctype>

#include "llm/http_transport.h"
#include "llm/wire.h"
#include "nemori/core/error.h"
#include "nemori/llm/openai.h"

namespace nemori {

bool is_reasoning_model(const std::string& model) {
  std::string name = model;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (auto slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
  auto starts = [&](std::string_view prefix) { return name.rfind(prefix, 0) == 0; };
  return starts("o1") || starts("o3") || starts("o4") || starts("gpt-5");
}

OpenAiChatClient::OpenAiChatClient(OpenAiChatOptions options, std::shared_ptr<LlmStats> stats)
    : options_(std::move(options)),
      stats_(stats ? std::move(stats) : std::make_shared<LlmStats>()) {
  options_.base_url = wire::check_base_url("llm.base_url", options_.base_url);
  if (options_.model.empty()) throw ConfigError("llm.model: must not be empty");
  transport_ = std::make_unique<HttpTransport>(options_.http, stats_);
}

OpenAiChatClient::~OpenAiChatClient() = default;

nlohmann::json OpenAiChatClient::request_body(const ChatRequest& request) const {
  const bool reasoning = options_.reasoning_model.value_or(is_reasoning_model(options_.model));
  nlohmann::json body = {{"model", options_.model}, {"messages", nlohmann::json::array()}};
  for (const auto& m : request.messages) {
    body["messages"].push_back({{"role", m.role}, {"content", m.content}});
  }
  if (request.temperature && !reasoning) body["temperature"] = *request.temperature;
  if (request.max_tokens)
    body[reasoning ? "max_completion_tokens" : "max_tokens"] = *request.max_tokens;
  if (request.seed) body["seed"] = *request.seed;
  switch (request.format) {
    case ResponseFormat::kText:
      break;
    case ResponseFormat::kJsonObject:
      body["response_format"] = {{"type", "json_object"}};
      break;
    case ResponseFormat::kJsonSchema:
      body["response_format"] = {
          {"type", "json_schema"},
          {"json_schema",
           {{"name", request.schema_name}, {"schema", request.json_schema}, {"strict", true}}}};
      break;
  }
  return body;
}

ChatResponse OpenAiChatClient::complete(const ChatRequest& request) {
  JsonPost post;
  post.url = options_.base_url + "/chat/completions";
  if (!options_.api_key.empty())
    post.headers.push_back("Authorization: Bearer " + options_.api_key);
  post.body = request_body(request).dump();
  post.phase = request.phase;
  post.secret = options_.api_key;
  const nlohmann::json answer = transport_->post_json(post);

  const auto* choices = wire::find(answer, "choices");
  if (choices == nullptr || !choices->is_array() || choices->empty() ||
      !(*choices)[0].is_object()) {
    transport_->fail_shape(post, "no choices[0]");
  }
  const auto& choice = (*choices)[0];
  const auto* message = wire::find(choice, "message");
  const auto* content = message != nullptr ? wire::find(*message, "content") : nullptr;
  if (content == nullptr || !content->is_string()) {
    std::string why = "choices[0].message.content is not a string";
    if (message != nullptr && message->contains("refusal") && (*message)["refusal"].is_string()) {
      why += " (refusal: " + (*message)["refusal"].get<std::string>() + ")";
    }
    transport_->fail_shape(post, why);
  }
  ChatResponse response;
  response.text = content->get<std::string>();
  response.model = answer.value("model", options_.model);
  if (const auto* reason = wire::find(choice, "finish_reason");
      reason != nullptr && reason->is_string()) {
    response.finish_reason = reason->get<std::string>();
  }
  response.usage = wire::usage(answer, "prompt_tokens", "completion_tokens");
  stats_->record_success(request.phase, response.usage);
  return response;
}

}  // namespace nemori
