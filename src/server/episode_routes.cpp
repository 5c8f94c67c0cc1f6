// Episode routes: list (paging, sort, filters), get, update, delete one episode.
#include <string>
#include <vector>

#include "api_error.h"
#include "nemori/core/enums.h"
#include "nemori/core/error.h"
#include "request_decoding.h"
#include "routes.h"

namespace nemori::server {

namespace {

// The listing's page: `limit` and `offset` within the server's bounds.
struct Page {
  std::size_t limit;
  std::size_t offset;
};

Page page_of(const Call& call) {
  return {size_param(call.params(), "limit", 50, 1, call.limits.max_page_limit),
          size_param(call.params(), "offset", 0, 0, call.limits.max_offset)};
}

Reply list_episodes(MemorySystem& memory, Call& call) {
  EpisodeQuery query;
  query.owner_ids = {call.owner};
  const Page page = page_of(call);
  query.limit = page.limit;
  query.offset = page.offset;
  query.episode_types = enum_list_param<EpisodeType>(call.params(), "type", parse_episode_type);
  query.time_range = time_range_params(call.params());
  query.min_importance = number_param(call.params(), "min_importance", 0, 1);
  query.max_importance = number_param(call.params(), "max_importance", 0, 1);
  if (const auto sort = param(call.params(), "sort")) {
    if (*sort == "timestamp")
      query.sort_by = SortBy::kTimestamp;
    else if (*sort == "importance")
      query.sort_by = SortBy::kImportance;
    else if (*sort == "recall_count")
      query.sort_by = SortBy::kRecallCount;
    else
      throw bad_request(
          "sort", "unknown value \"" + *sort + "\" (valid: timestamp, importance, recall_count)");
  }
  query.sort_order = order_param(call.params());
  const EpisodeSearchResult found = memory.storage().episodes().search(query);
  nlohmann::json episodes = nlohmann::json::array();
  for (const auto& episode : found.episodes) episodes.push_back(episode_json(episode));
  return {200, page_json("episodes", std::move(episodes), found.total_count, found.has_more,
                         page.limit, page.offset)};
}

// The owner's episode named by the path, or a 404.
Episode owned_episode(MemorySystem& memory, const Call& call) {
  auto episode = memory.get_episode(call.owner, call.path.at(0));
  if (!episode) throw not_found("episode_id", "episode not found");
  return std::move(*episode);
}

Reply get_episode(MemorySystem& memory, Call& call) {
  const Episode episode = owned_episode(memory, call);
  nlohmann::json j = episode_json(episode);
  j["raw_event_ids"] = memory.storage().episodes().raw_ids_for_episode(episode.episode_id);
  return {200, j};
}

Reply update_episode(MemorySystem& memory, Call& call) {
  const nlohmann::json body = call.body();
  reject_unknown_keys(body, {"title", "content", "summary", "importance_score", "search_keywords"});
  if (body.empty()) throw bad_request("body", "names no field to change");
  const std::size_t max_text = call.limits.max_text_field_bytes;
  // Everything is decoded and checked before anything is stored.
  Episode episode = owned_episode(memory, call);
  if (auto v = string_field(body, "title", max_text)) episode.title = *v;
  if (auto v = string_field(body, "content", max_text)) episode.content = *v;
  if (auto v = string_field(body, "summary", max_text)) episode.summary = *v;
  if (auto v = number_field(body, "importance_score", 0, 1)) episode.importance_score = *v;
  if (const auto it = body.find("search_keywords"); it != body.end()) {
    if (!it->is_array()) throw bad_request("search_keywords", "expected an array of strings");
    std::vector<std::string> keywords;
    for (std::size_t i = 0; i < it->size(); ++i) {
      const auto& k = (*it)[i];
      if (!k.is_string() || k.get_ref<const std::string&>().size() > 256) {
        throw bad_request("search_keywords[" + std::to_string(i) + "]",
                          "expected a string of at most 256 bytes");
      }
      keywords.push_back(k.get<std::string>());
    }
    episode.search_keywords = std::move(keywords);
  }
  if (episode.title.empty() && episode.content.empty()) {
    throw bad_request("title", "title and content cannot both be empty");
  }
  validate(episode);
  if (!memory.storage().episodes().update(episode)) {
    throw not_found("episode_id", "episode not found");
  }
  memory.retrieval().index_episode(episode);  // replaces the indexed version
  return {200, episode_json(episode)};
}

Reply delete_episode(MemorySystem& memory, Call& call) {
  const Episode episode = owned_episode(memory, call);
  // Links, semantic progress, statements only it supported (reopening what they closed), and
  // the index entries, in one transaction.
  const EpisodeDeletion deleted = memory.delete_episode(call.owner, episode.episode_id);
  if (!deleted.deleted) throw not_found("episode_id", "episode not found");
  return {200,
          {{"deleted", episode.episode_id},
           {"statements_removed", deleted.statements_removed},
           {"statements_reopened", deleted.statements_reopened}}};
}

}  // namespace

void add_episode_routes(Router& router, MemorySystem& memory) {
  router.add("GET", "/v1/owners/{owner}/episodes", Access::kOwner,
             with_memory(memory, list_episodes));
  router.add("GET", "/v1/owners/{owner}/episodes/{id}", Access::kOwner,
             with_memory(memory, get_episode));
  router.add("PATCH", "/v1/owners/{owner}/episodes/{id}", Access::kOwner,
             with_memory(memory, update_episode));
  router.add("DELETE", "/v1/owners/{owner}/episodes/{id}", Access::kOwner,
             with_memory(memory, delete_episode));
}

}  // namespace nemori::server
