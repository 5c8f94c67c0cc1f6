// Store-wide routes for admin keys: statistics and retention.
#include <string>

#include "api_error.h"
#include "nemori/core/time.h"
#include "request_decoding.h"
#include "routes.h"

namespace nemori::server {

namespace {

nlohmann::json time_or_null(const std::optional<Timestamp>& t) {
  return t ? nlohmann::json(format_iso8601(*t)) : nlohmann::json(nullptr);
}

Reply store_stats(MemorySystem& memory, Call&) {
  const StorageStats s = memory.storage().stats();
  nlohmann::json levels = nlohmann::json::object();
  for (const auto& [level, n] : s.episodes_by_level) levels[std::to_string(level)] = n;
  return {200,
          {{"backend", s.backend},
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
           {"pending_by_owner", pending_by_owner(memory.storage())}}};
}

// Deletes raw events and episodes older than `before` (of one owner, or of all), then drops
// the cached indexes of the owners touched so they reload from storage.
Reply retention(MemorySystem& memory, Call& call) {
  const nlohmann::json body = call.body();
  reject_unknown_keys(body, {"before", "owner_id"});
  const auto before = time_field(body, "before");
  if (!before) throw bad_request("before", "is required");
  std::string owner;
  if (auto o = string_field(body, "owner_id", call.limits.max_owner_bytes)) {
    owner = decode_owner(*o, call.limits);
  }
  Storage& storage = memory.storage();
  const std::vector<std::string> owners =
      owner.empty() ? storage.list_owners() : std::vector<std::string>{owner};
  const std::size_t episodes = storage.episodes().cleanup_before(*before, owner);
  const std::size_t raw_events = storage.raw_data().cleanup_before(*before, owner);
  for (const auto& o : owners) memory.retrieval().evict(o);
  return {200,
          {{"before", format_iso8601(*before)},
           {"owner_id", owner.empty() ? nlohmann::json(nullptr) : nlohmann::json(owner)},
           {"deleted", {{"episodes", episodes}, {"raw_events", raw_events}}}}};
}

}  // namespace

void add_store_routes(Router& router, MemorySystem& memory) {
  router.add("GET", "/v1/stats", Access::kAdmin, with_memory(memory, store_stats));
  router.add("POST", "/v1/retention", Access::kAdmin, with_memory(memory, retention));
}

}  // namespace nemori::server
