#include "nemori/episodes/llm_prompts.h"

#include <chrono>
#include <ctime>

#include "episodes/compiled_prompts.h"
#include "nemori/core/error.h"

namespace nemori {

const std::string& default_prompt(std::string_view name) {
  const auto& prompts = detail::compiled_prompts();
  if (auto it = prompts.find(name); it != prompts.end()) return it->second;
  std::string names;
  for (const auto& [known, text] : prompts) names += (names.empty() ? "" : ", ") + known;
  throw ConfigError("prompts." + std::string(name) + ": unknown prompt (there are: " + names + ")");
}

std::string prompt_text(std::string_view name,
                        const std::map<std::string, std::string>& overrides) {
  if (auto it = overrides.find(std::string(name)); it != overrides.end()) return it->second;
  return default_prompt(name);
}

std::string render_prompt(std::string_view text, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t open = text.find("{{", i);
    if (open == std::string_view::npos) break;
    const std::size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(i, open - i));
    const std::string key(text.substr(open + 2, close - open - 2));
    if (auto it = values.find(key); it != values.end()) {
      out += it->second;
    } else {
      out.append(text.substr(open, close + 2 - open));
    }
    i = close + 2;
  }
  out.append(text.substr(i));
  return out;
}

void require_placeholders(std::string_view name, std::string_view text,
                          std::initializer_list<std::string_view> placeholders) {
  for (std::string_view p : placeholders) {
    const std::string mark = "{{" + std::string(p) + "}}";
    if (text.find(mark) == std::string_view::npos) {
      throw ConfigError("prompts." + std::string(name) + ": lacks the placeholder " + mark +
                        " (where the messages go; see prompts/" + std::string(name) + ".txt)");
    }
  }
}

namespace {

// strftime of a UTC instant (the C locale's English names: nemori never calls setlocale).
std::string utc_format(Timestamp t, const char* format) {
  const std::time_t seconds = static_cast<std::time_t>(
      std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count());
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char text[128];
  const std::size_t n = std::strftime(text, sizeof text, format, &parts);
  return std::string(text, n);
}

}  // namespace

std::string prompt_line(const Message& message) {
  std::string line = message.timestamp ? utc_format(*message.timestamp, "[%Y-%m-%d %H:%M UTC, %A] ")
                                       : std::string("[time unknown] ");
  line += message.speaker_label() + ": ";
  for (char c : message.content) line += (c == '\n' || c == '\r') ? ' ' : c;
  return line;
}

std::string prompt_time(Timestamp t) {
  return utc_format(t, "%B %-d, %Y (%A) at %-I:%M %p UTC");
}

}  // namespace nemori
