#include "nemori/core/json.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "core/json_reader.h"
#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/utf8.h"

namespace nemori {

using detail::JsonReader;
using nlohmann::json;

namespace {

json optional_time_json(const std::optional<Timestamp>& t) {
  return t ? json(format_iso8601(*t)) : json(nullptr);
}

template <typename T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

// One container being walked by validate_json_text / json_depth: the child under `it`
// (index `index`) is the one being looked at.
struct WalkFrame {
  const json* node;
  json::const_iterator it;
  std::size_t index = 0;
};

// The path of the child each frame is looking at, below `field`.
std::string walk_path(std::string_view field, const std::vector<WalkFrame>& stack,
                      std::size_t frames) {
  std::string path(field);
  for (std::size_t i = 0; i < frames; ++i) {
    const WalkFrame& f = stack[i];
    if (f.node->is_object()) {
      path += '.';
      path += f.it.key();
    } else {
      path += '[' + std::to_string(f.index) + ']';
    }
  }
  return path;
}

}  // namespace

void validate_json_text(const json& value, std::string_view field, std::size_t max_depth) {
  if (value.is_string()) {
    validate_text(value.get_ref<const std::string&>(), field);
    return;
  }
  if (!value.is_structured()) return;
  const auto too_deep = [&](const std::string& path) {
    throw ValidationError(path, "nests more than " + std::to_string(max_depth) +
                                    " levels of arrays and objects (the limit for a stored JSON "
                                    "value; see docs/formats.md)");
  };
  if (max_depth == 0) too_deep(std::string(field));
  // An explicit stack instead of recursion; the path is built only for an error.
  std::vector<WalkFrame> stack;
  stack.push_back({&value, value.cbegin()});
  while (!stack.empty()) {
    WalkFrame& f = stack.back();
    if (f.it == f.node->cend()) {
      stack.pop_back();
      if (!stack.empty()) {
        ++stack.back().it;
        ++stack.back().index;
      }
      continue;
    }
    if (f.node->is_object()) {
      const std::string& key = f.it.key();
      if (!is_valid_text(key))
        validate_text(key, walk_path(field, stack, stack.size() - 1) + " (a key)");
    }
    const json& child = *f.it;
    if (child.is_string()) {
      const std::string& text = child.get_ref<const std::string&>();
      if (!is_valid_text(text)) validate_text(text, walk_path(field, stack, stack.size()));
    } else if (child.is_structured()) {
      if (stack.size() + 1 > max_depth) too_deep(walk_path(field, stack, stack.size()));
      stack.push_back({&child, child.cbegin()});  // `f` is not used after this
      continue;
    }
    ++f.it;
    ++f.index;
  }
}

std::size_t json_depth(const json& value) {
  if (!value.is_structured()) return 0;
  std::vector<WalkFrame> stack;
  stack.push_back({&value, value.cbegin()});
  std::size_t deepest = 1;
  while (!stack.empty()) {
    WalkFrame& f = stack.back();
    if (f.it == f.node->cend()) {
      stack.pop_back();
      if (!stack.empty()) ++stack.back().it;
      continue;
    }
    const json& child = *f.it;
    if (child.is_structured()) {
      stack.push_back({&child, child.cbegin()});
      deepest = std::max(deepest, stack.size());
      continue;
    }
    ++f.it;
  }
  return deepest;
}

json to_json(const TemporalInfo& t) {
  return json{{"timestamp", format_iso8601(t.timestamp)},
              {"duration", optional_json(t.duration)},
              {"timezone", optional_json(t.timezone)},
              {"precision", t.precision}};
}

json to_json(const RawEvent& e) {
  return json{{"data_id", e.data_id},
              {"owner_id", e.owner_id},
              {"data_type", to_string(e.data_type)},
              {"content", e.content},
              {"source", e.source},
              {"temporal_info", to_json(e.temporal_info)},
              {"metadata", e.metadata},
              {"processed", e.processed},
              {"processing_version", e.processing_version}};
}

json to_json(const Message& m) {
  json j{{"speaker_id", m.speaker_id},
         {"user_name", optional_json(m.user_name)},
         {"role", to_string(m.role)},
         {"content", m.content},
         {"timestamp", optional_time_json(m.timestamp)},
         {"metadata", m.metadata}};
  if (m.external_id) j["external_id"] = *m.external_id;
  return j;
}

json to_json(const EpisodeMetadata& m) {
  json types = json::array();
  for (DataType t : m.source_types) types.push_back(to_string(t));
  return json{{"source_data_ids", m.source_data_ids},
              {"source_types", types},
              {"processing_timestamp", format_iso8601(m.processing_timestamp)},
              {"processing_version", m.processing_version},
              {"entities", m.entities},
              {"topics", m.topics},
              {"emotions", m.emotions},
              {"key_points", m.key_points},
              {"time_references", m.time_references},
              {"duration_seconds", optional_json(m.duration_seconds)},
              {"confidence_score", m.confidence_score},
              {"completeness_score", m.completeness_score},
              {"relevance_score", m.relevance_score},
              {"related_episode_ids", m.related_episode_ids},
              {"custom_fields", m.custom_fields}};
}

json to_json(const Episode& e) {
  json j{{"episode_id", e.episode_id},
         {"owner_id", e.owner_id},
         {"episode_type", to_string(e.episode_type)},
         {"level", static_cast<int>(e.level)},
         {"title", e.title},
         {"content", e.content},
         {"summary", e.summary},
         {"temporal_info", to_json(e.temporal_info)},
         {"metadata", to_json(e.metadata)},
         {"structured_data", e.structured_data},
         {"search_keywords", e.search_keywords},
         {"embedding_vector", optional_json(e.embedding_vector)},
         {"recall_count", e.recall_count},
         {"importance_score", e.importance_score},
         {"last_accessed", optional_time_json(e.last_accessed)}};
  // Not a key of the original: written only beside a vector, so its episodes keep their shape.
  if (!e.embedding_model.empty()) j["embedding_model"] = e.embedding_model;
  return j;
}

TemporalInfo temporal_info_from_json(const json& j, std::string_view path) {
  JsonReader r(j, path);
  TemporalInfo t;
  t.timestamp = r.required_time("timestamp");
  t.duration = r.optional_number("duration");
  t.timezone = r.optional_string("timezone");
  t.precision = r.string_or("precision", "second");
  static constexpr std::string_view kPrecisions[] = {"second", "minute", "hour", "day"};
  if (std::find(std::begin(kPrecisions), std::end(kPrecisions), t.precision) ==
      std::end(kPrecisions)) {
    throw ValidationError(r.path_of("precision"), "unknown value \"" + t.precision +
                                                      "\" (valid: second, minute, hour, day)");
  }
  return t;
}

namespace {

TemporalInfo temporal_or_now(const JsonReader& r, std::string_view key) {
  if (!r.has(key)) {
    TemporalInfo now;
    now.timestamp = now_utc();
    return now;
  }
  return temporal_info_from_json(*r.find(key), r.path_of(key));
}

}  // namespace

RawEvent raw_event_from_json(const json& j, std::string_view path) {
  JsonReader r(j, path);
  RawEvent e;
  e.data_id = r.string_or("data_id", "");
  if (e.data_id.empty()) e.data_id = new_id();
  validate_id(e.data_id, r.path_of("data_id"));
  e.metadata = r.object_or_empty("metadata");
  e.owner_id = r.string_or("owner_id", "");
  if (e.owner_id.empty() && e.metadata.contains("_owner_id") &&
      e.metadata["_owner_id"].is_string()) {
    e.owner_id = e.metadata["_owner_id"].get<std::string>();
  }
  e.data_type =
      r.has("data_type") ? parse_enum_at(r, "data_type", parse_data_type) : DataType::kCustom;
  const json* content = r.find("content");
  if (content == nullptr || content->is_null())
    throw ValidationError(r.path_of("content"), "is required");
  validate_json_text(*content, r.path_of("content"));
  e.content = *content;
  e.source = r.string_or("source", "");
  e.temporal_info = temporal_or_now(r, "temporal_info");
  e.processed = r.bool_or("processed", false);
  e.processing_version = r.string_or("processing_version", "1.0");
  return e;
}

Message message_from_json(const json& j, std::string_view path) {
  JsonReader r(j, path);
  Message m;
  auto speaker = r.optional_string("speaker_id");
  if (!speaker) speaker = r.optional_string("user_id");
  if (!speaker || speaker->empty()) throw ValidationError(r.path_of("speaker_id"), "is required");
  m.speaker_id = *speaker;
  m.user_name = r.optional_string("user_name");
  if (r.has("role")) m.role = parse_enum_at(r, "role", parse_message_role);
  m.content = r.string_or("content", "");
  m.timestamp = r.optional_time("timestamp");
  m.metadata = r.object_or_empty("metadata");
  m.external_id = r.optional_string("external_id");
  if (!m.external_id) m.external_id = r.optional_string("dia_id");
  static constexpr std::string_view kKnown[] = {"speaker_id", "user_id",     "user_name",
                                                "role",       "content",     "timestamp",
                                                "metadata",   "external_id", "dia_id"};
  for (const auto& [key, value] : j.items()) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key) != std::end(kKnown)) continue;
    validate_text(key, std::string(path) + " (a key)");
    validate_json_text(value, r.path_of(key));
    if (!m.metadata.contains(key)) m.metadata[key] = value;
  }
  // A message is stored as the content of a raw event, one level above its metadata.
  if (json_depth(m.metadata) > kMaxJsonDepth - 1) {
    throw ValidationError(r.path_of("metadata"),
                          "nests more than " + std::to_string(kMaxJsonDepth - 1) +
                              " levels of arrays and objects (a message is stored as a raw "
                              "event's content, whose limit is " +
                              std::to_string(kMaxJsonDepth) + "; see docs/formats.md)");
  }
  return m;
}

EpisodeMetadata episode_metadata_from_json(const json& j, std::string_view path) {
  JsonReader r(j, path);
  EpisodeMetadata m;
  m.source_data_ids = r.string_list("source_data_ids");
  for (const auto& t : r.string_list("source_types")) {
    try {
      const DataType type = parse_data_type(t);
      if (std::find(m.source_types.begin(), m.source_types.end(), type) == m.source_types.end()) {
        m.source_types.push_back(type);
      }
    } catch (const ValidationError&) {
      throw ValidationError(r.path_of("source_types"), "unknown data type \"" + t + "\"");
    }
  }
  m.processing_timestamp = r.optional_time("processing_timestamp").value_or(now_utc());
  m.processing_version = r.string_or("processing_version", "1.0");
  m.entities = r.string_list("entities");
  m.topics = r.string_list("topics");
  m.emotions = r.string_list("emotions");
  m.key_points = r.string_list("key_points");
  m.time_references = r.string_list("time_references");
  m.duration_seconds = r.optional_number("duration_seconds");
  m.confidence_score = r.number_or("confidence_score", 1.0);
  m.completeness_score = r.number_or("completeness_score", 1.0);
  m.relevance_score = r.number_or("relevance_score", 1.0);
  m.related_episode_ids = r.string_list("related_episode_ids");
  m.custom_fields = r.object_or_empty("custom_fields");
  return m;
}

Episode episode_from_json(const json& j, std::string_view path) {
  JsonReader r(j, path);
  Episode e;
  e.episode_id = r.string_or("episode_id", "");
  if (e.episode_id.empty()) e.episode_id = new_id();
  e.owner_id = r.string_or("owner_id", "");
  if (e.owner_id.empty()) throw ValidationError(r.path_of("owner_id"), "is required");
  if (r.has("episode_type")) e.episode_type = parse_enum_at(r, "episode_type", parse_episode_type);
  if (auto level = r.optional_integer("level")) {
    try {
      e.level = episode_level_from_int(*level);
    } catch (const ValidationError&) {
      throw ValidationError(r.path_of("level"),
                            "unknown value " + std::to_string(*level) + " (valid: 1, 2, 3, 4)");
    }
  }
  e.title = r.string_or("title", "");
  e.content = r.string_or("content", "");
  e.summary = r.string_or("summary", "");
  e.temporal_info = temporal_or_now(r, "temporal_info");
  if (r.has("metadata"))
    e.metadata = episode_metadata_from_json(*r.find("metadata"), r.path_of("metadata"));
  else
    e.metadata.processing_timestamp = now_utc();
  e.structured_data = r.object_or_empty("structured_data");
  e.search_keywords = r.string_list("search_keywords");
  if (const json* v = r.find("embedding_vector"); v != nullptr && !v->is_null()) {
    if (!v->is_array())
      throw ValidationError(r.path_of("embedding_vector"), "expected an array of numbers");
    std::vector<float> vec;
    vec.reserve(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_number()) {
        throw ValidationError(r.path_of("embedding_vector") + "[" + std::to_string(i) + "]",
                              "expected a number");
      }
      const double d = (*v)[i].get<double>();
      if (!(std::fabs(d) <= static_cast<double>(std::numeric_limits<float>::max()))) {
        throw ValidationError(r.path_of("embedding_vector") + "[" + std::to_string(i) + "]",
                              "out of range for a 32-bit float");
      }
      vec.push_back(static_cast<float>(d));
    }
    e.embedding_vector = std::move(vec);
  }
  e.embedding_model = r.string_or("embedding_model", "");
  e.recall_count = r.optional_integer("recall_count").value_or(0);
  e.importance_score = r.number_or("importance_score", 0.0);
  if (e.importance_score < 0.0 || e.importance_score > 1.0) {
    throw ValidationError(r.path_of("importance_score"), "must be within 0..1");
  }
  e.last_accessed = r.optional_time("last_accessed");
  if (e.title.empty() && e.content.empty()) {
    throw ValidationError(r.path_of("title"), "either title or content must be provided");
  }
  finalize(e);
  try {
    validate(e);
  } catch (const ValidationError& err) {
    throw ValidationError(std::string(path) + "." + err.what());
  }
  return e;
}

namespace {

// 1-based line of byte `offset` of `text`.
std::size_t line_at(std::string_view text, std::size_t offset) {
  const std::string_view before = text.substr(0, std::min(offset, text.size()));
  return 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
}

// Where the nesting of `text` first goes deeper than `limit` (the text was parsed up to there,
// so strings are well formed before that point); text.size() when it never does.
std::size_t offset_of_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false, escaped = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return i;
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return text.size();
}

// nlohmann's DOM builder with a depth limit: start_object / start_array past the limit stop
// the parse (the parser itself keeps its state on a heap stack, so nothing has recursed).
class DepthLimitedBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  DepthLimitedBuilder(json& root, std::size_t limit) : dom_(root, true), limit_(limit) {}

  bool null() { return dom_.null(); }
  bool boolean(bool v) { return dom_.boolean(v); }
  bool number_integer(number_integer_t v) { return dom_.number_integer(v); }
  bool number_unsigned(number_unsigned_t v) { return dom_.number_unsigned(v); }
  bool number_float(number_float_t v, const string_t& s) { return dom_.number_float(v, s); }
  bool string(string_t& v) { return dom_.string(v); }
  bool binary(binary_t& v) { return dom_.binary(v); }
  bool key(string_t& v) { return dom_.key(v); }
  bool start_object(std::size_t n) { return enter() && dom_.start_object(n); }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) { return enter() && dom_.start_array(n); }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& ex) {
    return dom_.parse_error(position, token, ex);  // throws ex
  }
  bool too_deep() const { return too_deep_; }

 private:
  bool enter() {
    if (++depth_ > limit_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::size_t limit_;
  std::size_t depth_ = 0;
  bool too_deep_ = false;
};

std::string position_text(std::size_t offset, std::size_t line) {
  return "at byte " + std::to_string(offset) + " (line " + std::to_string(line) + ")";
}

}  // namespace

JsonParseError::JsonParseError(std::string_view what, Problem problem, std::size_t offset,
                               std::size_t line, std::string reason)
    : ValidationError(std::string(what) + ": invalid JSON " + position_text(offset, line) + ": " +
                      reason),
      problem_(problem),
      offset_(offset),
      line_(line),
      reason_(std::move(reason)) {}

json parse_json(std::string_view text, std::string_view what) {
  // nlohmann's lexer takes a NUL byte for the end of the input and would silently drop what
  // follows it; inside a string it is an error anyway. So any raw NUL is refused up front.
  if (const void* nul = std::memchr(text.data(), '\0', text.size()); nul != nullptr) {
    const auto offset = static_cast<std::size_t>(static_cast<const char*>(nul) - text.data());
    throw JsonParseError(what, JsonParseError::Problem::kNul, offset, line_at(text, offset),
                         "a NUL byte (0x00); JSON text cannot contain one (inside a string it "
                         "is written \\u0000)");
  }
  json result;
  try {
    DepthLimitedBuilder builder(result, kMaxJsonDocumentDepth);
    const bool ok = json::sax_parse(text, &builder, json::input_format_t::json, /*strict=*/true);
    if (!ok && builder.too_deep()) {
      const std::size_t offset = offset_of_depth(text, kMaxJsonDocumentDepth);
      throw JsonParseError(what, JsonParseError::Problem::kTooDeep, offset, line_at(text, offset),
                           "nests more than " + std::to_string(kMaxJsonDocumentDepth) +
                               " levels of arrays and objects (the limit for a document; "
                               "see docs/formats.md)");
    }
    if (!ok) throw JsonParseError(what, JsonParseError::Problem::kSyntax, 0, 1, "not accepted");
  } catch (const json::parse_error& e) {
    std::string reason = e.what();
    if (const auto p = reason.find("parse error"); p != std::string::npos)
      reason = reason.substr(p);
    // nlohmann counts the offending byte from 1; report the 0-based offset into `text`.
    const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    throw JsonParseError(what, JsonParseError::Problem::kSyntax, offset, line_at(text, offset),
                         reason);
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    std::string reason = e.what();
    if (const auto p = reason.find("] "); p != std::string::npos) reason = reason.substr(p + 2);
    throw ValidationError(std::string(what) + ": invalid JSON: " + reason);
  }
  return result;
}

}  // namespace nemori
