// MemorySystem with a chat model (the scripted server's deterministic model): the LLM segments
// and writes, the stats count it, prompts come from the configuration.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "llm_test_support.h"
#include "nemori/memory/memory_system.h"

namespace nemori::test {
namespace {

using namespace std::chrono_literals;

// 24 messages: 14 on May 8, 2023 and 10 on May 9.
std::vector<Message> two_days() {
  std::vector<Message> out;
  for (int i = 0; i < 24; ++i) {
    Message m;
    m.speaker_id = i % 2 == 0 ? "Caroline" : "Melanie";
    m.content = "Day " + std::to_string(i < 14 ? 1 : 2) + " message " + std::to_string(i) +
                " about the Boston support group";
    m.timestamp = make_timestamp(2023, 5, i < 14 ? 8 : 9, 13, 0) + std::chrono::minutes(i);
    out.push_back(m);
  }
  return out;
}

LlmConfig scripted_config(const ScriptedLlmServer& server) {
  LlmConfigSources sources;
  sources.flags = {{"llm.base_url", server.openai_base_url()}, {"llm.model", "scripted"}};
  sources.getenv = [](const std::string&) { return std::optional<std::string>(); };
  return load_llm_config(sources);
}

std::unique_ptr<MemorySystem> open_memory(const LlmConfig& config) {
  MemoryConfig memory;
  memory.storage.backend = "memory";
  memory.llm = make_llm_clients(config);
  return MemorySystem::open(memory);
}

TEST(LlmMemoryTest, TheModelSegmentsAndWritesEveryEpisode) {
  ScriptedLlmServer server;  // groups of at most 10 messages of one day
  const LlmConfig config = scripted_config(server);
  MemoryConfig memory_config;
  memory_config.storage.backend = "memory";
  memory_config.llm = make_llm_clients(config);
  auto memory = MemorySystem::open(memory_config);
  const auto messages = two_days();
  memory->add_messages("caroline", messages);
  const auto built = memory->process("caroline");
  EXPECT_EQ(built.raw_events, 24u);
  EXPECT_EQ(built.episodes, 3u);  // 10 + 4 on May 8, 10 on May 9
  for (const Episode& e : memory->list_episodes("caroline", 10, 0)) {
    EXPECT_EQ(e.metadata.custom_fields["generator"], "llm") << e.title;
    EXPECT_EQ(e.content.rfind("On 2023-05-0", 0), 0u) << e.content;
  }
  const auto& stats = *memory_config.llm.stats;
  EXPECT_EQ(stats.phase("segmentation").calls, 1u);
  EXPECT_EQ(stats.phase("episode").calls, 3u);
  EXPECT_GT(stats.phase("episode").prompt_tokens, 0u);
  EXPECT_EQ(stats.phase("segmentation").fallbacks + stats.phase("episode").fallbacks, 0u);
  MemorySearchRequest request;
  request.owner_id = "caroline";
  request.query = "message 20";
  ASSERT_FALSE(memory->search(request).hits.empty());
}

TEST(LlmMemoryTest, AKeptOpenBuildLeavesTheNewestGroupPending) {
  ScriptedLlmServer server;
  auto memory = open_memory(scripted_config(server));
  memory->add_messages("caroline", two_days());
  const auto built = memory->process("caroline", NewestSegment::kKeepOpen);
  EXPECT_EQ(built.episodes, 2u);
  EXPECT_EQ(built.left_open, 10u);  // May 9 may go on
  EXPECT_EQ(memory->process("caroline").episodes, 1u);
}

TEST(LlmMemoryTest, PromptsComeFromTheFilesTheConfigurationNames) {
  ScriptedLlmServer server;
  const auto dir =
      std::filesystem::temp_directory_path() / ("nemori-prompts-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "episode.txt") << "MY-OWN-EPISODE-PROMPT as JSON.\n{{messages}}\n";
  std::ofstream(dir / "nemori.toml") << "[llm]\nbase_url = \"" << server.openai_base_url()
                                     << "\"\nmodel = \"scripted\"\n[prompts]\nepisode = "
                                        "\"episode.txt\"\n";
  LlmConfigSources sources;
  sources.file = dir / "nemori.toml";
  sources.getenv = [](const std::string&) { return std::optional<std::string>(); };
  const LlmConfig config = load_llm_config(sources);
  ASSERT_EQ(config.prompts.count("episode"), 1u);
  auto memory = open_memory(config);
  const auto messages = two_days();
  memory->add_messages("caroline", std::span(messages).first(3));
  memory->process("caroline");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);  // the compiled-in segmentation prompt, then ours
  EXPECT_NE(requests[0].body.find("You segment a conversation"), std::string::npos);
  const std::string episode_prompt = requests[1].json["messages"][0]["content"];
  EXPECT_EQ(episode_prompt.rfind("MY-OWN-EPISODE-PROMPT as JSON.\n[2023-05-08 13:00 UTC", 0), 0u)
      << episode_prompt;

  std::ofstream(dir / "nemori.toml") << "[prompts]\nsegmentation = \"missing.txt\"\n";
  try {
    load_llm_config(sources);
    ADD_FAILURE() << "a missing prompt file was accepted";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(
                  "prompts.segmentation: cannot read " + (dir / "missing.txt").string(), 0),
              0u)
        << e.what();
  }
  std::ofstream(dir / "nemori.toml") << "[prompts]\nsummary = \"episode.txt\"\n";
  EXPECT_THROW(load_llm_config(sources), ConfigError);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nemori::test
