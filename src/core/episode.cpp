#include "nemori/core/episode.h"

#include <cmath>

#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/json.h"
#include "nemori/core/utf8.h"
#include "nemori/core/words.h"

namespace nemori {

namespace {

// The first `max_chars` code points of `text` (never splits a UTF-8 sequence).
std::string_view utf8_prefix(std::string_view text, std::size_t max_chars, bool& cut) {
  std::size_t chars = 0, i = 0;
  while (i < text.size() && chars < max_chars) {
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
    ++chars;
  }
  cut = i < text.size();
  return text.substr(0, i);
}

void validate_list(const std::vector<std::string>& items, const std::string& field) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    validate_text(items[i], field + "[" + std::to_string(i) + "]");
  }
}

void validate_score(double value, std::string_view field) {
  if (!std::isfinite(value)) throw ValidationError(field, "must be a finite number");
}

}  // namespace

double clamp_importance(double value) {
  if (std::isnan(value)) return 0.0;
  return value < 0.0 ? 0.0 : (value > 1.0 ? 1.0 : value);
}

void finalize(Episode& e) {
  bool cut = false;
  if (e.summary.empty() && !e.content.empty()) {
    e.summary = std::string(utf8_prefix(e.content, 100, cut));
    if (cut) e.summary += "...";
  }
  if (e.title.empty() && !e.summary.empty()) {
    const std::string_view first_line = std::string_view(e.summary).substr(0, e.summary.find('\n'));
    e.title = std::string(utf8_prefix(first_line, 50, cut));
    if (cut) e.title += "...";
  }
  e.importance_score = clamp_importance(e.importance_score);
}

void validate(const Episode& e) {
  validate_id(e.episode_id, "episode_id");
  if (e.owner_id.empty()) throw ValidationError("owner_id", "is required");
  validate_id(e.owner_id, "owner_id");
  if (e.title.empty() && e.content.empty()) {
    throw ValidationError("title", "either title or content must be provided");
  }
  validate_text(e.title, "title");
  validate_text(e.content, "content");
  validate_text(e.summary, "summary");
  validate_text(e.temporal_info.precision, "temporal_info.precision");
  if (e.temporal_info.timezone) validate_text(*e.temporal_info.timezone, "temporal_info.timezone");
  if (e.temporal_info.duration) validate_score(*e.temporal_info.duration, "temporal_info.duration");
  validate_timestamp(e.temporal_info.timestamp, "temporal_info.timestamp");
  validate_timestamp(e.metadata.processing_timestamp, "metadata.processing_timestamp");
  if (e.last_accessed) validate_timestamp(*e.last_accessed, "last_accessed");
  validate_list(e.search_keywords, "search_keywords");
  const auto& m = e.metadata;
  validate_list(m.source_data_ids, "metadata.source_data_ids");
  validate_list(m.entities, "metadata.entities");
  validate_list(m.topics, "metadata.topics");
  validate_list(m.emotions, "metadata.emotions");
  validate_list(m.key_points, "metadata.key_points");
  validate_list(m.time_references, "metadata.time_references");
  validate_list(m.related_episode_ids, "metadata.related_episode_ids");
  validate_text(m.processing_version, "metadata.processing_version");
  validate_score(m.confidence_score, "metadata.confidence_score");
  validate_score(m.completeness_score, "metadata.completeness_score");
  validate_score(m.relevance_score, "metadata.relevance_score");
  if (m.duration_seconds) validate_score(*m.duration_seconds, "metadata.duration_seconds");
  if (!m.custom_fields.is_object())
    throw ValidationError("metadata.custom_fields", "must be an object");
  if (!e.structured_data.is_object()) throw ValidationError("structured_data", "must be an object");
  validate_json_text(m.custom_fields, "metadata.custom_fields");
  validate_json_text(e.structured_data, "structured_data");
  if (!(e.importance_score >= 0.0 && e.importance_score <= 1.0)) {
    throw ValidationError("importance_score", "must be within 0..1");
  }
  if (e.recall_count < 0) throw ValidationError("recall_count", "must not be negative");
  if (e.embedding_vector) {
    for (float v : *e.embedding_vector) {
      if (!std::isfinite(v)) throw ValidationError("embedding_vector", "values must be finite");
    }
  }
  validate_text(e.embedding_model, "embedding_model");
  if (!e.embedding_model.empty() && !e.embedding_vector)
    throw ValidationError("embedding_model", "is set but embedding_vector is missing");
}

std::size_t word_count(const Episode& e) {
  return count_words(e.title) + count_words(e.content);
}

}  // namespace nemori
