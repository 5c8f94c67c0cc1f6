// StorageStats as JSON: what `nemori stats --json` prints and GET /v1/stats answers.
#pragma once

#include <nlohmann/json.hpp>

#include "nemori/storage/repository.h"

namespace nemori {

/// {"backend", "owners", "total_raw_data", "processed_raw_data", "raw_data_by_type",
/// "total_episodes", "episodes_by_type", "episodes_by_level" (keys are the levels as text),
/// "total_links", "storage_size_bytes", "index_size_bytes", "oldest_data", "newest_data"
/// (ISO-8601 or null), "details"}. Never throws.
nlohmann::json to_json(const StorageStats& stats);

}  // namespace nemori
