#include "storage/postgres/pg_rows.h"

#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/core/utf8.h"
#include "storage/folding.h"

namespace nemori::pg {

using nlohmann::json;

const char* const kRawInsertColumns =
    "data_id, owner_id, data_type, content, source, \"timestamp\", duration, timezone, "
    "precision, metadata, processed, processing_version, search_text";

const char* const kEpisodeInsertColumns =
    "episode_id, owner_id, episode_type, level, title, content, summary, \"timestamp\", "
    "duration, timezone, precision, metadata, structured_data, search_keywords, "
    "embedding_vector, recall_count, importance_score, last_accessed, search_text, "
    "keywords_folded, entities_folded, topics_folded, embedding_model";

namespace {

// Microseconds since the Unix epoch of a timestamptz column, computed exactly by the server.
std::string micros(const std::string& column) {
  return "(extract(epoch FROM " + column + ") * 1000000)::int8";
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false);
}

template <typename T>
std::optional<std::string> opt(const std::optional<T>& value) {
  if (!value) return std::nullopt;
  if constexpr (std::is_same_v<T, double>) {
    return format_double(*value);
  } else {
    return std::string(*value);
  }
}

std::vector<std::string> string_list(const json& j, const char* key) {
  std::vector<std::string> out;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  out.reserve(it->size());
  for (const json& item : *it) out.push_back(item.get<std::string>());
  return out;
}

double number_or(const json& j, const char* key, double fallback) {
  const auto it = j.find(key);
  return (it == j.end() || !it->is_number()) ? fallback : it->get<double>();
}

// Reads back what to_json(EpisodeMetadata) wrote, keeping every value as it was stored.
EpisodeMetadata decode_metadata(const json& j) {
  EpisodeMetadata m;
  m.source_data_ids = string_list(j, "source_data_ids");
  for (const std::string& type : string_list(j, "source_types")) {
    m.source_types.push_back(parse_data_type(type));
  }
  if (const auto it = j.find("processing_timestamp"); it != j.end() && it->is_string()) {
    if (auto t = parse_iso8601(it->get<std::string>())) m.processing_timestamp = *t;
  }
  if (const auto it = j.find("processing_version"); it != j.end() && it->is_string()) {
    m.processing_version = it->get<std::string>();
  }
  m.entities = string_list(j, "entities");
  m.topics = string_list(j, "topics");
  m.emotions = string_list(j, "emotions");
  m.key_points = string_list(j, "key_points");
  m.time_references = string_list(j, "time_references");
  if (const auto it = j.find("duration_seconds"); it != j.end() && it->is_number()) {
    m.duration_seconds = it->get<double>();
  }
  m.confidence_score = number_or(j, "confidence_score", 1.0);
  m.completeness_score = number_or(j, "completeness_score", 1.0);
  m.relevance_score = number_or(j, "relevance_score", 1.0);
  m.related_episode_ids = string_list(j, "related_episode_ids");
  if (const auto it = j.find("custom_fields"); it != j.end() && it->is_object()) {
    m.custom_fields = *it;
  }
  return m;
}

// A nemori exception for a row that cannot be read back (schema edited by hand?).
[[noreturn]] void corrupt(const std::string& what, const std::exception& e) {
  throw StorageError("PostgreSQL holds a " + what + " nemori cannot read: " + e.what());
}

}  // namespace

std::string raw_select_list(const std::string& a) {
  return a + ".data_id, " + a + ".owner_id, " + a + ".data_type, " + a + ".content, " + a +
         ".source, " + micros(a + ".\"timestamp\"") + ", " + a + ".duration, " + a + ".timezone, " +
         a + ".precision, " + a + ".metadata, " + a + ".processed, " + a + ".processing_version";
}

std::string episode_select_list(const std::string& a) {
  return a + ".episode_id, " + a + ".owner_id, " + a + ".episode_type, " + a + ".level, " + a +
         ".title, " + a + ".content, " + a + ".summary, " + micros(a + ".\"timestamp\"") + ", " +
         a + ".duration, " + a + ".timezone, " + a + ".precision, " + a + ".metadata, " + a +
         ".structured_data, to_json(" + a + ".search_keywords), " + a + ".embedding_vector, " + a +
         ".recall_count, " + a + ".importance_score, " + micros(a + ".last_accessed") + ", " + a +
         ".embedding_model";
}

RowValues raw_row(const RawEvent& e) {
  const TemporalInfo& t = e.temporal_info;
  return RowValues{e.data_id,
                   e.owner_id,
                   std::string(to_string(e.data_type)),
                   dump(e.content),
                   e.source,
                   format_timestamptz(t.timestamp),
                   opt(t.duration),
                   opt(t.timezone),
                   t.precision,
                   dump(e.metadata),
                   std::string(e.processed ? "t" : "f"),
                   e.processing_version,
                   detail::raw_search_text(e)};
}

RowValues episode_row(const Episode& e) {
  const TemporalInfo& t = e.temporal_info;
  const detail::EpisodeFolds folds = detail::fold_episode(e);
  std::optional<std::string> embedding;
  if (e.embedding_vector) embedding = float_array_literal(*e.embedding_vector);
  std::optional<std::string> last_accessed;
  if (e.last_accessed) last_accessed = format_timestamptz(*e.last_accessed);
  return RowValues{e.episode_id,
                   e.owner_id,
                   std::string(to_string(e.episode_type)),
                   std::to_string(static_cast<int>(e.level)),
                   e.title,
                   e.content,
                   e.summary,
                   format_timestamptz(t.timestamp),
                   opt(t.duration),
                   opt(t.timezone),
                   t.precision,
                   dump(to_json(e.metadata)),
                   dump(e.structured_data),
                   array_literal(e.search_keywords),
                   embedding,
                   std::to_string(e.recall_count),
                   format_double(e.importance_score),
                   last_accessed,
                   folds.search_text,
                   array_literal(folds.keywords),
                   array_literal(folds.entities),
                   array_literal(folds.topics),
                   e.embedding_model.empty() ? std::nullopt
                                             : std::optional<std::string>(e.embedding_model)};
}

void append_copy_row(std::string& out, const RowValues& values) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i]) {
      copy_field(out, *values[i], i == 0);
    } else {
      copy_null(out, i == 0);
    }
  }
  out += '\n';
}

void append_params(Params& params, const RowValues& values) {
  for (const auto& v : values) {
    if (v) {
      params.add(*v);
    } else {
      params.add_null();
    }
  }
}

std::string placeholders(int first, int count) {
  std::string out;
  for (int i = 0; i < count; ++i) {
    if (i > 0) out += ", ";
    out += '$';
    out += std::to_string(first + i);  // not "$" + ...: GCC 12 -Wrestrict false positive at -O3
  }
  return out;
}

std::string assignments(const char* columns, int first) {
  std::string out;
  std::string_view rest(columns);
  int n = first;
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view column = rest.substr(0, comma);
    while (!column.empty() && column.front() == ' ') column.remove_prefix(1);
    if (!out.empty()) out += ", ";
    out += std::string(column) + " = $" + std::to_string(n++);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

RawEvent decode_raw(const Result& r, int row, int c) {
  RawEvent e;
  try {
    e.data_id = r.str(row, c + 0);
    e.owner_id = r.str(row, c + 1);
    e.data_type = parse_data_type(r.text(row, c + 2));
    e.content = r.json(row, c + 3);
    e.source = r.str(row, c + 4);
    e.temporal_info.timestamp = from_micros(r.int64(row, c + 5));
    if (!r.is_null(row, c + 6)) e.temporal_info.duration = r.float8(row, c + 6);
    if (!r.is_null(row, c + 7)) e.temporal_info.timezone = r.str(row, c + 7);
    e.temporal_info.precision = r.str(row, c + 8);
    e.metadata = r.json(row, c + 9);
    e.processed = r.boolean(row, c + 10);
    e.processing_version = r.str(row, c + 11);
  } catch (const StorageError&) {
    throw;
  } catch (const std::exception& ex) {
    corrupt("raw event \"" + e.data_id + "\"", ex);
  }
  return e;
}

Episode decode_episode(const Result& r, int row, int c) {
  Episode e;
  try {
    e.episode_id = r.str(row, c + 0);
    e.owner_id = r.str(row, c + 1);
    e.episode_type = parse_episode_type(r.text(row, c + 2));
    e.level = episode_level_from_int(r.int64(row, c + 3));
    e.title = r.str(row, c + 4);
    e.content = r.str(row, c + 5);
    e.summary = r.str(row, c + 6);
    e.temporal_info.timestamp = from_micros(r.int64(row, c + 7));
    if (!r.is_null(row, c + 8)) e.temporal_info.duration = r.float8(row, c + 8);
    if (!r.is_null(row, c + 9)) e.temporal_info.timezone = r.str(row, c + 9);
    e.temporal_info.precision = r.str(row, c + 10);
    e.metadata = decode_metadata(r.json(row, c + 11));
    e.structured_data = r.json(row, c + 12);
    e.search_keywords = r.json(row, c + 13).get<std::vector<std::string>>();
    if (!r.is_null(row, c + 14)) e.embedding_vector = parse_float_array(r.text(row, c + 14));
    e.recall_count = r.int64(row, c + 15);
    e.importance_score = r.float8(row, c + 16);
    if (!r.is_null(row, c + 17)) e.last_accessed = from_micros(r.int64(row, c + 17));
    if (!r.is_null(row, c + 18)) e.embedding_model = r.str(row, c + 18);
  } catch (const StorageError&) {
    throw;
  } catch (const std::exception& ex) {
    corrupt("episode \"" + e.episode_id + "\"", ex);
  }
  return e;
}

std::string epoch_micros(const std::string& column) { return micros(column); }

bool storable_text(const std::string& id) {
  return id.find('\0') == std::string::npos && is_valid_utf8(id);
}

}  // namespace nemori::pg
