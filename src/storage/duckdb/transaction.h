// An explicit transaction on one connection.
#pragma once

#include "storage/duckdb/connection.h"

namespace nemori::detail::duck {

/// BEGIN on construction; ROLLBACK on destruction unless commit() succeeded, so that an
/// exception anywhere inside leaves nothing behind.
class Transaction {
 public:
  /// Begins a transaction on `connection`. Throws EngineError.
  explicit Transaction(Connection& connection);
  /// Rolls back when not committed; never throws.
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  /// Commits. Throws EngineError (the transaction is rolled back then).
  void commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

}  // namespace nemori::detail::duck
