#include "nemori/core/time.h"

#include <cstdio>
#include <string>

#include "nemori/core/error.h"

namespace nemori {

using namespace std::chrono;

Timestamp now_utc() {
  return time_point_cast<microseconds>(system_clock::now());
}

std::string format_iso8601(Timestamp t) {
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{t - day};
  char buf[48];
  const auto micros = static_cast<long>(hms.subseconds().count());
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld", int(ymd.year()),
                        unsigned(ymd.month()), unsigned(ymd.day()), long(hms.hours().count()),
                        long(hms.minutes().count()), long(hms.seconds().count()));
  if (micros != 0) n += std::snprintf(buf + n, sizeof buf - n, ".%06ld", micros);
  std::snprintf(buf + n, sizeof buf - n, "+00:00");
  return buf;
}

namespace {

// Reads exactly `width` digits at `pos`.
bool read_digits(std::string_view s, std::size_t& pos, int width, int& out) {
  if (pos + width > s.size()) return false;
  out = 0;
  for (int i = 0; i < width; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += width;
  return true;
}

}  // namespace

namespace {

constexpr std::string_view kNotIso =
    "is not an ISO-8601 timestamp (expected e.g. 2023-05-08T13:56:00+00:00)";
constexpr std::string_view kOutOfRange =
    "is outside the years 0001-9999 once converted to UTC (only those can be written back as "
    "ISO-8601 text, e.g. in a dump)";

// Parses without the range check; nullopt on a syntax or calendar error.
std::optional<Timestamp> parse_any_year(std::string_view s) {
  std::size_t pos = 0;
  int y, mo, d, h = 0, mi = 0, sec = 0;
  long long micros = 0;
  if (!read_digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_digits(s, pos, 2, mo) || pos >= s.size() || s[pos++] != '-') return std::nullopt;
  if (!read_digits(s, pos, 2, d)) return std::nullopt;
  const year_month_day ymd{year{y}, month{unsigned(mo)}, day{unsigned(d)}};
  if (!ymd.ok()) return std::nullopt;
  long long offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!read_digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':') return std::nullopt;
    if (!read_digits(s, pos, 2, mi)) return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!read_digits(s, pos, 2, sec)) return std::nullopt;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        int digits = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
          if (digits < 6) micros = micros * 10 + (s[pos] - '0');
          ++digits;
          ++pos;
        }
        if (digits == 0) return std::nullopt;
        for (int i = digits; i < 6; ++i) micros *= 10;
      }
    }
    if (h > 23 || mi > 59 || sec > 60) return std::nullopt;
    if (pos < s.size()) {
      if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
      } else if (s[pos] == '+' || s[pos] == '-') {
        const int sign = s[pos] == '-' ? -1 : 1;
        ++pos;
        int oh, om = 0;
        if (!read_digits(s, pos, 2, oh)) return std::nullopt;
        if (pos < s.size() && s[pos] == ':') {
          ++pos;
          if (!read_digits(s, pos, 2, om)) return std::nullopt;  // "+02:" lacks its minutes
        } else if (pos < s.size() && !read_digits(s, pos, 2, om)) {
          return std::nullopt;
        }
        if (oh > 23 || om > 59) return std::nullopt;
        offset_minutes = sign * (oh * 60 + om);
      } else {
        return std::nullopt;
      }
    }
    if (pos != s.size()) return std::nullopt;
  }
  Timestamp t = time_point_cast<microseconds>(sys_days{ymd}) + hours{h} + minutes{mi} +
                seconds{sec} + microseconds{micros} - minutes{offset_minutes};
  return t;
}

std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 64;  // a huge string is named by its start
  std::string out = "\"";
  if (text.size() <= kShown) {
    out += text;
  } else {
    std::size_t cut = kShown;  // not inside a UTF-8 sequence
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out += text.substr(0, cut);
    out += "...";
  }
  out += '"';
  return out;
}

}  // namespace

std::optional<Timestamp> parse_iso8601(std::string_view text, std::string& problem) {
  const std::optional<Timestamp> t = parse_any_year(text);
  if (!t) {
    problem = quoted(text) + " " + std::string(kNotIso);
    return std::nullopt;
  }
  if (!is_storable(*t)) {
    problem = quoted(text) + " " + std::string(kOutOfRange);
    return std::nullopt;
  }
  return t;
}

std::optional<Timestamp> parse_iso8601(std::string_view text) {
  const std::optional<Timestamp> t = parse_any_year(text);
  if (!t || !is_storable(*t)) return std::nullopt;
  return t;
}

Timestamp min_storable_timestamp() {
  return time_point_cast<microseconds>(sys_days{year{1} / January / 1});
}

Timestamp max_storable_timestamp() {
  return time_point_cast<microseconds>(sys_days{year{10000} / January / 1}) - microseconds{1};
}

bool is_storable(Timestamp t) {
  return t >= min_storable_timestamp() && t <= max_storable_timestamp();
}

void validate_timestamp(Timestamp t, std::string_view field) {
  if (is_storable(t)) return;
  // format_iso8601 cannot show such an instant faithfully: name it in microseconds.
  throw ValidationError(
      field, std::to_string(to_micros(t)) + " microseconds since 1970 " + std::string(kOutOfRange));
}

Timestamp make_timestamp(int y, unsigned mo, unsigned d, unsigned h, unsigned mi, unsigned sec) {
  const year_month_day ymd{year{y}, month{mo}, day{d}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) {
    throw ValidationError("timestamp", "invalid calendar date or time of day");
  }
  const Timestamp t =
      time_point_cast<microseconds>(sys_days{ymd}) + hours{h} + minutes{mi} + seconds{sec};
  if (!is_storable(t)) {
    throw ValidationError("timestamp",
                          "year " + std::to_string(y) + " " + std::string(kOutOfRange));
  }
  return t;
}

}  // namespace nemori
