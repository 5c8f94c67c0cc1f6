// Shared helpers of the llm tests: HttpOptions that record sleeps instead of waiting, and a
// log sink that keeps every line.
#pragma once

#include <signal.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nemori/llm/chat.h"
#include "nemori/llm/http_options.h"
#include "nemori/llm/llm_error.h"
#include "nemori/llm/openai.h"
#include "scripted_llm_server.h"

namespace nemori::test {

using nemori::testing::LlmRoute;
using nemori::testing::ScriptedLlmServer;
using nemori::testing::ScriptedReply;

/// What a client asked to sleep and log.
struct Recorder {
  std::mutex mutex;
  std::vector<std::chrono::milliseconds> sleeps;
  std::vector<std::string> log;

  std::vector<std::chrono::milliseconds> sleeps_copy() {
    std::lock_guard lock(mutex);
    return sleeps;
  }
  std::string log_text() {
    std::lock_guard lock(mutex);
    std::string all;
    for (const auto& line : log) all += line + "\n";
    return all;
  }
};

/// Fast transport settings: short timeouts, sleeps recorded (not slept), fixed jitter seed.
inline HttpOptions fast_http(const std::shared_ptr<Recorder>& recorder, int max_retries = 3) {
  HttpOptions http;
  http.connect_timeout = std::chrono::milliseconds(2000);
  http.total_timeout = std::chrono::milliseconds(5000);
  http.max_retries = max_retries;
  http.initial_backoff = std::chrono::milliseconds(100);
  http.max_backoff = std::chrono::milliseconds(1000);
  http.jitter_seed = 42;
  http.sleep = [recorder](std::chrono::milliseconds d) {
    std::lock_guard lock(recorder->mutex);
    recorder->sleeps.push_back(d);
  };
  http.log = [recorder](std::string_view line) {
    std::lock_guard lock(recorder->mutex);
    recorder->log.emplace_back(line);
  };
  return http;
}

/// The LlmCallError that `client.complete(request)` throws (a test failure when it returns).
template <typename Client>
LlmCallError call_failing(Client& client, const ChatRequest& request) {
  try {
    client.complete(request);
  } catch (const LlmCallError& e) {
    return e;
  }
  ADD_FAILURE() << "complete() did not throw";
  return LlmCallError(LlmFailure::kConnection, 0, 0, "");
}

/// An OpenAI-compatible client of model "scripted" on `server`, with fast_http() transport,
/// recording into `stats` (may be null).
inline std::shared_ptr<ChatClient> scripted_chat(const ScriptedLlmServer& server,
                                                 const std::shared_ptr<Recorder>& recorder,
                                                 std::shared_ptr<LlmStats> stats,
                                                 int max_retries = 3) {
  OpenAiChatOptions o;
  o.base_url = server.openai_base_url();
  o.model = "scripted";
  o.http = fast_http(recorder, max_retries);
  return std::make_shared<OpenAiChatClient>(o, std::move(stats));
}

/// Checks what a caller of the model counted in `phase`: answers that failed its validation,
/// and times it fell back to its LLM-free path.
inline void expect_invalid_and_fallbacks(const LlmStats& stats, const std::string& phase,
                                         std::uint64_t invalid_answers, std::uint64_t fallbacks) {
  const PhaseStats p = stats.phase(phase);
  EXPECT_EQ(p.invalid_answers, invalid_answers) << phase;
  EXPECT_EQ(p.fallbacks, fallbacks) << phase;
}

/// The nemori-scripted-llm program, a real child process serving the deterministic model on a
/// free loopback port (--port 0); stopped (SIGTERM) on destruction.
class ScriptedLlmProcess {
 public:
  /// Starts the program with `args` (e.g. "--synonym pastries=pastry") after --port 0.
  explicit ScriptedLlmProcess(const std::string& args = "") {
    const std::string command = std::string(NEMORI_SCRIPTED_LLM_BINARY) + " --port 0 " + args +
                                " 2>/dev/null & echo pid $!";
    pipe_ = popen(command.c_str(), "r");
    if (pipe_ == nullptr) return;
    char line[64] = {};
    for (int i = 0; i < 2 && std::fgets(line, sizeof line, pipe_) != nullptr; ++i) {
      const std::string text = line;
      if (text.rfind("pid ", 0) == 0) {
        pid_ = std::stoi(text.substr(4));
      } else {
        port_ = std::stoi(text);
      }
    }
  }
  ~ScriptedLlmProcess() {
    if (pid_ > 0) ::kill(pid_, SIGTERM);
    if (pipe_ != nullptr) pclose(pipe_);
  }
  ScriptedLlmProcess(const ScriptedLlmProcess&) = delete;
  ScriptedLlmProcess& operator=(const ScriptedLlmProcess&) = delete;

  int pid() const { return pid_; }
  int port() const { return port_; }
  /// "http://127.0.0.1:<port>/v1".
  std::string openai_base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/v1";
  }

 private:
  FILE* pipe_ = nullptr;
  int pid_ = 0;
  int port_ = 0;
};

}  // namespace nemori::test
