// Router: registers a route on the HTTP server with what every route shares: the bearer-key
// check and scope, the owner from the path, error answers as JSON, and the request's route
// and owner for the log line and the metrics.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "nemori/memory/memory_system.h"
#include "nemori/server/api_keys.h"
#include "nemori/server/server.h"
#include "request_decoding.h"

namespace nemori::server {

/// Who may call a route.
enum class Access {
  kPublic,  ///< Anyone (liveness, readiness, the OpenAPI document).
  kOwner,   ///< A key whose scope covers the {owner} of the path (else 404).
  kAdmin,   ///< An `admin` key (else 403).
  kAnyKey,  ///< Any known key; the handler limits what it reaches by Call::scope (/mcp).
};

/// One request as a handler sees it.
struct Call {
  const httplib::Request& request;
  const ServerLimits& limits;
  /// The decoded {owner} of the path (kOwner routes).
  std::string owner;
  /// The path's other parameters in order ({id}...).
  std::vector<std::string> path;
  /// The scope of the request's key; nullopt when the server runs without keys.
  std::optional<KeyScope> scope;
  /// The parsed JSON body (parse_body under the limits).
  nlohmann::json body() const { return parse_body(request.body, limits); }
  /// The query parameters.
  const QueryParams& params() const { return request.params; }
};

/// A handler's answer: JSON (the default) or text with its content type.
struct Reply {
  Reply(int status_code, nlohmann::json body) : status(status_code), json(std::move(body)) {}
  /// A text answer (`body` with `type`, e.g. the Prometheus format).
  static Reply text_of(std::string body, std::string type) {
    Reply reply(200, nullptr);
    reply.text = std::move(body);
    reply.content_type = std::move(type);
    return reply;
  }
  int status = 200;
  nlohmann::json json;
  std::string text;
  std::string content_type;  ///< Empty: the answer is `json`.
  /// Extra response headers (name, value).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// A route handler; throws ApiError or nemori errors for 4xx/5xx answers.
using Handler = std::function<Reply(Call&)>;

/// What the router records about the request being served on this thread.
struct RequestTrace {
  std::optional<std::chrono::steady_clock::time_point> start;
  std::string route = "unmatched";
  std::string owner;
  std::string error;  ///< Detail of a 500, for the log only.
};
/// The trace of the request this thread serves (httplib serves one at a time per thread).
RequestTrace& current_trace();

/// Registers routes on an httplib::Server.
class Router {
 public:
  Router(httplib::Server& http, const ApiKeys& keys, bool unauthenticated,
         const ServerLimits& limits)
      : http_(http), keys_(keys), unauthenticated_(unauthenticated), limits_(limits) {}

  /// Adds METHOD ROUTE, where ROUTE is a template such as /v1/owners/{owner}/episodes/{id}
  /// (each {name} matches one path segment; {owner} must come first).
  void add(std::string_view method, std::string_view route, Access access, Handler handler);
  /// Every (method, route template) added, in order.
  const std::vector<std::pair<std::string, std::string>>& routes() const { return routes_; }

 private:
  std::optional<KeyScope> authorize(const httplib::Request& request, Access access,
                                    const std::string& owner) const;

  httplib::Server& http_;
  const ApiKeys& keys_;
  bool unauthenticated_;
  const ServerLimits& limits_;
  std::vector<std::pair<std::string, std::string>> routes_;
};

/// A Handler that calls f(memory, call).
inline Handler with_memory(MemorySystem& memory, Reply (*f)(MemorySystem&, Call&)) {
  return [&memory, f](Call& call) { return f(memory, call); };
}

/// Writes `error` as the JSON answer.
void write_error(httplib::Response& response, const ApiError& error);

}  // namespace nemori::server
