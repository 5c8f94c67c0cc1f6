#include "storage/duckdb/transaction.h"

#include <exception>

namespace nemori::detail::duck {

Transaction::Transaction(Connection& connection) : connection_(connection) {
  connection_.execute("BEGIN TRANSACTION");
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    connection_.execute("ROLLBACK");
  } catch (const std::exception&) {
    // Nothing more can be done; DuckDB discards the transaction with the connection anyway.
  }
}

void Transaction::commit() {
  open_ = false;
  try {
    connection_.execute("COMMIT");
  } catch (...) {
    // A failed COMMIT leaves DuckDB's transaction aborted; clear it for the next user.
    try {
      connection_.execute("ROLLBACK");
    } catch (const std::exception&) {
    }
    throw;
  }
}

}  // namespace nemori::detail::duck
