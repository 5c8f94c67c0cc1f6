// Episode generators turn one segment of messages into an episode.
#pragma once

#include <span>
#include <string>

#include "nemori/core/episode.h"
#include "nemori/core/message.h"
#include "nemori/core/raw_event.h"
#include "nemori/episodes/segmenter.h"

namespace nemori {

/// Writes an episode for one segment. Implementations are thread-safe.
class EpisodeGenerator {
 public:
  virtual ~EpisodeGenerator() = default;
  /// Builds the episode of `owner_id` narrating `messages`; `events[i]` is the raw event that
  /// holds `messages[i]` (same length). The result has source ids, times and metadata filled.
  virtual Episode generate(const std::string& owner_id, std::span<const RawEvent> events,
                           std::span<const Message> messages) const = 0;
  /// A short name for logs and evaluation reports.
  virtual std::string name() const = 0;
};

/// The LLM-free generator: a dated third-person frame around the speakers' own words
/// ("On Sunday, March 9, 2025, Maya talked with Nemo.\nMaya: ..."), a headline from the most
/// informative sentence ("Maya got the offer from Kestrel Robotics"), entities from
/// capitalised names, topics from frequent terms and time references from dates in the text.
class ExtractiveEpisodeGenerator : public EpisodeGenerator {
 public:
  /// `tokenize` gives the terms used for titles and topics.
  explicit ExtractiveEpisodeGenerator(TokenizeFn tokenize);
  Episode generate(const std::string& owner_id, std::span<const RawEvent> events,
                   std::span<const Message> messages) const override;
  std::string name() const override { return "extractive"; }

 private:
  TokenizeFn tokenize_;
};

/// "Sunday, March 9, 2025" for a UTC timestamp.
std::string format_long_date(Timestamp t);

}  // namespace nemori
