// The deterministic model's answers to `eval locomo --answer` (docs/design/semantic-memory.md
// §5): "Task: answer." picks the memory line sharing the most terms with the question; the
// judge says CORRECT when the generated answer holds at least half of the gold's tokens.
#include <set>
#include <sstream>
#include <vector>

#include <nlohmann/json.hpp>

#include "deterministic_tasks.h"
#include "nemori/eval/answer_metrics.h"
#include "nemori/text/tokenizer.h"

namespace nemori::testing {

namespace {

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end + 1 - begin));
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The text after the last `label` of the prompt, up to `end` (or the prompt's end), trimmed.
std::string field_after_last(const std::string& prompt, std::string_view label,
                             std::string_view end) {
  const auto at = prompt.rfind(label);
  if (at == std::string::npos) return "";
  const std::size_t from = at + label.size();
  const auto stop = prompt.find(end, from);
  return trim(std::string_view(prompt).substr(
      from, stop == std::string::npos ? std::string::npos : stop - from));
}

// A memory line without its bullet and "[...]" prefix, cut to its first `n` words.
std::string answer_from_line(std::string line, std::size_t n) {
  for (std::string_view bullet : {"- ", "\u2022 "}) {
    if (starts_with(line, bullet)) line.erase(0, bullet.size());
  }
  if (starts_with(line, "[")) {
    const auto close = line.find(']');
    if (close != std::string::npos) line.erase(0, close + 1);
  }
  std::istringstream words(line);
  std::string word, out;
  for (std::size_t i = 0; i < n && words >> word; ++i) out += (i ? " " : "") + word;
  return out;
}

// "Task: answer.": the memory line (semantic lines first, then episodic, each in prompt order)
// sharing the most distinct question terms (BM25 tokenizer: stemmed, stop words out), first on
// ties; its first 8 words after the "- [...]" prefix, or "No information".
std::string answer(const std::string& prompt) {
  static const Tokenizer tokenizer;
  const std::string question = field_after_last(prompt, "\nQuestion:", "\n");
  const auto question_tokens = tokenizer.tokenize(question);
  const std::set<std::string> terms(question_tokens.begin(), question_tokens.end());
  std::vector<std::string> semantic, episodic;
  std::vector<std::string>* section = nullptr;
  std::istringstream lines(prompt);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string text = trim(line);
    if (starts_with(text, "Semantic memories")) {
      section = &semantic;
    } else if (starts_with(text, "Episodic memories")) {
      section = &episodic;
    } else if (section != nullptr &&
               (starts_with(text, "- [") || starts_with(text, "\u2022 ["))) {
      section->push_back(text);
    }
  }
  std::size_t best = 0;
  std::string chosen;
  for (const auto* block : {&semantic, &episodic}) {
    for (const std::string& memory : *block) {
      const auto tokens = tokenizer.tokenize(memory);
      const std::set<std::string> have(tokens.begin(), tokens.end());
      std::size_t shared = 0;
      for (const auto& term : terms) shared += have.count(term);
      if (shared > best) {
        best = shared;
        chosen = memory;
      }
    }
  }
  return best == 0 ? "No information" : answer_from_line(chosen, 8);
}

// The judge: {"label": "CORRECT"} when at least half of the gold answer's distinct F1 tokens
// occur among the generated answer's, else WRONG. The last "Gold answer:" and "Generated
// answer:" of the prompt are the real ones (the prompt's example comes first).
std::string judge(const std::string& prompt) {
  const std::string gold = field_after_last(prompt, "Gold answer:", "\nGenerated answer:");
  const std::string generated = field_after_last(prompt, "Generated answer:", "\n\n");
  const auto gold_tokens = f1_tokens(gold);
  const auto generated_tokens = f1_tokens(generated);
  const std::set<std::string> g(gold_tokens.begin(), gold_tokens.end());
  const std::set<std::string> p(generated_tokens.begin(), generated_tokens.end());
  std::size_t found = 0;
  for (const auto& token : g) found += p.count(token);
  const bool correct = !g.empty() && 2 * found >= g.size();
  return nlohmann::json{{"label", correct ? "CORRECT" : "WRONG"}}.dump();
}

}  // namespace

std::optional<std::string> eval_task_answer(std::string_view task, const std::string& prompt) {
  if (task == "answer") return answer(prompt);
  if (task == "judge") return judge(prompt);
  return std::nullopt;
}

}  // namespace nemori::testing
