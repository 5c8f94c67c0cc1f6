#include "nemori/retrieval/document.h"

#include <limits>

#include "nemori/core/enums.h"
#include "nemori/core/words.h"

namespace nemori {

namespace {

std::uint32_t clamp_u32(std::size_t n) {
  return n > std::numeric_limits<std::uint32_t>::max() ? std::numeric_limits<std::uint32_t>::max()
                                                       : static_cast<std::uint32_t>(n);
}

const std::string* string_field(const nlohmann::json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
}

}  // namespace

Document document_from_episode(const Episode& episode) {
  Document d;
  d.id = episode.episode_id;
  d.timestamp = episode.temporal_info.timestamp;
  d.type = std::string(to_string(episode.episode_type));
  d.title = episode.title;
  d.content = episode.content;
  d.summary = episode.summary;
  for (const auto& point : episode.metadata.key_points) {
    if (!d.summary.empty()) d.summary += '\n';
    d.summary += point;
  }
  d.keywords = episode.search_keywords;
  d.keywords.insert(d.keywords.end(), episode.metadata.topics.begin(),
                    episode.metadata.topics.end());
  d.entities = episode.metadata.entities;
  d.word_count = clamp_u32(word_count(episode));
  return d;
}

Document document_from_raw_event(const RawEvent& event) {
  Document d;
  d.id = event.data_id;
  d.timestamp = event.temporal_info.timestamp;
  d.type = std::string(to_string(event.data_type));
  const nlohmann::json& c = event.content;
  if (c.is_string()) {
    d.content = c.get<std::string>();
  } else if (c.is_object()) {
    const std::string* text = string_field(c, "content");
    if (text == nullptr) text = string_field(c, "text");
    if (text != nullptr) {
      d.content = *text;
      const std::string* speaker = string_field(c, "user_name");
      if (speaker == nullptr) speaker = string_field(c, "speaker_id");
      if (speaker == nullptr) speaker = string_field(c, "user_id");
      if (speaker != nullptr) d.title = *speaker;
    } else {
      d.content = c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  } else if (!c.is_null()) {
    d.content = c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  d.word_count = clamp_u32(count_words(d.title) + count_words(d.content));
  return d;
}

std::string embedding_text(const Episode& episode) {
  if (episode.title.empty()) return episode.content;
  if (episode.content.empty()) return episode.title;
  return episode.title + "\n\n" + episode.content;
}

}  // namespace nemori
