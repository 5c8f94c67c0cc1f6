// Raw event routes: list (type, time range, processed or not, paging) and get one event.
#include <string>
#include <vector>

#include "api_error.h"
#include "nemori/core/enums.h"
#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "request_decoding.h"
#include "routes.h"

namespace nemori::server {

namespace {

Reply list_events(MemorySystem& memory, Call& call) {
  const QueryParams& params = call.params();
  RawDataQuery query;
  query.owner_ids = {call.owner};
  query.limit = size_param(params, "limit", 50, 1, call.limits.max_page_limit);
  query.offset = size_param(params, "offset", 0, 0, call.limits.max_offset);
  query.data_types = enum_list_param<DataType>(params, "type", parse_data_type);
  query.time_range = time_range_params(params);
  query.processed = bool_param(params, "processed");
  query.sort_order = order_param(params);
  const RawDataSearchResult found = memory.storage().raw_data().search(query);
  nlohmann::json events = nlohmann::json::array();
  for (const auto& event : found.events) events.push_back(to_json(event));
  return {200, page_json("events", std::move(events), found.total_count, found.has_more,
                         *query.limit, query.offset)};
}

Reply get_event(MemorySystem& memory, Call& call) {
  const auto event = memory.storage().raw_data().get(call.path.at(0));
  if (!event || event->owner_id != call.owner) throw not_found("event_id", "event not found");
  return {200, to_json(*event)};
}

}  // namespace

void add_event_routes(Router& router, MemorySystem& memory) {
  router.add("GET", "/v1/owners/{owner}/events", Access::kOwner, with_memory(memory, list_events));
  router.add("GET", "/v1/owners/{owner}/events/{id}", Access::kOwner,
             with_memory(memory, get_event));
}

}  // namespace nemori::server
