#include "nemori/storage/config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "nemori/core/error.h"

namespace nemori {

namespace {

constexpr std::string_view kKnownBackends[] = {"memory", "duckdb", "postgresql"};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; nullopt when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// A key=value pair of a URL query, as written (not decoded).
struct QueryParam {
  std::string key;
  std::string value;
  bool has_value = false;
};

std::vector<QueryParam> split_query(std::string_view query) {
  std::vector<QueryParam> params;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    if (!item.empty()) {
      const std::size_t eq = item.find('=');
      QueryParam param;
      param.key = std::string(item.substr(0, eq));
      if (eq != std::string_view::npos) {
        param.value = std::string(item.substr(eq + 1));
        param.has_value = true;
      }
      params.push_back(std::move(param));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return params;
}

[[noreturn]] void fail(const std::string& url, const std::string& problem) {
  throw ConfigError("storage URL \"" + mask_password(url) + "\": " + problem);
}

std::string decode_or_fail(const std::string& url, std::string_view text, std::string_view what) {
  auto decoded = percent_decode(text);
  if (!decoded) fail(url, std::string(what) + " holds a malformed %-escape");
  return *decoded;
}

template <typename Int>
Int parse_unsigned(const std::string& url, const std::string& key, const std::string& value) {
  Int out{};
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || end != value.data() + value.size() || value.empty()) {
    fail(url, "parameter " + key + "=\"" + value + "\" is not a non-negative integer");
  }
  return out;
}

bool parse_flag(const std::string& url, const std::string& key, const std::string& value) {
  const std::string v = lower(value);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return false;
  fail(url, "parameter " + key + "=\"" + value + "\" is not a boolean (true or false)");
}

// "postgresql+asyncpg" and friends become "postgresql"; other schemes are returned as given.
bool is_postgres_scheme(std::string_view scheme) {
  return scheme == "postgresql" || scheme == "postgres" || scheme == "postgresql+asyncpg" ||
         scheme == "postgresql+psycopg" || scheme == "postgresql+psycopg2";
}

// Checks the host list of a PostgreSQL authority ("user:pw@h1:5432,h2") for bad ports.
void check_ports(const std::string& url, std::string_view authority) {
  const std::size_t at = authority.rfind('@');
  std::string_view hosts = at == std::string_view::npos ? authority : authority.substr(at + 1);
  while (true) {
    const std::size_t comma = hosts.find(',');
    std::string_view host = hosts.substr(0, comma);
    std::size_t port_from = std::string_view::npos;
    if (!host.empty() && host.front() == '[') {
      const std::size_t close = host.find(']');
      if (close == std::string_view::npos) fail(url, "unclosed '[' in the host");
      if (close + 1 < host.size()) {
        if (host[close + 1] != ':') fail(url, "unexpected text after the IPv6 address");
        port_from = close + 2;
      }
    } else if (const std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
      port_from = colon + 1;
    }
    if (port_from != std::string_view::npos) {
      const std::string port(host.substr(port_from));
      unsigned value = 0;
      const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
      if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value == 0 ||
          value > 65535) {
        fail(url, "port \"" + port + "\" is not a number between 1 and 65535");
      }
    }
    if (comma == std::string_view::npos) break;
    hosts.remove_prefix(comma + 1);
  }
}

StorageConfig parse_postgres(const std::string& url, std::string_view rest) {
  StorageConfig config;
  config.backend = "postgresql";
  const std::size_t fragment = rest.find('#');
  if (fragment != std::string_view::npos) rest = rest.substr(0, fragment);
  const std::size_t question = rest.find('?');
  const std::string_view before_query = rest.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : rest.substr(question + 1);
  check_ports(url, before_query.substr(0, before_query.find('/')));

  std::vector<std::string> kept;
  for (const QueryParam& param : split_query(query)) {
    const std::string key = lower(param.key);
    const std::string value = decode_or_fail(url, param.value, "parameter " + param.key);
    if (key == "schema") {
      config.schema = value;
    } else if (key == "pool_size") {
      config.pool_size = parse_unsigned<std::size_t>(url, key, value);
    } else if (key == "acquire_timeout_ms") {
      config.acquire_timeout =
          std::chrono::milliseconds(parse_unsigned<std::int64_t>(url, key, value));
    } else if (key == "connect_timeout") {  // seconds, as libpq reads it
      config.connect_timeout = std::chrono::seconds(parse_unsigned<std::int64_t>(url, key, value));
    } else if (key == "partition_by_month") {
      config.partition_raw_data_by_month = parse_flag(url, key, value);
    } else if (key == "read_replica_url") {
      config.read_replica_url = value;
      const std::size_t sep = value.find("://");
      if (sep != std::string::npos && is_postgres_scheme(lower(value.substr(0, sep)))) {
        config.read_replica_url = "postgresql" + value.substr(sep);
      }
    } else if (key == "ssl") {  // asyncpg's spelling in the original's URLs
      const std::string v = lower(value);
      kept.push_back("sslmode=" + (v == "true"    ? std::string("require")
                                   : v == "false" ? std::string("disable")
                                                  : value));
    } else {
      kept.push_back(param.has_value ? param.key + "=" + param.value : param.key);
    }
  }
  config.url = "postgresql://" + std::string(before_query);
  if (!kept.empty()) config.url += "?" + join(kept, "&");
  return config;
}

StorageConfig parse_duckdb(const std::string& url, std::string_view rest) {
  StorageConfig config;
  config.backend = "duckdb";
  const std::size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    fail(url,
         "duckdb:// takes no parameters (got \"" + std::string(rest.substr(question + 1)) + "\")");
  }
  std::string path = decode_or_fail(url, rest, "the path");
  if (path.empty()) return config;  // default ./nemori.duckdb
  // duckdb:///./x and duckdb:///../x are relative; duckdb:///:memory: is DuckDB's in-memory db.
  if (path.starts_with("/./") || path.starts_with("/../") || path == "/:memory:") {
    path.erase(0, 1);
  }
  if (path == "/") fail(url, "the path names a directory, not a database file");
  config.path = path;
  return config;
}

}  // namespace

StorageConfig parse_storage_url(std::string_view url_text) {
  const std::string url(trim(url_text));
  if (url.empty()) {
    throw ConfigError(
        "storage URL is empty; use memory://, duckdb:///path/nemori.duckdb or "
        "postgresql://user:pass@host:5432/db");
  }
  const std::size_t sep = url.find("://");
  if (sep == std::string::npos) {
    fail(url,
         "has no scheme; use memory://, duckdb:///path/nemori.duckdb or "
         "postgresql://user:pass@host:5432/db");
  }
  const std::string scheme = lower(url.substr(0, sep));
  const std::string_view rest = std::string_view(url).substr(sep + 3);
  StorageConfig config;
  if (scheme == "memory") {
    if (!rest.empty()) fail(url, "memory:// takes no path or parameters");
    config.backend = "memory";
  } else if (scheme == "duckdb") {
    config = parse_duckdb(url, rest);
  } else if (is_postgres_scheme(scheme)) {
    config = parse_postgres(url, rest);
  } else {
    throw UnsupportedBackendError("unsupported storage URL scheme \"" + scheme + "\" in \"" +
                                  mask_password(url) +
                                  "\"; use memory://, duckdb:///path or postgresql://... "
                                  "(backends in this build: " +
                                  join(supported_backends(), ", ") + ")");
  }
  validate(config);
  return config;
}

std::string storage_url_from_env() {
  for (const char* name : {"NEMORI_STORAGE_URL", "POSTGRESQL_URL"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && !trim(value).empty()) return std::string(trim(value));
  }
  return "";
}

void validate(const StorageConfig& config) {
  std::vector<std::string> problems;
  const bool known = std::find(std::begin(kKnownBackends), std::end(kKnownBackends),
                               config.backend) != std::end(kKnownBackends);
  if (config.backend.empty()) {
    problems.push_back("backend: is empty (valid: memory, duckdb, postgresql)");
  } else if (!known) {
    problems.push_back("backend: unknown backend \"" + config.backend +
                       "\" (valid: memory, duckdb, postgresql)");
  }
  if (config.backend == "duckdb" && config.path.empty()) {
    problems.push_back("path: is empty (the DuckDB database file, e.g. ./nemori.duckdb)");
  }
  if (config.backend == "postgresql") {
    auto check_url = [&](const std::string& value, const std::string& field) {
      if (!value.starts_with("postgresql://") && !value.starts_with("postgres://")) {
        problems.push_back(field + ": must start with postgresql:// (got \"" +
                           mask_password(value) + "\")");
      }
    };
    if (config.url.empty()) {
      problems.push_back(
          "url: is required for the postgresql backend "
          "(postgresql://user:pass@host:5432/db)");
    } else {
      check_url(config.url, "url");
    }
    if (!config.read_replica_url.empty()) check_url(config.read_replica_url, "read_replica_url");
    const std::string& s = config.schema;
    const bool identifier =
        !s.empty() && s.size() <= 63 && !std::isdigit(static_cast<unsigned char>(s[0])) &&
        std::all_of(s.begin(), s.end(),
                    [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
    if (!identifier) {
      problems.push_back("schema: \"" + s +
                         "\" is not a plain identifier (letters, digits and _, not starting "
                         "with a digit, at most 63 bytes)");
    }
    if (config.pool_size == 0) problems.push_back("pool_size: must be at least 1");
    if (config.acquire_timeout.count() <= 0) {
      problems.push_back("acquire_timeout: must be positive");
    }
    if (config.connect_timeout.count() <= 0) {
      problems.push_back("connect_timeout: must be positive");
    }
    if (config.purge_wait.count() < 0) problems.push_back("purge_wait: must not be negative");
    if (config.statement_timeout.count() < 0) {
      problems.push_back("statement_timeout: must not be negative (0 = none)");
    }
  }
  if (config.batch_size == 0) problems.push_back("batch_size: must be positive");
  if (config.max_content_bytes == 0) problems.push_back("max_content_bytes: must be positive");
  if (problems.empty()) return;
  throw ConfigError("invalid storage config:\n  " + join(problems, "\n  "));
}

std::vector<std::string> supported_backends() {
  std::vector<std::string> backends{"memory"};
#ifdef NEMORI_HAVE_DUCKDB
  backends.emplace_back("duckdb");
#endif
#ifdef NEMORI_HAVE_POSTGRES
  backends.emplace_back("postgresql");
#endif
  return backends;
}

namespace {

bool ends_token(char c) {
  return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '<' ||
         c == '>';
}

bool is_scheme_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
}

// Masks the password in the userinfo of every URL in `text` (scheme://user:PASSWORD@host).
void mask_url_passwords(std::string& out) {
  std::size_t pos = 0;
  while ((pos = out.find("://", pos)) != std::string::npos) {
    std::size_t scheme_start = pos;
    while (scheme_start > 0 && is_scheme_char(out[scheme_start - 1])) --scheme_start;
    const std::string scheme =
        lower(std::string_view(out).substr(scheme_start, pos - scheme_start));
    const std::size_t start = pos + 3;
    pos = start;
    if (scheme.empty() || scheme == "duckdb" || scheme == "memory") continue;  // paths
    std::size_t token_end = start;
    while (token_end < out.size() && !ends_token(out[token_end])) ++token_end;
    const std::size_t authority_end = std::min(out.find_first_of("/?#", start), token_end);
    std::size_t at = std::string::npos;
    for (std::size_t i = start; i < authority_end; ++i) {
      if (out[i] == '@') at = i;
    }
    // A password holding an unescaped '/', '?' or '#' ends the authority early: be generous
    // within the URL's token.
    if (at == std::string::npos) {
      const std::size_t any = out.find('@', start);
      if (any < token_end) at = any;
    }
    if (at == std::string::npos) continue;
    const std::size_t colon = out.find(':', start);
    if (colon == std::string::npos || colon >= at || colon + 1 == at) continue;
    out.replace(colon + 1, at - colon - 1, "***");
    pos = colon + 1 + 3;
  }
}

// Masks the value of every password=VALUE (a URL's query string, a libpq conninfo string,
// 'quoted' conninfo values included); "sslpassword=" too.
void mask_keyword_passwords(std::string& out) {
  std::size_t pos = 0;
  while ((pos = lower(out).find("password=", pos)) != std::string::npos) {
    std::size_t key_start = pos;
    if (key_start >= 3 && lower(std::string_view(out).substr(key_start - 3, 3)) == "ssl") {
      key_start -= 3;
    }
    const char before = key_start == 0 ? ' ' : out[key_start - 1];
    const bool at_boundary = !std::isalnum(static_cast<unsigned char>(before)) && before != '_';
    const std::size_t value_start = pos + 9;
    pos = value_start;
    if (!at_boundary) continue;
    std::size_t value_end = value_start;
    if (value_end < out.size() && out[value_end] == '\'') {
      ++value_end;
      while (value_end < out.size() && out[value_end] != '\'') {
        if (out[value_end] == '\\' && value_end + 1 < out.size()) ++value_end;
        ++value_end;
      }
      if (value_end < out.size()) ++value_end;  // the closing quote
    } else {
      while (value_end < out.size() && out[value_end] != '&' && !ends_token(out[value_end])) {
        ++value_end;
      }
    }
    if (value_end > value_start) out.replace(value_start, value_end - value_start, "***");
    pos = value_start + 3;
  }
}

}  // namespace

std::string mask_password(std::string_view text) {
  std::string out(text);
  mask_url_passwords(out);
  mask_keyword_passwords(out);
  // A replica URL passed as a parameter carries its own (escaped) credentials.
  std::size_t replica = 0;
  while ((replica = lower(out).find("read_replica_url=", replica)) != std::string::npos) {
    const std::size_t value_start = replica + 17;
    std::size_t value_end = value_start;
    while (value_end < out.size() && out[value_end] != '&' && !ends_token(out[value_end])) {
      ++value_end;
    }
    const std::string value = out.substr(value_start, value_end - value_start);
    const std::string decoded = percent_decode(value).value_or(value);
    const std::string masked = mask_password(decoded);
    if (masked != decoded) {
      out.replace(value_start, value_end - value_start, masked);
      value_end = value_start + masked.size();
    }
    replica = value_end;
  }
  return out;
}

}  // namespace nemori
