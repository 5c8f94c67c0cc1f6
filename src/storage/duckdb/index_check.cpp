#include "storage/duckdb/index_check.h"

#include "nemori/core/error.h"
#include "storage/duckdb/transaction.h"

#include <cctype>
#include <cstdint>
#include <map>
#include <string_view>

namespace nemori::detail::duck {

namespace {

// Keys looked up through an index in one query.
constexpr std::size_t kKeysPerLookup = 2'000;

// A secondary index as the catalog describes it.
struct SecondaryIndex {
  std::string name;
  std::string table;
  std::string column;  // empty when the index is over an expression or several columns
  std::string sql;     // its CREATE INDEX statement
};

// The column of an index over one plain column, from the catalog's text form of its
// expressions (['"owner_id"'] in DuckDB 1.4); "" for anything else.
std::string single_column(std::string_view expressions) {
  const auto strip = [&](char open, char close) {
    if (expressions.size() >= 2 && expressions.front() == open && expressions.back() == close) {
      expressions = expressions.substr(1, expressions.size() - 2);
    }
  };
  strip('[', ']');
  strip('\'', '\'');
  strip('"', '"');
  return std::string(expressions);
}

std::vector<SecondaryIndex> secondary_indexes(Connection& connection) {
  Result result = connection.run(
      "SELECT index_name, table_name, expressions, sql "
      "FROM duckdb_indexes() WHERE NOT is_primary AND NOT is_unique ORDER BY index_name");
  std::vector<SecondaryIndex> indexes;
  result.for_each_row([&](const Chunk& chunk, idx_t row) {
    indexes.push_back({std::string(chunk.text(0, row)), std::string(chunk.text(1, row)),
                       single_column(chunk.text(2, row)), std::string(chunk.text(3, row))});
  });
  return indexes;
}

// `index`'s CREATE INDEX statement under another name.
std::string create_index_sql(const SecondaryIndex& index, const std::string& name) {
  const std::string head = "CREATE INDEX ";
  std::string sql = index.sql;
  if (sql.rfind(head, 0) != 0) {
    throw StorageError("cannot rebuild index " + index.name + ": unexpected definition " + sql);
  }
  std::size_t at = head.size();
  const std::string quoted = "\"" + index.name + "\"";
  const std::string& old_name = sql.compare(at, quoted.size(), quoted) == 0 ? quoted : index.name;
  if (sql.compare(at, old_name.size(), old_name) != 0) {
    throw StorageError("cannot rebuild index " + index.name + ": unexpected definition " + sql);
  }
  return sql.replace(at, old_name.size(), "\"" + name + "\"");
}

// A column name as the catalog lists it, which is a plain identifier for our schema.
bool plain_identifier(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  }
  return true;
}

// Makes DuckDB answer `column = ?` from the index whatever share of the table matches, and
// puts its defaults back afterwards.
class ForcedIndexScans {
 public:
  explicit ForcedIndexScans(Connection& connection) : connection_(connection) {
    connection_.execute("SET index_scan_percentage = 1.0");
    connection_.execute("SET index_scan_max_count = 9223372036854775807");
  }
  ~ForcedIndexScans() {
    try {
      connection_.execute("RESET index_scan_percentage");
      connection_.execute("RESET index_scan_max_count");
    } catch (...) {  // a destructor must not throw; the connection keeps wider index use
    }
  }
  ForcedIndexScans(const ForcedIndexScans&) = delete;
  ForcedIndexScans& operator=(const ForcedIndexScans&) = delete;

 private:
  Connection& connection_;
};

}  // namespace

IntegrityReport check_secondary_indexes(Connection& connection, bool thorough) {
  IntegrityReport report;
  ForcedIndexScans forced(connection);
  for (const SecondaryIndex& index : secondary_indexes(connection)) {
    if (!plain_identifier(index.column) || !plain_identifier(index.table)) {
      report.checked.push_back(index.name + ": not checked (not a single-column index)");
      continue;
    }
    const std::string column = "\"" + index.column + "\"";
    const std::string table = "\"" + index.table + "\"";
    // Row counts per key from a table scan (a GROUP BY never reads through an index).
    std::map<std::string, std::int64_t> scanned;
    Result groups = connection.run("SELECT CAST(" + column + " AS VARCHAR), count(*) FROM " +
                                   table + " WHERE " + column + " IS NOT NULL GROUP BY ALL");
    groups.for_each_row([&](const Chunk& chunk, idx_t row) {
      scanned[std::string(chunk.text(0, row))] = chunk.int64(1, row);
    });
    std::vector<std::string> keys;
    if (thorough) {
      for (const auto& [key, n] : scanned) keys.push_back(key);
    } else {
      Result newest = connection.run(
          "SELECT DISTINCT CAST(" + column + " AS VARCHAR) FROM (SELECT " + column + " FROM " +
              table + " ORDER BY rowid DESC LIMIT ?) WHERE " + column + " IS NOT NULL ORDER BY 1",
          {kNewestRowsChecked});
      newest.for_each_row(
          [&](const Chunk& chunk, idx_t row) { keys.emplace_back(chunk.text(0, row)); });
    }
    // Counts through the index, many keys a query (DuckDB answers `IN` lists from the index
    // too, and one query per key would cost about 0.4 ms each).
    std::map<std::string, std::int64_t> indexed;
    for (std::size_t i = 0; i < keys.size(); i += kKeysPerLookup) {
      const std::vector<std::string> some(
          keys.begin() + static_cast<std::ptrdiff_t>(i),
          keys.begin() + static_cast<std::ptrdiff_t>(std::min(keys.size(), i + kKeysPerLookup)));
      Result counts = connection.run("SELECT CAST(" + column + " AS VARCHAR), count(*) FROM " +
                                         table + " WHERE " + column + " = ANY(?) GROUP BY ALL",
                                     {some});
      counts.for_each_row([&](const Chunk& chunk, idx_t row) {
        indexed[std::string(chunk.text(0, row))] = chunk.int64(1, row);
      });
    }
    std::size_t bad_keys = 0;
    std::int64_t missing = 0;
    std::string first_bad;
    for (const std::string& key : keys) {
      const std::int64_t through_index = indexed[key];
      const std::int64_t in_table = scanned[key];
      if (through_index == in_table) continue;
      if (bad_keys++ == 0) {
        first_bad = "'" + key + "' (" + std::to_string(through_index) + " of " +
                    std::to_string(in_table) + " rows)";
      }
      missing += in_table - through_index;
    }
    const std::string scope = thorough ? std::to_string(keys.size()) + " keys (all)"
                                       : std::to_string(keys.size()) + " keys of the newest rows";
    report.checked.push_back(index.name + " on " + index.table + "(" + index.column +
                             "): " + scope);
    if (bad_keys > 0) {
      report.problems.push_back("index " + index.name + " on " + index.table + "(" + index.column +
                                ") disagrees with the table for " + std::to_string(bad_keys) +
                                " of " + std::to_string(keys.size()) + " keys checked, " +
                                std::to_string(missing) +
                                " rows missing from it in all; first: " + first_bad);
    }
  }
  return report;
}

std::vector<std::string> rebuild_secondary_indexes(Connection& connection) {
  std::vector<std::string> rebuilt;
  for (const SecondaryIndex& index : secondary_indexes(connection)) {
    const bool interrupted = index.name.ends_with(kRebuildSuffix);
    const std::string name =
        interrupted ? index.name.substr(0, index.name.size() - kRebuildSuffix.size()) : index.name;
    const std::string spare = name + std::string(kRebuildSuffix);
    // DuckDB 1.4.4 aborts the process when one transaction drops an index and creates one of
    // the same name, so the rebuild goes through a spare name, one transaction a step: the
    // column has a whole index at every commit, and a `repair` interrupted between the two
    // finds the spare and finishes.
    if (!interrupted) {
      Transaction step(connection);
      connection.execute(create_index_sql(index, spare));
      connection.execute("DROP INDEX \"" + name + "\"");
      step.commit();
    }
    Transaction step(connection);
    connection.execute(create_index_sql(index, name));
    connection.execute("DROP INDEX \"" + spare + "\"");
    step.commit();
    rebuilt.push_back(name);
  }
  return rebuilt;
}

}  // namespace nemori::detail::duck
