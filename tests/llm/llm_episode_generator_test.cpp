// The LLM episode writer against the scripted server: what the prompt carries, what the
// episode keeps, and the extractive episode when the model fails.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llm_test_support.h"
#include "nemori/core/utf8.h"
#include "nemori/episodes/llm_episode_generator.h"
#include "nemori/llm/openai.h"
#include "nemori/text/tokenizer.h"

namespace nemori::test {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  ScriptedLlmServer server;
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  Tokenizer tokenizer;
  std::vector<Message> messages;
  std::vector<RawEvent> events;

  Fixture() {
    const Timestamp t = make_timestamp(2023, 6, 27, 9, 15);
    add("Caroline", "I paid $1,250 for the flight to Lisbon with Melanie last Friday.", t);
    add("Melanie", "And the concert on June 23, 2023 was worth every cent!", t + 4min);
  }

  void add(const std::string& speaker, const std::string& text, Timestamp t) {
    Message m;
    m.speaker_id = speaker;
    m.content = text;
    m.timestamp = t;
    messages.push_back(m);
    events.push_back(to_raw_event(m, "caroline"));
  }

  std::unique_ptr<EpisodeGenerator> extractive() const {
    return std::make_unique<ExtractiveEpisodeGenerator>(
        [this](std::string_view text) { return tokenizer.tokenize(text); });
  }

  Episode generate(int max_retries = 3) {
    LlmEpisodeGeneratorOptions options;
    options.stats = stats;
    LlmEpisodeGenerator writer(scripted_chat(server, recorder, stats, max_retries), extractive(),
                               options);
    return writer.generate("caroline", events, messages);
  }

  void answer(const nlohmann::json& j) { answer_text(j.dump()); }
  void answer_text(const std::string& text) {
    server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat(text));
  }
};

TEST(LlmEpisodeGeneratorTest, ThePromptCarriesEachMessagesTimeAndTheStart) {
  Fixture f;
  f.generate();
  const auto requests = f.server.requests();
  ASSERT_EQ(requests.size(), 1u);
  const std::string prompt = requests[0].json["messages"][0]["content"];
  EXPECT_NE(prompt.find("[2023-06-27 09:15 UTC, Tuesday] Caroline: I paid $1,250"),
            std::string::npos)
      << prompt;
  EXPECT_NE(prompt.find("[2023-06-27 09:19 UTC, Tuesday] Melanie: And the concert"),
            std::string::npos);
  EXPECT_NE(prompt.find("June 27, 2023 (Tuesday) at 9:15 AM UTC"), std::string::npos);
  EXPECT_NE(prompt.find("2023-06-27T09:15:00+00:00"), std::string::npos);
  EXPECT_NE(prompt.find("relative (absolute)"), std::string::npos);
  EXPECT_EQ(requests[0].json["response_format"]["type"], "json_object");
}

TEST(LlmEpisodeGeneratorTest, TheEpisodeKeepsNamesNumbersAndDates) {
  Fixture f;  // the deterministic model quotes every message
  const Episode e = f.generate();
  for (const char* kept : {"Caroline", "Melanie", "$1,250", "Lisbon", "June 23, 2023"})
    EXPECT_NE(e.content.find(kept), std::string::npos) << kept << " in " << e.content;
  EXPECT_EQ(e.metadata.custom_fields["generator"], "llm");
  EXPECT_EQ(e.metadata.custom_fields["model"], "scripted");
  EXPECT_NE(std::find(e.metadata.entities.begin(), e.metadata.entities.end(), "Lisbon"),
            e.metadata.entities.end());
  EXPECT_EQ(e.metadata.source_data_ids.size(), 2u);
  EXPECT_EQ(e.temporal_info.timestamp, make_timestamp(2023, 6, 27, 9, 15));
  EXPECT_EQ(f.stats->phase("episode").calls, 1u);
}

TEST(LlmEpisodeGeneratorTest, TheAnswerReplacesTitleContentListsAndTime) {
  Fixture f;
  f.answer({{"title", "Caroline's $1,250 Lisbon flight and the June 23 concert"},
            {"content",
             "On June 27, 2023, Caroline told Melanie she had paid $1,250 for the flight to "
             "Lisbon last Friday (June 23, 2023)."},
            {"summary", "Caroline paid $1,250 for a Lisbon flight."},
            {"timestamp", "2023-06-27T09:17:00Z"},
            {"entities", {"Caroline", "Melanie", "Lisbon", "Lisbon", " "}},
            {"topics", {"travel"}},
            {"keywords", {"flight", "Lisbon", "concert"}}});
  const Episode e = f.generate();
  EXPECT_EQ(e.title, "Caroline's $1,250 Lisbon flight and the June 23 concert");
  EXPECT_NE(e.content.find("last Friday (June 23, 2023)"), std::string::npos);
  EXPECT_EQ(e.summary, "Caroline paid $1,250 for a Lisbon flight.");
  EXPECT_EQ(e.temporal_info.timestamp, make_timestamp(2023, 6, 27, 9, 17));
  EXPECT_EQ(e.metadata.entities, (std::vector<std::string>{"Caroline", "Melanie", "Lisbon"}));
  EXPECT_EQ(e.metadata.topics, (std::vector<std::string>{"travel"}));
  EXPECT_EQ(e.search_keywords, (std::vector<std::string>{"flight", "Lisbon", "concert"}));
}

TEST(LlmEpisodeGeneratorTest, ATimeOutsideTheMessagesIsKeptAsideNotUsed) {
  Fixture f;
  f.answer({{"title", "t"}, {"content", "c"}, {"timestamp", "2023-06-23T20:00:00Z"}});
  const Episode e = f.generate();
  EXPECT_EQ(e.temporal_info.timestamp, make_timestamp(2023, 6, 27, 9, 15));
  EXPECT_EQ(e.metadata.custom_fields["llm_timestamp"], "2023-06-23T20:00:00Z");
}

TEST(LlmEpisodeGeneratorTest, TwoInvalidAnswersLeaveTheExtractiveEpisodeAndCountAFallback) {
  Fixture f;
  f.answer({{"title", "no content"}});
  f.answer({{"title", "t"}, {"content", "c"}, {"entities", "Caroline"}});
  const Episode e = f.generate();
  const Episode extractive = f.extractive()->generate("caroline", f.events, f.messages);
  EXPECT_EQ(e.content, extractive.content);
  EXPECT_EQ(e.title, extractive.title);
  EXPECT_EQ(e.metadata.custom_fields["generator"], "extractive");
  EXPECT_EQ(e.metadata.custom_fields["llm_fallback"], "\"entities\" is not a list");
  ASSERT_EQ(f.server.requests().size(), 2u);
  const std::string retry = f.server.requests()[1].json["messages"].back()["content"];
  EXPECT_NE(retry.find("\"content\" is missing or empty"), std::string::npos) << retry;
  expect_invalid_and_fallbacks(*f.stats, "episode", 2, 1);
}

TEST(LlmEpisodeGeneratorTest, AFailedCallLeavesTheExtractiveEpisode) {
  Fixture f;
  f.server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_error(500, "overloaded", "server_error"));
  const Episode e = f.generate(/*max_retries=*/0);
  EXPECT_EQ(e.metadata.custom_fields["generator"], "extractive");
  EXPECT_NE(e.metadata.custom_fields["llm_fallback"].get<std::string>().find("HTTP 500"),
            std::string::npos);
  expect_invalid_and_fallbacks(*f.stats, "episode", 0, 1);
  EXPECT_EQ(f.stats->phase("episode").errors, 1u);
}

TEST(LlmEpisodeGeneratorTest, AProvidersErrorTextIsKeptAsStorableText) {
  Fixture f;
  f.server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::raw(503, std::string("busy \xFF\xFE, \0retry", 16)));
  const Episode e = f.generate(/*max_retries=*/0);
  const std::string reason = e.metadata.custom_fields["llm_fallback"];
  EXPECT_NE(reason.find("HTTP 503"), std::string::npos) << reason;
  EXPECT_TRUE(is_valid_text(reason)) << reason;
  EXPECT_NE(reason.find("busy"), std::string::npos) << reason;
  EXPECT_NO_THROW(validate(e));
}

TEST(LlmEpisodeGeneratorTest, AnswerProblemsAreNamed) {
  EXPECT_EQ(episode_answer_problem({{"title", "t"}, {"content", "c"}}), "");
  EXPECT_EQ(episode_answer_problem({{"content", "c"}}), "\"title\" is missing or empty");
  EXPECT_EQ(episode_answer_problem({{"title", " "}, {"content", "c"}}),
            "\"title\" is missing or empty");
  EXPECT_EQ(episode_answer_problem({{"title", "t"}, {"content", "c"}, {"summary", 3}}),
            "\"summary\" is not a string");
  EXPECT_NE(episode_answer_problem({{"title", "t"}, {"content", "c"}, {"timestamp", "Friday"}})
                .find("\"timestamp\": \"Friday\" is not an ISO-8601"),
            std::string::npos);
  EXPECT_EQ(episode_answer_problem({{"title", "t"}, {"content", std::string("a\0b", 3)}}),
            "\"content\" is not valid UTF-8 text");
  EXPECT_EQ(episode_answer_problem({{"title", "t"}, {"content", "c"}, {"topics", {1}}}),
            "\"topics\" holds 1, not a string");
}

}  // namespace
}  // namespace nemori::test
