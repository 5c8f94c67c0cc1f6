// Fuzz target: the REST server's request decoding (src/server/request_decoding.*), as the
// routes use it. The first byte chooses the input kind: even, a JSON body decoded the way
// POST .../messages, POST .../search and PATCH .../episodes/{id} decode theirs; odd, a query
// string (name=value pairs joined by '&') decoded the way the listings decode theirs, and an
// owner id of a path.
//
// Contract under test: any input is decoded or refused with an ApiError (a 400 naming the
// field) or a nemori::Error (mapped to a 4xx by to_api_error), whose JSON error body can be
// written; never a crash, a hang, undefined behaviour or another exception.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nemori/core/enums.h"
#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "server/api_error.h"
#include "server/request_decoding.h"

namespace {

using nemori::server::QueryParams;

const nemori::ServerLimits kLimits{};

// What the routes do with a body (owner_routes.cpp, episode_routes.cpp).
void decode_body(std::string_view text) {
  namespace s = nemori::server;
  const nlohmann::json body = s::parse_body(text, kLimits);
  // POST .../messages
  try {
    s::reject_unknown_keys(body, {"messages", "source"});
    if (const auto it = body.find("messages"); it != body.end() && it->is_array()) {
      for (std::size_t i = 0; i < it->size() && i < kLimits.max_messages; ++i) {
        (void)nemori::message_from_json((*it)[i], "messages[" + std::to_string(i) + "]");
      }
    }
    (void)s::string_field(body, "source", 256);
  } catch (const nemori::server::ApiError&) {
  } catch (const nemori::Error&) {
  }
  // POST .../search
  try {
    (void)s::string_field(body, "query", kLimits.max_query_bytes);
    (void)s::string_field(body, "mode", 16);
    (void)s::size_field(body, "top_k", 10, 1, kLimits.max_top_k);
    (void)s::size_field(body, "word_budget", 0, 0, kLimits.max_word_budget);
    (void)s::size_field(body, "neighbours", 0, 0, kLimits.max_neighbours);
    (void)s::time_range_field(body, "time_range");
  } catch (const nemori::server::ApiError&) {
  }
  // PATCH .../episodes/{id}
  (void)s::string_field(body, "title", kLimits.max_text_field_bytes);
  (void)s::number_field(body, "importance_score", 0, 1);
  (void)s::time_field(body, "timestamp");
}

// "a=1&b=2" -> {a: 1, b: 2} (values as the HTTP layer hands them: already decoded).
QueryParams params_of(std::string_view text) {
  QueryParams params;
  while (!text.empty()) {
    const std::size_t amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    const std::size_t eq = pair.find('=');
    params.emplace(std::string(pair.substr(0, eq)),
                   eq == std::string_view::npos ? std::string() : std::string(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
  return params;
}

// What the listings do with the query string (episode_routes.cpp, event_routes.cpp).
void decode_query(std::string_view text) {
  namespace s = nemori::server;
  const QueryParams params = params_of(text);
  try {
    (void)s::decode_owner(text, kLimits);
  } catch (const nemori::server::ApiError&) {
  }
  try {
    (void)s::size_param(params, "limit", 50, 1, kLimits.max_page_limit);
    (void)s::size_param(params, "offset", 0, 0, kLimits.max_offset);
  } catch (const nemori::server::ApiError&) {
  }
  try {
    (void)s::enum_list_param<nemori::EpisodeType>(params, "type", nemori::parse_episode_type);
  } catch (const nemori::server::ApiError&) {
  }
  try {
    (void)s::time_range_params(params);
  } catch (const nemori::server::ApiError&) {
  }
  try {
    (void)s::number_param(params, "min_importance", 0, 1);
    (void)s::bool_param(params, "processed");
    (void)s::order_param(params);
  } catch (const nemori::server::ApiError&) {
  }
  (void)s::param(params, "sort");
  (void)s::list_param(params, "type");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      decode_body(text);
    } else {
      decode_query(text);
    }
  } catch (...) {
    // What the router does with a refusal: only ApiError and nemori::Error may get here, and
    // their answer must be writable whatever bytes the message quotes.
    try {
      throw;
    } catch (const nemori::server::ApiError&) {
    } catch (const nemori::Error&) {
    }
    const nemori::server::ApiError error = nemori::server::to_api_error(std::current_exception());
    (void)error.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
