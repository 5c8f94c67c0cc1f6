#include "nemori/core/input_formats.h"

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
  std::size_t line = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) line += text[i] == '\n';
  return line;
}

}  // namespace

InputFile read_records(std::string_view text, std::optional<RecordKind> kind) {
  InputFile file;
  std::size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    file.format = "empty";
    return file;
  }
  if (text[first] == '[') {
    file.format = "json-array";
    // Parse the array with a callback so each element's starting line is known.
    std::vector<std::size_t> element_lines;
    int depth = 0;
    bool in_string = false, escaped = false;
    for (std::size_t i = first; i < text.size(); ++i) {
      const char c = text[i];
      if (in_string) {
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          in_string = false;
        continue;
      }
      if (c == '"') in_string = true;
      if (c == '[' || c == '{') {
        if (depth == 1) element_lines.push_back(line_of(text, i));
        ++depth;
      } else if (c == ']' || c == '}') {
        --depth;
      }
    }
    json array;
    try {
      array = json::parse(text);
    } catch (const json::parse_error& e) {
      file.errors.push_back(
          {line_of(text, e.byte == 0 ? 0 : e.byte - 1), "invalid JSON: " + std::string(e.what())});
      return file;
    }
    for (std::size_t i = 0; i < array.size(); ++i) {
      const std::size_t line = i < element_lines.size() ? element_lines[i] : line_of(text, first);
      decode_record(array[i], line, kind, file);
    }
    return file;
  }
  // JSONL, or one object spanning several lines.
  std::size_t line_no = 0, pos = 0;
  std::vector<std::pair<std::size_t, std::string_view>> lines;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    ++line_no;
    std::string_view line = text.substr(pos, end - pos);
    if (line.find_first_not_of(" \t\r") != std::string_view::npos) lines.push_back({line_no, line});
    pos = end + 1;
  }
  bool jsonl = true;
  for (const auto& [no, line] : lines) {
    if (!json::accept(line)) {
      jsonl = false;
      break;
    }
  }
  if (!jsonl) {
    try {
      json whole = json::parse(text);
      file.format = "json-object";
      decode_record(whole, line_of(text, first), kind, file);
      return file;
    } catch (const json::parse_error&) {
      // Not one object either: report line by line as JSONL.
    }
  }
  file.format = "jsonl";
  for (const auto& [no, line] : lines) {
    json j;
    try {
      j = json::parse(line);
    } catch (const json::parse_error& e) {
      file.errors.push_back(
          {no, "invalid JSON at column " + std::to_string(e.byte) + ": " +
                   std::string(e.what()).substr(std::string(e.what()).find("parse error"))});
      continue;
    }
    decode_record(j, no, kind, file);
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
