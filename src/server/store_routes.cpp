// Store-wide routes for admin keys: statistics and retention.
#include <string>

#include "api_error.h"
#include "nemori/core/time.h"
#include "nemori/storage/stats_json.h"
#include "request_decoding.h"
#include "routes.h"

namespace nemori::server {

namespace {

Reply store_stats(MemorySystem& memory, Call&) {
  nlohmann::json stats = to_json(memory.storage().stats());
  stats["pending_by_owner"] = pending_by_owner(memory.storage());
  return {200, stats};
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
