// An episode: a dated third-person narrative of something the agent lived through.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/enums.h"
#include "nemori/core/temporal_info.h"

namespace nemori {

/// What an episode was built from and what it mentions. JSON keys match the original's 15 keys.
struct EpisodeMetadata {
  /// Raw events the episode was built from.
  std::vector<std::string> source_data_ids;
  /// Their data types (no duplicates).
  std::vector<DataType> source_types;
  /// When the episode was built.
  Timestamp processing_timestamp{};
  /// Version of the builder.
  std::string processing_version = "1.0";
  std::vector<std::string> entities;         ///< People, places, things named.
  std::vector<std::string> topics;           ///< What it is about.
  std::vector<std::string> emotions;         ///< Feelings expressed.
  std::vector<std::string> key_points;       ///< Facts worth remembering.
  std::vector<std::string> time_references;  ///< Dates and times mentioned.
  /// Span of the source events in seconds.
  std::optional<double> duration_seconds;
  double confidence_score = 1.0;    ///< Builder's confidence, 0..1.
  double completeness_score = 1.0;  ///< How complete the narrative is, 0..1.
  double relevance_score = 1.0;     ///< Builder's relevance estimate, 0..1.
  /// Ids of related episodes.
  std::vector<std::string> related_episode_ids;
  /// Anything else, as a JSON object. The storage `metadata` filter matches keys here.
  nlohmann::json custom_fields = nlohmann::json::object();

  bool operator==(const EpisodeMetadata&) const = default;
};

/// One episode. Plain value; see validate() and finalize() for the rules it must satisfy.
struct Episode {
  std::string episode_id;  ///< Unique id (UUIDv7 when generated).
  std::string owner_id;    ///< The tenant; required.
  EpisodeType episode_type = EpisodeType::kMixed;
  EpisodeLevel level = EpisodeLevel::kAtomic;
  std::string title;    ///< Short headline.
  std::string content;  ///< The narrative.
  std::string summary;  ///< One or two sentences.
  TemporalInfo temporal_info;
  EpisodeMetadata metadata;
  /// Type-specific payload (JSON object).
  nlohmann::json structured_data = nlohmann::json::object();
  /// Extra words the episode should be found by.
  std::vector<std::string> search_keywords;
  /// Embedding of embedding_text(episode), when computed; its length is the dimension.
  std::optional<std::vector<float>> embedding_vector;
  /// The model that computed embedding_vector ("" when unknown, e.g. an original's dump).
  /// A search refuses vectors of another model or dimension than its embedder's.
  std::string embedding_model;
  std::int64_t recall_count = 0;           ///< How often it was recalled.
  double importance_score = 0.0;           ///< 0..1.
  std::optional<Timestamp> last_accessed;  ///< Last recall.

  bool operator==(const Episode&) const = default;
};

/// Fills derived fields as the original did: an empty summary becomes the first 100 characters
/// of content (+ "..."), an empty title the first line of the summary cut to 50 characters
/// (+ "..."); importance is clamped to 0..1. Cuts never split a UTF-8 character.
void finalize(Episode& episode);

/// Checks an episode before it is stored: ids, owner required, title or content required,
/// every string valid UTF-8 without NUL, scores finite, importance within 0..1, recall >= 0,
/// embedding values finite. Throws ValidationError naming the field.
void validate(const Episode& episode);

/// Clamps to 0..1 (NaN becomes 0).
double clamp_importance(double value);

/// Number of whitespace-separated words in title + content (used for retrieval budgets).
std::size_t word_count(const Episode& episode);

}  // namespace nemori
