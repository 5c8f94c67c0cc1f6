// Router: authentication, owner scope, JSON errors around every route handler.
#include "router.h"

#include "api_error.h"

namespace nemori::server {

RequestTrace& current_trace() {
  thread_local RequestTrace trace;
  return trace;
}

void write_error(httplib::Response& response, const ApiError& error) {
  response.status = error.status();
  response.set_content(error.body().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json");
}

namespace {

// "/v1/owners/{owner}/x/{id}" -> "/v1/owners/([^/]+)/x/([^/]+)".
std::string pattern_of(std::string_view route) {
  std::string pattern;
  std::size_t i = 0;
  while (i < route.size()) {
    if (route[i] == '{') {
      i = route.find('}', i) + 1;
      pattern += "([^/]+)";
    } else {
      const char c = route[i++];
      if (c == '.') pattern += "\\";
      pattern += c;
    }
  }
  return pattern;
}

// The token of "Authorization: Bearer TOKEN", or nullopt.
std::optional<std::string> bearer_token(const httplib::Request& request) {
  if (!request.has_header("Authorization")) return std::nullopt;
  const std::string value = request.get_header_value("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() <= kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return std::nullopt;
    }
  }
  return value.substr(kScheme.size());
}

}  // namespace

std::optional<KeyScope> Router::authorize(const httplib::Request& request, Access access,
                                          const std::string& owner) const {
  if (access == Access::kPublic || unauthenticated_) return std::nullopt;
  const auto token = bearer_token(request);
  if (!token) {
    throw ApiError(401, "unauthorized", "Authorization",
                   "Authorization: a bearer token is required (Authorization: Bearer KEY)");
  }
  const auto scope = keys_.scope_of(*token);
  if (!scope) throw ApiError(401, "unauthorized", "Authorization", "Authorization: unknown key");
  if (access == Access::kAdmin && !scope->admin()) {
    throw ApiError(403, "forbidden", "Authorization",
                   "this route needs an admin key (the key's scope is an owner scope)");
  }
  if (access == Access::kOwner && !scope->covers(owner)) {
    // The same answer as for an owner that has nothing: owners cannot be probed.
    throw not_found("owner", "owner not found");
  }
  return scope;
}

void Router::add(std::string_view method, std::string_view route, Access access, Handler handler) {
  routes_.emplace_back(std::string(method), std::string(route));
  const bool has_owner = route.find("{owner}") != std::string_view::npos;
  auto wrapped = [this, access, has_owner, route = std::string(route),
                  handler = std::move(handler)](const httplib::Request& request,
                                                httplib::Response& response) {
    RequestTrace& trace = current_trace();
    trace.route = route;
    try {
      Call call{request, limits_, {}, {}, {}};
      std::size_t next = 1;
      if (has_owner) {
        // The owner is checked before the key so the log line names it; an invalid one is a
        // 400 whatever the key.
        call.owner = decode_owner(request.matches[1].str(), limits_);
        trace.owner = call.owner;
        next = 2;
      }
      call.scope = authorize(request, access, call.owner);
      for (std::size_t i = next; i < request.matches.size(); ++i) {
        call.path.push_back(request.matches[i].str());
      }
      Reply reply = handler(call);
      response.status = reply.status;
      for (const auto& [name, value] : reply.headers) response.set_header(name, value);
      if (!reply.content_type.empty()) {
        response.set_content(reply.text, reply.content_type.c_str());
      } else {
        response.set_content(
            reply.json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
            "application/json");
      }
    } catch (...) {
      const ApiError error = to_api_error(std::current_exception());
      if (error.status() >= 500) {
        try {
          std::rethrow_exception(std::current_exception());
        } catch (const std::exception& e) {
          trace.error = e.what();
        } catch (...) {
          trace.error = "unknown exception";
        }
      }
      write_error(response, error);
    }
  };
  const std::string pattern = pattern_of(route);
  if (method == "GET")
    http_.Get(pattern, wrapped);
  else if (method == "POST")
    http_.Post(pattern, wrapped);
  else if (method == "PATCH")
    http_.Patch(pattern, wrapped);
  else if (method == "DELETE")
    http_.Delete(pattern, wrapped);
  else if (method == "PUT")
    http_.Put(pattern, wrapped);
}

}  // namespace nemori::server
