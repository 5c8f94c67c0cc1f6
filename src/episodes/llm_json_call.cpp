#include "episodes/llm_json_call.h"

#include "nemori/core/error.h"

namespace nemori::detail {

namespace {

// The answer without white space around it and without a Markdown code fence around it.
std::string unfenced(std::string text) {
  const auto trim = [](std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
      s.clear();
      return;
    }
    s = s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
  };
  trim(text);
  if (text.rfind("```", 0) == 0 && text.size() >= 6 &&
      text.compare(text.size() - 3, 3, "```") == 0) {
    const auto newline = text.find('\n');
    text =
        newline == std::string::npos ? "" : text.substr(newline + 1, text.size() - 3 - newline - 1);
    trim(text);
  }
  return text;
}

}  // namespace

std::optional<nlohmann::json> ask_for_json(ChatClient& chat, const JsonAsk& ask, std::string& why) {
  ChatRequest request;
  request.messages.push_back({"user", ask.prompt});
  request.format = ResponseFormat::kJsonObject;
  request.temperature = ask.temperature;
  request.phase = ask.phase;
  for (int attempt = 0; attempt < 2; ++attempt) {
    ChatResponse response;
    try {
      response = chat.complete(request);
    } catch (const LlmError& e) {
      why = e.what();
      return std::nullopt;
    }
    const nlohmann::json answer =
        nlohmann::json::parse(unfenced(response.text), nullptr, /*allow_exceptions=*/false);
    if (answer.is_discarded() || !answer.is_object()) {
      why = "the answer is not one JSON object";
    } else {
      why = ask.problem_of(answer);
      if (why.empty()) return answer;
    }
    if (ask.stats != nullptr) ask.stats->record_invalid_answer(ask.phase);
    request.messages.push_back({"assistant", response.text});
    request.messages.push_back(
        {"user", "That answer is invalid: " + why +
                     ". Answer again with the whole JSON object, corrected, and nothing else."});
  }
  return std::nullopt;
}

}  // namespace nemori::detail
