// The deterministic model's semantic tasks (docs/design/semantic-memory.md §2.5): statements
// found by ten fixed sentence rules (R1-R10) in the prompt's numbered message lines, a
// prediction that repeats what is known, and reconciliation by subject, predicate and object.
#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <vector>

#include <nlohmann/json.hpp>

#include "deterministic_tasks.h"

namespace nemori::testing {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return {};
  return std::string(text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1));
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '\''; }

// One "N. [time] Speaker: text" line of the prompt.
struct MessageLine {
  int number = 0;
  std::string date;  // the first YYYY-MM-DD inside the brackets, "" when none
  std::string speaker;
  std::string text;
};

// One "Sk [since YYYY-MM-DD] content" line of the prompt.
struct ShownStatement {
  std::string id;
  std::string content;
};

std::vector<MessageLine> message_lines(const std::string& prompt) {
  static const std::regex line(R"(^(\d+)\. \[([^\]]*)\] ([^:]+): (.*)$)");
  static const std::regex date(R"(\d{4}-\d{2}-\d{2})");
  std::vector<MessageLine> out;
  std::size_t start = 0;
  while (start <= prompt.size()) {
    std::size_t end = prompt.find('\n', start);
    if (end == std::string::npos) end = prompt.size();
    const std::string text = prompt.substr(start, end - start);
    std::smatch m;
    if (std::regex_match(text, m, line)) {
      MessageLine l;
      l.number = std::stoi(m[1].str());
      const std::string when = m[2].str();
      std::smatch d;
      if (std::regex_search(when, d, date)) l.date = d[0].str();
      l.speaker = trim(m[3].str());
      l.text = m[4].str();
      out.push_back(std::move(l));
    }
    start = end + 1;
  }
  return out;
}

std::vector<ShownStatement> shown_statements(const std::string& prompt) {
  static const std::regex line(R"(^(S\d+) \[since [^\]]*\] (.*)$)");
  std::vector<ShownStatement> out;
  std::size_t start = 0;
  while (start <= prompt.size()) {
    std::size_t end = prompt.find('\n', start);
    if (end == std::string::npos) end = prompt.size();
    const std::string text = prompt.substr(start, end - start);
    std::smatch m;
    if (std::regex_match(text, m, line)) out.push_back({m[1].str(), trim(m[2].str())});
    start = end + 1;
  }
  return out;
}

// The value of the first line starting with `key`, "" when none.
std::string line_value(const std::string& prompt, std::string_view key) {
  std::size_t pos = 0;
  while (pos < prompt.size()) {
    if (prompt.compare(pos, key.size(), key) == 0) {
      const std::size_t end = prompt.find('\n', pos);
      return trim(prompt.substr(pos + key.size(),
                                end == std::string::npos ? std::string::npos
                                                         : end - pos - key.size()));
    }
    pos = prompt.find('\n', pos);
    if (pos == std::string::npos) break;
    ++pos;
  }
  return {};
}

// Sentences of a message: split after '.', '!' and '?'.
std::vector<std::string> sentences(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    current += c;
    if (c == '.' || c == '!' || c == '?') {
      if (!trim(current).empty()) out.push_back(current);
      current.clear();
    }
  }
  if (!trim(current).empty()) out.push_back(current);
  return out;
}

// Position just after `pattern` in `low` where it starts a word (nothing alphanumeric before
// it), or npos.
std::size_t after_word(const std::string& low, std::string_view pattern, std::size_t from = 0) {
  for (std::size_t pos = low.find(pattern, from); pos != std::string::npos;
       pos = low.find(pattern, pos + 1)) {
    if (pos == 0 || !word_char(low[pos - 1])) return pos + pattern.size();
  }
  return std::string::npos;
}

// X: the text from `pos` up to , ; : ( or " and ", " but ", " because ", or the sentence's end
// (its final punctuation left out), at most six words, trimmed.
std::string phrase_at(const std::string& sentence, std::size_t pos,
                      std::vector<std::string_view> extra_stops = {}) {
  const std::string low = lower(sentence);
  std::size_t end = sentence.size();
  for (char c : {',', ';', ':', '(', '.', '!', '?'}) {
    const std::size_t at = sentence.find(c, pos);
    if (at != std::string::npos) end = std::min(end, at);
  }
  std::vector<std::string_view> stops = {" and ", " but ", " because "};
  stops.insert(stops.end(), extra_stops.begin(), extra_stops.end());
  for (std::string_view stop : stops) {
    const std::size_t at = low.find(stop, pos);
    if (at != std::string::npos) end = std::min(end, at);
  }
  const std::string raw = trim(sentence.substr(pos, end > pos ? end - pos : 0));
  std::string out;
  std::size_t words = 0, i = 0;
  while (i < raw.size() && words < 6) {
    const std::size_t next = raw.find(' ', i);
    const std::string word = raw.substr(i, next == std::string::npos ? std::string::npos : next - i);
    if (!word.empty()) {
      if (!out.empty()) out += ' ';
      out += word;
      ++words;
    }
    if (next == std::string::npos) break;
    i = next + 1;
  }
  return out;
}

// One statement a rule found.
struct Found {
  std::string content, category, subject, supersedes_content;
  int evidence = 0;
  std::string date;
};

// R1-R10 over one sentence of speaker `s`.
void apply_rules(const std::string& sentence, const std::string& s, std::vector<Found>& out,
                 const MessageLine& line) {
  const std::string low = lower(sentence);
  const auto add = [&](std::string content, const char* category, std::string previous = {}) {
    out.push_back({std::move(content), category, s, std::move(previous), line.number, line.date});
  };
  // R1: I moved from A to B.
  if (const std::size_t p = after_word(low, "i moved from "); p != std::string::npos) {
    const std::size_t to = low.find(" to ", p);
    if (to != std::string::npos) {
      const std::string a = trim(sentence.substr(p, to - p));
      const std::string b = phrase_at(sentence, to + 4);
      if (!a.empty() && !b.empty()) add(s + " lives in " + b + ".", "fact", s + " lives in " + a + ".");
    }
  }
  // R2: I live in X / I now live in X.
  for (std::string_view pattern : {"i live in ", "i now live in "}) {
    if (const std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (const std::string x = phrase_at(sentence, p); !x.empty()) add(s + " lives in " + x + ".", "fact");
      break;
    }
  }
  // R3: I'm a X / I am a X / I am an X.
  for (auto [pattern, article] : std::array<std::pair<std::string_view, std::string_view>, 4>{
           {{"i'm a ", "a"}, {"i am a ", "a"}, {"i'm an ", "an"}, {"i am an ", "an"}}}) {
    if (const std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (const std::string x = phrase_at(sentence, p); !x.empty())
        add(s + " is " + std::string(article) + " " + x + ".", "identity");
      break;
    }
  }
  // R4: I love/like/enjoy X.
  for (std::string_view pattern : {"i love ", "i like ", "i enjoy "}) {
    if (const std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (const std::string x = phrase_at(sentence, p); !x.empty()) add(s + " likes " + x + ".", "preference");
      break;
    }
  }
  // R5: I hate/dislike X, I don't like X.
  for (std::string_view pattern : {"i hate ", "i dislike ", "i don't like "}) {
    if (const std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (const std::string x = phrase_at(sentence, p); !x.empty())
        add(s + " dislikes " + x + ".", "preference");
      break;
    }
  }
  // R6: I work as/at/for X.
  for (std::string_view how : {"as", "at", "for"}) {
    const std::string pattern = "i work " + std::string(how) + " ";
    if (const std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (const std::string x = phrase_at(sentence, p); !x.empty())
        add(s + " works " + std::string(how) + " " + x + ".", "fact");
      break;
    }
  }
  // R7: my <relative> (is) X.
  for (std::string_view rel : {"friend", "sister", "brother", "mother", "father", "wife",
                               "husband", "partner", "son", "daughter"}) {
    const std::string pattern = "my " + std::string(rel) + " ";
    if (std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (low.compare(p, 3, "is ") == 0) p += 3;
      if (const std::string x = phrase_at(sentence, p); !x.empty())
        add(s + "'s " + std::string(rel) + " is " + x + ".", "relationship");
      break;
    }
  }
  // R8: I want/plan/hope to X.
  for (std::string_view pattern : {"i want to ", "i plan to ", "i hope to "}) {
    if (const std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (const std::string x = phrase_at(sentence, p); !x.empty()) add(s + " wants to " + x + ".", "goal");
      break;
    }
  }
  // R9: I believe/think (that) X.
  for (std::string_view pattern : {"i believe that ", "i think that ", "i believe ", "i think "}) {
    if (const std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (const std::string x = phrase_at(sentence, p); !x.empty())
        add(s + " believes that " + x + ".", "belief");
      break;
    }
  }
  // R10: I usually/always/often X.
  for (std::string_view how : {"usually", "always", "often"}) {
    const std::string pattern = "i " + std::string(how) + " ";
    if (const std::size_t p = after_word(low, pattern); p != std::string::npos) {
      if (const std::string x = phrase_at(sentence, p); !x.empty())
        add(s + " " + std::string(how) + " " + x + ".", "habit");
      break;
    }
  }
}

std::vector<Found> find_statements(const std::string& prompt) {
  std::vector<Found> out;
  for (const MessageLine& line : message_lines(prompt)) {
    for (const std::string& sentence : sentences(line.text)) {
      apply_rules(sentence, line.speaker, out, line);
    }
  }
  return out;
}

nlohmann::json item_of(const Found& f) {
  return {{"content", f.content},   {"category", f.category}, {"subject", f.subject},
          {"confidence", 0.8},      {"evidence", {f.evidence}}, {"valid_from", f.date}};
}

std::string extract_answer(const std::string& prompt) {
  nlohmann::json items = nlohmann::json::array();
  for (const Found& f : find_statements(prompt)) items.push_back(item_of(f));
  return nlohmann::json{{"statements", items}}.dump();
}

std::string calibrate_answer(const std::string& prompt) {
  const std::vector<ShownStatement> shown = shown_statements(prompt);
  const auto shown_id = [&](const std::string& content) -> std::string {
    for (const ShownStatement& s : shown) {
      if (lower(s.content) == lower(content)) return s.id;
    }
    return {};
  };
  nlohmann::json items = nlohmann::json::array();
  for (const Found& f : find_statements(prompt)) {
    if (!shown_id(f.content).empty()) continue;  // known already
    nlohmann::json item = item_of(f);
    const std::string old = f.supersedes_content.empty() ? "" : shown_id(f.supersedes_content);
    item["supersedes"] = old.empty() ? nlohmann::json(nullptr) : nlohmann::json(old);
    items.push_back(std::move(item));
  }
  return nlohmann::json{{"statements", items}}.dump();
}

std::string predict_answer(const std::string& prompt) {
  std::string text = line_value(prompt, "Title: ") + ".";
  for (const ShownStatement& s : shown_statements(prompt)) text += " " + s.content;
  return text;
}

// A statement as subject, predicate and object, by the predicates of the rules.
struct Triple {
  std::string subject, predicate, object;
};

Triple parse_triple(const std::string& content) {
  std::string text = trim(content);
  if (!text.empty() && text.back() == '.') text.pop_back();
  const std::string low = lower(text);
  std::size_t best = std::string::npos, best_length = 0;
  std::string predicate;
  const auto consider = [&](const std::string& p, std::size_t at) {
    if (at != std::string::npos && (best == std::string::npos || at < best)) {
      best = at;
      best_length = p.size();
      predicate = trim(p);
    }
  };
  for (const char* p : {" lives in ", " is a ", " is an ", " likes ", " dislikes ", " works as ",
                        " works at ", " works for ", " wants to ", " believes that ",
                        " usually ", " always ", " often "}) {
    consider(p, low.find(p));
  }
  for (const char* rel : {"friend", "sister", "brother", "mother", "father", "wife", "husband",
                          "partner", "son", "daughter"}) {
    const std::string p = "'s " + std::string(rel) + " is ";
    consider(p, low.find(p));
  }
  if (best == std::string::npos) return {low, "", ""};
  return {trim(low.substr(0, best)), predicate, trim(low.substr(best + best_length))};
}

bool single_valued(const std::string& predicate) {
  for (const char* p : {"lives in", "works as", "works at", "works for", "'s wife is",
                        "'s husband is", "'s partner is"}) {
    if (predicate == p) return true;
  }
  return false;
}

std::string reconcile_answer(const std::string& prompt) {
  static const std::regex pair(
      R"re(^(P\d+): new "(.*)" \(from [^)]*\) / known "(.*)" \(since [^)]*\)$)re");
  nlohmann::json decisions = nlohmann::json::array();
  std::size_t start = 0;
  while (start <= prompt.size()) {
    std::size_t end = prompt.find('\n', start);
    if (end == std::string::npos) end = prompt.size();
    const std::string text = prompt.substr(start, end - start);
    std::smatch m;
    if (std::regex_match(text, m, pair)) {
      const Triple a = parse_triple(m[2].str()), b = parse_triple(m[3].str());
      std::string relation = "distinct";
      if (!a.predicate.empty() && a.subject == b.subject && a.predicate == b.predicate) {
        if (a.object == b.object) {
          relation = "duplicate";
        } else if (single_valued(a.predicate)) {
          relation = "contradiction";
        }
      }
      decisions.push_back({{"pair", m[1].str()}, {"relation", relation}});
    }
    start = end + 1;
  }
  return nlohmann::json{{"decisions", decisions}}.dump();
}

}  // namespace

std::optional<std::string> semantic_task_answer(std::string_view task, const std::string& prompt) {
  if (task == "semantic-extract") return extract_answer(prompt);
  if (task == "semantic-calibrate") return calibrate_answer(prompt);
  if (task == "semantic-predict") return predict_answer(prompt);
  if (task == "semantic-reconcile") return reconcile_answer(prompt);
  return std::nullopt;
}

}  // namespace nemori::testing
