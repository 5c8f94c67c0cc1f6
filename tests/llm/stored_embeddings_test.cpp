// Stored episode embeddings and hybrid search, with the scripted server's deterministic
// embeddings: vectors are computed once when episodes are built (one request per 64 texts),
// stored with the episode and its model on every backend, loaded without a request after a
// reopen; a changed model is refused naming both; `reembed` re-embeds, resumably; hybrid finds
// an episode, and a message still waiting for its episode, by a word they do not hold.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "llm_test_support.h"
#include "nemori/core/error.h"
#include "nemori/llm/config.h"
#include "nemori/memory/memory_system.h"
#include "nemori/memory/reembed.h"
#include "nemori/storage/factory.h"
#include "nemori_command.h"

namespace nemori::test {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kDimension = 256;

// Words the scripted embedder maps to one concept: "pastries" shares no word (nor stem) with
// "croissants" or "pasteis", yet their vectors are close.
ScriptedLlmServer::Options synonym_options() {
  ScriptedLlmServer::Options o;
  o.embedding_dimension = kDimension;
  o.embedding_synonyms = {{"pastries", "pastry"}, {"croissants", "pastry"}, {"pasteis", "pastry"},
                          {"baked", "oven"},      {"baking", "oven"},       {"marathon", "race"},
                          {"running", "race"},    {"ran", "race"}};
  return o;
}

std::size_t embedding_requests(const ScriptedLlmServer& server) {
  std::size_t n = 0;
  for (const auto& r : server.requests()) n += r.route == LlmRoute::kEmbeddings ? 1 : 0;
  return n;
}

LlmClients embedder_clients(const ScriptedLlmServer& server, const std::string& model) {
  LlmConfigSources sources;
  sources.flags = {{"embedding.base_url", server.openai_base_url()},
                   {"embedding.model", model},
                   {"embedding.dimension", std::to_string(kDimension)}};
  sources.getenv = [](const std::string&) { return std::optional<std::string>(); };
  return make_llm_clients(load_llm_config(sources));
}

// Three sittings on three days: pastries, a marathon, a house move.
std::vector<Message> three_days() {
  const std::vector<std::string> texts = {
      "Ben baked croissants and pasteis de nata on Sunday morning.",
      "They came out golden, Ana ate four of them with coffee.",
      "Ben finished the Oslo marathon in four hours and ten minutes.",
      "Ana cheered at the finish line with a big sign.",
      "Ana is moving to a flat near the harbour next month.",
      "Ben offered his van to carry the sofa and the boxes.",
  };
  std::vector<Message> out;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    Message m;
    m.speaker_id = i % 2 == 0 ? "Ben" : "Ana";
    m.content = texts[i];
    m.timestamp =
        make_timestamp(2023, 5, 8 + static_cast<int>(i / 2) * 3, 10, 0) + std::chrono::minutes(i);
    out.push_back(m);
  }
  return out;
}

// Many short sittings, one a day, so the heuristic segmenter gives one episode per day.
std::vector<Message> many_days(int days) {
  std::vector<Message> out;
  for (int d = 0; d < days; ++d) {
    Message m;
    m.speaker_id = "Ana";
    m.content = "Day " + std::to_string(d) + " notes about the garden and tomato number " +
                std::to_string(d * 7);
    m.timestamp = make_timestamp(2023, 1, 1, 9, 0) + std::chrono::hours(24 * d);
    out.push_back(m);
  }
  return out;
}

// One backend under test: how to open it, and whether a reopen is a real one.
struct Backend {
  std::string name;
  StorageConfig config;
  fs::path dir;  // DuckDB's folder, removed at the end
};

class StoredEmbeddingsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    backend_.name = GetParam();
    if (backend_.name == "memory") {
      backend_.config.backend = "memory";
    } else if (backend_.name == "duckdb") {
      backend_.dir = fs::temp_directory_path() /
                     ("nemori-embeddings-" + std::to_string(::getpid()) + "-" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name());
      fs::remove_all(backend_.dir);
      fs::create_directories(backend_.dir);
      backend_.config.backend = "duckdb";
      backend_.config.path = (backend_.dir / "store.duckdb").string();
    } else {
      const char* url = std::getenv("NEMORI_TEST_POSTGRES_URL");
      if (url == nullptr || *url == '\0') {
        GTEST_SKIP() << "no PostgreSQL test server (set NEMORI_TEST_POSTGRES_URL)";
      }
      backend_.config = parse_storage_url(url);
      backend_.config.schema =
          "emb_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand() % 100000);
      drop_ = "psql -q '" + std::string(url) + "' -c 'DROP SCHEMA IF EXISTS " +
              backend_.config.schema + " CASCADE' >/dev/null 2>&1";
    }
  }
  void TearDown() override {
    if (!backend_.dir.empty()) fs::remove_all(backend_.dir);
    if (!drop_.empty()) {
      EXPECT_EQ(std::system(drop_.c_str()), 0) << drop_;
    }
  }

  std::unique_ptr<MemorySystem> open(const ScriptedLlmServer& server, const std::string& model) {
    MemoryConfig config;
    config.storage = backend_.config;
    config.llm = embedder_clients(server, model);
    return MemorySystem::open(config);
  }

  Backend backend_;
  std::string drop_;
};

TEST_P(StoredEmbeddingsTest, VectorsAreStoredWithTheEpisodeAndLoadedWithoutAnEmbeddingCall) {
  ScriptedLlmServer server(synonym_options());
  auto memory = open(server, "scripted-embed");
  const auto ids = memory->add_messages("ana", many_days(70));
  ASSERT_EQ(embedding_requests(server), 0u) << "adding to an owner not in memory embeds nothing";
  const ProcessResult built = memory->process("ana");
  ASSERT_EQ(built.episodes, 70u);
  // One request per 64 episodes, made when they were built.
  EXPECT_EQ(embedding_requests(server), 2u);
  for (const Episode& e : memory->list_episodes("ana", 100, 0)) {
    ASSERT_TRUE(e.embedding_vector.has_value()) << e.episode_id;
    EXPECT_EQ(e.embedding_vector->size(), kDimension);
    EXPECT_EQ(e.embedding_model, "scripted-embed");
  }
  // A reopen (memory://: the owner's indexes dropped and loaded again from storage).
  if (backend_.name == "memory") {
    memory->retrieval().evict("ana");  // not resident: built episodes are loaded on first use
  } else {
    memory.reset();
    memory = open(server, "scripted-embed");
  }
  const std::size_t before = embedding_requests(server);
  const std::vector<std::string> owners = {"ana"};
  const PreloadReport loaded = memory->retrieval().preload(owners);
  EXPECT_EQ(loaded.episodes, 70u);
  EXPECT_EQ(memory->retrieval().stats().vectors, 70u);
  EXPECT_EQ(embedding_requests(server), before) << "loading must not re-embed stored vectors";
  MemorySearchRequest request;
  request.owner_id = "ana";
  request.query = "tomato number 350";
  const MemorySearchResponse found = memory->search(request);  // hybrid by default
  EXPECT_EQ(embedding_requests(server), before + 1) << "only the query is embedded";
  ASSERT_FALSE(found.hits.empty());
  EXPECT_THAT(found.hits[0].raw_event_ids, ::testing::ElementsAre(ids[50]));  // day 50: 350
  EXPECT_GT(found.hits[0].vector_score, 0.0);
  EXPECT_GT(found.hits[0].bm25_score, 0.0);
}

TEST_P(StoredEmbeddingsTest, HybridFindsAnEpisodeByAQueryThatSharesNoWordWithIt) {
  ScriptedLlmServer server(synonym_options());
  auto memory = open(server, "scripted-embed");
  const auto ids = memory->add_messages("ana", three_days());
  ASSERT_EQ(memory->process("ana").episodes, 3u);
  const std::string croissants = ids[0];  // the message of the first sitting that names them
  MemorySearchRequest request;
  request.owner_id = "ana";
  request.query = "pastries";
  request.limit = 1;
  request.mode = SearchMode::kBm25;
  const auto bm25 = memory->search(request);
  for (const auto& h : bm25.hits)
    EXPECT_THAT(h.raw_event_ids, ::testing::Not(::testing::Contains(croissants)));
  request.mode.reset();  // hybrid: an embedder is configured
  // Without context scoring: among three episodes each is the others' neighbour in time.
  request.context = ContextScoringOptions{};
  const auto hybrid = memory->search(request);
  ASSERT_EQ(hybrid.hits.size(), 1u);
  EXPECT_THAT(hybrid.hits[0].raw_event_ids, ::testing::Contains(croissants));
  EXPECT_EQ(hybrid.hits[0].bm25_score, 0.0);
  EXPECT_GT(hybrid.hits[0].vector_score, 0.0);
}

TEST_P(StoredEmbeddingsTest, MessagesWaitingForTheirEpisodeAreFoundByMeaning) {
  ScriptedLlmServer server(synonym_options());
  auto memory = open(server, "scripted-embed");
  memory->add_messages("ana", three_days());  // not built
  const auto found = memory->search_messages("ana", "pastries", 1);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(message_of(found[0].event).content.find("croissants"), std::string::npos);
  // A message added while the owner is in memory is embedded at once, too.
  Message late;
  late.speaker_id = "Ben";
  late.content = "I went running along the river before work.";
  late.timestamp = make_timestamp(2023, 6, 1, 7, 0);
  memory->add_messages("ana", std::span<const Message>(&late, 1));
  const auto race = memory->search_messages("ana", "marathon", 2);
  ASSERT_EQ(race.size(), 2u);
  bool found_late = false;
  for (const auto& h : race) found_late |= message_of(h.event).content == late.content;
  EXPECT_TRUE(found_late);
}

TEST_P(StoredEmbeddingsTest, AChangedModelIsRefusedNamingBothAndReembedFixesIt) {
  if (backend_.name == "memory") GTEST_SKIP() << "memory:// keeps nothing across a reopen";
  ScriptedLlmServer server(synonym_options());
  auto memory = open(server, "model-one");
  memory->add_messages("ana", many_days(70));
  ASSERT_EQ(memory->process("ana").episodes, 70u);
  memory.reset();
  memory = open(server, "model-two");
  MemorySearchRequest request;
  request.owner_id = "ana";
  request.query = "tomato";
  try {
    memory->search(request);
    FAIL() << "vectors of another model were searched";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("\"model-one\""), std::string::npos) << message;
    EXPECT_NE(message.find("\"model-two\""), std::string::npos) << message;
    EXPECT_NE(message.find("nemori reembed"), std::string::npos) << message;
  }
  // reembed, interrupted after its first batch (the second request fails, no retry on 400).
  LlmClients two = embedder_clients(server, "model-two");
  std::vector<std::vector<float>> first(64, std::vector<float>(kDimension, 0.0f));
  for (auto& v : first) v[0] = 1.0f;
  server.enqueue(LlmRoute::kEmbeddings, ScriptedReply::openai_embeddings(first));
  server.enqueue(LlmRoute::kEmbeddings,
                 ScriptedReply::openai_error(400, "scripted failure", "invalid_request_error"));
  EXPECT_THROW(reembed(memory->storage(), *two.embedder, {}), Error);
  // Running it again finishes the job: only what the first run did not store.
  std::vector<std::pair<std::size_t, std::size_t>> progress;
  ReembedOptions options;
  options.owner_id = "ana";
  options.progress = [&](std::size_t done, std::size_t total) {
    progress.emplace_back(done, total);
  };
  const ReembedReport r = reembed(memory->storage(), *two.embedder, options);
  EXPECT_EQ(r.episodes, 70u);
  EXPECT_EQ(r.up_to_date, 64u);
  EXPECT_EQ(r.reembedded, 6u);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back(), std::make_pair(std::size_t{70}, std::size_t{70}));
  for (const Episode& e : memory->list_episodes("ana", 100, 0))
    EXPECT_EQ(e.embedding_model, "model-two");
  // A third run has nothing to do.
  EXPECT_EQ(reembed(memory->storage(), *two.embedder, options).reembedded, 0u);
  memory.reset();
  memory = open(server, "model-two");
  EXPECT_FALSE(memory->search(request).hits.empty());
}

TEST_P(StoredEmbeddingsTest, VectorOrHybridWithoutAnEmbedderIsAnErrorNotBm25) {
  MemoryConfig config;
  config.storage = backend_.config;
  auto memory = MemorySystem::open(config);
  memory->add_messages("ana", three_days());
  memory->process("ana");
  MemorySearchRequest request;
  request.owner_id = "ana";
  request.query = "croissants";
  EXPECT_FALSE(memory->search(request).hits.empty());  // unset: BM25 without an embedder
  for (SearchMode mode : {SearchMode::kVector, SearchMode::kHybrid}) {
    request.mode = mode;
    try {
      memory->search(request);
      FAIL() << "searched without an embedder";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("NEMORI_EMBEDDING_MODEL"), std::string::npos);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, StoredEmbeddingsTest,
                         ::testing::Values("memory", "duckdb", "postgresql"),
                         [](const auto& info) { return info.param; });

// The command: ingest + flush + search --mode hybrid against the nemori-scripted-llm program,
// the usage error without an embedder, and reembed after a model change.
TEST(StoredEmbeddingsCliTest, SearchHybridAndReembedAgainstTheScriptedProgram) {
  ScriptedLlmProcess model("--dimension 256 --synonym pastries=pastry --synonym croissants=pastry");
  ASSERT_GT(model.port(), 0) << "nemori-scripted-llm did not start";
  for (const char* name : {"NEMORI_LLM_BASE_URL", "NEMORI_LLM_MODEL", "NEMORI_EMBEDDING_MODEL",
                           "NEMORI_EMBEDDING_BASE_URL", "EMBEDDING_BASE_URL", "LLM_BASE_URL",
                           "NEMORI_CONFIG", "OPENAI_BASE_URL"})
    ::unsetenv(name);
  const fs::path dir =
      fs::temp_directory_path() / ("nemori-embeddings-cli-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string storage = " --storage duckdb://" + (dir / "store.duckdb").string();
  const std::string embed = " --embedding-base-url " + model.openai_base_url();
  const std::string one = embed + " --embedding-model model-one";
  const fs::path input = dir / "messages.jsonl";
  {
    std::FILE* f = std::fopen(input.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs(
        "{\"speaker_id\":\"Ben\",\"content\":\"Ben baked croissants on Sunday.\","
        "\"timestamp\":\"2023-05-08T10:00:00Z\"}\n"
        "{\"speaker_id\":\"Ana\",\"content\":\"Ana moved to a flat near the harbour.\","
        "\"timestamp\":\"2023-06-20T10:00:00Z\"}\n",
        f);
    std::fclose(f);
  }
  auto r = run_nemori("ingest " + input.string() + " --owner ana" + storage + one);
  ASSERT_EQ(r.code, 0) << r.out;
  r = run_nemori("flush" + storage + one);
  ASSERT_EQ(r.code, 0) << r.out;
  r = run_nemori("search pastries --owner ana -k 1 --mode hybrid" + storage + one);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("croissants"), std::string::npos) << r.out;
  r = run_nemori("search pastries --owner ana --mode bm25" + storage + one);
  EXPECT_EQ(r.out.find("croissants"), std::string::npos) << r.out;
  r = run_nemori("search pastries --owner ana --mode hybrid" + storage);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("usage error: --mode hybrid needs an embedding model"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("NEMORI_EMBEDDING_MODEL"), std::string::npos) << r.out;
  const std::string two = embed + " --embedding-model model-two";
  r = run_nemori("search pastries --owner ana" + storage + two);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("\"model-one\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"model-two\""), std::string::npos) << r.out;
  r = run_nemori("reembed --owner ana" + storage + two);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("re-embedded 2 of 2 episodes of 1 owners with model-two"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("reembed: 2/2 episodes"), std::string::npos) << r.out;  // not a terminal
  r = run_nemori("search pastries --owner ana -k 1" + storage + two);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("croissants"), std::string::npos) << r.out;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace nemori::test
