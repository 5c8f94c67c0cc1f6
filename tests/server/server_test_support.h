// A real REST server on a loopback port over a memory:// store, and an HTTP client for it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "nemori/memory/memory_system.h"
#include "nemori/server/server.h"
#include "nemori/storage/config.h"

namespace nemori::test {

/// Keys every test server accepts: (key, scope).
inline constexpr const char* kAdminKey = "admin-key-0123456789abcdef";
inline constexpr const char* kAllOwnersKey = "star-key-0123456789abcdef";
inline constexpr const char* kAliceKey = "alice-key-0123456789abcdef";
inline constexpr const char* kAgentKey = "agent7-key-0123456789abcdef";  ///< scope agent-7:*

/// One answer: status and parsed JSON body (null when the body is not JSON).
struct Answer {
  int status = 0;
  nlohmann::json json;
  std::string body;
  /// The "field" of an error answer ("" when none).
  std::string field() const {
    return json.is_object() && json.contains("error") ? json["error"].value("field", "") : "";
  }
};

/// Sends METHOD PATH with `body` (JSON text; empty: none) and the key (empty: none) to the
/// server on 127.0.0.1:`port`. A request that gets no answer fails the test (status 0).
inline Answer call_server(int port, const std::string& method, const std::string& path,
                          const std::string& body = "", const std::string& key = kAdminKey,
                          bool expect_answer = true) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  httplib::Headers headers;
  if (!key.empty()) headers.emplace("Authorization", "Bearer " + key);
  httplib::Result res{nullptr, httplib::Error::Unknown};
  if (method == "GET")
    res = client.Get(path.c_str(), headers);
  else if (method == "DELETE")
    res = client.Delete(path.c_str(), headers, body, "application/json");
  else if (method == "PATCH")
    res = client.Patch(path.c_str(), headers, body, "application/json");
  else
    res = client.Post(path.c_str(), headers, body, "application/json");
  Answer answer;
  if (!res) {
    if (expect_answer) {
      ADD_FAILURE() << method << " " << path << ": no answer (" << httplib::to_string(res.error())
                    << ")";
    }
    return answer;
  }
  answer.status = res->status;
  answer.body = res->body;
  answer.json = nlohmann::json::parse(res->body, nullptr, false);
  if (answer.json.is_discarded()) answer.json = nullptr;
  return answer;
}

/// A Server on 127.0.0.1:<any port> over `memory`, run by a thread, stopped on destruction.
class TestServer {
 public:
  explicit TestServer(MemorySystem& memory, ServerOptions options = default_options()) {
    options.host = "127.0.0.1";
    options.port = 0;
    options.log = [this](std::string_view line) {
      std::lock_guard lock(log_mutex_);
      log_ += std::string(line) + "\n";
    };
    server_ = std::make_unique<Server>(memory, std::move(options));
    thread_ = std::thread([this] { server_->run(); });
  }
  ~TestServer() {
    server_->stop();
    thread_.join();
  }

  /// Options with the four test keys and small threads count.
  static ServerOptions default_options() {
    ServerOptions options;
    options.threads = 16;
    options.keys = ApiKeys::parse(std::string(kAdminKey) + "=admin," + kAllOwnersKey + "=*," +
                                  kAliceKey + "=alice," + kAgentKey + "=agent-7:*");
    return options;
  }

  int port() const { return server_->port(); }
  Server& server() { return *server_; }
  /// Every log line so far.
  std::string log() {
    std::lock_guard lock(log_mutex_);
    return log_;
  }

  /// Sends METHOD PATH to this server (see call_server).
  Answer call(const std::string& method, const std::string& path, const std::string& body = "",
              const std::string& key = kAdminKey) {
    return call_server(port(), method, path, body, key);
  }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::mutex log_mutex_;
  std::string log_;
};

/// A MemorySystem over memory:// (no background workers unless asked).
inline std::unique_ptr<MemorySystem> memory_store(std::size_t workers = 0) {
  MemoryConfig config;
  config.storage = parse_storage_url("memory://");
  config.building.workers = workers;
  return MemorySystem::open(config);
}

/// A messages body of `n` messages of `speaker`, a minute apart from 2024-05-01 10:00 UTC.
inline std::string messages_body(const std::string& speaker, const std::string& text, int n = 1,
                                 int first_minute = 0) {
  nlohmann::json messages = nlohmann::json::array();
  for (int i = 0; i < n; ++i) {
    const int minute = first_minute + i;
    char time[32];
    std::snprintf(time, sizeof time, "2024-05-01T%02d:%02d:00Z", 10 + minute / 60, minute % 60);
    messages.push_back({{"speaker_id", speaker},
                        {"content", text + " " + std::to_string(minute)},
                        {"timestamp", time}});
  }
  return nlohmann::json{{"messages", messages}}.dump();
}

}  // namespace nemori::test
