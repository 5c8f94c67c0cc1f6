// OpenAiChatClient against the scripted server: the wire format, retries, faults, secrecy.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "llm_test_support.h"
#include "nemori/core/error.h"
#include "nemori/llm/llm_error.h"
#include "nemori/llm/openai.h"

namespace nemori::test {
namespace {

constexpr const char* kKey = "sk-test-SECRET-0123456789";

class OpenAiChatTest : public ::testing::Test {
 protected:
  std::unique_ptr<OpenAiChatClient> client(int max_retries = 3, std::string model = "gpt-4o-mini") {
    OpenAiChatOptions o;
    o.base_url = server.openai_base_url();
    o.model = std::move(model);
    o.api_key = kKey;
    o.http = fast_http(recorder, max_retries);
    return std::make_unique<OpenAiChatClient>(std::move(o), stats);
  }
  static ChatRequest ask(std::string text, std::string phase = "episode") {
    ChatRequest r;
    r.messages = {{"system", "You write episodes."}, {"user", std::move(text)}};
    r.phase = std::move(phase);
    return r;
  }
  ScriptedLlmServer server;
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
};

TEST_F(OpenAiChatTest, ReturnsTheAnswerTextAndRecordsUsageUnderThePhase) {
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_chat("Caroline joined a group.", 120, 30));
  auto c = client();
  ChatResponse r = c->complete(ask("hello"));
  EXPECT_EQ(r.text, "Caroline joined a group.");
  EXPECT_EQ(r.usage, (TokenUsage{120, 30}));
  EXPECT_EQ(r.finish_reason, "stop");
  const PhaseStats p = stats->phase("episode");
  EXPECT_EQ(p.calls, 1u);
  EXPECT_EQ(p.prompt_tokens, 120u);
  EXPECT_EQ(p.completion_tokens, 30u);
  EXPECT_EQ(p.errors, 0u);
  EXPECT_EQ(stats->total_tokens(), 150u);
}

TEST_F(OpenAiChatTest, SendsTheOpenAiRequestShapeWithBearerKey) {
  auto c = client();
  ChatRequest r = ask("hello");
  r.temperature = 0.2;
  r.max_tokens = 300;
  c->complete(r);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const auto& q = requests[0];
  EXPECT_EQ(q.path, "/v1/chat/completions");
  EXPECT_EQ(q.header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(q.header("content-type"), "application/json");
  EXPECT_EQ(q.json["model"], "gpt-4o-mini");
  ASSERT_EQ(q.json["messages"].size(), 2u);
  EXPECT_EQ(q.json["messages"][0]["role"], "system");
  EXPECT_EQ(q.json["messages"][1]["content"], "hello");
  EXPECT_EQ(q.json["temperature"], 0.2);
  EXPECT_EQ(q.json["max_tokens"], 300);
  EXPECT_FALSE(q.json.contains("response_format"));
}

TEST_F(OpenAiChatTest, JsonModeAsksForAJsonObject) {
  auto c = client();
  ChatRequest r = ask("segment these");
  r.format = ResponseFormat::kJsonObject;
  c->complete(r);
  EXPECT_EQ(server.requests().at(0).json["response_format"],
            nlohmann::json({{"type", "json_object"}}));
}

TEST_F(OpenAiChatTest, JsonSchemaModeSendsTheSchemaStrict) {
  auto c = client();
  ChatRequest r = ask("write");
  r.format = ResponseFormat::kJsonSchema;
  r.schema_name = "episode";
  r.json_schema = {{"type", "object"}, {"properties", {{"title", {{"type", "string"}}}}}};
  c->complete(r);
  const auto requests = server.requests();
  const auto& rf = requests.at(0).json["response_format"];
  EXPECT_EQ(rf["type"], "json_schema");
  EXPECT_EQ(rf["json_schema"]["name"], "episode");
  EXPECT_EQ(rf["json_schema"]["strict"], true);
  EXPECT_EQ(rf["json_schema"]["schema"], r.json_schema);
}

TEST_F(OpenAiChatTest, ReasoningModelsGetMaxCompletionTokensAndNoTemperature) {
  EXPECT_TRUE(is_reasoning_model("o3-mini"));
  EXPECT_TRUE(is_reasoning_model("openai/gpt-5"));
  EXPECT_FALSE(is_reasoning_model("gpt-4o-mini"));
  EXPECT_FALSE(is_reasoning_model("llama3.1:8b"));
  auto c = client(3, "o4-mini");
  ChatRequest r = ask("hello");
  r.temperature = 0.2;
  r.max_tokens = 500;
  c->complete(r);
  const auto requests = server.requests();
  const auto& body = requests.at(0).json;
  EXPECT_FALSE(body.contains("temperature"));
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_EQ(body["max_completion_tokens"], 500);
}

TEST_F(OpenAiChatTest, RetriesA429AndA500WithGrowingJitteredBackoff) {
  server.enqueue(
      LlmRoute::kChatCompletions,
      ScriptedReply::openai_error(429, "Rate limit reached", "requests", "rate_limit_exceeded"));
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_error(500, "The server had an error", "server_error"));
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_error(503, "Overloaded", "server_error"));
  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat("ok"));
  auto c = client();
  EXPECT_EQ(c->complete(ask("hi")).text, "ok");
  EXPECT_EQ(server.requests().size(), 4u);
  const auto sleeps = recorder->sleeps_copy();
  ASSERT_EQ(sleeps.size(), 3u);
  // initial_backoff 100 ms doubled per retry, times a jitter factor in [0.5, 1].
  for (std::size_t i = 0; i < sleeps.size(); ++i) {
    const auto full = 100 << i;
    EXPECT_GE(sleeps[i].count(), full / 2) << i;
    EXPECT_LE(sleeps[i].count(), full) << i;
  }
  EXPECT_EQ(stats->phase("episode").retries, 3u);
  EXPECT_EQ(stats->phase("episode").calls, 1u);
  EXPECT_EQ(stats->phase("episode").errors, 0u);
}

TEST_F(OpenAiChatTest, HonoursRetryAfterSeconds) {
  server.enqueue(
      LlmRoute::kChatCompletions,
      ScriptedReply::openai_error(429, "Rate limit reached", "requests").with_retry_after(7));
  auto c = client();
  EXPECT_EQ(c->complete(ask("hi")).text.empty(), false);
  ASSERT_EQ(recorder->sleeps_copy().size(), 1u);
  EXPECT_EQ(recorder->sleeps_copy()[0], std::chrono::milliseconds(7000));
}

TEST_F(OpenAiChatTest, GivesUpAfterMaxRetriesWithTheLastStatus) {
  for (int i = 0; i < 3; ++i) {
    server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_error(500, "still broken", "server_error"));
  }
  auto c = client(2);
  const LlmCallError e = call_failing(*c, ask("hi"));
  EXPECT_EQ(e.failure(), LlmFailure::kHttpStatus);
  EXPECT_EQ(e.http_status(), 500);
  EXPECT_EQ(e.attempts(), 3);
  EXPECT_NE(std::string(e.what()).find("still broken"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("after 3 attempts"), std::string::npos) << e.what();
  EXPECT_EQ(stats->phase("episode").errors, 1u);
  EXPECT_EQ(stats->phase("episode").retries, 2u);
}

TEST_F(OpenAiChatTest, NeverRetriesAuthAndRequestErrors) {
  for (int status : {400, 401, 403, 404}) {
    server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_error(status, "refused " + std::to_string(status),
                                               "invalid_request_error"));
  }
  auto c = client();
  for (int status : {400, 401, 403, 404}) {
    const LlmCallError e = call_failing(*c, ask("hi"));
    EXPECT_EQ(e.http_status(), status);
    EXPECT_EQ(e.attempts(), 1);
  }
  EXPECT_EQ(server.requests().size(), 4u);
  EXPECT_TRUE(recorder->sleeps_copy().empty());
}

TEST_F(OpenAiChatTest, ErrorsAndLogsNameTheEndpointStatusAndMessageButNeverTheKey) {
  // A provider that echoes the key back, as some gateways do.
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_error(500, std::string("upstream rejected key ") + kKey,
                                             "server_error"));
  server.enqueue(
      LlmRoute::kChatCompletions,
      ScriptedReply::openai_error(401, std::string("Incorrect API key provided: ") + kKey,
                                  "invalid_request_error", "invalid_api_key"));
  auto c = client();
  const LlmCallError e = call_failing(*c, ask("hi"));
  const std::string what = e.what();
  EXPECT_EQ(what.find(kKey), std::string::npos) << what;
  EXPECT_NE(what.find("POST " + server.openai_base_url() + "/chat/completions"), std::string::npos)
      << what;
  EXPECT_NE(what.find("HTTP 401"), std::string::npos) << what;
  EXPECT_NE(what.find("Incorrect API key provided"), std::string::npos) << what;
  EXPECT_NE(what.find("invalid_api_key"), std::string::npos) << what;
  const std::string log = recorder->log_text();
  EXPECT_FALSE(log.empty());
  EXPECT_EQ(log.find(kKey), std::string::npos) << log;
  EXPECT_EQ(log.find("SECRET"), std::string::npos) << log;
}

TEST_F(OpenAiChatTest, CredentialsInTheBaseUrlStayOutOfErrors) {
  OpenAiChatOptions o;
  const std::string base = server.openai_base_url();
  o.base_url = "http://user:" + std::string(kKey) + "@" + base.substr(7);
  o.model = "m";
  o.http = fast_http(recorder, 0);
  OpenAiChatClient c(o, stats);
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_error(403, "forbidden", "permission_error"));
  const LlmCallError e = call_failing(c, ask("hi"));
  EXPECT_EQ(std::string(e.what()).find(kKey), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find(base), std::string::npos) << e.what();
}

TEST_F(OpenAiChatTest, TimesOutASlowAnswerAndRetriesIt) {
  OpenAiChatOptions o;
  o.base_url = server.openai_base_url();
  o.model = "m";
  o.http = fast_http(recorder, 1);
  o.http.total_timeout = std::chrono::milliseconds(200);
  OpenAiChatClient c(o, stats);
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_chat("late").with_delay(std::chrono::seconds(3)));
  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat("in time"));
  EXPECT_EQ(c.complete(ask("hi")).text, "in time");
  EXPECT_EQ(stats->phase("episode").retries, 1u);

  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_chat("late").with_delay(std::chrono::seconds(3)));
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_chat("late").with_delay(std::chrono::seconds(3)));
  const LlmCallError e = call_failing(c, ask("hi"));
  EXPECT_EQ(e.failure(), LlmFailure::kTimeout);
  EXPECT_NE(std::string(e.what()).find("no answer within 200 ms"), std::string::npos) << e.what();
}

TEST_F(OpenAiChatTest, ATruncatedBodyIsAConnectionFailureThatIsRetried) {
  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat("cut").truncated());
  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat("whole"));
  auto c = client();
  EXPECT_EQ(c->complete(ask("hi")).text, "whole");
  EXPECT_EQ(stats->phase("episode").retries, 1u);

  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat("cut").truncated());
  auto once = client(0);
  const LlmCallError e = call_failing(*once, ask("hi"));
  EXPECT_EQ(e.failure(), LlmFailure::kConnection);
  EXPECT_NE(std::string(e.what()).find("cut short"), std::string::npos) << e.what();
}

TEST_F(OpenAiChatTest, MalformedJsonIsAnErrorNotAnEmptyAnswer) {
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::raw(200, R"({"choices": [{"message": )"));
  auto c = client();
  const LlmCallError e = call_failing(*c, ask("hi"));
  EXPECT_EQ(e.failure(), LlmFailure::kMalformedResponse);
  EXPECT_NE(std::string(e.what()).find("not JSON"), std::string::npos) << e.what();
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(stats->phase("episode").errors, 1u);
}

TEST_F(OpenAiChatTest, ValidJsonOfTheWrongShapeIsAnError) {
  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::raw(200, R"({"result": "hello"})"));
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::raw(200, R"({"choices": [{"message": {"content": 42}}]})"));
  server.enqueue(
      LlmRoute::kChatCompletions,
      ScriptedReply::raw(200,
                         R"({"choices": [{"message": {"content": null, "refusal": "I can't"}}]})"));
  auto c = client();
  EXPECT_NE(std::string(call_failing(*c, ask("a")).what()).find("no choices[0]"),
            std::string::npos);
  EXPECT_NE(std::string(call_failing(*c, ask("b")).what()).find("content is not a string"),
            std::string::npos);
  EXPECT_NE(std::string(call_failing(*c, ask("c")).what()).find("refusal: I can't"),
            std::string::npos);
  EXPECT_EQ(stats->phase("episode").errors, 3u);
}

TEST_F(OpenAiChatTest, AnAnswerWithoutUsageCountsTheCallAndNoTokens) {
  server.enqueue(
      LlmRoute::kChatCompletions,
      ScriptedReply::raw(
          200,
          R"({"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"}}]})"));
  auto c = client();
  EXPECT_EQ(c->complete(ask("x", "segmentation")).usage, TokenUsage{});
  EXPECT_EQ(stats->phase("segmentation").calls, 1u);
}

TEST_F(OpenAiChatTest, ConnectionRefusedIsRetriedThenReported) {
  int port = 0;
  {
    ScriptedLlmServer gone;
    port = gone.port();
  }
  OpenAiChatOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port) + "/v1";
  o.model = "m";
  o.http = fast_http(recorder, 2);
  OpenAiChatClient c(o, stats);
  const LlmCallError e = call_failing(c, ask("hi"));
  EXPECT_EQ(e.failure(), LlmFailure::kConnection);
  EXPECT_EQ(e.attempts(), 3);
}

TEST_F(OpenAiChatTest, ConcurrencyCapBoundsRequestsOnTheWire) {
  OpenAiChatOptions o;
  o.base_url = server.openai_base_url();
  o.model = "m";
  o.http = fast_http(recorder);
  o.http.max_concurrency = 2;
  OpenAiChatClient c(o, stats);
  for (int i = 0; i < 6; ++i) {
    server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_chat("ok").with_delay(std::chrono::milliseconds(150)));
  }
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&] {
      if (c.complete(ask("hi")).text == "ok") ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 6);
  EXPECT_EQ(server.peak_concurrency(), 2u);
  EXPECT_EQ(stats->phase("episode").calls, 6u);
}

TEST_F(OpenAiChatTest, TokenBudgetRefusesCallsOnceSpent) {
  OpenAiChatOptions o;
  o.base_url = server.openai_base_url();
  o.model = "m";
  o.http = fast_http(recorder);
  o.http.token_budget = 100;
  OpenAiChatClient c(o, stats);
  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat("one", 60, 20));
  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat("two", 60, 20));
  EXPECT_EQ(c.complete(ask("a")).text, "one");  // 80 of 100
  EXPECT_EQ(c.complete(ask("b")).text, "two");  // 160: over budget from now on
  const LlmCallError e = call_failing(c, ask("c"));
  EXPECT_EQ(e.failure(), LlmFailure::kBudgetExceeded);
  EXPECT_EQ(e.attempts(), 0);
  EXPECT_NE(std::string(e.what()).find("token budget of 100"), std::string::npos) << e.what();
  EXPECT_EQ(server.requests().size(), 2u);
}

TEST_F(OpenAiChatTest, ConnectionsAreReused) {
  auto c = client();
  for (int i = 0; i < 3; ++i) c->complete(ask("hi"));
  // One handle, one kept-alive connection: every request came from the same client port.
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_NE(requests[0].remote_port, 0);
  for (const auto& q : requests) EXPECT_EQ(q.remote_port, requests[0].remote_port);
}

TEST_F(OpenAiChatTest, RejectsABadBaseUrlOrEmptyModel) {
  OpenAiChatOptions o;
  o.model = "m";
  o.base_url = "ftp://example.com";
  EXPECT_THROW(OpenAiChatClient(o, stats), ConfigError);
  o.base_url = "http://localhost:11434/v1";
  o.model = "";
  EXPECT_THROW(OpenAiChatClient(o, stats), ConfigError);
}

}  // namespace
}  // namespace nemori::test

namespace nemori::test {
namespace {

TEST_F(OpenAiChatTest, OllamaStyleErrorStringsAreQuoted) {
  server.enqueue(
      LlmRoute::kChatCompletions,
      ScriptedReply::raw(404, R"({"error": "model \"llama9\" not found, try pulling it first"})"));
  auto c = client();
  const LlmCallError e = call_failing(*c, ask("hi"));
  EXPECT_EQ(e.attempts(), 1);
  EXPECT_NE(std::string(e.what()).find("HTTP 404: model \"llama9\" not found"), std::string::npos)
      << e.what();
}

TEST_F(OpenAiChatTest, ARetryAfterDateFallsBackToTheBackoffAndAHugeOneFailsAtOnce) {
  ScriptedReply dated = ScriptedReply::openai_error(429, "slow down", "requests");
  dated.headers["Retry-After"] = "Wed, 21 Oct 2015 07:28:00 GMT";
  server.enqueue(LlmRoute::kChatCompletions, dated);
  auto c = client();
  c->complete(ask("hi"));
  ASSERT_EQ(recorder->sleeps_copy().size(), 1u);
  EXPECT_LE(recorder->sleeps_copy()[0].count(), 100);

  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_error(429, "quota", "requests").with_retry_after(3600));
  const LlmCallError e = call_failing(*c, ask("hi"));
  EXPECT_EQ(e.attempts(), 1);
  EXPECT_NE(std::string(e.what()).find("more than max_retry_after"), std::string::npos) << e.what();
  EXPECT_EQ(recorder->sleeps_copy().size(), 1u);
}

}  // namespace
}  // namespace nemori::test
