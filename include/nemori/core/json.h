// JSON encoding and strict decoding of every domain type.
//
// Encoders produce the original system's field names. Decoders are strict: a wrong type, a
// missing required field, an unknown enum value, a bad timestamp or invalid UTF-8 throws
// ValidationError whose message starts with the JSON path of the field, e.g.
// "episode.metadata.entities[2]: expected a string, got number".
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nemori/core/episode.h"
#include "nemori/core/error.h"
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

/// How deep a JSON value stored in a record (a raw event's content or metadata, an episode's
/// structured_data or metadata.custom_fields, a message's metadata) may nest: `{}` and `[]` are
/// one level, `{"a": [1]}` two. The same on every backend (validate() checks it before a store);
/// docs/formats.md gives the reasons for the figure.
inline constexpr std::size_t kMaxJsonDepth = 64;
/// How deep a whole JSON document (a file, a JSONL line, a dump line) may nest: kMaxJsonDepth
/// plus room for the structure around a stored value (a JSON array file, the record, a dump
/// line's {"data": {"metadata": {"custom_fields": ...}}}). parse_json refuses deeper text while
/// parsing, before anything is built, so no code ever recurses deeper than this on input.
inline constexpr std::size_t kMaxJsonDocumentDepth = kMaxJsonDepth + 8;

/// The error of parse_json: where the text went wrong and why.
class JsonParseError : public ValidationError {
 public:
  /// What kind of problem stopped the parse.
  enum class Problem {
    kSyntax,   ///< not JSON (or invalid UTF-8)
    kNul,      ///< a raw NUL byte
    kTooDeep,  ///< nesting deeper than kMaxJsonDocumentDepth
  };
  JsonParseError(std::string_view what, Problem problem, std::size_t offset, std::size_t line,
                 std::string reason);
  Problem problem() const noexcept { return problem_; }
  /// 0-based byte offset into the text where the problem was found.
  std::size_t offset() const noexcept { return offset_; }
  /// 1-based line of that byte.
  std::size_t line() const noexcept { return line_; }
  /// What is wrong, without the position ("syntax error ...", "a NUL byte ...").
  const std::string& reason() const noexcept { return reason_; }

 private:
  Problem problem_;
  std::size_t offset_;
  std::size_t line_;
  std::string reason_;
};

/// Parses JSON text strictly. Throws JsonParseError("<what>: invalid JSON at byte N (line L):
/// reason") on a syntax error, invalid UTF-8, a raw NUL byte anywhere (JSON has no place for
/// one; a lenient parser would stop reading at it and drop the rest), or nesting deeper than
/// kMaxJsonDocumentDepth (checked while parsing). Nothing recurses with the input's depth.
nlohmann::json parse_json(std::string_view text, std::string_view what = "input");

}  // namespace nemori

namespace nemori {

/// Checks every string and key inside `value` with validate_text (valid UTF-8, no NUL) and
/// that it nests at most `max_depth` levels (see kMaxJsonDepth). Iterative: any depth is safe
/// to check. Throws ValidationError naming `field` and the path inside it.
void validate_json_text(const nlohmann::json& value, std::string_view field,
                        std::size_t max_depth = kMaxJsonDepth);

/// How many levels `value` nests (0 for a scalar, 1 for `{}` or `[1]`). Iterative.
std::size_t json_depth(const nlohmann::json& value);

}  // namespace nemori
