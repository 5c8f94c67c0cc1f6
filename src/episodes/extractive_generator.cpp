#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <unordered_map>

#include "episodes/extractive_title.h"
#include "nemori/core/id.h"
#include "nemori/episodes/episode_generator.h"

namespace nemori {

using namespace std::chrono;

std::string format_long_date(Timestamp t) {
  static constexpr const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                          "Thursday", "Friday", "Saturday"};
  static constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                            "May",       "June",     "July",     "August",
                                            "September", "October",  "November", "December"};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const weekday wd{day};
  return std::string(kDays[wd.c_encoding()]) + ", " + kMonths[unsigned(ymd.month()) - 1] + " " +
         std::to_string(unsigned(ymd.day())) + ", " + std::to_string(int(ymd.year()));
}

namespace {

// Words of a text with their byte offsets (letters, digits, apostrophes and inner hyphens).
std::vector<std::pair<std::size_t, std::string>> words_of(const std::string& text) {
  std::vector<std::pair<std::size_t, std::string>> out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (std::isalnum(c) || c >= 0x80) {
      std::size_t j = i;
      while (j < text.size()) {
        const auto d = static_cast<unsigned char>(text[j]);
        if (std::isalnum(d) || d >= 0x80 ||
            ((d == '\'' || d == '-') && j + 1 < text.size() &&
             std::isalnum(static_cast<unsigned char>(text[j + 1])))) {
          ++j;
        } else {
          break;
        }
      }
      out.push_back({i, text.substr(i, j - i)});
      i = j;
    } else {
      ++i;
    }
  }
  return out;
}

bool starts_sentence(const std::string& text, std::size_t offset) {
  std::size_t k = offset;
  while (k > 0 && (text[k - 1] == ' ' || text[k - 1] == '"' || text[k - 1] == '(')) --k;
  return k == 0 || text[k - 1] == '.' || text[k - 1] == '!' || text[k - 1] == '?' ||
         text[k - 1] == '\n' || text[k - 1] == ':';
}

bool is_month(const std::string& w) {
  static const std::set<std::string> kMonths = {"January",   "February", "March",    "April",
                                                "May",       "June",     "July",     "August",
                                                "September", "October",  "November", "December"};
  return kMonths.count(w) > 0;
}

std::string join(const std::vector<std::string>& items, const std::string& last_sep) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += (i + 1 == items.size()) ? last_sep : ", ";
    out += items[i];
  }
  return out;
}

}  // namespace

ExtractiveEpisodeGenerator::ExtractiveEpisodeGenerator(TokenizeFn tokenize)
    : tokenize_(std::move(tokenize)) {}

Episode ExtractiveEpisodeGenerator::generate(const std::string& owner_id,
                                             std::span<const RawEvent> events,
                                             std::span<const Message> messages) const {
  Episode e;
  e.episode_id = new_id();
  e.owner_id = owner_id;
  e.episode_type = EpisodeType::kConversational;
  e.level = EpisodeLevel::kAtomic;
  const Timestamp first =
      messages.empty() ? now_utc() : messages.front().timestamp.value_or(now_utc());
  const Timestamp last = messages.empty() ? first : messages.back().timestamp.value_or(first);
  e.temporal_info.timestamp = first;
  e.temporal_info.duration = duration<double>(last - first).count();
  e.temporal_info.timezone = "UTC";

  std::vector<std::string> speakers;
  for (const auto& m : messages) {
    if (std::find(speakers.begin(), speakers.end(), m.speaker_label()) == speakers.end()) {
      speakers.push_back(m.speaker_label());
    }
  }
  // Salient terms: count by normalised term, remember the most common surface form.
  std::unordered_map<std::string, std::pair<int, std::string>> term_counts;
  std::vector<std::string> entities = speakers;
  std::vector<std::string> time_refs = {format_long_date(first)};
  for (const auto& m : messages) {
    const auto words = words_of(m.content);
    for (std::size_t k = 0; k < words.size(); ++k) {
      const auto& [offset, word] = words[k];
      const auto terms = tokenize_(word);
      if (terms.size() == 1 && word.size() > 3 &&
          !std::isdigit(static_cast<unsigned char>(word[0]))) {
        auto& slot = term_counts[terms.front()];
        if (slot.first++ == 0) slot.second = word;
      }
      const bool capital = std::isupper(static_cast<unsigned char>(word[0]));
      if (is_month(word) || (word.size() == 4 && std::all_of(word.begin(), word.end(), ::isdigit) &&
                             (word[0] == '1' || word[0] == '2'))) {
        std::string ref = word;
        if (is_month(word) && k + 1 < words.size() &&
            std::isdigit(static_cast<unsigned char>(words[k + 1].second[0]))) {
          ref += " " + words[k + 1].second;
        }
        if (std::find(time_refs.begin(), time_refs.end(), ref) == time_refs.end())
          time_refs.push_back(ref);
      } else if (capital && !starts_sentence(m.content, offset) && word != "I" && word.size() > 1 &&
                 std::find(entities.begin(), entities.end(), word) == entities.end()) {
        entities.push_back(word);
      }
    }
  }
  std::vector<std::pair<std::string, std::pair<int, std::string>>> ranked(term_counts.begin(),
                                                                          term_counts.end());
  // Most frequent first; among equals the longer word, which is usually the more specific one
  // ("robotics" before "tell"), then alphabetical order for determinism.
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.second.first != b.second.first) return a.second.first > b.second.first;
    const std::size_t la = a.second.second.size(), lb = b.second.second.size();
    if (la != lb) return la > lb;
    return a.first < b.first;
  });
  std::vector<std::string> topics;
  for (std::size_t i = 0; i < ranked.size() && topics.size() < 5; ++i) {
    std::string surface = ranked[i].second.second;
    for (char& c : surface) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    topics.push_back(surface);
  }

  const std::string date = format_long_date(first);
  std::string frame = "On " + date + ", ";
  if (speakers.size() <= 1) {
    frame += (speakers.empty() ? std::string("someone") : speakers.front()) + " wrote.";
  } else {
    frame += speakers.front() + " talked with " +
             join(std::vector<std::string>(speakers.begin() + 1, speakers.end()), " and ") + ".";
  }
  // The frame is said once; each message follows as "Speaker: text", so that the words an
  // episode costs in a reader's budget are nearly all the conversation's own.
  e.content = frame;
  for (const auto& m : messages) e.content += "\n" + m.speaker_label() + ": " + m.content;
  const std::vector<std::string> top3(topics.begin(),
                                      topics.begin() + std::min<std::size_t>(3, topics.size()));
  // A headline: the episode's most informative sentence, short and attributed.
  e.title = extractive_title(messages, tokenize_);
  e.summary = "On " + date + ", " + join(speakers, " and ") +
              (top3.empty() ? " talked." : " talked about " + join(top3, " and ") + ".");

  e.metadata.processing_timestamp = now_utc();
  for (const auto& ev : events) {
    e.metadata.source_data_ids.push_back(ev.data_id);
    if (std::find(e.metadata.source_types.begin(), e.metadata.source_types.end(), ev.data_type) ==
        e.metadata.source_types.end()) {
      e.metadata.source_types.push_back(ev.data_type);
    }
  }
  e.metadata.entities = entities;
  e.metadata.topics = topics;
  e.metadata.time_references = time_refs;
  e.metadata.key_points.clear();
  e.metadata.duration_seconds = e.temporal_info.duration;
  nlohmann::json external_ids = nlohmann::json::array();
  for (const auto& m : messages) {
    if (m.external_id) external_ids.push_back(*m.external_id);
  }
  e.metadata.custom_fields = {
      {"message_count", messages.size()}, {"participants", speakers}, {"generator", "extractive"}};
  if (!external_ids.empty()) e.metadata.custom_fields["external_ids"] = external_ids;
  e.search_keywords = topics;
  e.importance_score = std::min(1.0, 0.3 + 0.05 * static_cast<double>(messages.size()));
  return e;
}

}  // namespace nemori
