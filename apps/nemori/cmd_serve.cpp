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

#include <toml++/toml.h>

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

// The `api_keys` array of the config file's [server] table (--config, else NEMORI_CONFIG), as
// comma-separated pairs; empty when there is no file or no such key.
std::string config_file_keys(const ServeOptions& o) {
  std::string path = o.llm.config_file;
  if (const char* env = std::getenv("NEMORI_CONFIG"); path.empty() && env != nullptr) path = env;
  if (path.empty()) return {};
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    throw ConfigError(path + ": " + std::string(e.description()));
  }
  const toml::node* keys = root.at_path("server.api_keys").node();
  if (keys == nullptr) return {};
  const toml::array* list = keys->as_array();
  if (list == nullptr) {
    throw ConfigError(path + ": server.api_keys: expected an array of \"KEY=SCOPE\" strings");
  }
  std::string pairs;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const auto value = list->get(i)->value<std::string>();
    if (!value) {
      throw ConfigError(path + ": server.api_keys[" + std::to_string(i) +
                        "]: expected a \"KEY=SCOPE\" string");
    }
    pairs += (pairs.empty() ? "" : ",") + *value;
  }
  return pairs;
}

// Keys of NEMORI_API_KEYS, the config file's [server] api_keys and --api-keys-file (KEY=SCOPE
// lines; '#' starts a comment line).
ApiKeys load_keys(const ServeOptions& o) {
  std::string pairs;
  if (const char* env = std::getenv("NEMORI_API_KEYS"); env != nullptr) pairs = env;
  if (const std::string from_file = config_file_keys(o); !from_file.empty()) {
    pairs += (pairs.empty() ? "" : ",") + from_file;
  }
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
    throw ConfigError(
        std::string("API keys (NEMORI_API_KEYS, [server] api_keys, --api-keys-file): ") + e.what());
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
