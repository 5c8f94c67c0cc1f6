// The MCP tools over a MemorySystem: their descriptions with JSON Schema input schemas
// (tools/list) and what each does when called (tools/call). docs/mcp.md lists them.
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "nemori/memory/memory_system.h"
#include "nemori/server/mcp.h"

namespace nemori::server {

/// The "tools" array of a tools/list answer: name, title, description, inputSchema and
/// annotations of each tool. Without a fixed owner every schema requires `owner`; with one,
/// `owner` is not an argument.
nlohmann::json mcp_tool_list(const McpOptions& options);

/// True when a tool is called `name`.
bool is_mcp_tool(std::string_view name);

/// Runs the tool `name` (is_mcp_tool) with `arguments` (a JSON object; null is taken as {}).
/// Returns the CallToolResult: {"content": [{"type": "text", ...}], "structuredContent": {...},
/// "isError": false}, or with "isError": true and the reason ("query: is required", "owner not
/// found") when the call fails. Never throws.
nlohmann::json call_mcp_tool(MemorySystem& memory, const McpOptions& options, std::string_view name,
                             const nlohmann::json& arguments);

}  // namespace nemori::server
