// Server: cpp-httplib set up with the limits, the routes, the per-request log line and the
// metrics (docs/api.md).
#include "nemori/server/server.h"

#include <sys/socket.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>

#include <httplib.h>

#include "api_error.h"
#include "mcp_http.h"
#include "metrics.h"
#include "nemori/core/error.h"
#include "nemori/core/time.h"
#include "router.h"
#include "routes.h"

namespace nemori {

namespace {

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The answer httplib gives on its own (no route, body too large, malformed request) as JSON.
server::ApiError transport_error(const httplib::Request& request, int status,
                                 const ServerLimits& limits) {
  switch (status) {
    case 404:
      return server::not_found("", "no route " + request.method + " " + request.path);
    case 413:
      return server::ApiError(
          413, "payload_too_large", "body",
          "body: larger than " + std::to_string(limits.max_body_bytes) + " bytes");
    case 400:
      return server::bad_request(
          "",
          "malformed HTTP request (a POST or PATCH needs a Content-Length header; with "
          "curl, pass a body: -d '{}')");
    default:
      return server::ApiError(status, "http_error", "", "HTTP status " + std::to_string(status));
  }
}

}  // namespace

class Server::Impl {
 public:
  Impl(MemorySystem& memory, ServerOptions options)
      : memory_(memory),
        options_(std::move(options)),
        router_(http_, options_.keys, options_.keys.empty(), options_.limits) {
    if (options_.keys.empty() && !options_.unauthenticated) {
      throw ConfigError(
          "no API keys: set NEMORI_API_KEYS (KEY=SCOPE pairs, comma-separated) or pass "
          "--unauthenticated to serve without keys on loopback");
    }
    if (options_.keys.empty() && !is_loopback(options_.host)) {
      throw ConfigError("--host " + options_.host +
                        ": without API keys the server binds to loopback only (127.0.0.1, ::1)");
    }
    if (!options_.log) {
      options_.log = [](std::string_view line) {
        std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data());
      };
    }
    configure();
    server::add_owner_routes(router_, memory_);
    server::add_episode_routes(router_, memory_);
    server::add_statement_routes(router_, memory_);
    server::add_event_routes(router_, memory_);
    server::add_store_routes(router_, memory_);
    server::add_health_routes(router_, memory_, metrics_, options_.llm_stats);
    server::add_mcp_routes(router_, memory_, options_.limits);
    bind();
  }

  int port() const { return port_; }
  const std::vector<std::pair<std::string, std::string>>& routes() const {
    return router_.routes();
  }
  void run() { http_.listen_after_bind(); }
  void stop() { http_.stop(); }

 private:
  void configure() {
    const ServerLimits& limits = options_.limits;
    const std::size_t threads = std::max<std::size_t>(1, options_.threads);
    http_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http_.set_tcp_nodelay(true);  // else Nagle and delayed ACKs add ~40 ms per answer
    http_.set_payload_max_length(limits.max_body_bytes);
    http_.set_read_timeout(limits.read_timeout);
    http_.set_write_timeout(limits.write_timeout);
    http_.set_keep_alive_timeout(limits.keep_alive_timeout.count());
    http_.set_keep_alive_max_count(1000);
    http_.set_socket_options([this](int fd) {
      int yes = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listener_ = fd;
    });
    http_.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      server::current_trace().start = std::chrono::steady_clock::now();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http_.set_error_handler(httplib::Server::HandlerWithResponse(
        [this](const httplib::Request& request, httplib::Response& response) {
          if (!response.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
          server::write_error(response, transport_error(request, response.status, options_.limits));
          return httplib::Server::HandlerResponse::Handled;
        }));
    http_.set_logger([this](const httplib::Request& request, const httplib::Response& response) {
      log_request(request, response);
    });
  }

  void bind() {
    const bool bound = options_.port == 0 ? (port_ = http_.bind_to_any_port(options_.host)) > 0
                                          : http_.bind_to_port(options_.host, options_.port);
    if (!bound) {
      throw ConfigError("cannot listen on " + options_.host + ":" + std::to_string(options_.port) +
                        " (in use, or not an address of this machine)");
    }
    if (options_.port != 0) port_ = options_.port;
    // libcpp-httplib 0.11 listens with a backlog of 5: clients connecting at once beyond it
    // wait for SYN retransmits (1 s, 3 s...). listen() again raises it (docs/api.md).
    if (listener_ >= 0) ::listen(listener_, SOMAXCONN);
  }

  // One JSON line per request: time, method, route template, status, latency, owner. Never
  // the body, the query string or a header (keys, content stay out of logs).
  void log_request(const httplib::Request& request, const httplib::Response& response) {
    server::RequestTrace& trace = server::current_trace();
    const double seconds =
        trace.start
            ? std::chrono::duration<double>(std::chrono::steady_clock::now() - *trace.start).count()
            : 0.0;
    metrics_.record(trace.route, request.method, response.status, seconds);
    nlohmann::json line = {{"time", format_iso8601(now_utc())},
                           {"method", request.method},
                           {"route", trace.route},
                           {"status", response.status},
                           {"ms", std::round(seconds * 1e6) / 1e3}};
    if (!trace.owner.empty()) line["owner"] = trace.owner;
    if (!trace.error.empty()) line["error"] = trace.error;
    options_.log(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    trace = server::RequestTrace{};
  }

  MemorySystem& memory_;
  ServerOptions options_;
  httplib::Server http_;
  server::RequestMetrics metrics_;
  server::Router router_;
  int listener_ = -1;
  int port_ = 0;
};

Server::Server(MemorySystem& memory, ServerOptions options)
    : impl_(std::make_unique<Impl>(memory, std::move(options))) {}
Server::~Server() {
  impl_->stop();
}
int Server::port() const {
  return impl_->port();
}
const std::vector<std::pair<std::string, std::string>>& Server::routes() const {
  return impl_->routes();
}
void Server::run() {
  impl_->run();
}
void Server::stop() {
  impl_->stop();
}

}  // namespace nemori
