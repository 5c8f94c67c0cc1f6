#include "nemori/episodes/llm_episode_generator.h"

#include <algorithm>

#include "episodes/llm_json_call.h"
#include "nemori/core/error.h"
#include "nemori/core/time.h"
#include "nemori/core/utf8.h"
#include "nemori/episodes/llm_prompts.h"

namespace nemori {

namespace {

constexpr const char* kPhase = "episode";
constexpr std::size_t kMaxListItems = 30;  // entities, topics, keywords kept per episode

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// The list `key` of the answer: trimmed, non-empty, each once, at most kMaxListItems.
std::vector<std::string> list_of(const nlohmann::json& answer, const char* key) {
  std::vector<std::string> out;
  if (!answer.contains(key)) return out;
  for (const auto& item : answer[key]) {
    std::string s = trimmed(item.get<std::string>());
    if (s.empty() || std::find(out.begin(), out.end(), s) != out.end()) continue;
    out.push_back(std::move(s));
    if (out.size() == kMaxListItems) break;
  }
  return out;
}

}  // namespace

std::string episode_answer_problem(const nlohmann::json& answer) {
  if (!answer.is_object()) return "the answer is not one JSON object";
  for (const char* key : {"title", "content"}) {
    if (!answer.contains(key) || !answer[key].is_string() ||
        trimmed(answer[key].get<std::string>()).empty())
      return "\"" + std::string(key) + "\" is missing or empty";
  }
  for (const char* key : {"title", "content", "summary", "timestamp"}) {
    if (!answer.contains(key) || answer[key].is_null()) continue;
    if (!answer[key].is_string()) return "\"" + std::string(key) + "\" is not a string";
    if (!is_valid_text(answer[key].get<std::string>()))
      return "\"" + std::string(key) + "\" is not valid UTF-8 text";
  }
  if (answer.contains("timestamp") && answer["timestamp"].is_string() &&
      !answer["timestamp"].get<std::string>().empty()) {
    std::string problem;
    if (!parse_iso8601(answer["timestamp"].get<std::string>(), problem))
      return "\"timestamp\": " + problem;
  }
  for (const char* key : {"entities", "topics", "keywords"}) {
    if (!answer.contains(key) || answer[key].is_null()) continue;
    if (!answer[key].is_array()) return "\"" + std::string(key) + "\" is not a list";
    for (const auto& item : answer[key]) {
      if (!item.is_string())
        return "\"" + std::string(key) + "\" holds " + item.dump() + ", not a string";
      if (!is_valid_text(item.get<std::string>()))
        return "\"" + std::string(key) + "\" holds text that is not valid UTF-8";
    }
  }
  return {};
}

LlmEpisodeGenerator::LlmEpisodeGenerator(std::shared_ptr<ChatClient> chat,
                                         std::unique_ptr<EpisodeGenerator> fallback,
                                         LlmEpisodeGeneratorOptions options)
    : chat_(std::move(chat)), fallback_(std::move(fallback)), options_(std::move(options)) {
  if (!chat_) throw ConfigError("LlmEpisodeGenerator: no chat client");
  if (!fallback_) throw ConfigError("LlmEpisodeGenerator: no fallback generator");
  if (options_.prompt.empty()) options_.prompt = default_prompt(kPhase);
  require_placeholders(kPhase, options_.prompt, {"messages"});
}

Episode LlmEpisodeGenerator::generate(const std::string& owner_id, std::span<const RawEvent> events,
                                      std::span<const Message> messages) const {
  Episode episode = fallback_->generate(owner_id, events, messages);
  if (messages.empty()) return episode;
  const Timestamp first = episode.temporal_info.timestamp;
  const Timestamp last = messages.back().timestamp.value_or(first);
  std::string lines;
  for (const Message& m : messages) lines += prompt_line(m) + "\n";
  detail::JsonAsk ask;
  ask.phase = kPhase;
  ask.prompt = render_prompt(options_.prompt, {{"start_time", prompt_time(first)},
                                               {"start_iso", format_iso8601(first)},
                                               {"messages", lines}});
  ask.temperature = options_.temperature;
  ask.stats = options_.stats.get();
  ask.problem_of = episode_answer_problem;
  std::string why;
  const auto answer = detail::ask_for_json(*chat_, ask, why);
  if (!answer) {
    if (options_.stats) options_.stats->record_fallback(kPhase);
    // The reason may quote the provider's error text: keep it storable (UTF-8, no NUL).
    std::string reason = repair_utf8(why);
    std::erase(reason, '\0');
    episode.metadata.custom_fields["llm_fallback"] = reason;
    return episode;
  }
  const auto text = [&](const char* key) {
    return answer->contains(key) && (*answer)[key].is_string()
               ? trimmed((*answer)[key].get<std::string>())
               : std::string();
  };
  episode.title = text("title");
  episode.content = text("content");
  episode.summary = text("summary");  // empty: finalize() takes the start of the content
  if (const std::string stamp = text("timestamp"); !stamp.empty()) {
    const Timestamp t = *parse_iso8601(stamp);
    if (t >= first && t <= last) {
      episode.temporal_info.timestamp = t;
      episode.temporal_info.duration = std::chrono::duration<double>(last - t).count();
    } else {
      episode.metadata.custom_fields["llm_timestamp"] = stamp;
    }
  }
  if (auto entities = list_of(*answer, "entities"); !entities.empty())
    episode.metadata.entities = std::move(entities);
  if (auto topics = list_of(*answer, "topics"); !topics.empty())
    episode.metadata.topics = std::move(topics);
  if (auto keywords = list_of(*answer, "keywords"); !keywords.empty())
    episode.search_keywords = std::move(keywords);
  episode.metadata.custom_fields["generator"] = "llm";
  episode.metadata.custom_fields["model"] = chat_->model();
  return episode;
}

}  // namespace nemori
