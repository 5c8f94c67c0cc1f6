// Episode merging (docs/design/semantic-memory.md §3): candidates filtered before any call,
// the scripted model's merge rule, and MemorySystem's stage 3 replacing both episodes in one
// transaction, or leaving both when anything fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "llm/llm_test_support.h"
#include "nemori/core/error.h"
#include "nemori/episodes/episode_merger.h"
#include "nemori/llm/openai.h"
#include "nemori/memory/memory_system.h"
#include "nemori/storage/factory.h"

namespace nemori::test {
namespace {

using namespace std::chrono_literals;

// Chat requests whose prompt is the merge task.
std::size_t merge_requests(const ScriptedLlmServer& server) {
  std::size_t n = 0;
  for (const auto& r : server.requests()) {
    if (r.route == LlmRoute::kChatCompletions && r.body.find("Task: merge.") != std::string::npos)
      ++n;
  }
  return n;
}

Episode episode(const std::string& id, const std::string& text, Timestamp at,
                std::vector<float> vector) {
  Episode e;
  e.episode_id = id;
  e.owner_id = "o";
  e.title = text;
  e.content = text;
  e.summary = text;
  e.temporal_info.timestamp = at;
  e.embedding_vector = std::move(vector);
  e.metadata.source_data_ids = {id + "-m1", id + "-m2"};
  return e;
}

// One candidate at cosine 0.9.
std::vector<MergeCandidate> one(const Episode& e) {
  return {MergeCandidate{e, 0.9}};
}

// --- Candidates and the decision call, without storage ---

TEST(EpisodeMergerTest, CandidatesNeedSimilarityTimeAndLengthAndComeBestFirst) {
  const Timestamp t = make_timestamp(2023, 5, 8, 13, 0);
  const Episode e = episode("e", "Caroline talked about the support group", t, {1, 0, 0});
  EpisodeMergerOptions o;
  o.similarity_threshold = 0.85;
  o.window = 60min;
  std::vector<Episode> nearby = {
      episode("close", "x", t + 10min, {0.95f, 0.31f, 0}),     // cosine 0.95
      episode("closer", "x", t - 20min, {1, 0.1f, 0}),          // cosine 0.995
      episode("unlike", "x", t + 5min, {0.5f, 0.86f, 0}),       // cosine 0.5: below
      episode("late", "x", t + 61min, {1, 0, 0}),               // outside the window
      episode("e", "x", t, {1, 0, 0}),                          // itself
  };
  Episode other_owner = episode("other", "x", t, {1, 0, 0});
  other_owner.owner_id = "p";
  nearby.push_back(other_owner);
  const auto found = select_merge_candidates(e, nearby, o);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].episode.episode_id, "closer");
  EXPECT_EQ(found[1].episode.episode_id, "close");
  EXPECT_NEAR(found[1].cosine, 0.95, 0.01);

  o.max_merged_words = word_count(e) + 2;  // "x" fits (title and content: 2 words)
  EXPECT_EQ(select_merge_candidates(e, nearby, o).size(), 2u);
  o.max_merged_words = word_count(e);
  EXPECT_TRUE(select_merge_candidates(e, nearby, o).empty());
  o.max_merged_words = 3000;
  o.candidates = 1;
  EXPECT_EQ(select_merge_candidates(e, nearby, o).size(), 1u);
  Episode without_vector = e;
  without_vector.embedding_vector.reset();
  EXPECT_TRUE(select_merge_candidates(without_vector, nearby, o).empty());
}

TEST(EpisodeMergerTest, NoCandidateNoCall) {
  ScriptedLlmServer server;
  auto recorder = std::make_shared<Recorder>();
  EpisodeMerger merger(scripted_chat(server, recorder, nullptr));
  const Episode e = episode("e", "text", make_timestamp(2023, 5, 8, 13, 0), {1, 0});
  const MergeOutcome outcome = merger.merge(e, {}, now_utc());
  EXPECT_FALSE(outcome.merged);
  EXPECT_EQ(outcome.calls, 0u);
  EXPECT_EQ(server.requests().size(), 0u);
}

TEST(EpisodeMergerTest, TheScriptedModelMergesOneSittingAndKeepsAnotherDay) {
  ScriptedLlmServer server;
  auto recorder = std::make_shared<Recorder>();
  auto stats = std::make_shared<LlmStats>();
  EpisodeMergerOptions o;
  o.stats = stats;
  EpisodeMerger merger(scripted_chat(server, recorder, stats), o);
  const Timestamp t = make_timestamp(2023, 5, 8, 13, 0);
  Episode older = episode("a", "Caroline joined the Boston support group meeting", t, {1, 0});
  older.importance_score = 0.4;
  older.recall_count = 2;
  older.metadata.entities = {"Caroline", "Boston"};
  Episode newer = episode("b", "Caroline described the support group meeting in Boston",
                          t + 20min, {1, 0});
  newer.importance_score = 0.7;
  newer.recall_count = 3;
  newer.metadata.entities = {"Boston", "Melanie"};
  const MergeOutcome outcome = merger.merge(newer, one(older), now_utc());
  ASSERT_TRUE(outcome.merged);
  EXPECT_EQ(outcome.partner_id, "a");
  EXPECT_EQ(outcome.calls, 1u);
  EXPECT_GT(outcome.tokens, 0u);
  const Episode& m = *outcome.merged;
  EXPECT_EQ(m.title, older.title);
  EXPECT_EQ(m.content, older.content + " " + newer.content);
  EXPECT_EQ(m.temporal_info.timestamp, t);
  EXPECT_EQ(m.metadata.source_data_ids,
            (std::vector<std::string>{"a-m1", "a-m2", "b-m1", "b-m2"}));
  EXPECT_EQ(m.metadata.entities, (std::vector<std::string>{"Caroline", "Boston", "Melanie"}));
  EXPECT_DOUBLE_EQ(m.importance_score, 0.7);
  EXPECT_EQ(m.recall_count, 5);
  EXPECT_EQ(m.metadata.custom_fields["merged_from"], nlohmann::json::array({"a", "b"}));
  EXPECT_FALSE(m.embedding_vector);
  EXPECT_EQ(stats->phase("merge").calls, 1u);
  // The same pair gives the same id: a redone merge finds what it made.
  EXPECT_EQ(merger.merge(newer, one(older), now_utc()).merged->episode_id, m.episode_id);

  // Another day: kept apart, after one call.
  Episode next_day = newer;
  next_day.episode_id = "c";
  next_day.temporal_info.timestamp = t + 24h;
  const MergeOutcome kept = merger.merge(next_day, one(older), now_utc());
  EXPECT_FALSE(kept.merged);
  EXPECT_EQ(kept.calls, 1u);
  EXPECT_EQ(kept.fallbacks, 0u);
}

TEST(EpisodeMergerTest, AnInvalidAnswerTwiceKeepsThePairAndCountsAFallback) {
  ScriptedLlmServer server;
  auto recorder = std::make_shared<Recorder>();
  auto stats = std::make_shared<LlmStats>();
  EpisodeMergerOptions o;
  o.stats = stats;
  EpisodeMerger merger(scripted_chat(server, recorder, stats), o);
  const Timestamp t = make_timestamp(2023, 5, 8, 13, 0);
  const Episode a = episode("a", "Caroline joined the support group", t, {1, 0});
  const Episode b = episode("b", "Caroline joined the support group again", t + 5min, {1, 0});
  server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat(R"({"decision":"maybe"})"));
  // A merge dated outside both episodes is invalid too.
  server.enqueue(LlmRoute::kChatCompletions,
                 ScriptedReply::openai_chat(R"({"decision":"merge","title":"T","content":"C",)"
                                            R"("timestamp":"2020-01-01T00:00:00Z"})"));
  const MergeOutcome outcome = merger.merge(b, one(a), now_utc());
  EXPECT_FALSE(outcome.merged);
  EXPECT_EQ(outcome.calls, 2u);
  EXPECT_EQ(outcome.fallbacks, 1u);
  EXPECT_NE(outcome.problem.find("timestamp"), std::string::npos) << outcome.problem;
  expect_invalid_and_fallbacks(*stats, "merge", 2, 1);
}

TEST(EpisodeMergerTest, AnswersAreCheckedFieldByField) {
  const Timestamp t = make_timestamp(2023, 5, 8, 13, 0);
  const Episode a = episode("a", "x", t, {1});
  const Episode b = episode("b", "y", t + 10min, {1});
  EXPECT_EQ(merge_answer_problem({{"decision", "keep"}}, a, b), "");
  EXPECT_NE(merge_answer_problem({{"title", "t"}}, a, b).find("decision"), std::string::npos);
  EXPECT_NE(merge_answer_problem({{"decision", "merge"}, {"content", "c"}}, a, b).find("title"),
            std::string::npos);
  EXPECT_EQ(merge_answer_problem({{"decision", "merge"},
                                  {"title", "t"},
                                  {"content", "c"},
                                  {"timestamp", format_iso8601(t + 10min)}},
                                 a, b),
            "");
  EXPECT_NE(merge_answer_problem({{"decision", "merge"},
                                  {"title", "t"},
                                  {"content", "c"},
                                  {"timestamp", format_iso8601(t + 11min)}},
                                 a, b)
                .find("timestamp"),
            std::string::npos);
}

// --- Stage 3 of MemorySystem::process ---

// An embedder that forwards to the scripted server and, when asked to embed a text holding
// every word of `fail_on` (the merged episode's), first queues a 500 there: that call fails on
// the wire, as a provider's outage would.
class FaultingEmbedder : public EmbeddingClient {
 public:
  FaultingEmbedder(std::shared_ptr<EmbeddingClient> inner, ScriptedLlmServer& server)
      : inner_(std::move(inner)), server_(server) {}
  std::vector<std::vector<float>> embed(std::span<const std::string> texts) override {
    ++calls;
    const bool merged = std::any_of(texts.begin(), texts.end(), [&](const std::string& t) {
      return !fail_on.empty() && std::all_of(fail_on.begin(), fail_on.end(), [&](const auto& w) {
               return t.find(w) != std::string::npos;
             });
    });
    if (merged) {
      ++failed;
      server_.enqueue(LlmRoute::kEmbeddings,
                      ScriptedReply::openai_error(500, "overloaded", "server_error"));
    }
    return inner_->embed(texts);
  }
  std::size_t dimension() const override { return inner_->dimension(); }
  std::string model() const override { return inner_->model(); }
  std::atomic<int> calls{0};
  std::atomic<int> failed{0};
  std::vector<std::string> fail_on;

 private:
  std::shared_ptr<EmbeddingClient> inner_;
  ScriptedLlmServer& server_;
};

// A Storage that forwards everything and fails any batch deleting episodes (a merge's).
class MergeFailingStorage : public Storage {
 public:
  explicit MergeFailingStorage(std::unique_ptr<Storage> inner) : inner_(std::move(inner)) {}
  std::string backend() const override { return inner_->backend(); }
  RawDataRepository& raw_data() override { return inner_->raw_data(); }
  EpisodeRepository& episodes() override { return inner_->episodes(); }
  SemanticMemoryRepository& statements() override { return inner_->statements(); }
  OwnerDeletion delete_owner(const std::string& owner_id) override {
    return inner_->delete_owner(owner_id);
  }
  WriteBatchResult apply(const WriteBatch& batch) override {
    if (!batch.delete_episodes.empty()) throw StorageError("disk full (injected)");
    return inner_->apply(batch);
  }
  std::shared_ptr<void> lock_owner(const std::string& owner_id) override {
    return inner_->lock_owner(owner_id);
  }
  std::vector<std::string> list_owners() override { return inner_->list_owners(); }
  HealthStatus health() override { return inner_->health(); }
  StorageStats stats() override { return inner_->stats(); }
  void close() override { inner_->close(); }

 private:
  std::unique_ptr<Storage> inner_;
};

// Two sittings' halves: 4 messages on May 8 (two episodes of 2 with segment_size 2), all
// about the Boston support group.
std::vector<Message> one_sitting_in_two() {
  const std::vector<std::string> texts = {
      "I went to the Boston support group meeting yesterday.",
      "How was the Boston support group meeting?",
      "The Boston support group meeting was really welcoming.",
      "I am glad the Boston support group meeting went well.",
  };
  std::vector<Message> out;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    Message m;
    m.speaker_id = i % 2 == 0 ? "Caroline" : "Melanie";
    m.content = texts[i];
    m.timestamp = make_timestamp(2023, 5, 8, 13, 0) + std::chrono::minutes(5 * i);
    m.external_id = "d" + std::to_string(i);
    out.push_back(m);
  }
  return out;
}

struct MergeWorld {
  ScriptedLlmServer server{[] {
    ScriptedLlmServer::Options o;
    o.segment_size = 2;
    return o;
  }()};
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
  std::shared_ptr<FaultingEmbedder> embedder;
  std::vector<std::string> errors;
  MemoryConfig config;

  MergeWorld() {
    OpenAiEmbeddingOptions e;
    e.base_url = server.openai_base_url();
    e.model = "scripted-embedding";
    e.http = fast_http(recorder, 0);
    embedder = std::make_shared<FaultingEmbedder>(std::make_shared<OpenAiEmbedder>(e, stats),
                                                  server);
    config.storage.backend = "memory";
    config.llm.chat = scripted_chat(server, recorder, stats, 0);
    config.llm.embedder = embedder;
    config.llm.stats = stats;
    config.semantic.enabled = false;  // stage 3 alone unless a test turns it on
    config.merging.similarity_threshold = 0.5;
    config.building.on_error = [this](const std::string&, const std::string& error) {
      errors.push_back(error);
    };
  }
  std::unique_ptr<MemorySystem> open(std::unique_ptr<Storage> storage = nullptr) {
    if (!storage) storage = open_storage(config.storage);
    return std::make_unique<MemorySystem>(std::move(storage), config);
  }
};

TEST(MergingTest, CloseEpisodesOfOneSittingBecomeOne) {
  MergeWorld w;
  auto memory = w.open();
  memory->add_messages("o", one_sitting_in_two());
  const ProcessResult r = memory->process("o");
  EXPECT_EQ(r.episodes, 2u);
  EXPECT_EQ(r.merges, 1u);
  EXPECT_TRUE(w.errors.empty()) << w.errors.front();
  EXPECT_EQ(merge_requests(w.server), 1u);
  const auto episodes = memory->list_episodes("o", 10, 0);
  ASSERT_EQ(episodes.size(), 1u);
  const Episode& m = episodes[0];
  EXPECT_EQ(m.metadata.source_data_ids.size(), 4u);
  EXPECT_EQ(m.metadata.custom_fields["merged_from"].size(), 2u);
  ASSERT_TRUE(m.embedding_vector);
  EXPECT_EQ(m.embedding_model, "scripted-embedding");
  EXPECT_EQ(memory->storage().episodes().raw_ids_for_episode(m.episode_id).size(), 4u);
  const auto progress = memory->storage().statements().progress(m.episode_id);
  ASSERT_TRUE(progress);
  EXPECT_EQ(progress->merge_calls, 1u);
  EXPECT_GT(progress->merge_tokens, 0u);
  // The index follows: one hit, the merged episode, with the evidence of both.
  MemorySearchRequest q;
  q.owner_id = "o";
  q.query = "welcoming support group";
  const auto found = memory->search(q);
  ASSERT_EQ(found.hits.size(), 1u);
  EXPECT_EQ(found.hits[0].episode.episode_id, m.episode_id);
  EXPECT_EQ(found.hits[0].raw_event_ids.size(), 4u);
}

TEST(MergingTest, NoCallBelowTheThreshold) {
  MergeWorld w;
  w.config.merging.similarity_threshold = 0.999;
  auto memory = w.open();
  memory->add_messages("o", one_sitting_in_two());
  EXPECT_EQ(memory->process("o").merges, 0u);
  EXPECT_EQ(merge_requests(w.server), 0u);
  EXPECT_EQ(memory->list_episodes("o", 10, 0).size(), 2u);
}

TEST(MergingTest, NoCallOutsideTheWindow) {
  MergeWorld w;
  w.config.merging.window = std::chrono::minutes(5);  // the halves are 10 minutes apart
  auto memory = w.open();
  memory->add_messages("o", one_sitting_in_two());
  EXPECT_EQ(memory->process("o").merges, 0u);
  EXPECT_EQ(merge_requests(w.server), 0u);
  EXPECT_EQ(memory->list_episodes("o", 10, 0).size(), 2u);
}

TEST(MergingTest, AKeepDecisionLeavesBoth) {
  MergeWorld w;
  auto memory = w.open();
  // Around midnight: close in time and meaning, but the scripted model keeps two days apart.
  std::vector<Message> messages = one_sitting_in_two();
  for (std::size_t i = 0; i < messages.size(); ++i)
    messages[i].timestamp = make_timestamp(2023, 5, 8, 23, 50) + std::chrono::minutes(5 * i);
  memory->add_messages("o", messages);
  const ProcessResult r = memory->process("o");
  EXPECT_EQ(r.episodes, 2u);
  EXPECT_EQ(r.merges, 0u);
  EXPECT_EQ(merge_requests(w.server), 1u);
  EXPECT_EQ(memory->list_episodes("o", 10, 0).size(), 2u);
  EXPECT_TRUE(w.errors.empty());
}

TEST(MergingTest, AnEmbedderFailureMidMergeLeavesBoth) {
  MergeWorld w;
  w.embedder->fail_on = {"yesterday", "welcoming"};  // only the merged episode holds both
  auto memory = w.open();
  memory->add_messages("o", one_sitting_in_two());
  const ProcessResult r = memory->process("o");
  EXPECT_EQ(r.episodes, 2u);
  EXPECT_EQ(r.merges, 0u);
  EXPECT_EQ(w.embedder->failed.load(), 1);
  EXPECT_EQ(merge_requests(w.server), 1u);
  ASSERT_EQ(w.errors.size(), 1u);
  EXPECT_NE(w.errors[0].find("merging episode"), std::string::npos) << w.errors[0];
  const auto episodes = memory->list_episodes("o", 10, 0);
  ASSERT_EQ(episodes.size(), 2u);
  for (const Episode& e : episodes)
    EXPECT_EQ(memory->storage().episodes().raw_ids_for_episode(e.episode_id).size(), 2u);
}

TEST(MergingTest, AStorageFailureMidMergeLeavesBoth) {
  MergeWorld w;
  auto memory = w.open(std::make_unique<MergeFailingStorage>(open_storage(w.config.storage)));
  memory->add_messages("o", one_sitting_in_two());
  const ProcessResult r = memory->process("o");
  EXPECT_EQ(r.episodes, 2u);
  EXPECT_EQ(r.merges, 0u);
  ASSERT_EQ(w.errors.size(), 1u);
  EXPECT_NE(w.errors[0].find("disk full"), std::string::npos) << w.errors[0];
  EXPECT_EQ(memory->list_episodes("o", 10, 0).size(), 2u);
  MemorySearchRequest q;
  q.owner_id = "o";
  q.query = "support group";
  EXPECT_EQ(memory->search(q).hits.size(), 2u);  // the index kept both too
}

TEST(MergingTest, AMergeUnitesLinksAndRepointsStatements) {
  MergeWorld w;
  w.config.semantic.enabled = true;
  auto memory = w.open();
  std::vector<Message> messages = one_sitting_in_two();
  messages[0].content = "I live in Boston and I went to the Boston support group meeting.";
  messages[2].content = "I live in Boston, the Boston support group meeting was welcoming.";
  memory->add_messages("o", messages);
  const ProcessResult r = memory->process("o");
  EXPECT_TRUE(w.errors.empty()) << w.errors.front();
  EXPECT_EQ(r.merges, 1u);
  const auto episodes = memory->list_episodes("o", 10, 0);
  ASSERT_EQ(episodes.size(), 1u);
  const std::string merged = episodes[0].episode_id;
  const auto statements = memory->list_statements("o", {}).statements;
  ASSERT_EQ(statements.size(), 1u);  // told twice: strengthened, not added
  EXPECT_EQ(statements[0].content, "Caroline lives in Boston.");
  EXPECT_EQ(statements[0].source_episode_ids, std::vector<std::string>{merged});
  EXPECT_EQ(memory->storage().statements().progress(merged)->state, SemanticState::kDone);
  MemorySearchRequest q;
  q.owner_id = "o";
  q.query = "where does Caroline live";
  const auto found = memory->search(q);
  ASSERT_FALSE(found.statements.empty());
  EXPECT_EQ(found.statements[0].statement.source_episode_ids, std::vector<std::string>{merged});
}

TEST(MergingTest, MergingIsOffWithoutAModel) {
  MemoryConfig config;
  config.storage.backend = "memory";
  auto memory = MemorySystem::open(config);
  EXPECT_EQ(memory->semantic_status().merging, "off (LLM-free)");
  EXPECT_EQ(memory->semantic_status().semantic, "off (LLM-free)");
  memory->add_messages("o", one_sitting_in_two());
  const ProcessResult r = memory->process("o");
  EXPECT_EQ(r.merges, 0u);
  EXPECT_EQ(r.statements_added, 0u);
}

}  // namespace
}  // namespace nemori::test
