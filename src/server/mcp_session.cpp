// McpSession: JSON-RPC 2.0 framing and the MCP lifecycle; the tools are in mcp_tools.cpp.
#include <algorithm>

#include "mcp_tools.h"
#include "nemori/core/json.h"
#include "nemori/server/mcp.h"

namespace nemori {

namespace {

using nlohmann::json;

// JSON-RPC 2.0 error codes (https://www.jsonrpc.org/specification).
constexpr int kParseError = -32700;
constexpr int kInvalidRequest = -32600;
constexpr int kMethodNotFound = -32601;
constexpr int kInvalidParams = -32602;

std::string dumped(const json& message) {
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

json error_answer(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

json result_answer(const json& id, json result) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

// A JSON-RPC request id is a string or a whole number (null is not one a client may send).
bool valid_id(const json& id) {
  return id.is_string() || id.is_number_integer() || id.is_number_unsigned();
}

}  // namespace

bool is_mcp_protocol_version(std::string_view version) {
  return std::find(kMcpProtocolVersions.begin(), kMcpProtocolVersions.end(), version) !=
         kMcpProtocolVersions.end();
}

McpSession::McpSession(MemorySystem& memory, McpOptions options)
    : memory_(memory), options_(std::move(options)) {}

void McpSession::resume(std::string_view version) {
  resumed_ = true;
  version_ = std::string(version);
}

std::optional<std::string> McpSession::handle(std::string_view text) {
  try {
    return answer(text);
  } catch (const std::exception& e) {
    return dumped(error_answer(nullptr, -32603, std::string("internal error: ") + e.what()));
  }
}

std::optional<std::string> McpSession::answer(std::string_view text) {
  json message;
  try {
    if (text.size() > options_.limits.max_body_bytes) {
      return dumped(error_answer(
          nullptr, kInvalidRequest,
          "message larger than " + std::to_string(options_.limits.max_body_bytes) + " bytes"));
    }
    message = parse_json(text, "message");
  } catch (const JsonParseError& e) {
    return dumped(error_answer(nullptr, kParseError, std::string("parse error: ") + e.what()));
  }
  if (json_depth(message) > options_.limits.max_json_depth) {
    return dumped(error_answer(
        nullptr, kInvalidRequest,
        "message nests deeper than " + std::to_string(options_.limits.max_json_depth) + " levels"));
  }
  if (message.is_array()) {
    return dumped(error_answer(nullptr, kInvalidRequest, "batches are not supported"));
  }
  if (!message.is_object()) {
    return dumped(
        error_answer(nullptr, kInvalidRequest,
                     std::string("expected a JSON-RPC object, got ") + message.type_name()));
  }
  const auto id_it = message.find("id");
  const bool has_id = id_it != message.end();
  const json id = has_id && valid_id(*id_it) ? *id_it : json(nullptr);
  const auto method_it = message.find("method");
  if (method_it == message.end()) {
    // A response to a request of ours (we send none) or garbage: nothing to answer for a
    // response; an invalid request otherwise.
    if (has_id && (message.contains("result") || message.contains("error"))) return std::nullopt;
    return dumped(error_answer(id, kInvalidRequest, "method: is required"));
  }
  if (message.value("jsonrpc", json()) != "2.0") {
    return dumped(error_answer(id, kInvalidRequest, "jsonrpc: must be \"2.0\""));
  }
  if (!method_it->is_string()) {
    return dumped(error_answer(id, kInvalidRequest, "method: expected a string"));
  }
  if (has_id && !valid_id(*id_it)) {
    return dumped(error_answer(nullptr, kInvalidRequest, "id: expected a string or an integer"));
  }
  const std::string& method = method_it->get_ref<const std::string&>();
  const json params = message.value("params", json::object());
  if (!has_id) return std::nullopt;  // a notification (initialized, cancelled...): no answer
  if (!params.is_object()) {
    return dumped(error_answer(id, kInvalidParams, "params: expected an object"));
  }

  if (method == "ping") return dumped(result_answer(id, json::object()));
  if (method == "initialize") {
    const json version = params.value("protocolVersion", json());
    if (!version.is_string()) {
      return dumped(error_answer(id, kInvalidParams, "params.protocolVersion: is required"));
    }
    const std::string asked = version.get<std::string>();
    version_ = is_mcp_protocol_version(asked) ? asked : std::string(kMcpProtocolVersions[0]);
    initialized_ = true;
    std::string instructions =
        "Long-term episodic memory. add_memory stores conversation turns; search_memory finds "
        "past episodes relevant to a query.";
    if (!options_.fixed_owner.empty()) {
      instructions += " Every tool works on the owner \"" + options_.fixed_owner + "\".";
    } else {
      instructions += " Every tool takes the owner (the user or agent) whose memory it uses.";
    }
    return dumped(result_answer(
        id, {{"protocolVersion", version_},
             {"capabilities", {{"tools", {{"listChanged", false}}}}},
             {"serverInfo",
              {{"name", options_.server_name},
               {"version", options_.server_version.empty() ? std::string(NEMORI_VERSION)
                                                           : options_.server_version}}},
             {"instructions", instructions}}));
  }
  if (!initialized_ && !resumed_ && !options_.stateless) {
    return dumped(error_answer(id, kInvalidRequest, "not initialized: send initialize first"));
  }
  if (method == "tools/list") {
    return dumped(result_answer(id, {{"tools", server::mcp_tool_list(options_)}}));
  }
  if (method == "tools/call") {
    const json name = params.value("name", json());
    if (!name.is_string()) {
      return dumped(error_answer(id, kInvalidParams, "params.name: is required (a tool name)"));
    }
    if (!server::is_mcp_tool(name.get<std::string>())) {
      return dumped(error_answer(id, kInvalidParams,
                                 "params.name: unknown tool \"" + name.get<std::string>() + "\""));
    }
    const json arguments = params.value("arguments", json::object());
    if (!arguments.is_object()) {
      return dumped(error_answer(id, kInvalidParams, "params.arguments: expected an object"));
    }
    return dumped(result_answer(
        id, server::call_mcp_tool(memory_, options_, name.get<std::string>(), arguments)));
  }
  return dumped(error_answer(id, kMethodNotFound, "method not found: " + method));
}

}  // namespace nemori
