// The REST server: nemori as a service, JSON over HTTP/1.1 on cpp-httplib (docs/api.md).
//
// Routes live under /v1/ (owner routes under /v1/owners/{owner}/, store-wide ones for `admin`
// keys), plus /healthz, /readyz, /metrics and /v1/openapi.json. Every 4xx/5xx answer has the
// body {"error": {"code", "message", "field"}}; a request that fails changes nothing.
//
// Security: with API keys (api_keys.h) every route but /healthz, /readyz and the OpenAPI
// document needs `Authorization: Bearer KEY`; a key outside its scope gets 404 for an owner
// (owners cannot be probed) and 403 for a store-wide route. Without keys the server refuses
// to start unless `unauthenticated` is set, and then it binds to loopback only.
//
// Thread safety: start() and stop() may be called from different threads (stop() from a
// signal-watching thread while another blocks in wait()). Requests run on a pool of
// `ServerOptions::threads` workers; a keep-alive connection holds its worker while it lasts.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nemori/llm/stats.h"
#include "nemori/memory/memory_system.h"
#include "nemori/server/api_keys.h"

namespace nemori {

/// Bounds on what a request may hold; larger input is a 400 (413 for the body) naming the
/// field and the bound.
struct ServerLimits {
  std::size_t max_body_bytes = 4 << 20;        ///< Request body (413 above).
  std::size_t max_json_depth = 32;             ///< Nesting of a request body.
  std::size_t max_messages = 1000;             ///< Messages in one POST .../messages.
  std::size_t max_owner_bytes = 256;           ///< An owner id in a path.
  std::size_t max_query_bytes = 4096;          ///< A search query.
  std::size_t max_top_k = 100;                 ///< Search hits.
  std::size_t max_neighbours = 10;             ///< Search neighbours per hit.
  std::size_t max_word_budget = 100000;        ///< Search word budget.
  std::size_t max_page_limit = 1000;           ///< `limit` of a listing.
  std::size_t max_offset = 1000000;            ///< `offset` of a listing.
  std::size_t max_text_field_bytes = 1 << 20;  ///< title / content / summary of a PATCH.
  /// A connection that sends nothing (or cannot take the answer) for this long is closed.
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  /// An idle keep-alive connection is closed after this long (it holds a worker meanwhile).
  std::chrono::seconds keep_alive_timeout{5};
};

/// Settings of a Server.
struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  ///< 0: any free port (read it with Server::port()).
  /// Worker threads; each keep-alive connection holds one (docs/api.md).
  std::size_t threads = 64;
  ServerLimits limits;
  ApiKeys keys;
  /// Serve without keys (loopback hosts only: 127.0.0.1, ::1, localhost).
  bool unauthenticated = false;
  /// Token counters of the MemorySystem's LLM clients, shown in /metrics (null: none).
  std::shared_ptr<const LlmStats> llm_stats;
  /// Receives one JSON line per request (route, status, latency, owner; never content) and
  /// server events. Null: stderr. Called from worker threads, one line at a time.
  std::function<void(std::string_view line)> log;
};

/// An HTTP server over one MemorySystem. Not copyable.
class Server {
 public:
  /// Checks the options and binds the listening socket (so port() is known). Throws
  /// ConfigError when there are no keys and `unauthenticated` is not set, when
  /// `unauthenticated` is asked for a host that is not loopback, or when the address cannot
  /// be bound (naming it). `memory` must outlive the Server.
  Server(MemorySystem& memory, ServerOptions options);
  /// Stops (as stop()) and waits for the workers.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The bound port.
  int port() const;
  /// Every route served, as (method, template) pairs: ("GET", "/v1/owners/{owner}/episodes").
  const std::vector<std::pair<std::string, std::string>>& routes() const;
  /// Serves requests until stop(); blocks. Returns after every in-flight request finished.
  void run();
  /// Stops accepting connections; requests under way finish, keep-alive connections close
  /// after their current request. run() then returns. Idempotent; safe from any thread.
  void stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemori
