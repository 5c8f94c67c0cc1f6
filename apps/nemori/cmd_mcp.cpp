// `nemori mcp`: the Model Context Protocol over stdio, one JSON-RPC message per line
// (docs/mcp.md). Only MCP messages go to stdout; problems go to stderr.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "command.h"
#include "nemori/memory/memory_system.h"
#include "nemori/server/mcp.h"

namespace nemori::cli {

namespace {

struct McpCommandOptions {
  StorageOption storage;
  LlmOption llm;
  std::string owner;
  std::size_t build_workers = 1;
  std::size_t build_after = 8;
  std::size_t build_idle_seconds = 60;
};

int mcp(const McpCommandOptions& o) {
  MemoryConfig config = memory_config(o.storage, o.llm);
  config.building.workers = o.build_workers;
  config.building.after_messages = o.build_after;
  config.building.idle_after = std::chrono::seconds(o.build_idle_seconds);
  auto memory = MemorySystem::open(config);
  McpOptions options;
  options.fixed_owner = o.owner;
  McpSession session(*memory, std::move(options));
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (const auto answer = session.handle(line)) {
      std::fwrite(answer->data(), 1, answer->size(), stdout);
      std::fputc('\n', stdout);
      std::fflush(stdout);
    }
  }
  note_if_ephemeral(o.storage.resolved(), "nemori mcp");
  return 0;  // ~MemorySystem: a build under way completes; pending messages stay in storage
}

}  // namespace

void register_mcp(CLI::App& app) {
  auto o = std::make_shared<McpCommandOptions>();
  auto* cmd = app.add_subcommand(
      "mcp", "Serve the Model Context Protocol over stdio (docs/mcp.md): memory tools for agents");
  add_storage_option(*cmd, o->storage);
  add_llm_options(*cmd, o->llm);
  cmd->add_option("--owner", o->owner,
                  "Work on this owner only (else every tool call names its owner)")
      ->check(owner_id_check());
  cmd->add_option("--build-workers", o->build_workers,
                  "Threads building episodes in the background")
      ->check(at_least_one())
      ->capture_default_str();
  cmd->add_option("--build-after", o->build_after,
                  "Build an owner after this many new messages (0: only when idle or flushed)")
      ->capture_default_str();
  cmd->add_option("--build-idle", o->build_idle_seconds,
                  "Build an owner once idle for this many seconds")
      ->check(at_least_one())
      ->capture_default_str();
  set_action(*cmd, [o] { return mcp(*o); });
}

}  // namespace nemori::cli
