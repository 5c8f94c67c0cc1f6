// The route groups of the REST server, one file each (docs/api.md lists every route).
#pragma once

#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "metrics.h"
#include "nemori/core/episode.h"
#include "nemori/llm/stats.h"
#include "nemori/memory/memory_system.h"
#include "router.h"

namespace nemori::server {

/// POST .../messages, POST .../flush, POST .../search, GET .../stats, DELETE /v1/owners/{owner}.
void add_owner_routes(Router& router, MemorySystem& memory);
/// GET .../episodes, GET/PATCH/DELETE .../episodes/{id}.
void add_episode_routes(Router& router, MemorySystem& memory);
/// GET .../statements, GET/DELETE .../statements/{id}, GET .../statements/{id}/history.
void add_statement_routes(Router& router, MemorySystem& memory);
/// GET .../events, GET .../events/{id}.
void add_event_routes(Router& router, MemorySystem& memory);
/// GET /v1/stats, POST /v1/retention (admin).
void add_store_routes(Router& router, MemorySystem& memory);
/// /healthz, /readyz, /metrics, /v1/openapi.json.
void add_health_routes(Router& router, MemorySystem& memory, const RequestMetrics& metrics,
                       std::shared_ptr<const LlmStats> llm_stats);

/// An episode as the API shows it: to_json(episode) without the embedding vector (it can hold
/// thousands of numbers; "has_embedding" says whether there is one).
nlohmann::json episode_json(const Episode& episode);

/// A statement as the API shows it: to_json(statement) without the embedding vector
/// ("has_embedding" says whether there is one).
nlohmann::json statement_json(const Statement& statement);

/// What a flush built: {"raw_events", "episodes", "semantic_episodes", "statements_added",
/// "merges"}.
nlohmann::json process_result_json(const ProcessResult& result);

/// A page of a listing: {NAME: items, "total_count", "has_more", "limit", "offset"}.
nlohmann::json page_json(std::string_view name, nlohmann::json items, std::size_t total_count,
                         bool has_more, std::size_t limit, std::size_t offset);

/// The OpenAPI 3 document (docs/openapi.json, compiled in).
std::string_view openapi_document();

}  // namespace nemori::server
