#include "nemori/storage/factory.h"

#include <algorithm>
#include <string>

#include "nemori/core/error.h"
#include "storage/backends.h"

namespace nemori {

namespace {

std::string supported_list() {
  std::string out;
  for (const std::string& name : supported_backends()) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

// Throws UnsupportedBackendError unless this build has the backend.
void require_supported(const std::string& backend) {
  const auto supported = supported_backends();
  if (std::find(supported.begin(), supported.end(), backend) != supported.end()) return;
  std::string message = "storage backend \"" + backend + "\" is not supported by this build";
  if (backend == "duckdb") {
    message += " (rebuild with -DNEMORI_WITH_DUCKDB=ON)";
  } else if (backend == "postgresql") {
    message += " (rebuild with -DNEMORI_WITH_POSTGRES=ON)";
  }
  throw UnsupportedBackendError(message + "; supported: " + supported_list());
}

}  // namespace

std::unique_ptr<Storage> open_storage(const StorageConfig& config) {
  if (!config.backend.empty()) require_supported(config.backend);
  validate(config);
  if (config.backend == "memory") return detail::open_memory_storage(config);
#ifdef NEMORI_HAVE_DUCKDB
  if (config.backend == "duckdb") return detail::open_duckdb_storage(config);
#endif
#ifdef NEMORI_HAVE_POSTGRES
  if (config.backend == "postgresql") return detail::open_postgres_storage(config);
#endif
  require_supported(config.backend);  // unreachable for a validated, supported backend
  throw UnsupportedBackendError("storage backend \"" + config.backend + "\" is not supported");
}

std::unique_ptr<Storage> open_storage(std::string_view url) {
  return open_storage(parse_storage_url(url));
}

}  // namespace nemori
