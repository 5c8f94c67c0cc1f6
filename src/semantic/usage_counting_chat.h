// A ChatClient that forwards to another and counts what one episode's extraction spent
// (calls and tokens, from each ChatResponse's usage), and keeps the last failure so that a
// failed call can be told from an invalid answer. Internal to the semantic layer; one per
// extract() call, used from one thread.
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "nemori/llm/chat.h"
#include "nemori/llm/llm_error.h"

namespace nemori::semantic_internal {

/// Counting decorator of a ChatClient (see the top of this file).
class UsageCountingChat final : public ChatClient {
 public:
  explicit UsageCountingChat(ChatClient& inner) : inner_(inner) {}

  /// Forwards; counts the call and its tokens, or remembers the LlmError before rethrowing.
  ChatResponse complete(const ChatRequest& request) override {
    ++calls_;
    try {
      ChatResponse response = inner_.complete(request);
      tokens_ += response.usage.total();
      return response;
    } catch (const LlmError&) {
      failure_ = std::current_exception();
      throw;
    }
  }
  std::string model() const override { return inner_.model(); }

  /// Calls made (failed ones included).
  std::uint64_t calls() const { return calls_; }
  /// Prompt and completion tokens reported.
  std::uint64_t tokens() const { return tokens_; }
  /// Rethrows the last failure, if any, and forgets it.
  void rethrow_failure() {
    if (!failure_) return;
    std::exception_ptr failure = failure_;
    failure_ = nullptr;
    std::rethrow_exception(failure);
  }
  /// Forgets the last failure.
  void clear_failure() { failure_ = nullptr; }

 private:
  ChatClient& inner_;
  std::uint64_t calls_ = 0;
  std::uint64_t tokens_ = 0;
  std::exception_ptr failure_;
};

}  // namespace nemori::semantic_internal
