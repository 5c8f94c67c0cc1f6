// Reading records (messages, raw events, episodes) from the files the `nemori` command accepts.
//
// Formats (see docs/formats.md): JSONL (one JSON object a line), a JSON array of objects, or a
// single JSON object. Each record's kind is given or detected from its keys:
// "episode_id" or "title" → episode; "data_id" or "data_type" → raw event;
// "speaker_id", "user_id" or "speaker" → message.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/message.h"
#include "nemori/core/raw_event.h"

namespace nemori {

/// What a record holds.
enum class RecordKind { kMessage, kRawEvent, kEpisode };
/// "message", "raw_event", "episode".
std::string_view to_string(RecordKind kind);
/// Inverse of to_string(RecordKind); throws ValidationError.
RecordKind parse_record_kind(std::string_view text);

/// One decoded record and where it was.
struct InputRecord {
  std::size_t line = 0;  ///< 1-based line where the record starts.
  RecordKind kind = RecordKind::kMessage;
  std::variant<Message, RawEvent, Episode> value;
};

/// One record that could not be decoded.
struct InputError {
  std::size_t line = 0;  ///< 1-based line where the record starts (0 = whole file).
  std::string message;   ///< What was wrong, starting with the field path.
};

/// Everything read from one file: good records and bad ones, in file order.
struct InputFile {
  std::string format;  ///< "jsonl", "json-array" or "json-object".
  std::vector<InputRecord> records;
  std::vector<InputError> errors;
};

/// Decodes text. `kind` forces the record kind; otherwise it is detected per record. A bad
/// record is reported in `errors` and reading goes on; a file that is not JSON at all gives one
/// error at line 0 (or the line of the syntax error).
InputFile read_records(std::string_view text, std::optional<RecordKind> kind = std::nullopt);

/// Reads a file; throws ValidationError("PATH: cannot read: reason") when it cannot be opened.
InputFile read_records_file(const std::filesystem::path& path,
                            std::optional<RecordKind> kind = std::nullopt);

/// Reads a whole file into a string; throws ValidationError naming the path on failure.
std::string read_text_file(const std::filesystem::path& path);

}  // namespace nemori
