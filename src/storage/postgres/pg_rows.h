// Conversion between nemori records and PostgreSQL rows (column lists, COPY rows, decoding).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "storage/postgres/pg_client.h"

namespace nemori::pg {

/// One row's values in text form (nullopt = NULL), in the order of the column list.
using RowValues = std::vector<std::optional<std::string>>;

/// Columns written for a raw event, in RowValues order.
extern const char* const kRawInsertColumns;
/// Columns written for an episode, in RowValues order.
extern const char* const kEpisodeInsertColumns;
/// Number of columns in kRawInsertColumns.
inline constexpr int kRawInsertCount = 13;
/// Number of columns in kEpisodeInsertColumns.
inline constexpr int kEpisodeInsertCount = 23;

/// The select list that decode_raw() reads, for a table aliased `alias`.
std::string raw_select_list(const std::string& alias);
/// Number of columns in raw_select_list().
inline constexpr int kRawSelectCount = 12;
/// The select list that decode_episode() reads, for a table aliased `alias`.
std::string episode_select_list(const std::string& alias);
/// Number of columns in episode_select_list().
inline constexpr int kEpisodeSelectCount = 19;

/// The values stored for `event` (including its folded search text).
RowValues raw_row(const RawEvent& event);
/// The values stored for `episode` (including its folded forms).
RowValues episode_row(const Episode& episode);

/// Appends `values` as one text-format COPY line.
void append_copy_row(std::string& out, const RowValues& values);
/// Appends `values` as statement parameters.
void append_params(Params& params, const RowValues& values);
/// "$first, $first+1, ..." for `count` parameters.
std::string placeholders(int first, int count);

/// "a = $first, b = $first+1, ..." for a comma-separated column list.
std::string assignments(const char* columns, int first);

/// Reads the raw event at `row` whose select list starts at column `col`.
RawEvent decode_raw(const Result& result, int row, int col = 0);
/// Reads the episode at `row` whose select list starts at column `col`.
Episode decode_episode(const Result& result, int row, int col = 0);

/// SQL for the microseconds since the Unix epoch of a timestamptz column (exact, as int8), which
/// from_micros() reads back.
std::string epoch_micros(const std::string& column);

/// True when `id` could be stored at all (valid UTF-8, no NUL); other ids match nothing.
bool storable_text(const std::string& id);

}  // namespace nemori::pg
