// The streamable HTTP transport of MCP: sessions, headers and statuses around McpSession.
#include "mcp_http.h"

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "api_error.h"
#include "nemori/server/mcp.h"

namespace nemori::server {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kSessionHeader = "Mcp-Session-Id";
constexpr std::string_view kVersionHeader = "MCP-Protocol-Version";
// The revision a request without the version header speaks (the transport's rule).
constexpr std::string_view kVersionWithoutHeader = "2025-03-26";

// The sessions `initialize` opened on this server: id -> the scope of the key that opened it
// and the negotiated revision. Bounded: the least recently used goes first; idle ones expire.
class SessionTable {
 public:
  struct Entry {
    std::string scope;  // KeyScope::text of the opening key; "" without keys
    std::string version;
    Clock::time_point used;
  };
  static constexpr std::size_t kMaxSessions = 10000;
  static constexpr std::chrono::hours kIdleExpiry{24};

  std::string open(std::string scope, std::string version) {
    std::lock_guard lock(mutex_);
    if (sessions_.size() >= kMaxSessions) evict_oldest();
    std::string id = new_id();
    sessions_[id] = Entry{std::move(scope), std::move(version), Clock::now()};
    return id;
  }

  // The session `id` opened by a key of `scope`; nullopt when unknown, expired or opened by a
  // key of another scope.
  std::optional<Entry> find(const std::string& id, const std::string& scope) {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.scope != scope) return std::nullopt;
    if (Clock::now() - it->second.used > kIdleExpiry) {
      sessions_.erase(it);
      return std::nullopt;
    }
    it->second.used = Clock::now();
    return it->second;
  }

  bool close(const std::string& id, const std::string& scope) {
    std::lock_guard lock(mutex_);
    const auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.scope != scope) return false;
    sessions_.erase(it);
    return true;
  }

 private:
  void evict_oldest() {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.used < oldest->second.used) oldest = it;
    }
    if (oldest != sessions_.end()) sessions_.erase(oldest);
  }

  // 128 random bits as 32 hex digits (visible ASCII, as the transport asks).
  std::string new_id() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 4; ++i) {
      std::uint32_t bits = random_();
      for (int j = 0; j < 8; ++j, bits >>= 4) id += kHex[bits & 0xf];
    }
    return id;
  }

  std::mutex mutex_;
  std::map<std::string, Entry> sessions_;
  std::random_device random_;
};

std::string scope_text(const Call& call) {
  return call.scope ? call.scope->text : std::string();
}

// True for an Origin naming this machine (http://localhost:3000, http://127.0.0.1...).
bool loopback_origin(const std::string& origin) {
  std::string host =
      origin.substr(origin.find("://") == std::string::npos ? 0 : origin.find("://") + 3);
  if (host.rfind("[::1]", 0) == 0) return true;
  host = host.substr(0, host.find_first_of(":/"));
  return host == "localhost" || host.rfind("127.", 0) == 0;
}

// Checks what every MCP request carries: without keys, a browser page of another site
// (a non-loopback Origin) is refused (DNS rebinding); a version header must name a revision
// this server speaks.
void check_transport_headers(const Call& call) {
  const httplib::Request& request = call.request;
  if (!call.scope && request.has_header("Origin") &&
      !loopback_origin(request.get_header_value("Origin"))) {
    throw ApiError(403, "forbidden", "Origin",
                   "Origin: only pages of this machine may call /mcp without API keys");
  }
  if (request.has_header(std::string(kVersionHeader).c_str())) {
    const std::string version = request.get_header_value(std::string(kVersionHeader).c_str());
    if (!is_mcp_protocol_version(version)) {
      throw bad_request(std::string(kVersionHeader), "unsupported protocol version \"" + version +
                                                         "\" (supported: 2025-11-25, 2025-06-18, "
                                                         "2025-03-26, 2024-11-05)");
    }
  }
}

Reply post_message(MemorySystem& memory, const ServerLimits& limits, SessionTable& sessions,
                   Call& call) {
  check_transport_headers(call);
  const httplib::Request& request = call.request;
  const std::optional<KeyScope> scope = call.scope;
  McpOptions options;
  options.limits = limits;
  options.stateless = true;
  if (scope) {
    options.reaches = [scope](std::string_view owner) { return scope->covers(owner); };
  }
  McpSession session(memory, std::move(options));
  const std::string session_header(kSessionHeader);
  const std::string version_header(kVersionHeader);
  std::optional<std::string> session_id;
  if (request.has_header(session_header.c_str())) {
    session_id = request.get_header_value(session_header.c_str());
    const auto entry = sessions.find(*session_id, scope_text(call));
    if (!entry) {
      throw not_found(session_header,
                      "Mcp-Session-Id: unknown or expired session (initialize again)");
    }
    session.resume(entry->version);
  }
  const std::optional<std::string> answer = session.handle(request.body);
  if (!answer) {
    // A notification or a response: accepted, no body.
    Reply accepted = Reply::text_of("", "application/json");
    accepted.status = 202;
    return accepted;
  }
  Reply reply(200, json::parse(*answer));
  if (!session_id && session.initialized()) {
    // `initialize` succeeded: the session it opened is named in the answer.
    reply.headers.emplace_back(session_header,
                               sessions.open(scope_text(call), session.protocol_version()));
  }
  // A message that is not a request (not JSON, no method...) is a 400 with the JSON-RPC error.
  if (reply.json.contains("error") && reply.json["id"].is_null()) reply.status = 400;
  return reply;
}

}  // namespace

void add_mcp_routes(Router& router, MemorySystem& memory, const ServerLimits& limits) {
  auto sessions = std::make_shared<SessionTable>();
  router.add("POST", "/mcp", Access::kAnyKey, [&memory, &limits, sessions](Call& call) {
    return post_message(memory, limits, *sessions, call);
  });
  router.add("DELETE", "/mcp", Access::kAnyKey, [sessions](Call& call) {
    const std::string header(kSessionHeader);
    if (!call.request.has_header(header.c_str())) {
      throw bad_request(header, "is required to end a session");
    }
    if (!sessions->close(call.request.get_header_value(header.c_str()), scope_text(call))) {
      throw not_found(header, "Mcp-Session-Id: unknown or expired session");
    }
    return Reply(200, {{"closed", true}});
  });
  router.add("GET", "/mcp", Access::kAnyKey, [](Call&) -> Reply {
    Reply reply(405, {{"error",
                       {{"code", "method_not_allowed"},
                        {"message", "this server sends no stream: POST JSON-RPC messages to /mcp"},
                        {"field", ""}}}});
    reply.headers.emplace_back("Allow", "POST, DELETE");
    return reply;
  });
}

}  // namespace nemori::server
