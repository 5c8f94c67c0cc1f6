// `nemori serve`: the REST server over a store (docs/api.md).
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "command.h"
#include "nemori/core/error.h"
#include "nemori/memory/memory_system.h"
#include "nemori/server/server.h"
#include "nemori/storage/config.h"

namespace nemori::cli {

namespace {

struct ServeOptions {
  StorageOption storage;
  LlmOption llm;
  std::string host = "127.0.0.1";
  int port = 8080;
  std::size_t threads = 64;
  std::size_t build_workers = 1;
  std::size_t build_after = 8;
  std::size_t build_idle_seconds = 60;
  std::size_t max_body_bytes = ServerLimits{}.max_body_bytes;
  std::string keys_file;
  bool unauthenticated = false;
};

// Keys of NEMORI_API_KEYS and --api-keys-file (KEY=SCOPE lines; '#' starts a comment line).
ApiKeys load_keys(const ServeOptions& o) {
  std::string pairs;
  if (const char* env = std::getenv("NEMORI_API_KEYS"); env != nullptr) pairs = env;
  if (!o.keys_file.empty()) {
    std::ifstream in(o.keys_file);
    if (!in) throw ConfigError("--api-keys-file " + o.keys_file + ": cannot be read");
    std::string line;
    while (std::getline(in, line)) {
      const std::size_t first = line.find_first_not_of(" \t\r");
      if (first == std::string::npos || line[first] == '#') continue;
      if (!pairs.empty()) pairs += ",";
      pairs += line.substr(0, line.find_last_not_of(" \t\r") + 1);
    }
  }
  try {
    return ApiKeys::parse(pairs);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string("NEMORI_API_KEYS / --api-keys-file: ") + e.what());
  }
}

int serve(const ServeOptions& o) {
  // SIGTERM and SIGINT are taken by one watcher thread: blocked here, before any thread
  // starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ServerOptions options;
  options.host = o.host;
  options.port = o.port;
  options.threads = o.threads;
  options.unauthenticated = o.unauthenticated;
  options.limits.max_body_bytes = o.max_body_bytes;
  options.keys = load_keys(o);
  const std::string access = options.keys.empty()
                                 ? std::string("unauthenticated")
                                 : std::to_string(options.keys.size()) + " API keys";

  MemoryConfig config = memory_config(o.storage, o.llm);
  config.building.workers = o.build_workers;
  config.building.after_messages = o.build_after;
  config.building.idle_after = std::chrono::seconds(o.build_idle_seconds);
  options.llm_stats = config.llm.stats;
  auto memory = MemorySystem::open(config);
  Server server(*memory, std::move(options));

  std::atomic<bool> done{false};
  std::thread watcher([&] {
    const timespec tick{0, 200 * 1000 * 1000};
    while (!done.load()) {
      const int signal = sigtimedwait(&signals, nullptr, &tick);
      if (signal == SIGTERM || signal == SIGINT) {
        std::fprintf(stderr, "{\"event\":\"stopping\",\"signal\":\"%s\"}\n",
                     signal == SIGTERM ? "SIGTERM" : "SIGINT");
        server.stop();
        return;
      }
    }
  });
  std::printf("nemori serve: listening on http://%s:%d (%s)\n", o.host.c_str(), server.port(),
              access.c_str());
  std::fflush(stdout);
  server.run();  // returns once stopped and every in-flight request finished
  done = true;
  watcher.join();
  std::fprintf(stderr, "{\"event\":\"stopped\"}\n");
  return 0;  // ~MemorySystem: a build under way completes; pending messages stay in storage
}

}  // namespace

void register_serve(CLI::App& app) {
  auto o = std::make_shared<ServeOptions>();
  auto* cmd = app.add_subcommand(
      "serve", "Serve the REST API over a store (docs/api.md); keys from NEMORI_API_KEYS");
  add_storage_option(*cmd, o->storage);
  add_llm_options(*cmd, o->llm);
  cmd->add_option("--host", o->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->port, "Port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Worker threads; each keep-alive connection holds one")
      ->check(at_least_one())
      ->capture_default_str();
  cmd->add_option("--build-workers", o->build_workers,
                  "Threads building episodes in the background")
      ->check(at_least_one())
      ->capture_default_str();
  cmd->add_option("--build-after", o->build_after,
                  "Build an owner after this many new messages (0: only when idle)")
      ->capture_default_str();
  cmd->add_option("--build-idle", o->build_idle_seconds,
                  "Build an owner once idle for this many seconds")
      ->check(at_least_one())
      ->capture_default_str();
  cmd->add_option("--max-body", o->max_body_bytes, "Largest request body in bytes")
      ->check(at_least_one())
      ->capture_default_str();
  cmd->add_option("--api-keys-file", o->keys_file,
                  "File of KEY=SCOPE lines (with NEMORI_API_KEYS; scopes: admin, *, OWNER, "
                  "PREFIX*)");
  cmd->add_flag("--unauthenticated", o->unauthenticated,
                "Serve without API keys (loopback hosts only)");
  set_action(*cmd, [o] { return serve(*o); });
}

}  // namespace nemori::cli
