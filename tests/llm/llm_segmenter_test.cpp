// The LLM segmenter against the scripted server: valid answers, invalid ones asked again once,
// the heuristic fallback, chunks of a long backlog, and the prompt the model reads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llm_test_support.h"
#include "nemori/episodes/llm_segmenter.h"
#include "nemori/llm/openai.h"
#include "nemori/text/tokenizer.h"

namespace nemori::test {
namespace {

using namespace std::chrono_literals;

// Messages of one conversation, a minute apart from 2023-05-08 13:56 UTC, `day_breaks`
// starting a new day.
std::vector<Message> conversation(std::size_t n, std::vector<std::size_t> day_breaks = {}) {
  std::vector<Message> out;
  Timestamp t = make_timestamp(2023, 5, 8, 13, 56);
  for (std::size_t i = 0; i < n; ++i) {
    if (std::find(day_breaks.begin(), day_breaks.end(), i) != day_breaks.end()) t += 24h;
    Message m;
    m.speaker_id = i % 2 == 0 ? "Caroline" : "Melanie";
    m.content = "Message number " + std::to_string(i + 1) + " about pottery and hiking";
    m.timestamp = t;
    out.push_back(m);
    t += 1min;
  }
  return out;
}

struct Fixture {
  ScriptedLlmServer server;
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  Tokenizer tokenizer;

  explicit Fixture(ScriptedLlmServer::Options options = {}) : server(options) {}

  std::unique_ptr<Segmenter> heuristic() const {
    return std::make_unique<HeuristicSegmenter>(
        [this](std::string_view text) { return tokenizer.tokenize(text); });
  }

  LlmSegmenter segmenter(std::size_t chunk = 80, int max_retries = 3) {
    LlmSegmenterOptions options;
    options.chunk_messages = chunk;
    options.stats = stats;
    return LlmSegmenter(scripted_chat(server, recorder, stats, max_retries), heuristic(), options);
  }

  void answer(const std::string& text) {
    server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat(text));
  }

  // The text of the last user message of request `i`.
  std::string prompt(std::size_t i) const {
    const auto requests = server.requests();
    EXPECT_LT(i, requests.size());
    if (i >= requests.size()) return {};
    return requests[i].json["messages"].back()["content"].get<std::string>();
  }
};

TEST(LlmSegmenterTest, AValidAnswerGivesItsGroupsInOneCall) {
  Fixture f;
  f.answer(R"({"episodes": [{"indices": [1, 2, 3], "topic": "a"}, {"indices": [4, 5, 6]}]})");
  const auto messages = conversation(6);
  const auto segments = f.segmenter().segment(messages);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0], (Segment{0, 3, "topic_shift"}));
  EXPECT_EQ(segments[1], (Segment{3, 6, "end_of_input"}));
  EXPECT_EQ(f.server.requests().size(), 1u);
  expect_invalid_and_fallbacks(*f.stats, "segmentation", 0, 0);
  EXPECT_EQ(f.stats->phase("segmentation").calls, 1u);
  EXPECT_EQ(f.server.requests()[0].json["response_format"]["type"], "json_object");
}

TEST(LlmSegmenterTest, EachMessageReachesThePromptNumberedWithItsTime) {
  Fixture f;
  const auto messages = conversation(3, {2});
  f.segmenter().segment(messages);
  const std::string prompt = f.prompt(0);
  EXPECT_NE(prompt.find("1. [2023-05-08 13:56 UTC, Monday] Caroline: Message number 1 about"),
            std::string::npos)
      << prompt;
  EXPECT_NE(prompt.find("2. [2023-05-08 13:57 UTC, Monday] Melanie: Message number 2"),
            std::string::npos);
  EXPECT_NE(prompt.find("3. [2023-05-09 13:58 UTC, Tuesday] Caroline: Message number 3"),
            std::string::npos);
}

TEST(LlmSegmenterTest, AnInvalidAnswerIsAskedAgainOnceNamingTheProblem) {
  struct Case {
    const char* what;
    const char* answer;
    const char* problem;
  };
  const std::vector<Case> cases = {
      {"a message missing", R"({"episodes": [{"indices": [1, 2]}, {"indices": [3]}]})",
       "message 4 is in no group"},
      {"a message in two groups", R"({"episodes": [{"indices": [1, 2, 3]}, {"indices": [3, 4]}]})",
       "message 3 is in two groups"},
      {"groups out of order", R"({"episodes": [{"indices": [3, 4]}, {"indices": [1, 2]}]})",
       "message 3 comes before message 1"},
      {"a group not contiguous", R"({"episodes": [{"indices": [1, 3]}, {"indices": [2, 4]}]})",
       "message 3 comes before message 2"},
      {"a message that does not exist", R"({"episodes": [{"indices": [1, 2, 3, 4, 5]}]})",
       "message 5 does not exist"},
      {"malformed JSON", R"({"episodes": [{"indices": [1, 2)", "not one JSON object"},
      {"the wrong shape", R"({"groups": [[1, 2], [3, 4]]})", "no \"episodes\" list"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    Fixture f;
    f.answer(c.answer);
    f.answer(R"({"episodes": [{"indices": [1, 2]}, {"indices": [3, 4]}]})");
    const auto segments = f.segmenter().segment(conversation(4));
    ASSERT_EQ(segments.size(), 2u);
    EXPECT_EQ(segments[0].end, 2u);
    ASSERT_EQ(f.server.requests().size(), 2u);
    EXPECT_NE(f.prompt(1).find(c.problem), std::string::npos) << f.prompt(1);
    expect_invalid_and_fallbacks(*f.stats, "segmentation", 1, 0);
    EXPECT_EQ(f.stats->phase("segmentation").calls, 2u);
  }
}

TEST(LlmSegmenterTest, TwoInvalidAnswersHandTheChunkToTheHeuristicAndCountAFallback) {
  Fixture f;
  f.answer(R"({"episodes": [{"indices": [1]}]})");
  f.answer("I cannot do that.");
  const auto messages = conversation(9, {5});
  const auto segments = f.segmenter().segment(messages);
  EXPECT_EQ(segments, f.heuristic()->segment(messages));
  EXPECT_EQ(f.server.requests().size(), 2u);
  expect_invalid_and_fallbacks(*f.stats, "segmentation", 2, 1);
}

TEST(LlmSegmenterTest, AFailedCallFallsBackAtOnce) {
  Fixture f;
  f.server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_error(401, "Incorrect API key", "invalid_request_error"));
  const auto messages = conversation(7);
  EXPECT_EQ(f.segmenter().segment(messages), f.heuristic()->segment(messages));
  EXPECT_EQ(f.server.requests().size(), 1u);  // no retry on 401, no second ask
  expect_invalid_and_fallbacks(*f.stats, "segmentation", 0, 1);
  EXPECT_EQ(f.stats->phase("segmentation").errors, 1u);
}

TEST(LlmSegmenterTest, ALongBacklogGoesInChunksCarryingTheOpenGroup) {
  Fixture f;  // the deterministic model: groups of at most 10 lines of one day
  const auto messages = conversation(130);
  const auto segments = f.segmenter(/*chunk=*/50).segment(messages);
  // Chunks 1-50 (groups to 40 final, 41-50 carried), 41-90, 81-130.
  const auto requests = f.server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_NE(f.prompt(1).find("1. [2023-05-08 14:36 UTC, Monday] Caroline: Message number 41 "),
            std::string::npos);
  EXPECT_NE(f.prompt(2).find("1. [2023-05-08 15:16 UTC, Monday] Caroline: Message number 81 "),
            std::string::npos);
  ASSERT_EQ(segments.size(), 13u);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    EXPECT_EQ(segments[i].begin, i * 10);
    EXPECT_EQ(segments[i].end, i * 10 + 10);
  }
  EXPECT_EQ(segments.back().boundary, "end_of_input");
}

TEST(LlmSegmenterTest, TheStreamKeepsTheNewestGroupOpen) {
  Fixture f;
  f.answer(R"({"episodes": [{"indices": [1, 2, 3]}, {"indices": [4, 5]}]})");
  const auto segments = f.segmenter().segment_stream(conversation(5));
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[1], (Segment{3, 5, "end_of_input"}));  // open: rebuilt with what follows
}

TEST(LlmSegmenterTest, OneMessageNeedsNoCall) {
  Fixture f;
  const auto segments = f.segmenter().segment(conversation(1));
  EXPECT_EQ(segments, (std::vector<Segment>{{0, 1, "end_of_input"}}));
  EXPECT_TRUE(f.server.requests().empty());
  EXPECT_TRUE(f.segmenter().segment({}).empty());
}

TEST(LlmSegmenterTest, AReplacedPromptWithoutTheMessagesIsRefused) {
  Fixture f;
  LlmSegmenterOptions options;
  options.prompt = "Segment these.";
  try {
    LlmSegmenter s(scripted_chat(f.server, f.recorder, nullptr), f.heuristic(), options);
    FAIL() << "accepted a prompt without {{messages}}";
  } catch (const ConfigError& e) {
    EXPECT_NE(
        std::string(e.what()).find("prompts.segmentation: lacks the placeholder {{messages}}"),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace nemori::test
