// The scripted server's deterministic model and its standalone program.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "llm_test_support.h"
#include "nemori/core/utf8.h"
#include "nemori/llm/openai.h"

namespace nemori::test {
namespace {

ChatResponse ask(ScriptedLlmServer& server, const std::string& prompt) {
  OpenAiChatOptions o;
  o.base_url = server.openai_base_url();
  o.model = "scripted";
  OpenAiChatClient client(o, nullptr);
  ChatRequest r;
  r.messages = {{"user", prompt}};
  r.format = ResponseFormat::kJsonObject;
  return client.complete(r);
}

TEST(ScriptedServerTest, SegmentsNumberedMessagesByDateAndGroupSize) {
  ScriptedLlmServer::Options options;
  options.segment_size = 3;
  ScriptedLlmServer server(options);
  const std::string prompt =
      "Segment these messages into episodes.\n"
      "1. [2023-05-08T13:56:00Z] Caroline: I went to a support group.\n"
      "2. [2023-05-08T13:57:00Z] Melanie: How was it?\n"
      "3. [2023-05-08T13:58:00Z] Caroline: Inspiring.\n"
      "4. [2023-05-08T13:59:00Z] Melanie: Great!\n"
      "5. [2023-05-25T10:00:00Z] Melanie: I ran a charity race.\n";
  const auto answer = nlohmann::json::parse(ask(server, prompt).text);
  ASSERT_EQ(answer["episodes"].size(), 3u);
  EXPECT_EQ(answer["episodes"][0]["indices"], nlohmann::json({1, 2, 3}));
  EXPECT_EQ(answer["episodes"][1]["indices"], nlohmann::json({4}));
  EXPECT_EQ(answer["episodes"][2]["indices"], nlohmann::json({5}));
  EXPECT_EQ(answer["episodes"][2]["topic"], "Melanie I ran a charity race");
}

TEST(ScriptedServerTest, WritesAnEpisodeFromTheMessages) {
  ScriptedLlmServer server;
  const auto answer =
      nlohmann::json::parse(ask(server,
                                "Write an episode.\n[2023-05-08T13:56:00Z] Caroline: I joined an "
                                "LGBTQ support group in Boston.\n"
                                "[2023-05-08T13:57:00Z] Melanie: That is wonderful!")
                                .text);
  EXPECT_EQ(answer["timestamp"], "2023-05-08T13:56:00Z");
  EXPECT_EQ(answer["content"],
            "On 2023-05-08, Caroline said \"I joined an LGBTQ support group in Boston.\". Melanie "
            "said \"That is "
            "wonderful!\".");
  EXPECT_EQ(answer["title"], "I joined an LGBTQ support group in Boston");
  EXPECT_EQ(answer["entities"], nlohmann::json({"Caroline", "LGBTQ", "Boston", "Melanie"}));
  for (const char* field : {"summary", "topics", "keywords"})
    EXPECT_TRUE(answer.contains(field)) << field;
}

TEST(ScriptedServerTest, EpisodesOfEmojiAndWordlessMessagesAreValid) {
  ScriptedLlmServer server;
  std::string party;
  for (int i = 0; i < 60; ++i) party += "\xF0\x9F\x8E\x89";  // the summary's cut falls inside one
  const auto answer = nlohmann::json::parse(
      ask(server, "Write an episode.\n[2023-05-08T13:56:00Z] Caroline: " + party).text);
  const std::string summary = answer["summary"];
  EXPECT_TRUE(is_valid_text(summary));
  EXPECT_GE(summary.size(), 190u);
  const auto wink =
      nlohmann::json::parse(ask(server, "Write an episode.\n[2023-07-09T10:00:00Z] Gina: ;)").text);
  EXPECT_EQ(wink["title"], "Gina wrote");
}

TEST(ScriptedServerTest, AnswersAreTheSameOnEveryRun) {
  ScriptedLlmServer a;
  ScriptedLlmServer b;
  EXPECT_EQ(ask(a, "Alice: we met in Lisbon").text, ask(b, "Alice: we met in Lisbon").text);
}

TEST(ScriptedServerTest, TheProgramPrintsItsPortAndServes) {
  ScriptedLlmProcess program;
  ASSERT_GT(program.pid(), 0);
  ASSERT_GT(program.port(), 0);
  OpenAiEmbeddingOptions o;
  o.base_url = program.openai_base_url();
  o.model = "scripted";
  OpenAiEmbedder embedder(o, nullptr);
  EXPECT_EQ(embedder.embed(std::vector<std::string>{"hello"}).at(0).size(), 256u);
}

}  // namespace
}  // namespace nemori::test
