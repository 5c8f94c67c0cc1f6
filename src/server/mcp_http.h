// MCP over streamable HTTP: the /mcp endpoint of the REST server (docs/mcp.md).
#pragma once

#include "nemori/memory/memory_system.h"
#include "router.h"

namespace nemori::server {

/// POST /mcp (one JSON-RPC message per request, the answer as application/json), DELETE /mcp
/// (ends a session) and GET /mcp (405: no server-initiated stream). Any known key may call it;
/// its scope limits the owners the tools reach. `initialize` opens a session (Mcp-Session-Id
/// answer header, kept in this server's memory); a request without the header is served
/// without one, so clients of stateless servers behind one address keep working.
void add_mcp_routes(Router& router, MemorySystem& memory, const ServerLimits& limits);

}  // namespace nemori::server
