// One JSON answer from a chat model, checked by the caller's rule and asked again once when
// it breaks it: what the LLM segmenter and the LLM episode writer share.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "nemori/llm/chat.h"
#include "nemori/llm/stats.h"

namespace nemori::detail {

/// What one ask_for_json() call needs.
struct JsonAsk {
  std::string phase;   ///< LlmStats phase of the calls.
  std::string prompt;  ///< The rendered prompt, sent as one user message.
  std::optional<double> temperature;
  /// "" when the parsed answer is valid, else what is wrong with it (said to the model).
  std::function<std::string(const nlohmann::json&)> problem_of;
  LlmStats* stats = nullptr;  ///< Invalid answers are counted here (may be null).
};

/// The valid answer, or nullopt with `why` set (the call failed, or two answers were invalid:
/// not one JSON object, or one problem_of rejects). The second call repeats the conversation
/// with the first answer and what was wrong with it. Throws nothing but what is not an
/// LlmError (a failed call is an answer of nullopt).
std::optional<nlohmann::json> ask_for_json(ChatClient& chat, const JsonAsk& ask, std::string& why);

}  // namespace nemori::detail
