// Shared helpers of the llm tests: HttpOptions that record sleeps instead of waiting, and a
// log sink that keeps every line.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "nemori/llm/chat.h"
#include "nemori/llm/http_options.h"
#include "nemori/llm/llm_error.h"
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

}  // namespace nemori::test
