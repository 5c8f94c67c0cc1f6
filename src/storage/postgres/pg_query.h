// What the PostgreSQL repositories' reads share: WHERE clauses built with their parameters,
// the exact total behind a page of results, and the conversion of sizes and ids to parameters.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/postgres/pg_client.h"
#include "storage/postgres/pg_rows.h"

namespace nemori::detail {

using pg::Connection;
using pg::Params;
using pg::Result;

// The total count behind one page of a search. It follows from the page itself unless the page
// is full (or empty past the first page); then one count(*) runs in the same snapshot as the
// page (a read-only REPEATABLE READ transaction, begun when the search has a limit), so that
// the page never needs a count over every matching row the way count(*) OVER () did.
class PageSnapshot {
 public:
  PageSnapshot(Connection& c, std::optional<std::size_t> limit) : limit_(limit) {
    if (limit_) tx_.emplace(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  }

  // The total for a page of `rows` rows at `offset`; ends the snapshot.
  std::size_t total(Connection& c, int rows, std::size_t offset, const std::string& count_sql,
                    const Params& where) {
    const auto n = static_cast<std::size_t>(rows);
    const bool page_full = limit_ && n >= *limit_;
    std::size_t total = offset + n;
    if (page_full || (n == 0 && offset > 0)) {
      total = static_cast<std::size_t>(c.exec(count_sql, where).int64(0, 0));
    }
    if (tx_) tx_->commit();
    return total;
  }

 private:
  std::optional<std::size_t> limit_;
  std::optional<pg::Transaction> tx_;
};

// A size or count as a bigint parameter (nullopt stays NULL: "no limit").
inline std::optional<std::int64_t> as_bigint(std::optional<std::size_t> n) {
  if (!n) return std::nullopt;
  constexpr auto kMax = static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max());
  return static_cast<std::int64_t>(std::min(*n, kMax));
}

// The ids that could be stored at all (valid UTF-8, no NUL): the others match nothing.
inline std::vector<std::string> storable(std::span<const std::string> ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    if (pg::storable_text(id)) out.push_back(id);
  }
  return out;
}

// WHERE clauses and their parameters, built together.
class Where {
 public:
  // Adds a parameter and returns its placeholder.
  template <typename T>
  std::string param(const T& value) {
    params.add(value);
    return params.last();
  }
  // Adds a condition.
  void add(const std::string& condition) { clauses_.push_back(condition); }
  // " WHERE a AND b" or "".
  std::string sql() const {
    std::string out;
    for (std::size_t i = 0; i < clauses_.size(); ++i)
      out += (i == 0 ? " WHERE " : " AND ") + clauses_[i];
    return out;
  }
  Params params;

 private:
  std::vector<std::string> clauses_;
};

}  // namespace nemori::detail
