// How raw events and episodes map to rows of the DuckDB tables, both ways.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "storage/duckdb/appender.h"
#include "storage/duckdb/result.h"
#include "storage/folding.h"

namespace nemori::detail::duck {

/// Parses JSON text this backend wrote (integers that fit come back signed, as they were
/// built). Throws StorageError naming `what` of record `id` when it is not valid JSON (the
/// file was altered or damaged).
nlohmann::json parse_stored_json(std::string_view text, std::string_view what, std::string_view id);

/// `columns`, comma-separated, each prefixed with `alias` + "." when an alias is given.
std::string column_list(std::span<const std::string_view> columns, std::string_view alias = "");

/// The columns read back for a raw event, in the order decode_raw_event expects, each
/// prefixed with `alias` + "." when an alias is given.
std::string raw_event_columns(std::string_view alias = "");
/// The columns read back for an episode, in the order decode_episode expects.
std::string episode_columns(std::string_view alias = "");

/// A raw event turned into column values, computed before the write lock is taken.
struct EncodedRawEvent {
  const RawEvent* event;    ///< The source record (must outlive this value).
  std::string content;      ///< content as JSON text
  std::string metadata;     ///< metadata as JSON text
  std::string search_text;  ///< raw_search_text(event)
};
/// Encodes `event`, which must have passed validation.
EncodedRawEvent encode(const RawEvent& event);
/// An appender on raw_data for append_row(EncodedRawEvent).
Appender raw_event_appender(Connection& connection);
/// Appends the row of `encoded` to a raw_event_appender().
void append_row(Appender& appender, const EncodedRawEvent& encoded, Timestamp created_at);
/// Reads the raw event at `row` of a chunk whose columns are raw_event_columns(). Throws
/// StorageError when a stored value cannot be decoded.
RawEvent decode_raw_event(const Chunk& chunk, idx_t row);

/// An episode turned into column values, computed before the write lock is taken.
struct EncodedEpisode {
  const Episode* episode;  ///< The source record (must outlive this value).
  std::string metadata;    ///< metadata as JSON text (all 15 keys)
  std::string structured;  ///< structured_data as JSON text
  EpisodeFolds folds;      ///< folded search text and lists
};
/// Encodes `episode`, which must have passed validation.
EncodedEpisode encode(const Episode& episode);
/// An appender on episodes for append_row(EncodedEpisode).
Appender episode_appender(Connection& connection);
/// Appends the row of `encoded` to an episode_appender().
void append_row(Appender& appender, const EncodedEpisode& encoded, Timestamp created_at);
/// Reads the episode at `row` of a chunk whose columns are episode_columns(). Throws
/// StorageError when a stored value cannot be decoded.
Episode decode_episode(const Chunk& chunk, idx_t row);

}  // namespace nemori::detail::duck
