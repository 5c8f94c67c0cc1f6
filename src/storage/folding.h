// The case-folded forms of stored records that every backend compares queries against.
//
// All case-insensitive matching in storage goes through fold_case (core/utf8.h), computed in
// C++ so that memory, DuckDB and PostgreSQL agree byte for byte. SQL backends store these
// values in extra columns (e.g. `search_text`, `keywords_folded`) and compare the folded query
// needle against them with a plain byte-wise substring test or element equality, never with
// the database's own lower()/ILIKE.
#pragma once

#include <string>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"

namespace nemori::detail {

/// fold_case of every element, in the same order (duplicates kept).
std::vector<std::string> folded_list(const std::vector<std::string>& items);

/// What EpisodeQuery::text_search searches: fold_case(title + "\n" + content + "\n" + summary).
std::string episode_search_text(const Episode& episode);

/// What RawDataQuery::content_contains searches: fold_case(searchable_text(event)).
std::string raw_search_text(const RawEvent& event);

/// The folded forms of one episode, computed once when it is stored or updated.
struct EpisodeFolds {
  std::string search_text;            ///< episode_search_text(episode)
  std::vector<std::string> keywords;  ///< folded_list(search_keywords)
  std::vector<std::string> entities;  ///< folded_list(metadata.entities)
  std::vector<std::string> topics;    ///< folded_list(metadata.topics)
};

/// Computes every folded form of `episode`.
EpisodeFolds fold_episode(const Episode& episode);

}  // namespace nemori::detail
