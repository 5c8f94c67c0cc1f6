// The semantic pass inside MemorySystem::process, end to end on memory:// with the scripted
// model (docs/design/semantic-memory.md §2.1, §4): statements that follow a move, re-ingesting
// adding nothing, failures retried, the backlog, search, history, deletion and tenancy.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "llm/llm_test_support.h"
#include "nemori/llm/openai.h"
#include "nemori/memory/memory_system.h"

namespace nemori::test {
namespace {

Message said(const std::string& speaker, const std::string& text, Timestamp at,
             const std::string& id) {
  Message m;
  m.speaker_id = speaker;
  m.content = text;
  m.timestamp = at;
  m.external_id = id;
  return m;
}

// "I live in Boston" on May 1, 2023; "I moved from Boston to Denver" on June 1.
std::vector<Message> boston_then_denver() {
  return {said("Caroline", "I live in Boston.", make_timestamp(2023, 5, 1, 10, 0), "d1"),
          said("Melanie", "Nice, how is it there?", make_timestamp(2023, 5, 1, 10, 1), "d2"),
          said("Caroline", "I moved from Boston to Denver. It was a big move.",
               make_timestamp(2023, 6, 1, 10, 0), "d3"),
          said("Melanie", "Big change!", make_timestamp(2023, 6, 1, 10, 1), "d4")};
}

struct World {
  ScriptedLlmServer server;
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
  std::vector<std::string> errors;
  MemoryConfig config;

  World() {
    OpenAiEmbeddingOptions e;
    e.base_url = server.openai_base_url();
    e.model = "scripted-embedding";
    e.http = fast_http(recorder, 0);
    config.storage.backend = "memory";
    config.llm.chat = scripted_chat(server, recorder, stats, 0);
    config.llm.embedder = std::make_shared<OpenAiEmbedder>(e, stats);
    config.llm.stats = stats;
    config.building.on_error = [this](const std::string&, const std::string& error) {
      errors.push_back(error);
    };
  }
  std::unique_ptr<MemorySystem> open() { return MemorySystem::open(config); }
};

std::vector<Statement> lives_in(MemorySystem& memory, const std::string& owner,
                                StatementState state) {
  StatementQuery q;
  q.state = state;
  q.text_contains = "lives in";
  return memory.list_statements(owner, q).statements;
}

TEST(SemanticPipelineTest, AMoveLeavesOneCurrentStatementAndTheOldOneInItsHistory) {
  World w;
  auto memory = w.open();
  EXPECT_EQ(memory->semantic_status().semantic, "on");
  EXPECT_EQ(memory->semantic_status().merging, "on");
  memory->add_messages("caroline", boston_then_denver());
  const ProcessResult r = memory->flush("caroline");
  EXPECT_TRUE(w.errors.empty()) << w.errors.front();
  EXPECT_EQ(r.episodes, 2u);
  EXPECT_EQ(r.semantic_episodes, 2u);
  EXPECT_EQ(r.merges, 0u);  // a month apart
  const auto current = lives_in(*memory, "caroline", StatementState::kCurrent);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].content, "Caroline lives in Denver.");
  const auto history = memory->statement_history("caroline", current[0].statement_id);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].content, "Caroline lives in Boston.");
  EXPECT_EQ(history[0].superseded_by, current[0].statement_id);
  EXPECT_EQ(history[0].valid_to, current[0].valid_from);
  EXPECT_EQ(history[1], current[0]);
  for (const Episode& e : memory->list_episodes("caroline", 10, 0)) {
    EXPECT_EQ(memory->storage().statements().progress(e.episode_id)->state, SemanticState::kDone);
  }

  // Search: the current statement beside the episodes; as of May 15 the Boston one.
  MemorySearchRequest q;
  q.owner_id = "caroline";
  q.query = "where does Caroline live";
  const MemorySearchResponse now = memory->search(q);
  ASSERT_FALSE(now.hits.empty());
  ASSERT_EQ(now.statements.size(), 1u);
  EXPECT_EQ(now.statements[0].statement.content, "Caroline lives in Denver.");
  EXPECT_TRUE(now.statements[0].current);
  EXPECT_EQ(now.statements[0].words, 4u);
  EXPECT_EQ(now.statement_words, 4u);
  q.as_of = make_timestamp(2023, 5, 15, 0, 0);
  const MemorySearchResponse then = memory->search(q);
  ASSERT_EQ(then.statements.size(), 1u);
  EXPECT_EQ(then.statements[0].statement.content, "Caroline lives in Boston.");
  EXPECT_FALSE(then.statements[0].current);
  q.as_of.reset();
  q.include_superseded = true;
  EXPECT_EQ(memory->search(q).statements.size(), 2u);
  q.statement_limit = 0;
  EXPECT_TRUE(memory->search(q).statements.empty());
}

TEST(SemanticPipelineTest, ReIngestingTheSameConversationAddsNoStatement) {
  World w;
  auto memory = w.open();
  memory->add_messages("caroline", boston_then_denver());
  memory->flush("caroline");
  const std::size_t all = memory->storage().statements().count("caroline", StatementState::kAll);
  ASSERT_GT(all, 0u);
  memory->add_messages("caroline", boston_then_denver());
  const ProcessResult again = memory->flush("caroline");
  EXPECT_EQ(again.episodes, 0u);
  EXPECT_EQ(again.statements_added, 0u);
  EXPECT_EQ(memory->storage().statements().count("caroline", StatementState::kAll), all);
}

TEST(SemanticPipelineTest, LlmFreeModeMakesNoStatementAndSaysSo) {
  MemoryConfig config;
  config.storage.backend = "memory";
  auto memory = MemorySystem::open(config);
  EXPECT_EQ(memory->semantic_status().semantic, "off (LLM-free)");
  memory->add_messages("caroline", boston_then_denver());
  const ProcessResult r = memory->flush("caroline");
  EXPECT_GT(r.episodes, 0u);
  EXPECT_EQ(r.statements_added, 0u);
  EXPECT_EQ(memory->storage().statements().count("", StatementState::kAll), 0u);
  MemorySearchRequest q;
  q.owner_id = "caroline";
  q.query = "Boston";
  EXPECT_TRUE(memory->search(q).statements.empty());
}

TEST(SemanticPipelineTest, ModesSayWhyTheyAreOff) {
  World w;
  w.config.semantic.enabled = false;
  EXPECT_EQ(w.open()->semantic_status().semantic, "off (disabled)");
  w.config.llm.embedder = nullptr;
  const SemanticStatus s = w.open()->semantic_status();
  EXPECT_EQ(s.semantic, "off (needs an embedding model)");
  EXPECT_EQ(s.merging, "off (needs an embedding model)");
}

TEST(SemanticPipelineTest, AFailedCallIsRetriedByTheNextProcessThenMarkedFailed) {
  World w;
  w.config.semantic.max_attempts = 2;
  w.config.merging.enabled = false;
  auto memory = w.open();
  memory->add_messages("caroline",
                       std::vector<Message>{said("Caroline", "I live in Boston.", make_timestamp(2023, 5, 1, 10, 0),
                             "d1")});
  // Segmentation and the episode answer deterministically; the extraction call fails.
  w.server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_chat(R"({"episodes":[{"indices":[1],"topic":"t"}]})"));
  w.server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_chat(
                       R"({"title":"Caroline lives in Boston","content":"Caroline said she lives in Boston."})"));
  w.server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_error(500, "down", "server_error"));
  const ProcessResult first = memory->flush("caroline");
  EXPECT_EQ(first.episodes, 1u);  // the build itself does not fail
  EXPECT_EQ(first.semantic_episodes, 0u);
  ASSERT_EQ(w.errors.size(), 1u);
  const std::string episode_id = memory->list_episodes("caroline", 1, 0)[0].episode_id;
  auto row = memory->storage().statements().progress(episode_id);
  ASSERT_TRUE(row);
  EXPECT_EQ(row->state, SemanticState::kRetry);
  EXPECT_EQ(row->attempts, 1);
  EXPECT_NE(row->detail.find("500"), std::string::npos) << row->detail;

  w.server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_error(500, "down", "server_error"));
  memory->flush("caroline");
  row = memory->storage().statements().progress(episode_id);
  EXPECT_EQ(row->state, SemanticState::kFailed);
  EXPECT_EQ(row->attempts, 2);
  memory->flush("caroline");  // failed: not tried again
  EXPECT_EQ(w.errors.size(), 2u);
  EXPECT_EQ(memory->storage().statements().count("caroline", StatementState::kAll), 0u);
}

// Another MemorySystem's storage, borrowed (the memory:// store lives in its first system).
class BorrowedStorage : public Storage {
 public:
  explicit BorrowedStorage(Storage& inner) : inner_(inner) {}
  std::string backend() const override { return inner_.backend(); }
  RawDataRepository& raw_data() override { return inner_.raw_data(); }
  EpisodeRepository& episodes() override { return inner_.episodes(); }
  SemanticMemoryRepository& statements() override { return inner_.statements(); }
  OwnerDeletion delete_owner(const std::string& owner_id) override {
    return inner_.delete_owner(owner_id);
  }
  WriteBatchResult apply(const WriteBatch& batch) override { return inner_.apply(batch); }
  std::shared_ptr<void> lock_owner(const std::string& owner_id) override {
    return inner_.lock_owner(owner_id);
  }
  std::vector<std::string> list_owners() override { return inner_.list_owners(); }
  HealthStatus health() override { return inner_.health(); }
  StorageStats stats() override { return inner_.stats(); }
  void close() override {}

 private:
  Storage& inner_;
};

TEST(SemanticPipelineTest, WithoutBacklogOldEpisodesAreSkippedAndNewOnesExtracted) {
  World w;
  // Old episodes: built while the pass was off.
  w.config.semantic.enabled = false;
  w.config.merging.enabled = false;
  auto before = w.open();
  before->add_messages("caroline",
                       std::vector<Message>{said("Caroline", "I live in Boston.", make_timestamp(2023, 5, 1, 10, 0),
                             "d1")});
  before->flush("caroline");
  const std::string old_id = before->list_episodes("caroline", 1, 0)[0].episode_id;
  EXPECT_FALSE(before->storage().statements().progress(old_id));
  // The same store under a system with the pass on and no backlog.
  w.config.semantic.enabled = true;
  w.config.semantic.backlog = false;
  MemorySystem after(std::make_unique<BorrowedStorage>(before->storage()), w.config);
  after.add_messages("caroline", std::vector<Message>{said("Caroline", "I work at the museum.",
                                       make_timestamp(2023, 7, 1, 10, 0), "d9")});
  const ProcessResult r = after.flush("caroline");
  EXPECT_EQ(r.semantic_episodes, 1u);
  EXPECT_EQ(after.storage().statements().progress(old_id)->state, SemanticState::kSkipped);
  const auto all = after.list_statements("caroline", {}).statements;
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].content, "Caroline works at the museum.");
  EXPECT_TRUE(after.storage().statements().pending_owners().empty());
}

TEST(SemanticPipelineTest, DeletingTheNewerStatementReopensTheOlder) {
  World w;
  auto memory = w.open();
  memory->add_messages("caroline", boston_then_denver());
  memory->flush("caroline");
  const auto current = lives_in(*memory, "caroline", StatementState::kCurrent);
  ASSERT_EQ(current.size(), 1u);
  // Another owner cannot see nor delete it.
  EXPECT_FALSE(memory->get_statement("melanie", current[0].statement_id));
  EXPECT_TRUE(memory->statement_history("melanie", current[0].statement_id).empty());
  EXPECT_FALSE(memory->delete_statement("melanie", current[0].statement_id).deleted);
  const StatementDeletion d = memory->delete_statement("caroline", current[0].statement_id);
  EXPECT_TRUE(d.deleted);
  ASSERT_EQ(d.reopened.size(), 1u);
  EXPECT_EQ(d.reopened[0].content, "Caroline lives in Boston.");
  EXPECT_TRUE(d.reopened[0].current());
  MemorySearchRequest q;
  q.owner_id = "caroline";
  q.query = "where does Caroline live";
  const auto found = memory->search(q);
  ASSERT_EQ(found.statements.size(), 1u);
  EXPECT_EQ(found.statements[0].statement.content, "Caroline lives in Boston.");
}

TEST(SemanticPipelineTest, DeletingAnEpisodeRemovesTheStatementsOnlyItSupported) {
  World w;
  auto memory = w.open();
  memory->add_messages("caroline", boston_then_denver());
  memory->flush("caroline");
  const auto denver = lives_in(*memory, "caroline", StatementState::kCurrent);
  ASSERT_EQ(denver.size(), 1u);
  ASSERT_EQ(denver[0].source_episode_ids.size(), 1u);
  EXPECT_FALSE(memory->delete_episode("melanie", denver[0].source_episode_ids[0]).deleted);
  const EpisodeDeletion d = memory->delete_episode("caroline", denver[0].source_episode_ids[0]);
  EXPECT_TRUE(d.deleted);
  EXPECT_EQ(d.statements_removed, 1u);
  EXPECT_EQ(d.statements_reopened, 1u);
  const auto now = lives_in(*memory, "caroline", StatementState::kCurrent);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].content, "Caroline lives in Boston.");
  MemorySearchRequest q;
  q.owner_id = "caroline";
  q.query = "Denver";
  for (const auto& h : memory->search(q).statements)
    EXPECT_NE(h.statement.content, "Caroline lives in Denver.");
}

}  // namespace
}  // namespace nemori::test
