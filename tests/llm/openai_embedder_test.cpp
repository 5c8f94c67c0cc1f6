// OpenAiEmbedder against the scripted server: batching, order by index, shape checks.
#include <gtest/gtest.h>

#include <cmath>

#include "llm_test_support.h"
#include "nemori/llm/llm_error.h"
#include "nemori/llm/openai.h"

namespace nemori::test {
namespace {

class OpenAiEmbedderTest : public ::testing::Test {
 protected:
  OpenAiEmbedder embedder(std::size_t batch_size = 64,
                          std::optional<std::size_t> dimension = std::nullopt) {
    return OpenAiEmbedder(options(batch_size, dimension), stats);
  }
  OpenAiEmbeddingOptions options(std::size_t batch_size = 64,
                                 std::optional<std::size_t> dimension = std::nullopt) {
    OpenAiEmbeddingOptions o;
    o.base_url = server.openai_base_url();
    o.model = "text-embedding-3-small";
    o.api_key = "sk-embed-SECRET";
    o.batch_size = batch_size;
    o.dimension = dimension;
    o.http = fast_http(recorder);
    return o;
  }
  std::string error_of(OpenAiEmbedder& e, const std::vector<std::string>& texts) {
    try {
      e.embed(texts);
    } catch (const LlmCallError& error) {
      EXPECT_EQ(error.failure(), LlmFailure::kMalformedResponse);
      return error.what();
    }
    ADD_FAILURE() << "embed() did not throw";
    return "";
  }

  ScriptedLlmServer server;
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
};

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / std::sqrt(na * nb);
}

TEST_F(OpenAiEmbedderTest, SendsBatchesOfBatchSizeInputsAndKeepsInputOrder) {
  auto e = embedder(2);
  const std::vector<std::string> texts = {"the dog ran", "a cat slept", "birds sing", "fish swim",
                                          "trees grow"};
  const auto vectors = e.embed(texts);
  ASSERT_EQ(vectors.size(), 5u);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);  // 2 + 2 + 1
  EXPECT_EQ(requests[0].json["input"], nlohmann::json({"the dog ran", "a cat slept"}));
  EXPECT_EQ(requests[2].json["input"], nlohmann::json({"trees grow"}));
  EXPECT_EQ(requests[0].json["model"], "text-embedding-3-small");
  EXPECT_EQ(requests[0].json["encoding_format"], "float");
  EXPECT_FALSE(requests[0].json.contains("dimensions"));
  EXPECT_EQ(requests[0].header("authorization"), "Bearer sk-embed-SECRET");
  // The deterministic model embeds each text alone: the same text gives the same vector.
  const auto again = e.embed(std::vector<std::string>{"fish swim"});
  EXPECT_EQ(again[0], vectors[3]);
  EXPECT_EQ(e.dimension(), 256u);
  EXPECT_EQ(stats->phase("embedding").calls, 4u);
  EXPECT_EQ(stats->phase("embedding").prompt_tokens, 14u);  // words as tokens: 12 + 2
}

TEST_F(OpenAiEmbedderTest, OrdersVectorsByTheIndexField) {
  server.enqueue(LlmRoute::kEmbeddings,
                 ScriptedReply::openai_embeddings({{1, 0}, {0, 1}, {1, 1}}, 9, true));
  auto e = embedder();
  const auto vectors = e.embed(std::vector<std::string>{"a", "b", "c"});
  EXPECT_EQ(vectors, (std::vector<std::vector<float>>{{1, 0}, {0, 1}, {1, 1}}));
  EXPECT_EQ(stats->phase("embedding").prompt_tokens, 9u);
}

TEST_F(OpenAiEmbedderTest, AConfiguredDimensionIsRequestedAndChecked) {
  auto e = embedder(64, 32);
  EXPECT_EQ(e.dimension(), 32u);
  EXPECT_EQ(e.embed(std::vector<std::string>{"hello there"})[0].size(), 32u);
  EXPECT_EQ(server.requests().at(0).json["dimensions"], 32);
  server.enqueue(LlmRoute::kEmbeddings, ScriptedReply::openai_embeddings({{1, 2, 3}}));
  EXPECT_NE(error_of(e, {"x"}).find("length 3, expected 32"), std::string::npos);
}

TEST_F(OpenAiEmbedderTest, SimilarTextsAreCloserThanUnrelatedOnes) {
  auto e = embedder();
  const auto v = e.embed(std::vector<std::string>{"Melanie painted a sunrise over the lake",
                                                  "Melanie painted the lake at sunrise",
                                                  "quarterly tax filing deadline"});
  EXPECT_GT(cosine(v[0], v[1]), cosine(v[0], v[2]) + 0.3);
}

TEST_F(OpenAiEmbedderTest, WrongShapesAreErrors) {
  auto e = embedder();
  server.enqueue(LlmRoute::kEmbeddings, ScriptedReply::raw(200, R"({"object": "list"})"));
  EXPECT_NE(error_of(e, {"a"}).find("no data array"), std::string::npos);
  server.enqueue(LlmRoute::kEmbeddings, ScriptedReply::openai_embeddings({{1, 0}}));
  EXPECT_NE(error_of(e, {"a", "b"}).find("1 embeddings for 2 inputs"), std::string::npos);
  server.enqueue(
      LlmRoute::kEmbeddings,
      ScriptedReply::raw(
          200, R"({"data": [{"index": 0, "embedding": [1]}, {"index": 0, "embedding": [1]}]})"));
  EXPECT_NE(error_of(e, {"a", "b"}).find("repeated or out of range"), std::string::npos);
  server.enqueue(LlmRoute::kEmbeddings,
                 ScriptedReply::raw(200, R"({"data": [{"index": 0, "embedding": "AAAA"}]})"));
  EXPECT_NE(error_of(e, {"a"}).find("not an array of numbers"), std::string::npos);
  server.enqueue(LlmRoute::kEmbeddings, ScriptedReply::raw(200, "<html>502 Bad Gateway</html>"));
  EXPECT_NE(error_of(e, {"a"}).find("not JSON"), std::string::npos);
  EXPECT_EQ(stats->phase("embedding").errors, 5u);
}

TEST_F(OpenAiEmbedderTest, RetriesA429ThenSucceeds) {
  server.enqueue(
      LlmRoute::kEmbeddings,
      ScriptedReply::openai_error(429, "Rate limit reached", "requests").with_retry_after(2));
  auto e = embedder();
  EXPECT_EQ(e.embed(std::vector<std::string>{"x y"}).size(), 1u);
  ASSERT_EQ(recorder->sleeps_copy().size(), 1u);
  EXPECT_EQ(recorder->sleeps_copy()[0], std::chrono::milliseconds(2000));
  EXPECT_EQ(stats->phase("embedding").retries, 1u);
}

TEST_F(OpenAiEmbedderTest, EmptyInputSendsNothingAndPhaseCanBeChosen) {
  auto e = embedder();
  EXPECT_TRUE(e.embed(std::vector<std::string>{}).empty());
  EXPECT_TRUE(server.requests().empty());
  e.embed(std::vector<std::string>{"query words"}, "query");
  EXPECT_EQ(stats->phase("query").calls, 1u);
  EXPECT_EQ(stats->phase("embedding").calls, 0u);
}

TEST_F(OpenAiEmbedderTest, IsTheRetrievalLayersEmbeddingClient) {
  std::shared_ptr<EmbeddingClient> client = std::make_shared<OpenAiEmbedder>(options(), stats);
  EXPECT_EQ(client->model(), "text-embedding-3-small");
  EXPECT_EQ(client->embed(std::vector<std::string>{"a b c"}).at(0).size(), 256u);
}

}  // namespace
}  // namespace nemori::test
