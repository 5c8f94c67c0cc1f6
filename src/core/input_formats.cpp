#include "nemori/core/input_formats.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "nemori/core/error.h"
#include "nemori/core/json.h"

namespace nemori {

using nlohmann::json;

std::string_view to_string(RecordKind kind) {
  switch (kind) {
    case RecordKind::kMessage:
      return "message";
    case RecordKind::kRawEvent:
      return "raw_event";
    case RecordKind::kEpisode:
      return "episode";
  }
  return "message";
}

RecordKind parse_record_kind(std::string_view text) {
  if (text == "message") return RecordKind::kMessage;
  if (text == "raw_event") return RecordKind::kRawEvent;
  if (text == "episode") return RecordKind::kEpisode;
  throw ValidationError(
      "kind", "unknown value \"" + std::string(text) + "\" (valid: message, raw_event, episode)");
}

namespace {

std::optional<RecordKind> detect_kind(const json& j) {
  if (!j.is_object()) return std::nullopt;
  if (j.contains("episode_id") || j.contains("title")) return RecordKind::kEpisode;
  if (j.contains("data_id") || j.contains("data_type")) return RecordKind::kRawEvent;
  if (j.contains("speaker_id") || j.contains("user_id") || j.contains("speaker")) {
    return RecordKind::kMessage;
  }
  return std::nullopt;
}

// Decodes one record; errors go into `file.errors`.
void decode_record(const json& j, std::size_t line, std::optional<RecordKind> forced,
                   InputFile& file) {
  try {
    const auto kind = forced ? forced : detect_kind(j);
    if (!kind) {
      throw ValidationError(j.is_object() ? "record: cannot tell its kind (expected keys such as "
                                            "speaker_id, data_type or episode_id)"
                                          : "record: expected a JSON object");
    }
    InputRecord record{.line = line, .kind = *kind, .value = Message{}};
    switch (*kind) {
      case RecordKind::kMessage:
        if (j.is_object() && !j.contains("speaker_id") && !j.contains("user_id") &&
            j.contains("speaker")) {
          json copy = j;  // LoCoMo-style turn: {"speaker", "text", "dia_id"}
          copy["speaker_id"] = copy["speaker"];
          if (!copy.contains("content") && copy.contains("text")) copy["content"] = copy["text"];
          copy.erase("speaker");
          copy.erase("text");
          record.value = message_from_json(copy);
        } else {
          record.value = message_from_json(j);
        }
        break;
      case RecordKind::kRawEvent: {
        RawEvent event = raw_event_from_json(j);
        record.value = std::move(event);
        break;
      }
      case RecordKind::kEpisode:
        record.value = episode_from_json(j);
        break;
    }
    file.records.push_back(std::move(record));
  } catch (const Error& e) {
    file.errors.push_back({line, e.what()});
  }
}

// 1-based line number of byte `offset` in `text`.
std::size_t line_of(std::string_view text, std::size_t offset) {
  const std::string_view before = text.substr(0, std::min(offset, text.size()));
  return 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
}

// The 1-based line where each element of the top-level array of `text` starts (the text has
// been parsed already, so it is valid JSON).
std::vector<std::size_t> element_lines(std::string_view text) {
  std::vector<std::size_t> lines;
  std::size_t depth = 0, line = 1;
  bool in_string = false, escaped = false, expect_element = false;
  for (const char c : text) {
    if (c == '\n') ++line;
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    if (depth == 1 && expect_element && c != ']') {
      lines.push_back(line);
      expect_element = false;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      ++depth;
      if (depth == 1) expect_element = true;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 1) {
      expect_element = true;
    }
  }
  return lines;
}

// "invalid JSON at column C: reason" for a JSONL line (its line number is reported apart).
std::string jsonl_error(const JsonParseError& e) {
  return "invalid JSON at column " + std::to_string(e.offset() + 1) + ": " + e.reason();
}

// "invalid JSON at line L, column C: reason" for a document of several lines.
std::string document_error(std::string_view text, const JsonParseError& e) {
  const std::size_t line_start = text.rfind('\n', e.offset() == 0 ? 0 : e.offset() - 1);
  const std::size_t column = line_start == std::string_view::npos || e.offset() == 0
                                 ? e.offset() + 1
                                 : e.offset() - line_start;
  return "invalid JSON at line " + std::to_string(e.line()) + ", column " + std::to_string(column) +
         ": " + e.reason();
}

}  // namespace

InputFile read_records(std::string_view text, std::optional<RecordKind> kind) {
  InputFile file;
  const std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    file.format = "empty";
    return file;
  }
  if (text[first] == '[') {
    file.format = "json-array";
    json array;
    try {
      array = parse_json(text);
    } catch (const JsonParseError& e) {
      file.errors.push_back({e.line(), document_error(text, e)});
      return file;
    } catch (const ValidationError& e) {  // e.g. a number too large for a double
      file.errors.push_back({line_of(text, first), e.what()});
      return file;
    }
    const std::vector<std::size_t> lines = element_lines(text);
    for (std::size_t i = 0; i < array.size(); ++i) {
      const std::size_t line = i < lines.size() ? lines[i] : line_of(text, first);
      decode_record(array[i], line, kind, file);
    }
    return file;
  }
  // JSONL, or one object spanning several lines. Each non-blank line is parsed once; when one
  // fails, the whole text may still be one JSON object.
  struct Line {
    std::size_t no;
    std::string_view text;
  };
  std::vector<Line> lines;
  for (std::size_t pos = 0, line_no = 1; pos <= text.size(); ++line_no) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, end - pos);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back({line_no, line});
    pos = end + 1;
  }
  std::vector<json> values(lines.size());
  std::vector<std::optional<InputError>> line_errors(lines.size());
  bool all_parsed = true;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    try {
      values[i] = parse_json(lines[i].text);
    } catch (const JsonParseError& e) {
      line_errors[i] = InputError{lines[i].no, jsonl_error(e)};
      all_parsed = false;
    } catch (const ValidationError& e) {
      line_errors[i] = InputError{lines[i].no, e.what()};
      all_parsed = false;
    }
  }
  if (!all_parsed && lines.size() > 1) {
    try {
      const json whole = parse_json(text);
      file.format = "json-object";
      decode_record(whole, line_of(text, first), kind, file);
      return file;
    } catch (const JsonParseError& e) {
      // One document over several lines (its first line alone is not JSON) with a NUL byte
      // or nesting too deep: report that, where it is, rather than each line's syntax error.
      if (line_errors[0] && e.line() > lines[0].no &&
          e.problem() != JsonParseError::Problem::kSyntax) {
        file.format = "jsonl";
        file.errors.push_back({e.line(), document_error(text, e)});
        return file;
      }
      // Not one object either: report line by line as JSONL.
    } catch (const ValidationError&) {
      // The same.
    }
  }
  file.format = "jsonl";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (line_errors[i]) {
      file.errors.push_back(std::move(*line_errors[i]));
    } else {
      decode_record(values[i], lines[i].no, kind, file);
    }
  }
  return file;
}

std::string read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw ValidationError(path.string() + ": cannot read: " +
                          (std::filesystem::exists(path) ? "permission denied" : "no such file"));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

InputFile read_records_file(const std::filesystem::path& path, std::optional<RecordKind> kind) {
  return read_records(read_text_file(path), kind);
}

}  // namespace nemori
