// EpisodeRepository's fixed lookups, expressed once through search() for every backend.
#include "nemori/core/error.h"
#include "nemori/storage/repository.h"

namespace nemori {

namespace {

// by_owner and by_time_range are per-owner lookups: an empty owner is a caller error.
void require_owner(const std::string& owner_id) {
  if (owner_id.empty()) {
    throw ValidationError("owner_id", "is required (this lookup is per owner)");
  }
}

// One owner's episodes (every owner's when empty) in time order, at most `limit`.
EpisodeQuery timeline_query(const std::string& owner_id, std::optional<std::size_t> limit,
                            SortOrder order) {
  EpisodeQuery query;
  if (!owner_id.empty()) query.owner_ids = {owner_id};
  query.limit = limit;
  query.sort_by = SortBy::kTimestamp;
  query.sort_order = order;
  return query;
}

}  // namespace

EpisodeSearchResult EpisodeRepository::by_owner(const std::string& owner_id,
                                                std::optional<std::size_t> limit,
                                                std::size_t offset) {
  require_owner(owner_id);
  EpisodeQuery query = timeline_query(owner_id, limit, SortOrder::kDesc);
  query.offset = offset;
  return search(query);
}

EpisodeSearchResult EpisodeRepository::by_time_range(const std::string& owner_id,
                                                     const TimeRange& range,
                                                     std::optional<std::size_t> limit) {
  require_owner(owner_id);
  EpisodeQuery query = timeline_query(owner_id, limit, SortOrder::kAsc);
  query.time_range = range;
  return search(query);
}

EpisodeSearchResult EpisodeRepository::recent(const std::string& owner_id, int hours,
                                              std::optional<std::size_t> limit) {
  EpisodeQuery query = timeline_query(owner_id, limit, SortOrder::kDesc);
  query.recent_hours = hours;
  return search(query);
}

}  // namespace nemori
