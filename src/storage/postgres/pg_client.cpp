#include "storage/postgres/pg_client.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "nemori/core/error.h"
#include "nemori/storage/config.h"

namespace nemori::pg {

namespace {

constexpr std::size_t kMaxPreparedPerConnection = 512;
constexpr std::size_t kCopyChunk = 1u << 20;

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\t')) s.pop_back();
  return s;
}

// "user@host:port/db" of a connection object, which never includes the password.
std::string describe(PGconn* conn) {
  auto safe = [](const char* s) { return std::string(s != nullptr ? s : ""); };
  std::string host = safe(PQhost(conn));
  if (host.empty() || host[0] == '/') host = host.empty() ? "local socket" : "socket " + host;
  return safe(PQuser(conn)) + "@" + host + ":" + safe(PQport(conn)) + "/" + safe(PQdb(conn));
}

std::string field(const PGresult* result, int code) {
  const char* value = result != nullptr ? PQresultErrorField(result, code) : nullptr;
  return value != nullptr ? std::string(value) : std::string();
}

// The id inside a unique-violation detail: "Key (data_id)=(abc) already exists."
std::string duplicate_key(const std::string& detail) {
  const auto open = detail.find(")=(");
  const auto close = detail.rfind(") already exists");
  if (open == std::string::npos || close == std::string::npos || close < open + 3) return detail;
  return detail.substr(open + 3, close - open - 3);
}

}  // namespace

// ---- Result --------------------------------------------------------------------------------

std::string_view Result::text(int row, int col) const {
  const char* value = PQgetvalue(result_.get(), row, col);
  return std::string_view(value, static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

std::int64_t Result::int64(int row, int col) const {
  const std::string_view t = text(row, col);
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || ptr != t.data() + t.size()) {
    throw StorageError("PostgreSQL returned a non-integer value: " + std::string(t));
  }
  return value;
}

double Result::float8(int row, int col) const {
  const std::string_view t = text(row, col);
  if (t == "NaN") return std::nan("");
  if (t == "Infinity") return HUGE_VAL;
  if (t == "-Infinity") return -HUGE_VAL;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (ec != std::errc() || ptr != t.data() + t.size()) {
    throw StorageError("PostgreSQL returned a non-numeric value: " + std::string(t));
  }
  return value;
}

bool Result::boolean(int row, int col) const {
  return text(row, col) == "t";
}

namespace {

// Parsed JSON text holds non-negative integers as number_unsigned; values built in C++ from
// int hold number_integer. Reads return the latter for every integer that fits, so that a
// stored 42 comes back as the same kind of number it was built as.
void canonical_integers(nlohmann::json& j) {
  if (j.is_number_unsigned()) {
    const auto u = j.get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      j = static_cast<std::int64_t>(u);
    }
  } else if (j.is_structured()) {
    for (auto& item : j) canonical_integers(item);
  }
}

}  // namespace

nlohmann::json Result::json(int row, int col) const {
  try {
    nlohmann::json j = nlohmann::json::parse(text(row, col));
    canonical_integers(j);
    return j;
  } catch (const nlohmann::json::exception& e) {
    throw StorageError(std::string("PostgreSQL returned invalid JSON: ") + e.what());
  }
}

std::size_t Result::affected() const {
  const char* n = result_ ? PQcmdTuples(result_.get()) : "";
  return (n == nullptr || *n == '\0') ? 0 : static_cast<std::size_t>(std::strtoull(n, nullptr, 10));
}

// ---- formatting ------------------------------------------------------------------------------

Params& Params::add(std::string value) {
  values_.emplace_back(std::move(value));
  return *this;
}

Params& Params::add(double value) {
  return add(format_double(value));
}

Params& Params::add(Timestamp value) {
  return add(format_timestamptz(value));
}

Params& Params::add(const std::vector<std::string>& values) {
  return add(array_literal(values));
}

Params& Params::add_null() {
  values_.emplace_back(std::nullopt);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->c_str() : nullptr);
  return out;
}

std::string format_timestamptz(Timestamp value) {
  using namespace std::chrono;
  const auto day = floor<days>(value);
  const year_month_day ymd{day};
  const auto tod = value - day;  // microseconds within the day, 0 <= tod < 1 day
  const auto us = tod.count();
  const long long hh = us / 3'600'000'000LL;
  const long long mm = us / 60'000'000LL % 60;
  const long long ss = us / 1'000'000LL % 60;
  const long long frac = us % 1'000'000LL;
  int year = static_cast<int>(ymd.year());
  const bool bc = year <= 0;
  if (bc) year = 1 - year;  // astronomical year 0 is 1 BC
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02lld:%02lld:%02lld.%06lld+00%s", year,
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), hh, mm, ss,
                frac, bc ? " BC" : "");
  return buf;
}

std::string format_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, ptr);
}

std::string format_float(float value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, ptr);
}

std::string array_literal(const std::vector<std::string>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string float_array_literal(const std::vector<float>& values) {
  std::string out = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    out += format_float(values[i]);
  }
  out += '}';
  return out;
}

std::vector<float> parse_float_array(std::string_view text) {
  std::vector<float> out;
  if (text.size() < 2 || text.front() != '{' || text.back() != '}') {
    throw StorageError("PostgreSQL returned a malformed real[] value");
  }
  text = text.substr(1, text.size() - 2);
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    float value = 0;
    const auto [ptr, ec] = std::from_chars(item.data(), item.data() + item.size(), value);
    if (ec != std::errc() || ptr != item.data() + item.size()) {
      throw StorageError("PostgreSQL returned a malformed real[] element: " + std::string(item));
    }
    out.push_back(value);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

void copy_field(std::string& row, std::string_view value, bool first) {
  if (!first) row += '\t';
  for (char c : value) {
    switch (c) {
      case '\\':
        row += "\\\\";
        break;
      case '\n':
        row += "\\n";
        break;
      case '\r':
        row += "\\r";
        break;
      case '\t':
        row += "\\t";
        break;
      default:
        row += c;
    }
  }
}

void copy_null(std::string& row, bool first) {
  if (!first) row += '\t';
  row += "\\N";
}

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string normalize_url(std::string_view url) {
  for (std::string_view scheme : {"postgresql+", "postgres+"}) {
    if (starts_with(url, scheme)) {
      const auto sep = url.find("://");
      if (sep != std::string_view::npos) return "postgresql" + std::string(url.substr(sep));
    }
  }
  return std::string(url);
}

// ---- errors ----------------------------------------------------------------------------------

void throw_error(PGconn* conn, const PGresult* result, std::string_view what,
                 std::string_view server) {
  const std::string state = field(result, PG_DIAG_SQLSTATE);
  std::string message = field(result, PG_DIAG_MESSAGE_PRIMARY);
  if (message.empty()) {
    message = trim(conn != nullptr ? PQerrorMessage(conn) : "unknown error");
    if (result != nullptr && message.empty()) message = trim(PQresultErrorMessage(result));
  }
  const std::string detail = field(result, PG_DIAG_MESSAGE_DETAIL);
  const std::string where = " (" + std::string(what) + " on " + std::string(server) + ")";
  const bool lost = (conn != nullptr && PQstatus(conn) == CONNECTION_BAD) ||
                    starts_with(state, "08") || state == "57P01" || state == "57P02" ||
                    state == "57P03" || (result == nullptr && state.empty());
  if (lost) {
    throw StorageError("PostgreSQL connection lost" + where + ": " + message +
                       ". Nothing of this operation was committed (unless the connection "
                       "dropped during COMMIT itself); the pool reconnects, so retry it");
  }
  if (state == "23505") {
    const std::string constraint = field(result, PG_DIAG_CONSTRAINT_NAME);
    const std::string kind = contains(constraint, "episodes") ? "episode" : "raw event";
    throw DuplicateError(kind + " \"" + duplicate_key(detail) +
                         "\" already exists; use update() to change it (nothing was stored)");
  }
  if (state == "23503") {
    throw NotFoundError("a referenced record does not exist" + where + ": " +
                        (detail.empty() ? message : detail));
  }
  if (state == "57014") {
    throw StorageError("PostgreSQL cancelled the statement" + where + ": " + message +
                       " (raise statement_timeout if this query needs longer)");
  }
  if (state == "40001" || state == "40P01") {
    throw StorageError("PostgreSQL aborted the transaction" + where + ": " + message +
                       "; nothing was committed, retry it");
  }
  if (state == "53300") {
    throw StorageError("PostgreSQL has no free connection slots" + where + ": " + message +
                       " (lower pool_size or raise the server's max_connections)");
  }
  if (starts_with(state, "22") || state == "54000") {
    throw ValidationError(std::string(what), "rejected by PostgreSQL: " + message +
                                                 (detail.empty() ? "" : " (" + detail + ")"));
  }
  if (state == "42P01" || state == "3F000") {
    throw StorageError("PostgreSQL schema objects are missing" + where + ": " + message +
                       " (was the schema dropped while nemori was running? reopen the storage "
                       "to recreate it)");
  }
  throw StorageError("PostgreSQL error" + where + ": " + message +
                     (detail.empty() ? "" : " (" + detail + ")") +
                     (state.empty() ? "" : " [SQLSTATE " + state + "]"));
}

// ---- Connection ------------------------------------------------------------------------------

Connection::Connection(const ConnectOptions& options) {
  const std::string url = normalize_url(options.url);
  const long long timeout_s =
      std::max<long long>(2, (options.connect_timeout.count() + 999) / 1000);
  const std::string timeout = std::to_string(timeout_s);
  // Later keywords override earlier ones: the URL may override the defaults before it, the
  // config's connect timeout wins over the URL.
  const char* keywords[] = {
      "application_name", "keepalives", "keepalives_idle", "keepalives_interval",
      "keepalives_count", "dbname",     "connect_timeout", nullptr};
  const char* values[] = {options.application_name.c_str(),
                          "1",
                          "30",
                          "10",
                          "3",
                          url.c_str(),
                          timeout.c_str(),
                          nullptr};
  conn_ = PQconnectdbParams(keywords, values, 1);
  if (conn_ == nullptr) throw StorageError("PostgreSQL: out of memory while connecting");
  masked_url_ = describe(conn_);
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  if (PQstatus(conn_) != CONNECTION_OK) {
    const std::string raw = mask_password(trim(PQerrorMessage(conn_)));
    const std::string server = masked_url_;
    const std::string db = PQdb(conn_) != nullptr ? PQdb(conn_) : "";
    const std::string user = PQuser(conn_) != nullptr ? PQuser(conn_) : "";
    PQfinish(conn_);
    conn_ = nullptr;
    if (contains(raw, "password authentication failed") || contains(raw, "no password supplied") ||
        contains(raw, "authentication failed")) {
      throw StorageError("PostgreSQL authentication failed for user \"" + user + "\" at " + server +
                         ": check the password (in the URL, PGPASSWORD or ~/.pgpass) and the "
                         "server's pg_hba.conf. Server said: " +
                         raw);
    }
    if (contains(raw, "database \"") && contains(raw, "does not exist")) {
      throw StorageError("PostgreSQL database \"" + db + "\" does not exist on " + server +
                         ": create it (createdb " + db +
                         ") or fix the database name in the URL. Server said: " + raw);
    }
    if (contains(raw, "invalid URI") || contains(raw, "invalid connection option") ||
        contains(raw, "missing \"=\"") || contains(raw, "invalid sslmode") ||
        contains(raw, "invalid integer value") || contains(raw, "invalid port")) {
      throw ConfigError("invalid PostgreSQL connection URL: " + raw);
    }
    if (contains(raw, "SSL")) {
      throw StorageError("PostgreSQL SSL negotiation failed with " + server +
                         ": check sslmode and the server's SSL setup. libpq said: " + raw);
    }
    if (contains(raw, "could not translate host name")) {
      throw StorageError("cannot resolve the PostgreSQL host of " + server +
                         ": check the host name in the URL. libpq said: " + raw);
    }
    if (contains(raw, "timeout expired")) {
      throw StorageError("the PostgreSQL server at " + server + " did not answer within " +
                         timeout +
                         " s (connect_timeout): is the host reachable from here, or a "
                         "firewall dropping packets? libpq said: " +
                         raw);
    }
    throw StorageError("cannot reach the PostgreSQL server at " + server +
                       ": is it running and accepting TCP/IP connections on that host and "
                       "port? libpq said: " +
                       raw);
  }
  std::string setup = "SET extra_float_digits = 3";
  if (options.statement_timeout.count() > 0) {
    setup += "; SET statement_timeout = " + std::to_string(options.statement_timeout.count());
  }
  try {
    exec_simple(setup);
  } catch (...) {
    PQfinish(conn_);  // the destructor does not run when a constructor throws
    conn_ = nullptr;
    throw;
  }
  last_used = std::chrono::steady_clock::now();
}

Connection::~Connection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

void Connection::fail(PGresult* result, std::string_view what) {
  Result owner(result);  // frees the result after throwing
  const bool plain = what == "query" || what == "statement";
  throw_error(conn_, result, plain ? operation : operation + " (" + std::string(what) + ")",
              masked_url_);
}

Result Connection::exec(const std::string& sql, const Params& params) {
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    if (prepared_.size() >= kMaxPreparedPerConnection) {
      exec_simple("DEALLOCATE ALL");
      prepared_.clear();
    }
    const std::string name = "nemori_" + std::to_string(prepared_.size() + 1);
    PGresult* prep = PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr);
    if (prep == nullptr || PQresultStatus(prep) != PGRES_COMMAND_OK) fail(prep, "prepare");
    PQclear(prep);
    it = prepared_.emplace(sql, name).first;
  }
  const auto values = params.pointers();
  PGresult* res =
      PQexecPrepared(conn_, it->second.c_str(), params.size(), values.data(), nullptr, nullptr, 0);
  const ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(res, "query");
  return Result(res);
}

Result Connection::exec_simple(const std::string& sql) {
  PGresult* res = PQexec(conn_, sql.c_str());
  const ExecStatusType status = res != nullptr ? PQresultStatus(res) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(res, "statement");
  return Result(res);
}

void Connection::copy_in(const std::string& copy_sql, std::string_view data) {
  PGresult* start = PQexec(conn_, copy_sql.c_str());
  if (start == nullptr || PQresultStatus(start) != PGRES_COPY_IN) fail(start, "COPY");
  PQclear(start);
  for (std::size_t pos = 0; pos < data.size(); pos += kCopyChunk) {
    const std::size_t n = std::min(kCopyChunk, data.size() - pos);
    if (PQputCopyData(conn_, data.data() + pos, static_cast<int>(n)) != 1) {
      fail(PQgetResult(conn_), "COPY");
    }
  }
  if (PQputCopyEnd(conn_, nullptr) != 1) fail(PQgetResult(conn_), "COPY");
  PGresult* end = PQgetResult(conn_);
  const ExecStatusType status = end != nullptr ? PQresultStatus(end) : PGRES_FATAL_ERROR;
  // Drain whatever follows so that the connection is ready for the next command.
  auto drain = [this] {
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  };
  if (status != PGRES_COMMAND_OK) {
    drain();
    fail(end, "COPY");
  }
  PQclear(end);
  drain();
}

bool Connection::healthy() {
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) return false;
  // A server that closed the connection (restart, pg_terminate_backend) has sent an error and
  // EOF: reading it now marks the connection bad instead of failing the next statement.
  if (PQconsumeInput(conn_) == 0) return false;
  while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
  return PQstatus(conn_) == CONNECTION_OK && !PQisBusy(conn_) &&
         PQtransactionStatus(conn_) == PQTRANS_IDLE;
}

// ---- Transaction -----------------------------------------------------------------------------

Transaction::Transaction(Connection& conn, const std::string& begin) : conn_(conn) {
  conn_.exec_simple(begin);
}

Transaction::~Transaction() {
  if (done_ || conn_.broken()) return;
  try {
    conn_.exec_simple("ROLLBACK");
  } catch (...) {
    // The connection is discarded by the pool when it is not idle.
  }
}

void Transaction::commit() {
  done_ = true;
  conn_.exec_simple("COMMIT");
}

}  // namespace nemori::pg
