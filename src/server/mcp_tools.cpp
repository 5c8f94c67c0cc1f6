// The MCP tools: add_memory, search_memory, list_episodes, get_episode, delete_episode, flush.
#include "mcp_tools.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api_error.h"
#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/core/time.h"
#include "nemori/retrieval/hybrid.h"
#include "request_decoding.h"
#include "routes.h"

namespace nemori::server {

namespace {

using nlohmann::json;

// One tool: its description and what a call does. `run` returns the structured result and
// the text shown to the model; it throws ApiError or nemori errors on failure.
struct ToolResult {
  json structured;
  std::string text;
};
struct Tool {
  std::string_view name;
  std::string_view title;
  std::string_view description;
  json properties;                    // of the inputSchema, `owner` excluded
  std::vector<std::string> required;  // `owner` excluded
  bool read_only;
  bool destructive;
  ToolResult (*run)(MemorySystem& memory, const McpOptions& options, const std::string& owner,
                    const json& arguments);
};

json schema_string(std::string_view description) {
  return {{"type", "string"}, {"description", description}};
}
json schema_integer(std::string_view description, std::size_t min, std::size_t max) {
  return {{"type", "integer"}, {"minimum", min}, {"maximum", max}, {"description", description}};
}

std::string one_line(const Episode& episode) {
  return format_iso8601(episode.temporal_info.timestamp) + "  " + episode.title + "  (id " +
         episode.episode_id + ")";
}

// An episode as a model reads it: time, title, id, then the narrative.
std::string episode_text(const Episode& episode) {
  return one_line(episode) + "\n" + episode.content + "\n";
}

// The owner's episode `episode_id`, or "episode_id: episode not found".
Episode owned_episode(MemorySystem& memory, const std::string& owner, const json& arguments,
                      const ServerLimits& limits) {
  auto id = string_field(arguments, "episode_id", limits.max_owner_bytes);
  if (!id || id->empty()) throw bad_request("episode_id", "is required");
  auto episode = memory.get_episode(owner, *id);
  if (!episode) throw not_found("episode_id", "episode_id: episode not found");
  return std::move(*episode);
}

ToolResult add_memory(MemorySystem& memory, const McpOptions& options, const std::string& owner,
                      const json& arguments) {
  reject_unknown_keys(arguments, {"owner", "messages", "source"});
  const auto it = arguments.find("messages");
  if (it == arguments.end()) throw bad_request("messages", "is required");
  if (!it->is_array()) {
    throw bad_request("messages", std::string("expected an array, got ") + it->type_name());
  }
  if (it->empty()) throw bad_request("messages", "is empty");
  if (it->size() > options.limits.max_messages) {
    throw bad_request("messages", "holds " + std::to_string(it->size()) + " messages; at most " +
                                      std::to_string(options.limits.max_messages) + " per call");
  }
  std::vector<Message> messages;
  messages.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    messages.push_back(message_from_json((*it)[i], "messages[" + std::to_string(i) + "]"));
  }
  const std::string source = string_field(arguments, "source", 256).value_or("");
  const AddResult added = memory.add(owner, messages, {}, source);
  const std::size_t stored = added.message_ids.size() - added.already_stored;
  return {{{"message_ids", added.message_ids},
           {"stored", stored},
           {"already_stored", added.already_stored}},
          "stored " + std::to_string(stored) + " messages (" +
              std::to_string(added.already_stored) +
              " already stored); episodes are built from them in the background, or now by "
              "flush"};
}

ToolResult search_memory(MemorySystem& memory, const McpOptions& options, const std::string& owner,
                         const json& arguments) {
  reject_unknown_keys(arguments, {"owner", "query", "limit", "mode", "word_budget"});
  const ServerLimits& limits = options.limits;
  MemorySearchRequest request;
  request.owner_id = owner;
  auto query = string_field(arguments, "query", limits.max_query_bytes);
  if (!query) throw bad_request("query", "is required");
  request.query = std::move(*query);
  if (const auto mode = string_field(arguments, "mode", 16)) {
    try {
      request.mode = parse_search_mode(*mode);
    } catch (const ValidationError&) {
      throw bad_request("mode", "unknown value \"" + *mode + "\" (valid: bm25, vector, hybrid)");
    }
  }
  request.limit = size_field(arguments, "limit", 10, 1, limits.max_top_k);
  request.word_budget = size_field(arguments, "word_budget", 0, 0, limits.max_word_budget);
  const MemorySearchResponse found = memory.search(request);
  json hits = json::array();
  std::string text;
  for (std::size_t i = 0; i < found.hits.size(); ++i) {
    const MemoryHit& hit = found.hits[i];
    hits.push_back({{"episode", episode_json(hit.episode)},
                    {"score", hit.score},
                    {"raw_event_ids", hit.raw_event_ids},
                    {"neighbour", hit.neighbour},
                    {"words", hit.words}});
    text += "[" + std::to_string(i + 1) + "] " + episode_text(hit.episode) + "\n";
  }
  if (found.hits.empty()) text = "no episode matches \"" + request.query + "\"";
  return {{{"hits", std::move(hits)}, {"words", found.words}, {"took_ms", found.took_ms}},
          std::move(text)};
}

ToolResult list_episodes(MemorySystem& memory, const McpOptions& options, const std::string& owner,
                         const json& arguments) {
  reject_unknown_keys(arguments, {"owner", "limit", "offset"});
  const std::size_t limit = size_field(arguments, "limit", 20, 1, options.limits.max_page_limit);
  const std::size_t offset = size_field(arguments, "offset", 0, 0, options.limits.max_offset);
  EpisodeQuery query;
  query.owner_ids = {owner};
  query.limit = limit;
  query.offset = offset;
  query.sort_by = SortBy::kTimestamp;
  query.sort_order = SortOrder::kDesc;
  const EpisodeSearchResult found = memory.storage().episodes().search(query);
  json episodes = json::array();
  std::string text = std::to_string(found.total_count) + " episodes";
  if (!found.episodes.empty()) {
    text += "; " + std::to_string(offset + 1) + " to " +
            std::to_string(offset + found.episodes.size()) + ", newest first:";
  }
  for (const auto& episode : found.episodes) {
    episodes.push_back(episode_json(episode));
    text += "\n" + one_line(episode);
  }
  return {
      page_json("episodes", std::move(episodes), found.total_count, found.has_more, limit, offset),
      std::move(text)};
}

ToolResult get_episode(MemorySystem& memory, const McpOptions& options, const std::string& owner,
                       const json& arguments) {
  reject_unknown_keys(arguments, {"owner", "episode_id"});
  const Episode episode = owned_episode(memory, owner, arguments, options.limits);
  json structured = episode_json(episode);
  structured["raw_event_ids"] = memory.storage().episodes().raw_ids_for_episode(episode.episode_id);
  return {std::move(structured), episode_text(episode)};
}

ToolResult delete_episode(MemorySystem& memory, const McpOptions& options, const std::string& owner,
                          const json& arguments) {
  reject_unknown_keys(arguments, {"owner", "episode_id"});
  const Episode episode = owned_episode(memory, owner, arguments, options.limits);
  if (!memory.storage().episodes().remove(episode.episode_id)) {
    throw not_found("episode_id", "episode_id: episode not found");
  }
  memory.retrieval().remove_episode(owner, episode.episode_id);
  return {{{"deleted", episode.episode_id}}, "deleted episode " + episode.episode_id};
}

ToolResult flush(MemorySystem& memory, const McpOptions&, const std::string& owner,
                 const json& arguments) {
  reject_unknown_keys(arguments, {"owner"});
  const ProcessResult done = memory.flush(owner);
  return {process_result_json(done),
          "built " + std::to_string(done.episodes) + " episodes from " +
              std::to_string(done.raw_events) + " pending messages"};
}

const std::vector<Tool>& tools() {
  static const ServerLimits limits;
  static const std::vector<Tool> all = {
      {"add_memory",
       "Add memory",
       "Store conversation messages in the owner's memory. Episodes are built from them in the "
       "background (or at once by flush).",
       {{"messages",
         {{"type", "array"},
          {"minItems", 1},
          {"maxItems", limits.max_messages},
          {"description", "The messages, oldest first."},
          {"items",
           {{"type", "object"},
            {"properties",
             {{"speaker_id", schema_string("Who spoke (a user or agent id).")},
              {"content", schema_string("What was said.")},
              {"timestamp", schema_string("When, ISO-8601 (default: now).")},
              {"role", {{"type", "string"}, {"enum", {"user", "assistant", "system"}}}},
              {"user_name", schema_string("The speaker's display name.")}}},
            {"required", {"speaker_id", "content"}}}}}},
        {"source", schema_string("Where the messages come from (an application name).")}},
       {"messages"},
       false,
       false,
       add_memory},
      {"search_memory",
       "Search memory",
       "Find the owner's episodes relevant to a query; returns them as text, best first, and as "
       "structured content.",
       {{"query", schema_string("What to look for.")},
        {"limit", schema_integer("How many episodes at most (default 10).", 1, limits.max_top_k)},
        {"mode",
         {{"type", "string"},
          {"enum", {"bm25", "vector", "hybrid"}},
          {"description", "Ranking (default: hybrid with an embedding model, else bm25)."}}},
        {"word_budget", schema_integer("Stop adding episodes past this many words (0: no budget).",
                                       0, limits.max_word_budget)}},
       {"query"},
       true,
       false,
       search_memory},
      {"list_episodes",
       "List episodes",
       "List the owner's episodes, newest first, a page at a time.",
       {{"limit", schema_integer("Episodes per page (default 20).", 1, limits.max_page_limit)},
        {"offset", schema_integer("Episodes to skip (default 0).", 0, limits.max_offset)}},
       {},
       true,
       false,
       list_episodes},
      {"get_episode",
       "Get an episode",
       "One episode of the owner by id, with the ids of the messages it was built from.",
       {{"episode_id", schema_string("The episode's id.")}},
       {"episode_id"},
       true,
       false,
       get_episode},
      {"delete_episode",
       "Delete an episode",
       "Delete one episode of the owner by id (its messages stay stored).",
       {{"episode_id", schema_string("The episode's id.")}},
       {"episode_id"},
       false,
       true,
       delete_episode},
      {"flush",
       "Flush",
       "Build episodes now from every message of the owner not yet built into one.",
       json::object(),
       {},
       false,
       false,
       flush},
  };
  return all;
}

const Tool* find_tool(std::string_view name) {
  for (const auto& tool : tools()) {
    if (tool.name == name) return &tool;
  }
  return nullptr;
}

json error_result(const std::string& message) {
  return {{"content", json::array({{{"type", "text"}, {"text", message}}})}, {"isError", true}};
}

// The owner a call works on: the session's fixed owner, else the `owner` argument, checked
// and within the session's reach ("owner not found" otherwise, as for an unknown owner).
std::string owner_of(const McpOptions& options, const json& arguments) {
  if (!options.fixed_owner.empty()) {
    if (arguments.contains("owner")) {
      throw bad_request("owner", "this server works on one owner only (nemori mcp --owner)");
    }
    return options.fixed_owner;
  }
  const auto owner = string_field(arguments, "owner", options.limits.max_owner_bytes);
  if (!owner) throw bad_request("owner", "is required");
  std::string id = decode_owner(*owner, options.limits);
  if (options.reaches && !options.reaches(id)) throw not_found("owner", "owner not found");
  return id;
}

}  // namespace

nlohmann::json mcp_tool_list(const McpOptions& options) {
  json list = json::array();
  for (const auto& tool : tools()) {
    json properties = tool.properties.is_null() ? json::object() : tool.properties;
    json required = tool.required;
    if (options.fixed_owner.empty()) {
      properties["owner"] = schema_string("Whose memory: the owner id (a user or agent).");
      required.insert(required.begin(), "owner");
    }
    json schema = {
        {"type", "object"}, {"properties", std::move(properties)}, {"additionalProperties", false}};
    if (!required.empty()) schema["required"] = std::move(required);
    list.push_back({{"name", tool.name},
                    {"title", tool.title},
                    {"description", tool.description},
                    {"inputSchema", std::move(schema)},
                    {"annotations",
                     {{"title", tool.title},
                      {"readOnlyHint", tool.read_only},
                      {"destructiveHint", tool.destructive},
                      {"idempotentHint", tool.read_only || tool.destructive},
                      {"openWorldHint", false}}}});
  }
  return list;
}

bool is_mcp_tool(std::string_view name) {
  return find_tool(name) != nullptr;
}

nlohmann::json call_mcp_tool(MemorySystem& memory, const McpOptions& options, std::string_view name,
                             const nlohmann::json& arguments) {
  const Tool* tool = find_tool(name);
  if (tool == nullptr) return error_result("unknown tool \"" + std::string(name) + "\"");
  try {
    const json args = arguments.is_null() ? json::object() : arguments;
    if (!args.is_object()) {
      throw bad_request("arguments", std::string("expected an object, got ") + args.type_name());
    }
    const std::string owner = owner_of(options, args);
    ToolResult result = tool->run(memory, options, owner, args);
    return {{"content", json::array({{{"type", "text"}, {"text", std::move(result.text)}}})},
            {"structuredContent", std::move(result.structured)},
            {"isError", false}};
  } catch (...) {
    return error_result(to_api_error(std::current_exception()).what());
  }
}

}  // namespace nemori::server
