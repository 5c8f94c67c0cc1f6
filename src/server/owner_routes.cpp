// Owner routes: add messages, flush, search, owner stats, delete the owner.
#include <optional>
#include <string>
#include <vector>

#include "api_error.h"
#include "nemori/core/json.h"
#include "request_decoding.h"
#include "routes.h"

namespace nemori::server {

namespace {

Reply add_messages(MemorySystem& memory, Call& call) {
  const nlohmann::json body = call.body();
  reject_unknown_keys(body, {"messages", "source"});
  const auto it = body.find("messages");
  if (it == body.end()) throw bad_request("messages", "is required");
  if (!it->is_array()) {
    throw bad_request("messages", std::string("expected an array, got ") + it->type_name());
  }
  if (it->empty()) throw bad_request("messages", "is empty");
  if (it->size() > call.limits.max_messages) {
    throw bad_request("messages", "holds " + std::to_string(it->size()) + " messages; at most " +
                                      std::to_string(call.limits.max_messages) + " per request");
  }
  std::vector<Message> messages;
  messages.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    messages.push_back(message_from_json((*it)[i], "messages[" + std::to_string(i) + "]"));
  }
  const std::string source = string_field(body, "source", 256).value_or("");
  const AddResult added = memory.add(call.owner, messages, {}, source);
  return {202,
          {{"message_ids", added.message_ids},
           {"stored", added.message_ids.size() - added.already_stored},
           {"already_stored", added.already_stored}}};
}

Reply flush(MemorySystem& memory, Call& call) {
  const nlohmann::json body = call.body();
  reject_unknown_keys(body, {});
  const ProcessResult done = memory.flush(call.owner);
  return {200, process_result_json(done)};
}

// The "mode" field; nullopt when absent (the engine's default: hybrid with an embedding
// model, BM25 without).
std::optional<SearchMode> search_mode(const nlohmann::json& body) {
  const auto mode = string_field(body, "mode", 16);
  if (!mode) return std::nullopt;
  if (*mode == "bm25") return SearchMode::kBm25;
  if (*mode == "vector") return SearchMode::kVector;
  if (*mode == "hybrid") return SearchMode::kHybrid;
  throw bad_request("mode", "unknown value \"" + *mode + "\" (valid: bm25, vector, hybrid)");
}

Reply search(MemorySystem& memory, Call& call) {
  const nlohmann::json body = call.body();
  reject_unknown_keys(body, {"query", "mode", "top_k", "word_budget", "neighbours", "time_range",
                             "statements", "statement_word_budget", "as_of",
                             "include_superseded"});
  const ServerLimits& limits = call.limits;
  MemorySearchRequest request;
  request.owner_id = call.owner;
  auto query = string_field(body, "query", limits.max_query_bytes);
  if (!query) throw bad_request("query", "is required");
  request.query = std::move(*query);
  request.mode = search_mode(body);
  request.limit = size_field(body, "top_k", 10, 1, limits.max_top_k);
  request.word_budget = size_field(body, "word_budget", 0, 0, limits.max_word_budget);
  request.neighbours = size_field(body, "neighbours", 0, 0, limits.max_neighbours);
  request.time_range = time_range_field(body, "time_range");
  request.statement_limit = size_field(body, "statements", 10, 0, limits.max_top_k);
  request.statement_word_budget =
      size_field(body, "statement_word_budget", 0, 0, limits.max_word_budget);
  request.as_of = time_field(body, "as_of");
  if (const auto it = body.find("include_superseded"); it != body.end()) {
    if (!it->is_boolean())
      throw bad_request("include_superseded", std::string("expected a boolean, got ") + it->type_name());
    request.include_superseded = it->get<bool>();
  }
  const MemorySearchResponse found = memory.search(request);
  nlohmann::json hits = nlohmann::json::array();
  for (const auto& hit : found.hits) {
    hits.push_back({{"episode", episode_json(hit.episode)},
                    {"score", hit.score},
                    {"bm25_score", hit.bm25_score},
                    {"vector_score", hit.vector_score},
                    {"raw_event_ids", hit.raw_event_ids},
                    {"neighbour", hit.neighbour},
                    {"words", hit.words}});
  }
  nlohmann::json statements = nlohmann::json::array();
  for (const auto& hit : found.statements) {
    statements.push_back({{"statement", statement_json(hit.statement)},
                          {"score", hit.score},
                          {"bm25_score", hit.bm25_score},
                          {"vector_score", hit.vector_score},
                          {"current", hit.current},
                          {"words", hit.words}});
  }
  return {200,
          {{"hits", hits},
           {"words", found.words},
           {"statements", statements},
           {"statement_words", found.statement_words},
           {"took_ms", found.took_ms}}};
}

Reply owner_stats(MemorySystem& memory, Call& call) {
  Storage& storage = memory.storage();
  return {200,
          {{"owner_id", call.owner},
           {"raw_events", storage.raw_data().count(call.owner)},
           {"episodes", storage.episodes().count(call.owner)},
           {"pending_raw_events", pending_raw_events(storage, call.owner)}}};
}

Reply delete_owner(MemorySystem& memory, Call& call) {
  const OwnerDeletion deleted = memory.delete_owner(call.owner);
  return {200,
          {{"deleted",
            {{"raw_events", deleted.raw_events},
             {"episodes", deleted.episodes},
             {"links", deleted.links}}}}};
}

}  // namespace

void add_owner_routes(Router& router, MemorySystem& memory) {
  router.add("POST", "/v1/owners/{owner}/messages", Access::kOwner,
             with_memory(memory, add_messages));
  router.add("POST", "/v1/owners/{owner}/flush", Access::kOwner, with_memory(memory, flush));
  router.add("POST", "/v1/owners/{owner}/search", Access::kOwner, with_memory(memory, search));
  router.add("GET", "/v1/owners/{owner}/stats", Access::kOwner, with_memory(memory, owner_stats));
  router.add("DELETE", "/v1/owners/{owner}", Access::kOwner, with_memory(memory, delete_owner));
}

}  // namespace nemori::server
