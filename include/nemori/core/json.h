// JSON encoding and strict decoding of every domain type.
//
// Encoders produce the original system's field names. Decoders are strict: a wrong type, a
// missing required field, an unknown enum value, a bad timestamp or invalid UTF-8 throws
// ValidationError whose message starts with the JSON path of the field, e.g.
// "episode.metadata.entities[2]: expected a string, got number".
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nemori/core/episode.h"
#include "nemori/core/message.h"
#include "nemori/core/raw_event.h"
#include "nemori/core/temporal_info.h"

namespace nemori {

nlohmann::json to_json(const TemporalInfo& info);
nlohmann::json to_json(const RawEvent& event);
nlohmann::json to_json(const Message& message);
nlohmann::json to_json(const EpisodeMetadata& metadata);
nlohmann::json to_json(const Episode& episode);

/// Decodes TemporalInfo; `path` prefixes error messages. "timestamp" is required.
TemporalInfo temporal_info_from_json(const nlohmann::json& j,
                                     std::string_view path = "temporal_info");
/// Decodes a raw event. "content" is required; data_id defaults to a new id, data_type to
/// "custom", the timestamp to now; owner_id falls back to metadata._owner_id (the original's
/// place).
RawEvent raw_event_from_json(const nlohmann::json& j, std::string_view path = "raw_event");
/// Decodes a message. "speaker_id" (or "user_id") is required; unknown keys go into metadata.
Message message_from_json(const nlohmann::json& j, std::string_view path = "message");
/// Decodes episode metadata; every key optional.
EpisodeMetadata episode_metadata_from_json(const nlohmann::json& j,
                                           std::string_view path = "metadata");
/// Decodes an episode. "owner_id" and one of "title"/"content" are required; the result is
/// finalize()d and validate()d.
Episode episode_from_json(const nlohmann::json& j, std::string_view path = "episode");

/// Parses JSON text; throws ValidationError("<what>: invalid JSON at byte N: reason") on
/// syntax errors and invalid UTF-8.
nlohmann::json parse_json(std::string_view text, std::string_view what = "input");

}  // namespace nemori

namespace nemori {

/// Checks every string and key inside `value` with validate_text (valid UTF-8, no NUL).
/// Throws ValidationError naming `field` and the path inside it.
void validate_json_text(const nlohmann::json& value, std::string_view field);

}  // namespace nemori
