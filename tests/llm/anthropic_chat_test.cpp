// AnthropicChatClient against the scripted server: the Messages wire format, errors, retries.
#include <gtest/gtest.h>

#include "llm_test_support.h"
#include "nemori/llm/anthropic.h"
#include "nemori/llm/llm_error.h"

namespace nemori::test {
namespace {

constexpr const char* kKey = "sk-ant-SECRET-abcdef";

class AnthropicChatTest : public ::testing::Test {
 protected:
  AnthropicChatOptions options(int max_retries = 3) {
    AnthropicChatOptions o;
    o.base_url = server.anthropic_base_url();
    o.model = "claude-sonnet-4-5";
    o.api_key = kKey;
    o.http = fast_http(recorder, max_retries);
    return o;
  }
  static ChatRequest ask(ResponseFormat format = ResponseFormat::kText) {
    ChatRequest r;
    r.messages = {{"system", "You write episodes."}, {"user", "Caroline: I went to Boston."}};
    r.format = format;
    r.phase = "episode";
    return r;
  }
  ScriptedLlmServer server;
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
};

TEST_F(AnthropicChatTest, SendsTheMessagesShapeAndHeaders) {
  AnthropicChatClient c(options(), stats);
  server.enqueue(LlmRoute::kMessages,
                 ScriptedReply::anthropic_text("Caroline went to Boston.", 40, 8));
  const ChatResponse r = c.complete(ask());
  EXPECT_EQ(r.text, "Caroline went to Boston.");
  EXPECT_EQ(r.usage, (TokenUsage{40, 8}));
  EXPECT_EQ(r.finish_reason, "end_turn");
  const auto q = server.requests().at(0);
  EXPECT_EQ(q.path, "/v1/messages");
  EXPECT_EQ(q.header("x-api-key"), kKey);
  EXPECT_EQ(q.header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(q.header("authorization"), "");
  EXPECT_EQ(q.json["model"], "claude-sonnet-4-5");
  EXPECT_EQ(q.json["max_tokens"], 4096);
  EXPECT_EQ(q.json["system"], "You write episodes.");
  ASSERT_EQ(q.json["messages"].size(), 1u);  // the system message is not a message
  EXPECT_EQ(q.json["messages"][0]["role"], "user");
  EXPECT_EQ(q.json["messages"][0]["content"][0]["type"], "text");
  EXPECT_EQ(q.json["messages"][0]["content"][0]["text"], "Caroline: I went to Boston.");
  EXPECT_EQ(stats->phase("episode").prompt_tokens, 40u);
  EXPECT_EQ(stats->phase("episode").completion_tokens, 8u);
}

TEST_F(AnthropicChatTest, ABaseUrlEndingInV1IsAcceptedToo) {
  AnthropicChatOptions o = options();
  o.base_url = server.anthropic_base_url() + "/v1/";
  AnthropicChatClient c(o, stats);
  c.complete(ask());
  EXPECT_EQ(server.requests().at(0).path, "/v1/messages");
}

TEST_F(AnthropicChatTest, JsonModeAsksInTheSystemPromptAndStripsACodeFence) {
  AnthropicChatClient c(options(), stats);
  server.enqueue(LlmRoute::kMessages,
                 ScriptedReply::anthropic_text("```json\n{\"title\": \"Boston\"}\n```"));
  ChatRequest r = ask(ResponseFormat::kJsonSchema);
  r.json_schema = {{"type", "object"}, {"required", {"title"}}};
  const ChatResponse answer = c.complete(r);
  EXPECT_EQ(nlohmann::json::parse(answer.text), nlohmann::json({{"title", "Boston"}}));
  const std::string system = server.requests().at(0).json["system"];
  EXPECT_NE(system.find("You write episodes."), std::string::npos);
  EXPECT_NE(system.find("one JSON object"), std::string::npos);
  EXPECT_NE(system.find(R"("required":["title"])"), std::string::npos) << system;
}

TEST_F(AnthropicChatTest, JoinsTextBlocksAndSkipsOthers) {
  AnthropicChatClient c(options(), stats);
  server.enqueue(LlmRoute::kMessages,
                 ScriptedReply::raw(200, R"({"type": "message", "role": "assistant", "content": [
                   {"type": "thinking", "thinking": "hmm", "signature": "x"},
                   {"type": "text", "text": "Hello, "}, {"type": "text", "text": "world"}],
                   "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 2}})"));
  EXPECT_EQ(c.complete(ask()).text, "Hello, world");
}

TEST_F(AnthropicChatTest, RetriesOverloadedAndRateLimitedHonouringRetryAfter) {
  AnthropicChatClient c(options(), stats);
  server.enqueue(LlmRoute::kMessages, ScriptedReply::anthropic_error(429, "rate_limit_error",
                                                                     "Number of requests exceeded")
                                          .with_retry_after(3));
  server.enqueue(LlmRoute::kMessages,
                 ScriptedReply::anthropic_error(529, "overloaded_error", "Overloaded"));
  server.enqueue(LlmRoute::kMessages, ScriptedReply::anthropic_text("fine"));
  EXPECT_EQ(c.complete(ask()).text, "fine");
  const auto sleeps = recorder->sleeps_copy();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_EQ(sleeps[0], std::chrono::milliseconds(3000));
  EXPECT_EQ(stats->phase("episode").retries, 2u);
}

TEST_F(AnthropicChatTest, AuthErrorIsNotRetriedAndNamesTheProviderMessageNotTheKey) {
  AnthropicChatClient c(options(), stats);
  server.enqueue(LlmRoute::kMessages,
                 ScriptedReply::anthropic_error(401, "authentication_error",
                                                std::string("invalid x-api-key ") + kKey));
  const LlmCallError e = call_failing(c, ask());
  const std::string what = e.what();
  EXPECT_EQ(e.http_status(), 401);
  EXPECT_EQ(e.attempts(), 1);
  EXPECT_NE(what.find("invalid x-api-key"), std::string::npos) << what;
  EXPECT_NE(what.find("authentication_error"), std::string::npos) << what;
  EXPECT_EQ(what.find(kKey), std::string::npos) << what;
  EXPECT_EQ(recorder->log_text().find(kKey), std::string::npos);
}

TEST_F(AnthropicChatTest, FaultsOnTheWireAreTypedErrors) {
  AnthropicChatClient c(options(0), stats);
  server.enqueue(LlmRoute::kMessages, ScriptedReply::anthropic_text("cut").truncated());
  EXPECT_EQ(call_failing(c, ask()).failure(), LlmFailure::kConnection);
  server.enqueue(LlmRoute::kMessages, ScriptedReply::raw(200, "{\"content\": [{\"type\": \"te"));
  EXPECT_EQ(call_failing(c, ask()).failure(), LlmFailure::kMalformedResponse);
  server.enqueue(LlmRoute::kMessages,
                 ScriptedReply::raw(200, R"({"content": [{"type": "tool_use", "id": "t"}]})"));
  const LlmCallError shape = call_failing(c, ask());
  EXPECT_EQ(shape.failure(), LlmFailure::kMalformedResponse);
  EXPECT_NE(std::string(shape.what()).find("no text content block"), std::string::npos);
  AnthropicChatOptions slow = options(0);
  slow.http.total_timeout = std::chrono::milliseconds(200);
  AnthropicChatClient impatient(slow, stats);
  server.enqueue(LlmRoute::kMessages,
                 ScriptedReply::anthropic_text("late").with_delay(std::chrono::seconds(3)));
  EXPECT_EQ(call_failing(impatient, ask()).failure(), LlmFailure::kTimeout);
  EXPECT_EQ(stats->phase("episode").errors, 4u);
}

TEST_F(AnthropicChatTest, TheDeterministicModelAnswersInTheAnthropicShape) {
  AnthropicChatClient c(options(), stats);
  const ChatResponse r = c.complete(ask(ResponseFormat::kJsonObject));
  const auto episode = nlohmann::json::parse(r.text);
  EXPECT_NE(episode["content"].get<std::string>().find("Caroline said \"I went to Boston.\""),
            std::string::npos)
      << r.text;
  EXPECT_GT(r.usage.prompt_tokens, 0u);
}

}  // namespace
}  // namespace nemori::test
