// A small RAII layer over libpq: results, parameters, connections, transactions and COPY.
//
// Every value reaches the server as a parameter (or as COPY data), never inside SQL text.
// Statements run through Connection::exec are prepared once per connection and reused.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/time.h"

namespace nemori::pg {

/// Owns one PGresult and reads its cells as text.
class Result {
 public:
  /// Takes ownership of `result` (may be null).
  explicit Result(PGresult* result = nullptr) : result_(result) {}
  /// Number of rows.
  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  /// True when the cell is SQL NULL.
  bool is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  /// The cell's text (empty for NULL).
  std::string_view text(int row, int col) const;
  /// The cell as a string copy.
  std::string str(int row, int col) const { return std::string(text(row, col)); }
  /// The cell parsed as a 64-bit integer.
  std::int64_t int64(int row, int col) const;
  /// The cell parsed as a double.
  double float8(int row, int col) const;
  /// The cell parsed as a boolean ("t"/"f").
  bool boolean(int row, int col) const;
  /// The cell parsed as JSON text.
  nlohmann::json json(int row, int col) const;
  /// Rows changed by an INSERT/UPDATE/DELETE.
  std::size_t affected() const;

 private:
  struct Deleter {
    void operator()(PGresult* r) const { PQclear(r); }
  };
  std::unique_ptr<PGresult, Deleter> result_;
};

/// Statement parameters, all sent in text format; std::nullopt is SQL NULL.
class Params {
 public:
  /// Appends a text value.
  Params& add(std::string value);
  /// Appends a text value.
  Params& add(const char* value) { return add(std::string(value)); }
  /// Appends an integer.
  Params& add(std::int64_t value) { return add(std::to_string(value)); }
  /// Appends an integer.
  Params& add(int value) { return add(std::to_string(value)); }
  /// Appends a double with full precision.
  Params& add(double value);
  /// Appends a boolean.
  Params& add(bool value) { return add(std::string(value ? "t" : "f")); }
  /// Appends a timestamp as timestamptz text in UTC.
  Params& add(Timestamp value);
  /// Appends a JSON document (for jsonb parameters).
  Params& add(const nlohmann::json& value) { return add(value.dump()); }
  /// Appends a text[] literal.
  Params& add(const std::vector<std::string>& values);
  /// Appends SQL NULL.
  Params& add_null();
  /// Appends a value or NULL.
  template <typename T>
  Params& add(const std::optional<T>& value) {
    return value ? add(*value) : add_null();
  }
  /// Number of parameters; the next one is `$size()+1`.
  int size() const { return static_cast<int>(values_.size()); }
  /// "$N" for the parameter just added.
  std::string last() const { return "$" + std::to_string(values_.size()); }

  /// Pointers for libpq (valid while this object lives and is not modified).
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::optional<std::string>> values_;
};

/// Text form of a timestamptz in UTC, e.g. "2023-05-08 13:56:00.250000+00" ("... BC" before year
/// 1).
std::string format_timestamptz(Timestamp value);
/// Text form of a double that reads back bit-identical.
std::string format_double(double value);
/// Text form of a float that reads back bit-identical.
std::string format_float(float value);
/// A PostgreSQL array literal of the given strings, every element quoted.
std::string array_literal(const std::vector<std::string>& values);
/// A float4[] literal.
std::string float_array_literal(const std::vector<float>& values);
/// Parses a float4[] text value ("{1,2.5}").
std::vector<float> parse_float_array(std::string_view text);
/// Appends `value` to a text-format COPY row, escaped; `first` omits the tab separator.
void copy_field(std::string& row, std::string_view value, bool first = false);
/// Appends the COPY NULL marker.
void copy_null(std::string& row, bool first = false);
/// Quotes an identifier ("my schema" -> "\"my schema\"").
std::string quote_ident(std::string_view name);

/// How to open a connection.
struct ConnectOptions {
  std::string url;  ///< libpq URL or conninfo (postgresql+asyncpg:// is normalised).
  std::chrono::milliseconds connect_timeout{5000};  ///< Rounded up to seconds (min 2).
  std::chrono::milliseconds statement_timeout{0};   ///< Server-side; 0 = none.
  std::string application_name = "nemori";          ///< Shown in pg_stat_activity.
};

/// The URL with a `postgresql+driver://` scheme turned into `postgresql://`.
std::string normalize_url(std::string_view url);

/// One libpq connection with a cache of prepared statements. Not thread-safe: the pool hands it
/// to one thread at a time.
class Connection {
 public:
  /// Connects; throws StorageError whose message says whether the host was unreachable, the
  /// password wrong or the database missing (password masked).
  explicit Connection(const ConnectOptions& options);
  /// Closes the connection.
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs a statement (prepared once per connection) with parameters. Throws the mapped error.
  Result exec(const std::string& sql, const Params& params = {});
  /// Runs SQL text without parameters (transaction control, DDL, SET). Throws the mapped error.
  Result exec_simple(const std::string& sql);
  /// Runs `COPY ... FROM STDIN` and streams `data` (text format rows). Throws the mapped error.
  void copy_in(const std::string& copy_sql, std::string_view data);
  /// Cheap liveness check for a pooled connection: reads pending input without blocking and
  /// reports whether the connection is still usable and idle.
  bool healthy();
  /// True once the connection is known to be dead.
  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }
  /// True when no transaction is open.
  bool idle() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  /// The server version number (e.g. 150004).
  int server_version() const { return PQserverVersion(conn_); }
  /// When the connection was last returned to the pool.
  std::chrono::steady_clock::time_point last_used;
  /// What the connection is doing, for error messages ("storing raw events").
  std::string operation = "query";

 private:
  [[noreturn]] void fail(PGresult* result, std::string_view what);
  PGconn* conn_ = nullptr;
  std::string masked_url_;
  std::unordered_map<std::string, std::string> prepared_;  // sql -> statement name
};

/// Maps a failed result (or a connection failure when `result` is null) to a nemori error and
/// throws it. `what` names the operation; `masked_url` identifies the server.
[[noreturn]] void throw_error(PGconn* conn, const PGresult* result, std::string_view what,
                              std::string_view masked_url);

/// BEGIN on construction; ROLLBACK in the destructor unless commit() succeeded.
class Transaction {
 public:
  /// Starts a transaction on `conn` with `begin` ("BEGIN", or e.g. "BEGIN ISOLATION LEVEL
  /// REPEATABLE READ READ ONLY" for several reads from one snapshot).
  explicit Transaction(Connection& conn, const std::string& begin = "BEGIN");
  /// Rolls back unless committed (a dead connection needs nothing).
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  /// Commits; throws the mapped error (nothing was committed then, unless the connection
  /// dropped during the commit itself).
  void commit();

 private:
  Connection& conn_;
  bool done_ = false;
};

}  // namespace nemori::pg
