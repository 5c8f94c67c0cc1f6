// Opening a storage backend by URL or config.
#pragma once

#include <memory>
#include <string_view>

#include "nemori/storage/config.h"
#include "nemori/storage/repository.h"

namespace nemori {

/// Opens (creating or migrating the schema as needed) the backend the config names.
/// Throws UnsupportedBackendError (listing supported_backends()) for a backend not in this
/// build, ConfigError for a bad config, StorageError when the backend cannot be reached.
std::unique_ptr<Storage> open_storage(const StorageConfig& config);

/// open_storage(parse_storage_url(url)).
std::unique_ptr<Storage> open_storage(std::string_view url);

}  // namespace nemori
