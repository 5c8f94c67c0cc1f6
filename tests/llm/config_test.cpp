// LlmConfig: precedence of flags, environment, file and defaults; validation; client building.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "llm_test_support.h"
#include "nemori/core/error.h"
#include "nemori/llm/anthropic.h"
#include "nemori/llm/config.h"
#include "nemori/llm/openai.h"

namespace nemori::test {
namespace {

class LlmConfigTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (!file_.empty()) std::filesystem::remove(file_);
  }
  LlmConfigSources sources() {
    LlmConfigSources s;
    s.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    return s;
  }
  std::filesystem::path write_toml(const std::string& text) {
    file_ =
        std::filesystem::temp_directory_path() /
        ("nemori-llm-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml");
    std::ofstream(file_) << text;
    return file_;
  }
  std::string error_of(const LlmConfigSources& s) {
    try {
      load_llm_config(s);
    } catch (const ConfigError& e) {
      return e.what();
    }
    ADD_FAILURE() << "load_llm_config() did not throw";
    return "";
  }

  std::map<std::string, std::string> env;
  std::filesystem::path file_;
};

TEST_F(LlmConfigTest, NothingSetMeansNoClients) {
  const LlmConfig config = load_llm_config(sources());
  EXPECT_FALSE(config.has_chat());
  EXPECT_FALSE(config.has_embedding());
  const LlmClients clients = make_llm_clients(config);
  EXPECT_EQ(clients.chat, nullptr);
  EXPECT_EQ(clients.embedder, nullptr);
  EXPECT_NE(clients.stats, nullptr);
}

TEST_F(LlmConfigTest, AnOpenAiKeyAloneDoesNotTurnTheLlmOn) {
  env = {{"OPENAI_API_KEY", "sk-x"}};
  const LlmConfig config = load_llm_config(sources());
  EXPECT_FALSE(config.has_chat());
  EXPECT_FALSE(config.has_embedding());
}

TEST_F(LlmConfigTest, DefaultsApplyWhenOnlyModelsAreSet) {
  env = {{"NEMORI_LLM_MODEL", "gpt-4o-mini"},
         {"NEMORI_EMBEDDING_MODEL", "text-embedding-3-small"},
         {"OPENAI_API_KEY", "sk-x"}};
  const LlmConfig c = load_llm_config(sources());
  EXPECT_EQ(c.chat.provider, "openai");
  EXPECT_EQ(c.chat.base_url, "https://api.openai.com/v1");
  EXPECT_EQ(c.chat.api_key, "sk-x");
  EXPECT_EQ(c.chat.limits.timeout_seconds, 120);
  EXPECT_EQ(c.chat.limits.max_retries, 3);
  EXPECT_EQ(c.chat.limits.max_concurrency, 4);
  EXPECT_FALSE(c.chat.limits.token_budget.has_value());
  EXPECT_EQ(c.embedding.base_url, "https://api.openai.com/v1");
  EXPECT_EQ(c.embedding.api_key, "sk-x");
  EXPECT_EQ(c.embedding.batch_size, 64u);
  EXPECT_FALSE(c.embedding.dimension.has_value());
}

TEST_F(LlmConfigTest, FlagsBeatEnvironmentBeatsFileBeatsProviderEnvBeatsDefaults) {
  LlmConfigSources s = sources();
  s.file = write_toml(R"(
[llm]
model = "file-model"
base_url = "http://file:1/v1"
api_key = "file-key"
max_retries = 5
timeout_seconds = 30

[embedding]
model = "file-embed"
base_url = "http://file:2/v1"
dimension = 128

[server]
port = 8080  # other tables belong to other parts of nemori
)");
  env = {{"NEMORI_LLM_MODEL", "env-model"},
         {"LLM_BASE_URL", "http://original-env:3/v1"},
         {"OPENAI_API_KEY", "generic-key"},
         {"OPENAI_BASE_URL", "http://generic:4/v1"},
         {"EMBEDDING_API_KEY", "embed-env-key"}};
  s.flags = {{"llm.model", "flag-model"}};
  const LlmConfig c = load_llm_config(s);
  EXPECT_EQ(c.chat.model, "flag-model");                   // flag over env and file
  EXPECT_EQ(c.chat.base_url, "http://original-env:3/v1");  // original's env name over file
  EXPECT_EQ(c.chat.api_key, "file-key");                   // file over OPENAI_API_KEY
  EXPECT_EQ(c.chat.limits.max_retries, 5);                 // file over default
  EXPECT_EQ(c.chat.limits.timeout_seconds, 30);
  EXPECT_EQ(c.chat.limits.max_concurrency, 4);  // default
  EXPECT_EQ(c.embedding.model, "file-embed");
  EXPECT_EQ(c.embedding.base_url, "http://file:2/v1");  // file over OPENAI_BASE_URL
  EXPECT_EQ(c.embedding.api_key, "embed-env-key");      // EMBEDDING_API_KEY over none in file
  EXPECT_EQ(c.embedding.dimension, 128u);
}

TEST_F(LlmConfigTest, NemoriEnvBeatsTheOriginalNamesWhichBeatOpenAiNames) {
  env = {{"NEMORI_LLM_MODEL", "m"},
         {"NEMORI_LLM_API_KEY", "nemori-key"},
         {"LLM_API_KEY", "original-key"},
         {"OPENAI_API_KEY", "openai-key"},
         {"NEMORI_EMBEDDING_MODEL", "e"},
         {"EMBEDDING_BASE_URL", "http://original:1/v1"},
         {"OPENAI_BASE_URL", "http://openai-env:2/v1"}};
  LlmConfig c = load_llm_config(sources());
  EXPECT_EQ(c.chat.api_key, "nemori-key");
  EXPECT_EQ(c.chat.base_url, "http://openai-env:2/v1");
  EXPECT_EQ(c.embedding.base_url, "http://original:1/v1");
  EXPECT_EQ(c.embedding.api_key, "openai-key");
  env.erase("NEMORI_LLM_API_KEY");
  EXPECT_EQ(load_llm_config(sources()).chat.api_key, "original-key");
  env["NEMORI_LLM_API_KEY"] = "";  // empty counts as unset
  EXPECT_EQ(load_llm_config(sources()).chat.api_key, "original-key");
}

TEST_F(LlmConfigTest, AnthropicProviderUsesItsOwnDefaultsAndKey) {
  env = {{"NEMORI_LLM_PROVIDER", "anthropic"},
         {"NEMORI_LLM_MODEL", "claude-sonnet-4-5"},
         {"ANTHROPIC_API_KEY", "sk-ant"},
         {"OPENAI_API_KEY", "sk-openai"},
         {"OPENAI_BASE_URL", "http://x:1/v1"}};
  const LlmConfig c = load_llm_config(sources());
  EXPECT_EQ(c.chat.base_url, "https://api.anthropic.com");
  EXPECT_EQ(c.chat.api_key, "sk-ant");
  const LlmClients clients = make_llm_clients(c);
  EXPECT_NE(dynamic_cast<AnthropicChatClient*>(clients.chat.get()), nullptr);
}

TEST_F(LlmConfigTest, ValidationErrorsNameTheKeyAndTheSource) {
  LlmConfigSources s = sources();
  s.flags = {{"llm.timeout_seconds", "-3"}};
  EXPECT_EQ(
      error_of(s),
      "llm.timeout_seconds: must be a positive number (flag llm.timeout_seconds, got \"-3\")");
  s.flags = {{"llm.max_concurrency", "0"}};
  EXPECT_EQ(error_of(s).rfind("llm.max_concurrency: must be a whole number from 1 to 256", 0), 0u);
  s.flags = {{"llm.max_retries", "three"}};
  EXPECT_EQ(error_of(s).rfind("llm.max_retries: must be a whole number", 0), 0u);
  s.flags = {{"llm.provider", "gemini"}};
  EXPECT_EQ(error_of(s).rfind("llm.provider: must be \"openai\" or \"anthropic\"", 0), 0u);
  s.flags = {{"llm.modle", "x"}};
  EXPECT_EQ(error_of(s), "llm.modle: unknown key (flag)");
  s.flags = {};
  env = {{"NEMORI_EMBEDDING_BASE_URL", "localhost:11434"}};
  EXPECT_EQ(error_of(s).rfind("embedding.base_url: must be an http:// or https:// URL", 0), 0u);
  EXPECT_NE(error_of(s).find("environment variable NEMORI_EMBEDDING_BASE_URL"), std::string::npos);
  env = {{"NEMORI_EMBEDDING_DIMENSION", "0"}};
  EXPECT_EQ(error_of(s).rfind("embedding.dimension: must be a whole number from 1", 0), 0u);
}

TEST_F(LlmConfigTest, FileErrorsNameTheKeyAndTheFile) {
  LlmConfigSources s = sources();
  s.file = write_toml("[llm]\ntimeout_seconds = \"soon\"\n");
  std::string e = error_of(s);
  EXPECT_EQ(e.rfind("llm.timeout_seconds: must be a positive number (config file ", 0), 0u) << e;
  s.file = write_toml("[llm]\nmodel = 42\n");
  EXPECT_EQ(error_of(s).rfind("llm.model: must be a string", 0), 0u);
  s.file = write_toml("[embedding]\nbatchsize = 10\n");
  EXPECT_EQ(error_of(s).rfind("embedding.batchsize: unknown key", 0), 0u);
  s.file = write_toml("[llm\nmodel = 1\n");
  e = error_of(s);
  EXPECT_NE(e.find("line 1"), std::string::npos) << e;
  s.file = "/nonexistent/nemori.toml";
  EXPECT_NE(error_of(s).find("/nonexistent/nemori.toml"), std::string::npos);
}

TEST_F(LlmConfigTest, TheOfficialEndpointsNeedAKeyAndTheMessageNeverShowsOne) {
  env = {{"NEMORI_LLM_MODEL", "gpt-4o-mini"}};
  EXPECT_EQ(error_of(sources()).rfind("llm.api_key: required by https://api.openai.com/v1", 0), 0u);
  env = {{"NEMORI_LLM_MODEL", "llama3.1"}, {"NEMORI_LLM_BASE_URL", "http://localhost:11434/v1"}};
  EXPECT_NO_THROW(load_llm_config(sources()));  // a local server needs none
  LlmConfigSources s = sources();
  s.flags = {{"llm.api_key", "sk-SECRET"}, {"llm.timeout_seconds", "x"}};
  EXPECT_EQ(error_of(s).find("sk-SECRET"), std::string::npos);
}

TEST_F(LlmConfigTest, BuiltClientsTalkToTheConfiguredServerWithTheConfiguredLimits) {
  ScriptedLlmServer server;
  LlmConfigSources s = sources();
  s.flags = {{"llm.base_url", server.openai_base_url()},
             {"llm.model", "scripted-chat"},
             {"embedding.base_url", server.openai_base_url()},
             {"embedding.model", "scripted-embed"},
             {"embedding.dimension", "16"},
             {"llm.max_retries", "0"}};
  const LlmClients clients = make_llm_clients(load_llm_config(s));
  ASSERT_NE(clients.chat, nullptr);
  ASSERT_NE(clients.embedder, nullptr);
  EXPECT_EQ(clients.embedder->embed(std::vector<std::string>{"a b"}).at(0).size(), 16u);
  ChatRequest r;
  r.messages = {{"user", "Alice: hello Bob"}};
  r.phase = "episode";
  EXPECT_NE(clients.chat->complete(r).text.find("Alice said"), std::string::npos);
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_error(500, "down", "server_error"));
  EXPECT_THROW(clients.chat->complete(r), LlmError);  // max_retries 0: one attempt
  EXPECT_EQ(clients.stats->phase("episode").calls, 2u);
  EXPECT_EQ(clients.stats->phase("embedding").calls, 1u);
}

}  // namespace
}  // namespace nemori::test
