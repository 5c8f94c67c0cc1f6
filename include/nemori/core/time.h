// Time values: UTC instants with microsecond precision, and their ISO-8601 text form.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace nemori {

/// A UTC instant with microsecond precision. Every time nemori stores is one of these.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

/// The current UTC time, truncated to microseconds.
Timestamp now_utc();

/// Formats as ISO-8601 with offset, e.g. "2023-05-08T13:56:00.250000+00:00".
/// Fractional seconds are printed only when non-zero.
std::string format_iso8601(Timestamp t);

/// Parses ISO-8601: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.ffffff]]" with optional "Z" or
/// "+HH:MM"/"-HH:MM" offset (a space may replace the "T"). Text without an offset is read as UTC.
/// Returns nullopt on anything else (including out-of-range fields such as month 13) and on an
/// instant outside the storable range (see is_storable): what is accepted is what
/// format_iso8601 writes back and parse_iso8601 reads again.
std::optional<Timestamp> parse_iso8601(std::string_view text);
/// The same; on failure `problem` says why ("is not an ISO-8601 timestamp ..." or "is outside
/// the years 0001-9999 once converted to UTC ..."), for an error message after the field name.
std::optional<Timestamp> parse_iso8601(std::string_view text, std::string& problem);

/// The first and last instants nemori stores: 0001-01-01T00:00:00 and 9999-12-31T23:59:59.999999
/// UTC. format_iso8601 writes four-digit years, so only these round-trip through text (a dump).
Timestamp min_storable_timestamp();
Timestamp max_storable_timestamp();
/// True when `t` lies within min_storable_timestamp()..max_storable_timestamp().
bool is_storable(Timestamp t);
/// Throws ValidationError("<field>: ... is outside the years 0001-9999 ...") unless is_storable.
void validate_timestamp(Timestamp t, std::string_view field);

/// Builds a timestamp from calendar fields (UTC). Throws ValidationError on an invalid date or
/// a year outside 1..9999.
Timestamp make_timestamp(int year, unsigned month, unsigned day, unsigned hour = 0,
                         unsigned minute = 0, unsigned second = 0);

/// Microseconds since the Unix epoch.
inline std::int64_t to_micros(Timestamp t) {
  return t.time_since_epoch().count();
}
/// The inverse of to_micros.
inline Timestamp from_micros(std::int64_t us) {
  return Timestamp(std::chrono::microseconds(us));
}

}  // namespace nemori
