// The whole `nemori` path with a model: ingest, flush, episodes, search, stats, health and eval
// locomo against the nemori-scripted-llm program (a real process on loopback).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "llm_test_support.h"
#include "nemori_command.h"

namespace nemori::test {
namespace {

const std::string kTinyLocomo = std::string(NEMORI_TEST_DATA_DIR) + "/eval/tiny_locomo.json";

bool has(const CommandRun& r, const std::string& text) {
  return r.out.find(text) != std::string::npos;
}

// A DuckDB file of its own, removed at the end, and the model's flags.
struct LlmCliTest : ::testing::Test {
  ScriptedLlmProcess model;
  std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("nemori-llm-cli-" + std::to_string(::getpid()));
  std::string storage;
  std::string flags;

  void SetUp() override {
    ASSERT_GT(model.port(), 0) << "nemori-scripted-llm did not start";
    std::filesystem::create_directories(dir);
    storage = " --storage duckdb://" + (dir / "store.duckdb").string();
    flags = " --llm-base-url " + model.openai_base_url() + " --llm-model scripted";
    for (const char* name : {"NEMORI_LLM_BASE_URL", "NEMORI_LLM_MODEL", "NEMORI_EMBEDDING_MODEL",
                             "LLM_BASE_URL", "NEMORI_CONFIG"})
      ::unsetenv(name);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
};

TEST_F(LlmCliTest, IngestFlushSearchAndStatsWithTheModel) {
  const auto ingest = run_nemori("ingest " + kTinyLocomo + storage + flags);
  ASSERT_EQ(ingest.code, 0) << ingest.out;
  EXPECT_FALSE(has(ingest, "llm ")) << "no call was made, none is reported: " << ingest.out;

  // The environment, as a user switches to a model.
  ::setenv("NEMORI_LLM_BASE_URL", model.openai_base_url().c_str(), 1);
  ::setenv("NEMORI_LLM_MODEL", "scripted", 1);
  const auto flush = run_nemori("flush" + storage);
  ASSERT_EQ(flush.code, 0) << flush.out;
  EXPECT_TRUE(has(flush, "built 3 episodes from 8 raw events")) << flush.out;  // one a day
  EXPECT_TRUE(has(flush, "llm segmentation: 1 calls")) << flush.out;
  EXPECT_TRUE(has(flush, "llm episode: 3 calls")) << flush.out;
  EXPECT_TRUE(has(flush, "0 fallbacks")) << flush.out;

  const auto episodes = run_nemori("episodes --owner tiny-1 --json" + storage);
  ASSERT_EQ(episodes.code, 0) << episodes.out;
  std::size_t lines = 0;
  for (std::size_t at = 0; (at = episodes.out.find('\n', at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, 3u);
  EXPECT_EQ(episodes.out.find("\"generator\":\"extractive\""), std::string::npos) << episodes.out;
  EXPECT_TRUE(has(episodes, "\"generator\":\"llm\""));

  const auto search = run_nemori("search \"Clara Lisbon\" --owner tiny-1 -k 1" + storage);
  ASSERT_EQ(search.code, 0) << search.out;
  EXPECT_TRUE(has(search, "My sister Clara moved to Lisbon")) << search.out;

  const auto stats = run_nemori("stats" + storage);
  ASSERT_EQ(stats.code, 0) << stats.out;
  EXPECT_TRUE(has(stats, "segmentation     scripted (openai, " + model.openai_base_url() + ")"))
      << stats.out;
  EXPECT_TRUE(has(stats, "embedding        none (BM25 search only)"));
  EXPECT_TRUE(has(stats, "episodes         3 (3 written by a model, 0 extractive)")) << stats.out;
  const auto stats_json = nlohmann::json::parse(run_nemori("stats --json" + storage).out);
  EXPECT_EQ(stats_json["llm"]["mode"], "llm");
  EXPECT_EQ(stats_json["llm"]["episode"]["model"], "scripted");
  EXPECT_EQ(stats_json["episodes_by_writer"]["llm"], 3);

  const auto health = run_nemori("health" + storage);
  ASSERT_EQ(health.code, 0) << health.out;
  EXPECT_TRUE(has(health, "episode writer scripted")) << health.out;

  ::unsetenv("NEMORI_LLM_BASE_URL");
  ::unsetenv("NEMORI_LLM_MODEL");
  const auto free = run_nemori("stats" + storage);
  EXPECT_TRUE(has(free, "LLM-free")) << free.out;
  EXPECT_TRUE(has(run_nemori("health" + storage), "LLM-free"));
}

TEST_F(LlmCliTest, EvalLocomoReportsCallsAndTokensPerThousandMessages) {
  const auto json_run = run_nemori("eval locomo " + kTinyLocomo + " --json" + flags);
  ASSERT_EQ(json_run.code, 0) << json_run.out;
  const auto j = nlohmann::json::parse(json_run.out);
  const auto& llm = j["llm"];
  EXPECT_EQ(llm["segmentation"]["model"], "scripted");
  EXPECT_EQ(llm["usage"]["segmentation"]["calls"], 1);
  EXPECT_EQ(llm["usage"]["episode"]["calls"], j["episodes"]);
  EXPECT_DOUBLE_EQ(llm["per_1000_messages"]["segmentation"]["calls"].get<double>(), 1000.0 / 8);
  EXPECT_GT(llm["tokens_per_1000_messages"].get<double>(), 0);
  EXPECT_GT(j["recall"]["overall"]["recall@1000w"].get<double>(), 0);

  const auto text = run_nemori("eval locomo " + kTinyLocomo + flags);
  ASSERT_EQ(text.code, 0) << text.out;
  EXPECT_TRUE(has(text, "models: segmentation scripted, episodes scripted, embedding none"))
      << text.out;
  EXPECT_TRUE(has(text, "tokens per 1,000 messages: "));

  const auto free = run_nemori("eval locomo " + kTinyLocomo + " --json");
  ASSERT_EQ(free.code, 0) << free.out;
  EXPECT_EQ(nlohmann::json::parse(free.out)["llm"]["mode"], "LLM-free");
}

TEST_F(LlmCliTest, FlushWithAnEmbeddingModelAlsoExtractsStatementsAndSaysSo) {
  const std::string both = flags + " --embedding-base-url " + model.openai_base_url() +
                           " --embedding-model scripted-embedding";
  const auto ingest = run_nemori("ingest " + kTinyLocomo + storage);
  ASSERT_EQ(ingest.code, 0) << ingest.out;
  const auto flush = run_nemori("flush" + storage + both);
  ASSERT_EQ(flush.code, 0) << flush.out;
  // Three episodes (one a day), each seen by the semantic pass; "My sister Clara ..." is one
  // lasting statement at least.
  EXPECT_TRUE(has(flush, "built 3 episodes from 8 raw events; ")) << flush.out;
  EXPECT_TRUE(has(flush, " new statements from 3 episodes")) << flush.out;
  EXPECT_FALSE(has(flush, "; 0 new statements")) << flush.out;

  const auto facts = run_nemori("facts --owner tiny-1" + storage);
  ASSERT_EQ(facts.code, 0) << facts.out;
  EXPECT_TRUE(has(facts, "Ana's sister")) << facts.out;

  // LLM-free, the same flush says nothing about statements.
  const auto again = run_nemori("flush" + storage);
  ASSERT_EQ(again.code, 0) << again.out;
  EXPECT_FALSE(has(again, "statements")) << again.out;
}

TEST_F(LlmCliTest, ABadModelSettingIsAnErrorNamingTheKey) {
  const auto r = run_nemori("flush" + storage + " --llm-model m --llm-base-url ftp://x");
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(has(r, "llm.base_url: must be an http:// or https:// URL")) << r.out;
  const auto missing = run_nemori("flush" + storage + " --config " + (dir / "none.toml").string());
  EXPECT_EQ(missing.code, 1);
  EXPECT_TRUE(has(missing, "--config: no such file")) << missing.out;
}

}  // namespace
}  // namespace nemori::test
