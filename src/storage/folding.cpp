#include "storage/folding.h"

#include "nemori/core/utf8.h"
#include "nemori/storage/query.h"

namespace nemori::detail {

std::vector<std::string> folded_list(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const std::string& item : items) out.push_back(fold_case(item));
  return out;
}

std::string episode_search_text(const Episode& episode) {
  std::string text;
  text.reserve(episode.title.size() + episode.content.size() + episode.summary.size() + 2);
  text += episode.title;
  text += '\n';
  text += episode.content;
  text += '\n';
  text += episode.summary;
  return fold_case(text);
}

std::string raw_search_text(const RawEvent& event) {
  return fold_case(searchable_text(event));
}

EpisodeFolds fold_episode(const Episode& episode) {
  return EpisodeFolds{episode_search_text(episode), folded_list(episode.search_keywords),
                      folded_list(episode.metadata.entities), folded_list(episode.metadata.topics)};
}

}  // namespace nemori::detail
