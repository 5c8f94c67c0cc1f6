// The Model Context Protocol (MCP) over one MemorySystem: JSON-RPC 2.0 messages in, answers
// out, whatever carries them (docs/mcp.md). `nemori mcp` carries them over stdio, one message
// per line; the REST server over streamable HTTP at POST /mcp.
//
// Lifecycle: `initialize` (the protocol revision is negotiated: the client's when it is one of
// kMcpProtocolVersions, else the newest), then `notifications/initialized`, then `tools/list`,
// `tools/call` and `ping`. Before `initialize` only `ping` is answered (unless
// McpOptions::stateless).
//
// Tools: add_memory, search_memory, list_episodes, get_episode, delete_episode, flush. Each
// takes an `owner` argument unless the session has a fixed owner. An owner the session may not
// reach is "owner not found", as for one that has nothing (owners cannot be probed).
//
// Errors: a message that is not JSON is -32700; not a JSON-RPC request -32600; an unknown
// method -32601; bad params of a method (an unknown tool, a missing tool name) -32602. A tool
// that fails (a bad argument, an unknown episode, an unavailable store) answers a result with
// "isError": true and the reason naming the argument, so a model can correct its call.
//
// Thread safety: one McpSession handles one message at a time; sessions over the same
// MemorySystem may run on different threads at once.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "nemori/memory/memory_system.h"
#include "nemori/server/server.h"

namespace nemori {

/// Protocol revisions served, newest first.
inline constexpr std::array<std::string_view, 4> kMcpProtocolVersions = {
    "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};

/// True when `version` is one of kMcpProtocolVersions.
bool is_mcp_protocol_version(std::string_view version);

/// What a session may do.
struct McpOptions {
  /// The owner every tool works on; empty: each tool call names its owner in `owner`.
  std::string fixed_owner;
  /// Which owners the tools may reach (an API key's scope); null: every owner.
  std::function<bool(std::string_view owner_id)> reaches;
  /// Bounds on messages and arguments (the REST server's: query length, top-k, page size...).
  ServerLimits limits;
  /// Serve tools/list and tools/call before `initialize` (the HTTP transport without a
  /// session, where each request may reach another server).
  bool stateless = false;
  /// The server's name and version in the `initialize` answer.
  std::string server_name = "nemori";
  std::string server_version;  ///< Empty: the library's version.
};

/// One MCP session over a MemorySystem. Not copyable.
class McpSession {
 public:
  /// `memory` must outlive the session.
  McpSession(MemorySystem& memory, McpOptions options);
  McpSession(const McpSession&) = delete;
  McpSession& operator=(const McpSession&) = delete;

  /// Handles one JSON-RPC message (a line of stdio, the body of a POST). Returns the answer
  /// to send (one line of JSON, no newline), or nullopt when there is none (a notification, a
  /// response). Never throws: every failure is a JSON-RPC error or a tool error result.
  std::optional<std::string> handle(std::string_view message);

  /// Continues a session initialized earlier with `version` (the HTTP transport, where each
  /// request is handled by a McpSession of its own). initialized() stays false.
  void resume(std::string_view version);

  /// True once `initialize` succeeded in this McpSession.
  bool initialized() const { return initialized_; }
  /// The negotiated protocol revision ("" before `initialize`).
  const std::string& protocol_version() const { return version_; }

 private:
  std::optional<std::string> answer(std::string_view message);

  MemorySystem& memory_;
  McpOptions options_;
  bool initialized_ = false;
  bool resumed_ = false;
  std::string version_;
};

}  // namespace nemori
