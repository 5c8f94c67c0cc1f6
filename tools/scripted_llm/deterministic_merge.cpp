// The deterministic model's "merge" task (docs/design/semantic-memory.md §3.2): merge when both
// episodes' first dates (YYYY-MM-DD) are equal and their sets of words of 5+ letters overlap by
// at least half of the smaller set; the merged episode keeps the older's title, summary and
// timestamp, and its content is the older's followed by the newer's.
#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "deterministic_tasks.h"

namespace nemori::testing {

namespace {

// One episode as prompts/merge.txt shows it: "Title: ", "Time: ", "Summary: ", "Content: ".
struct ShownEpisode {
  std::string title, time, summary, content;
};

// The episodes of the prompt in order (A, the older, then B), from their field lines.
std::vector<ShownEpisode> shown_episodes(const std::string& prompt) {
  std::vector<ShownEpisode> out;
  std::istringstream in(prompt);
  std::string line;
  const auto field = [&](const std::string& name, std::string ShownEpisode::*member) {
    if (line.rfind(name, 0) != 0) return false;
    if (name == "Title: " || out.empty()) out.emplace_back();
    out.back().*member = line.substr(name.size());
    return true;
  };
  while (std::getline(in, line)) {
    (void)(field("Title: ", &ShownEpisode::title) || field("Time: ", &ShownEpisode::time) ||
        field("Summary: ", &ShownEpisode::summary) || field("Content: ", &ShownEpisode::content));
  }
  return out;
}

// The first YYYY-MM-DD in `text`, "" when none.
std::string first_date(const std::string& text) {
  const auto digit = [&](std::size_t i) {
    return std::isdigit(static_cast<unsigned char>(text[i])) != 0;
  };
  for (std::size_t i = 0; i + 10 <= text.size(); ++i) {
    if (digit(i) && digit(i + 1) && digit(i + 2) && digit(i + 3) && text[i + 4] == '-' &&
        digit(i + 5) && digit(i + 6) && text[i + 7] == '-' && digit(i + 8) && digit(i + 9))
      return text.substr(i, 10);
  }
  return {};
}

// Lower-cased runs of 5 or more ASCII letters.
std::set<std::string> long_words(const std::string& text) {
  std::set<std::string> out;
  std::string word;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    const char c = i < text.size() ? text[i] : ' ';
    if (std::isalpha(static_cast<unsigned char>(c)) != 0) {
      word += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      if (word.size() >= 5) out.insert(word);
      word.clear();
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> merge_task_answer(std::string_view task, const std::string& prompt) {
  if (task != "merge") return std::nullopt;
  const std::vector<ShownEpisode> shown = shown_episodes(prompt);
  if (shown.size() < 2) return nlohmann::json{{"decision", "keep"}}.dump();
  const ShownEpisode& a = shown[0];
  const ShownEpisode& b = shown[1];
  const std::string date = first_date(a.time);
  const auto words_a = long_words(a.title + " " + a.content);
  const auto words_b = long_words(b.title + " " + b.content);
  std::size_t common = 0;
  for (const auto& w : words_a) common += words_b.count(w);
  const std::size_t smaller = std::min(words_a.size(), words_b.size());
  if (date.empty() || date != first_date(b.time) || smaller == 0 || common * 2 < smaller)
    return nlohmann::json{{"decision", "keep"}}.dump();
  return nlohmann::json{{"decision", "merge"},
                        {"title", a.title},
                        {"content", a.content + " " + b.content},
                        {"summary", a.summary},
                        {"timestamp", a.time.substr(0, a.time.find(" ("))}}
      .dump();
}

}  // namespace nemori::testing
