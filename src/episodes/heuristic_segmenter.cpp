#include <algorithm>
#include <unordered_set>

#include "nemori/episodes/segmenter.h"

namespace nemori {

namespace {

using TermSet = std::unordered_set<std::string>;

double jaccard(const TermSet& a, const TermSet& b) {
  if (a.empty() || b.empty()) return 1.0;  // nothing to compare: no evidence of a shift
  std::size_t common = 0;
  for (const auto& t : a) common += b.count(t);
  return static_cast<double>(common) / static_cast<double>(a.size() + b.size() - common);
}

// True when the text's last visible character is a question mark (ASCII or full-width).
bool ends_with_question(const std::string& text) {
  std::size_t end = text.find_last_not_of(" \t\r\n");
  if (end == std::string::npos) return false;
  if (text[end] == '?') return true;
  return end >= 2 && text.compare(end - 2, 3, "\xEF\xBC\x9F") == 0;  // U+FF1F
}

}  // namespace

HeuristicSegmenter::HeuristicSegmenter(TokenizeFn tokenize, HeuristicSegmenterOptions options)
    : tokenize_(std::move(tokenize)), options_(options) {}

std::vector<Segment> HeuristicSegmenter::segment(std::span<const Message> messages) const {
  return cut(messages, false);
}

std::vector<Segment> HeuristicSegmenter::segment_stream(std::span<const Message> messages) const {
  return cut(messages, true);
}

std::vector<Segment> HeuristicSegmenter::cut(std::span<const Message> messages,
                                             bool open_end) const {
  std::vector<Segment> out;
  if (messages.empty()) return out;
  std::vector<TermSet> terms(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    for (auto& t : tokenize_(messages[i].content)) terms[i].insert(std::move(t));
  }
  const auto window_terms = [&](std::size_t from, std::size_t to) {
    TermSet set;
    for (std::size_t k = from; k < to; ++k) set.insert(terms[k].begin(), terms[k].end());
    return set;
  };
  const std::size_t w = std::max<std::size_t>(1, options_.window);
  // Messages a topic-shift decision at i reads after i: with fewer, a stream waits for more.
  const std::size_t lookahead = std::max(w, options_.min_messages);
  std::size_t start = 0;
  for (std::size_t i = 1; i < messages.size(); ++i) {
    std::string boundary;
    const auto& prev = messages[i - 1].timestamp;
    const auto& cur = messages[i].timestamp;
    const bool after_question = options_.keep_question_with_reply &&
                                ends_with_question(messages[i - 1].content) &&
                                i - start <= options_.max_messages;
    if (prev && cur && *cur - *prev > options_.max_gap) {
      boundary = "time_gap";
    } else if (after_question) {
      // keep the reply with its question
    } else if (i - start >= options_.max_messages) {
      boundary = "max_messages";
    } else if (open_end && i - start >= options_.min_messages && messages.size() - i < lookahead) {
      break;  // undecided: the segment from `start` stays open
    } else if (i - start >= options_.min_messages && messages.size() - i >= options_.min_messages) {
      const TermSet before = window_terms(i >= w ? std::max(start, i - w) : start, i);
      const TermSet after = window_terms(i, std::min(messages.size(), i + w));
      if (jaccard(before, after) < options_.topic_shift_threshold) boundary = "topic_shift";
    }
    if (!boundary.empty()) {
      out.push_back({start, i, boundary});
      start = i;
    }
  }
  out.push_back({start, messages.size(), "end_of_input"});
  return out;
}

}  // namespace nemori
