// What the retrieval indexes store: generic documents made from episodes or raw events.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "nemori/core/time.h"

namespace nemori {

/// A searchable document: an id, a time, a type tag and text fields. Episodes and raw events
/// (chat messages) both become Documents, so either is searchable the moment it is indexed.
struct Document {
  std::string id;         ///< episode_id or data_id; unique inside one index.
  Timestamp timestamp{};  ///< When it happened (time-range filters use it).
  std::string type;       ///< Type tag for filters, e.g. "conversational" or "conversation".
  std::string title;      ///< Short headline.
  std::string content;    ///< Main text.
  std::string summary;    ///< One or two sentences.
  std::vector<std::string> keywords;  ///< Extra words it should be found by (and topics).
  std::vector<std::string> entities;  ///< People, places, things named.
  std::uint32_t word_count = 0;       ///< Words of title + content, for word budgets.
};

/// A document found by an index, with its score (higher is better).
struct ScoredDocument {
  std::string id;
  double score = 0;
  bool operator==(const ScoredDocument&) const = default;
};

/// The document of an episode: title, content, summary (+ key points), keywords = search
/// keywords + topics, entities; type = to_string(episode_type); word_count = word_count(episode).
Document document_from_episode(const Episode& episode);

/// The document of a raw event: for a chat message, title = the speaker's name and content =
/// the message text; otherwise content = the text of the event (a string content as is, an
/// object's "content"/"text" string, else compact JSON). type = to_string(data_type).
Document document_from_raw_event(const RawEvent& event);

/// The text an embedding model sees for an episode: title, a blank line, then content.
std::string embedding_text(const Episode& episode);

}  // namespace nemori
