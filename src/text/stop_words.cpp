#include "nemori/text/stop_words.h"

#include "nemori/text/normalize.h"

namespace nemori {

StopWords::StopWords(std::span<const std::string> words) {
  words_.reserve(words.size());
  for (const auto& w : words) {
    std::string folded = normalize_for_search(w, true);
    if (!folded.empty()) words_.insert(std::move(folded));
  }
}

StopWords::StopWords(std::initializer_list<std::string_view> words) {
  words_.reserve(words.size());
  for (std::string_view w : words) {
    std::string folded = normalize_for_search(w, true);
    if (!folded.empty()) words_.insert(std::move(folded));
  }
}

bool StopWords::contains(std::string_view folded_token) const {
  return words_.find(folded_token) != words_.end();
}

std::vector<std::string> StopWords::words() const {
  return {words_.begin(), words_.end()};
}

std::shared_ptr<const StopWords> StopWords::english() {
  static const auto kEnglish =
      std::make_shared<const StopWords>(std::initializer_list<std::string_view>{
          "a",         "about",     "above",   "after",    "again",     "against",  "all",
          "am",        "an",        "and",     "any",      "are",       "aren't",   "as",
          "at",        "be",        "because", "been",     "before",    "being",    "below",
          "between",   "both",      "but",     "by",       "can",       "can't",    "cannot",
          "could",     "couldn't",  "d",       "did",      "didn't",    "do",       "does",
          "doesn't",   "doing",     "don't",   "down",     "during",    "each",     "few",
          "for",       "from",      "further", "had",      "hadn't",    "has",      "hasn't",
          "have",      "haven't",   "having",  "he",       "her",       "here",     "hers",
          "herself",   "him",       "himself", "his",      "how",       "i",        "if",
          "in",        "into",      "is",      "isn't",    "it",        "its",      "itself",
          "just",      "ll",        "m",       "me",       "mightn't",  "more",     "most",
          "mustn't",   "my",        "myself",  "needn't",  "no",        "nor",      "not",
          "now",       "o",         "of",      "off",      "on",        "once",     "only",
          "or",        "other",     "our",     "ours",     "ourselves", "out",      "over",
          "own",       "re",        "s",       "same",     "shan't",    "she",      "should",
          "should've", "shouldn't", "so",      "some",     "such",      "t",        "than",
          "that",      "that'll",   "the",     "their",    "theirs",    "them",     "themselves",
          "then",      "there",     "these",   "they",     "this",      "those",    "through",
          "to",        "too",       "under",   "until",    "up",        "ve",       "very",
          "was",       "wasn't",    "we",      "were",     "weren't",   "what",     "when",
          "where",     "which",     "while",   "who",      "whom",      "why",      "will",
          "with",      "won't",     "would",   "wouldn't", "y",         "you",      "you'd",
          "you'll",    "you're",    "you've",  "your",     "yours",     "yourself", "yourselves"});
  return kEnglish;
}

std::shared_ptr<const StopWords> StopWords::none() {
  static const auto kNone =
      std::make_shared<const StopWords>(std::initializer_list<std::string_view>{});
  return kNone;
}

}  // namespace nemori
