// StorageStats as JSON.
#include "nemori/storage/stats_json.h"

#include <string>

#include "nemori/core/time.h"

namespace nemori {

nlohmann::json to_json(const StorageStats& s) {
  nlohmann::json levels = nlohmann::json::object();
  for (const auto& [level, n] : s.episodes_by_level) levels[std::to_string(level)] = n;
  const auto time_or_null = [](const std::optional<Timestamp>& t) {
    return t ? nlohmann::json(format_iso8601(*t)) : nlohmann::json(nullptr);
  };
  return {{"backend", s.backend},
          {"owners", s.owners},
          {"total_raw_data", s.total_raw_data},
          {"processed_raw_data", s.processed_raw_data},
          {"raw_data_by_type", s.raw_data_by_type},
          {"total_episodes", s.total_episodes},
          {"episodes_by_type", s.episodes_by_type},
          {"episodes_by_level", levels},
          {"total_links", s.total_links},
          {"storage_size_bytes", s.storage_size_bytes},
          {"index_size_bytes", s.index_size_bytes},
          {"oldest_data", time_or_null(s.oldest_data)},
          {"newest_data", time_or_null(s.newest_data)},
          {"details", s.details}};
}

}  // namespace nemori
