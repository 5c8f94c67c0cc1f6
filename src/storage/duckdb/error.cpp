#include "storage/duckdb/error.h"

namespace nemori::detail::duck {

void throw_engine_error(std::string_view context, std::string_view message,
                        duckdb_error_type type) {
  std::string text = "DuckDB ";
  text += context;
  text += " failed: ";
  text += message.empty() ? std::string_view("unknown error") : message;
  throw EngineError(text, type);
}

}  // namespace nemori::detail::duck
