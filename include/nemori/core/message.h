// A chat message, the first kind of raw event nemori ingests.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "nemori/core/enums.h"
#include "nemori/core/raw_event.h"
#include "nemori/core/time.h"

namespace nemori {

/// One chat message. JSON keys: speaker_id (alias user_id), user_name, role, content,
/// timestamp, metadata, external_id (alias dia_id).
struct Message {
  /// Stable id of the speaker ("caroline"); required.
  std::string speaker_id;
  /// Display name ("Caroline"), when different from the id.
  std::optional<std::string> user_name;
  /// Who wrote it.
  MessageRole role = MessageRole::kUser;
  /// The text.
  std::string content;
  /// When it was sent; nullopt means "when ingested".
  std::optional<Timestamp> timestamp;
  /// Free-form JSON object (image captions, session numbers...).
  nlohmann::json metadata = nlohmann::json::object();
  /// An id from the source system, e.g. LoCoMo's dialog id "D1:3".
  std::optional<std::string> external_id;

  /// The label to show for the speaker: user_name when set, else speaker_id.
  const std::string& speaker_label() const { return user_name ? *user_name : speaker_id; }

  bool operator==(const Message&) const = default;
};

/// Wraps a message as a conversation raw event of `owner_id` (new id, timestamp from the
/// message or now, content = message JSON).
RawEvent to_raw_event(const Message& message, const std::string& owner_id,
                      const std::string& source = "");

/// Reads the message back from a conversation raw event. Throws ValidationError when the event
/// is not a conversation event or its content is not a message object.
Message message_from_raw_event(const RawEvent& event);

}  // namespace nemori
