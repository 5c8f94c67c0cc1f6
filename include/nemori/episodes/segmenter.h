// Segmenters cut a stream of messages into episodes a person would remember.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nemori/core/message.h"

namespace nemori {

/// A run of consecutive messages, [begin, end) into the segmented span.
struct Segment {
  std::size_t begin = 0;
  std::size_t end = 0;
  /// Why the segment ended: "time_gap", "topic_shift", "max_messages" or "end_of_input".
  std::string boundary;
  bool operator==(const Segment&) const = default;
};

/// Splits messages (in time order) into segments. Implementations are thread-safe.
class Segmenter {
 public:
  virtual ~Segmenter() = default;
  /// Segments covering every message exactly once, in order. Empty input gives no segments.
  virtual std::vector<Segment> segment(std::span<const Message> messages) const = 0;
  /// Segments of a stream that may go on (more messages may follow). Every segment but the
  /// last is final: messages appended later cannot change it. The last one, marked
  /// "end_of_input", is open: later messages may extend it or cut it elsewhere, so a caller
  /// keeps its messages and segments them again with the ones that follow. Segmenting in this
  /// way piece by piece, then the rest with segment(), gives what segment() gives for the
  /// whole stream at once. The default treats the last segment of segment() as the open one.
  virtual std::vector<Segment> segment_stream(std::span<const Message> messages) const {
    return segment(messages);
  }
  /// A short name for logs and evaluation reports.
  virtual std::string name() const = 0;
};

/// Turns text into comparable terms (the retrieval tokenizer in practice).
using TokenizeFn = std::function<std::vector<std::string>(std::string_view)>;

/// Settings of the LLM-free segmenter.
struct HeuristicSegmenterOptions {
  /// A silence longer than this always starts a new episode.
  std::chrono::seconds max_gap{std::chrono::minutes(30)};
  /// Never cut before this many messages (unless a time gap forces it).
  std::size_t min_messages = 2;
  /// Always cut after this many messages. Small episodes rank better under a word budget
  /// (docs/retrieval.md: 2-4 messages beat 3-10 by 0.03 evidence recall at 1000 words).
  std::size_t max_messages = 4;
  /// Messages on each side of a candidate cut compared for a topic shift.
  std::size_t window = 3;
  /// Cut when the term overlap (Jaccard) of the two windows falls below this.
  double topic_shift_threshold = 0.05;
  /// Never cut right after a message that ends with a question mark (the reply belongs with
  /// it), except on a time gap; an episode may then hold max_messages + 1 messages.
  bool keep_question_with_reply = true;
};

/// Cuts on time gaps, on topic shifts (low term overlap between the windows before and after a
/// point) and at a maximum size. Deterministic; needs no LLM.
class HeuristicSegmenter : public Segmenter {
 public:
  /// `tokenize` gives the terms compared for topic shifts.
  HeuristicSegmenter(TokenizeFn tokenize, HeuristicSegmenterOptions options = {});
  std::vector<Segment> segment(std::span<const Message> messages) const override;
  /// Leaves open everything from the first cut it could not decide yet: a topic shift is
  /// judged on the `window` (and at least `min_messages`) messages after the cut, so near the
  /// end of the input the decision waits for them.
  std::vector<Segment> segment_stream(std::span<const Message> messages) const override;
  std::string name() const override { return "heuristic"; }

 private:
  std::vector<Segment> cut(std::span<const Message> messages, bool open_end) const;
  TokenizeFn tokenize_;
  HeuristicSegmenterOptions options_;
};

}  // namespace nemori
