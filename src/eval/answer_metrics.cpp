#include "nemori/eval/answer_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace nemori {

namespace {

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// The white-space separated chunks of the lower-cased text, after `map` of each character.
template <typename Map>
std::vector<std::string> lower_chunks(std::string_view text, Map map) {
  std::vector<std::string> out;
  std::string chunk;
  for (char raw : text) {
    const char c = map(ascii_lower(raw));
    if (is_space(c)) {
      if (!chunk.empty()) out.push_back(std::move(chunk));
      chunk.clear();
    } else {
      chunk += c;
    }
  }
  if (!chunk.empty()) out.push_back(std::move(chunk));
  return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::vector<std::string> f1_tokens(std::string_view text) {
  return lower_chunks(text, [](char c) {
    return c == '.' || c == ',' || c == '!' || c == '?' ? ' ' : c;
  });
}

double token_f1(std::string_view prediction, std::string_view gold) {
  const auto p_tokens = f1_tokens(prediction);
  const auto g_tokens = f1_tokens(gold);
  const std::set<std::string> p(p_tokens.begin(), p_tokens.end());
  const std::set<std::string> g(g_tokens.begin(), g_tokens.end());
  if (p.empty() || g.empty()) return 0;
  std::size_t common = 0;
  for (const auto& token : p) common += g.count(token);
  const double precision = static_cast<double>(common) / static_cast<double>(p.size());
  const double recall = static_cast<double>(common) / static_cast<double>(g.size());
  if (precision + recall == 0) return 0;
  return 2 * precision * recall / (precision + recall);
}

std::vector<std::string> bleu_tokens(std::string_view text) {
  static constexpr std::string_view kPunctuation = ".,;:!?\"'()[]{}";
  const auto punctuation = [](char c) { return kPunctuation.find(c) != std::string_view::npos; };
  std::vector<std::string> out;
  for (const std::string& chunk : lower_chunks(text, [](char c) { return c; })) {
    std::size_t begin = 0, end = chunk.size();
    while (begin < end && punctuation(chunk[begin])) out.emplace_back(1, chunk[begin++]);
    std::size_t trailing = end;
    while (trailing > begin && punctuation(chunk[trailing - 1])) --trailing;
    std::string_view middle = std::string_view(chunk).substr(begin, trailing - begin);
    if (!middle.empty()) {
      std::string_view suffix;
      for (std::string_view s : {"n't", "'s", "'re", "'ve", "'ll", "'d", "'m"}) {
        if (ends_with(middle, s)) {
          suffix = s;
          break;
        }
      }
      out.emplace_back(middle.substr(0, middle.size() - suffix.size()));
      if (!suffix.empty()) out.emplace_back(suffix);
    }
    for (std::size_t i = trailing; i < end; ++i) out.emplace_back(1, chunk[i]);
  }
  return out;
}

double bleu1(std::string_view hypothesis, std::string_view reference) {
  const auto h = bleu_tokens(hypothesis);
  const auto g = bleu_tokens(reference);
  if (h.empty()) return 0;
  std::map<std::string, std::size_t> reference_counts;
  for (const auto& token : g) ++reference_counts[token];
  std::map<std::string, std::size_t> hypothesis_counts;
  for (const auto& token : h) ++hypothesis_counts[token];
  std::size_t matches = 0;
  for (const auto& [token, count] : hypothesis_counts) {
    if (auto it = reference_counts.find(token); it != reference_counts.end())
      matches += std::min(count, it->second);
  }
  if (matches == 0) return 0;
  const double c = static_cast<double>(h.size());
  const double r = static_cast<double>(g.size());
  const double brevity = c > r ? 1.0 : std::exp(1.0 - r / c);
  return brevity * static_cast<double>(matches) / c;
}

}  // namespace nemori
