// `nemori eval locomo --answer` end to end against the nemori-scripted-llm program (the
// design's test, docs/design/semantic-memory.md §5), and the answering run in process against
// the scripted server: what the answer and judge requests carry, the judge's retry, the budget.
#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "llm/llm_test_support.h"
#include "nemori/core/error.h"
#include "nemori/eval/locomo_answer.h"
#include "nemori/llm/anthropic.h"
#include "nemori/llm/openai.h"
#include "nemori/retrieval/embedding.h"
#include "nemori_command.h"

namespace nemori::test {
namespace {

const std::string kMini = std::string(NEMORI_TEST_DATA_DIR) + "/eval/locomo_answer_mini.json";

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

// Each line without its latencies (which differ from run to run).
std::vector<nlohmann::json> without_latency(std::vector<nlohmann::json> lines) {
  for (auto& line : lines) line.erase("latency_ms");
  return lines;
}

struct LocomoAnswerCli : ::testing::Test {
  ScriptedLlmProcess model;
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("nemori-answer-" + std::to_string(::getpid()));
  std::string flags;

  void SetUp() override {
    ASSERT_GT(model.port(), 0) << "nemori-scripted-llm did not start";
    std::filesystem::create_directories(dir);
    flags = " --llm-base-url " + model.openai_base_url() + " --llm-model scripted" +
            " --embedding-base-url " + model.openai_base_url() +
            " --embedding-model scripted-embedding";
    for (const char* name : {"NEMORI_LLM_BASE_URL", "NEMORI_LLM_MODEL", "NEMORI_EMBEDDING_MODEL",
                             "NEMORI_EMBEDDING_BASE_URL", "LLM_BASE_URL", "NEMORI_CONFIG"})
      ::unsetenv(name);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  nlohmann::json run(const std::filesystem::path& answers) {
    const auto r = run_nemori_stdout("eval locomo " + kMini + " --answer --json --answers " +
                                     answers.string() + flags);
    EXPECT_EQ(r.code, 0) << r.out;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
};

TEST_F(LocomoAnswerCli, TheCurrentStatementAnswersAndTheJudgeSaysCorrect) {
  const nlohmann::json j = run(dir / "answers.jsonl");
  ASSERT_FALSE(j.is_discarded());
  const auto answers = read_jsonl(dir / "answers.jsonl");
  ASSERT_EQ(answers.size(), 2u) << "category 5 is never asked";
  const auto& q = answers[0];
  EXPECT_EQ(q["question"], "Where does Caroline live now?");
  EXPECT_EQ(q["gold"], "Denver");
  EXPECT_EQ(q["category"], 4);
  EXPECT_EQ(q["answer"], "Caroline lives in Denver.");
  EXPECT_EQ(q["judge_labels"], nlohmann::json::array({"CORRECT"}));
  EXPECT_NEAR(q["f1"].get<double>(), 0.4, 1e-4);
  EXPECT_NEAR(q["bleu1"].get<double>(), 0.2, 1e-4);
  EXPECT_GE(q["context"]["statements"].get<int>(), 1);
  EXPECT_LE(q["context_words"].get<int>(), 2000);

  // Every key of the design's output.
  EXPECT_EQ(j["benchmark"], "locomo");
  EXPECT_EQ(j["mode"], "answer");
  EXPECT_EQ(j["note"], "deterministic scripted model: proves the plumbing, not the quality");
  const auto& s = j["settings"];
  EXPECT_EQ(s["data"]["file"], "locomo_answer_mini.json");
  EXPECT_EQ(s["data"]["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(s["data"]["conversations"], 1);
  EXPECT_EQ(s["data"]["categories"], nlohmann::json::array({1, 2, 3, 4}));
  EXPECT_EQ(s["seed"], 0);
  EXPECT_TRUE(s["nemori"].contains("version"));
  EXPECT_TRUE(s["nemori"].contains("git"));
  EXPECT_EQ(s["models"]["memory"]["model"], "scripted");
  EXPECT_EQ(s["models"]["embedding"]["model"], "scripted-embedding");
  EXPECT_EQ(s["models"]["answer"]["model"], "scripted");
  EXPECT_EQ(s["models"]["answer"]["temperature"], 0);
  EXPECT_EQ(s["models"]["judge"]["model"], "gpt-4o-mini");
  EXPECT_EQ(s["models"]["judge"]["runs"], 1);
  for (const char* prompt : {"segmentation", "episode", "semantic_extract", "semantic_predict",
                             "semantic_calibrate", "semantic_reconcile", "merge",
                             "locomo_answer", "locomo_judge"})
    EXPECT_TRUE(s["prompts"].contains(prompt)) << prompt;
  EXPECT_EQ(s["prompts"]["locomo_answer"].get<std::string>().size(), 64u);
  EXPECT_EQ(s["prompts"]["locomo_judge"].get<std::string>().size(), 64u);
  EXPECT_EQ(s["retrieval"]["mode"], "hybrid");
  EXPECT_EQ(s["retrieval"]["budget_words"], 2000);
  EXPECT_EQ(s["retrieval"]["statement_share"], 0.25);
  EXPECT_EQ(s["retrieval"]["statements"], 20);
  EXPECT_EQ(s["retrieval"]["raw_top"], 2);
  EXPECT_TRUE(s["retrieval"].contains("context"));
  for (const char* key : {"enabled", "related_limit", "related_floor", "duplicate_threshold",
                          "ambiguous_threshold"})
    EXPECT_TRUE(s["semantic"].contains(key)) << key;
  for (const char* key : {"enabled", "similarity_threshold", "window_minutes"})
    EXPECT_TRUE(s["merging"].contains(key)) << key;
  const auto& overall = j["results"]["overall"];
  EXPECT_EQ(overall["questions"], 2);
  for (const char* key : {"j", "j_std", "f1", "bleu1", "context_words", "answer_prompt_tokens"})
    EXPECT_TRUE(overall.contains(key)) << key;
  EXPECT_EQ(j["results"]["single-hop"]["questions"], 2);
  for (const char* key : {"messages", "episodes", "merges", "statements_current",
                          "statements_superseded", "seconds", "per_episode"})
    EXPECT_TRUE(j["ingest"].contains(key)) << key;
  EXPECT_EQ(j["ingest"]["messages"], 6);
  EXPECT_GE(j["ingest"]["statements_current"].get<int>(), 1);
  EXPECT_EQ(j["usage"]["query"]["answer"]["calls"], 2);
  EXPECT_EQ(j["usage"]["query"]["judge"]["calls"], 2);
  EXPECT_GE(j["usage"]["query"]["embedding"]["calls"].get<int>(), 2);
  EXPECT_TRUE(j["usage"]["query"]["answer"].contains("wall_ms"));
  EXPECT_GE(j["usage"]["ingest"]["episode"]["calls"].get<int>(), 1);
  for (const char* phase : {"search", "answer", "judge"}) {
    EXPECT_TRUE(j["latency_ms"][phase].contains("p50")) << phase;
    EXPECT_TRUE(j["latency_ms"][phase].contains("p95")) << phase;
  }

  // A second run prints identical results.
  const nlohmann::json again = run(dir / "again.jsonl");
  EXPECT_EQ(again["results"], j["results"]);
  EXPECT_EQ(again["settings"], j["settings"]);
  EXPECT_EQ(without_latency(read_jsonl(dir / "again.jsonl")), without_latency(answers));
}

TEST_F(LocomoAnswerCli, WithoutAnswerTheCommandIsUnchangedAndAnswerNeedsAChatModel) {
  const auto recall = run_nemori_stdout("eval locomo " + kMini + " --json");
  ASSERT_EQ(recall.code, 0) << recall.out;
  const auto j = nlohmann::json::parse(recall.out);
  EXPECT_TRUE(j.contains("recall"));
  EXPECT_FALSE(j.contains("mode"));
  const auto free = run_nemori("eval locomo " + kMini + " --answer");
  EXPECT_EQ(free.code, 2) << free.out;
  EXPECT_NE(free.out.find("--answer needs a chat model"), std::string::npos) << free.out;
}

// ---- in process, against the scripted server ------------------------------------------------

// A judge that answers from a script, then {"label": "WRONG"}.
class ScriptedJudge final : public ChatClient {
 public:
  explicit ScriptedJudge(std::vector<std::string> answers, std::shared_ptr<LlmStats> stats)
      : answers_(std::move(answers)), stats_(std::move(stats)) {}
  ChatResponse complete(const ChatRequest& request) override {
    ChatResponse r;
    r.text = next_ < answers_.size() ? answers_[next_++] : R"({"label": "WRONG"})";
    r.model = "judge";
    stats_->record_success(request.phase, {});
    return r;
  }
  std::string model() const override { return "judge"; }

 private:
  std::vector<std::string> answers_;
  std::size_t next_ = 0;
  std::shared_ptr<LlmStats> stats_;
};

struct LocomoAnswerInProcess : ::testing::Test {
  ScriptedLlmServer server;
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
  std::vector<LocomoConversation> conversations = load_locomo(kMini);

  LocomoAnswerOptions options() {
    LocomoAnswerOptions o;
    o.memory.storage.backend = "memory";
    o.memory.llm.chat = scripted_chat(server, recorder, stats);
    o.memory.llm.stats = stats;
    OpenAiChatOptions judge;
    judge.base_url = server.openai_base_url();
    judge.model = "judge-model";
    judge.http = fast_http(recorder);
    o.judge = std::make_shared<OpenAiChatClient>(judge, stats);
    return o;
  }
};

TEST_F(LocomoAnswerInProcess, AnswerAndJudgeRequestsCarryTheirSettings) {
  auto o = options();
  o.seed = 7;
  o.judge_runs = 2;
  const auto report = run_locomo_answer(conversations, o);
  ASSERT_EQ(report.outcomes.size(), 2u);
  std::size_t answers = 0, judges = 0;
  for (const auto& r : server.requests()) {
    if (r.route != LlmRoute::kChatCompletions) continue;
    const auto& messages = r.json["messages"];
    if (r.json["model"] == "judge-model") {
      ++judges;
      ASSERT_EQ(messages.size(), 2u);
      EXPECT_EQ(messages[0]["role"], "system");
      EXPECT_NE(messages[0]["content"].get<std::string>().find("expert grader"),
                std::string::npos);
      EXPECT_NE(messages[1]["content"].get<std::string>().find("\nGenerated answer: "),
                std::string::npos);
      EXPECT_EQ(r.json["response_format"]["type"], "json_object");
      EXPECT_EQ(r.json["temperature"], 0.0);
    } else if (messages[0]["content"].get<std::string>().rfind("Task: answer.", 0) == 0) {
      ++answers;
      ASSERT_EQ(messages.size(), 1u);
      EXPECT_EQ(messages[0]["role"], "user");
      EXPECT_EQ(r.json["seed"], 7);
      EXPECT_EQ(r.json["temperature"], 0.0);
      EXPECT_FALSE(r.json.contains("response_format"));
    }
  }
  EXPECT_EQ(answers, 2u);
  EXPECT_EQ(judges, 4u) << "two runs per question";
  EXPECT_EQ(stats->phase("answer").calls, 2u);
  EXPECT_EQ(stats->phase("judge").calls, 4u);
  EXPECT_GT(stats->phase("answer").wall_ms, 0.0);
  EXPECT_EQ(report.query_usage.at("judge").calls, 4u);
  EXPECT_EQ(report.ingest_usage.count("answer"), 0u);
  EXPECT_EQ(report.outcomes[0].judge_labels.size(), 2u);
  EXPECT_EQ(report.answer_model_reported, "scripted");
  const auto results = report.results();
  EXPECT_EQ(results["overall"]["j_runs"].size(), 2u);
  EXPECT_EQ(results["overall"]["j_std"], 0.0) << "the deterministic judge agrees with itself";
}

TEST_F(LocomoAnswerInProcess, AnInvalidJudgeAnswerIsAskedOnceMoreThenScoresZero) {
  auto o = options();
  // Question 1: two invalid answers (INVALID). Question 2: invalid, then a valid label that
  // needs trimming and upper-casing.
  o.judge = std::make_shared<ScriptedJudge>(
      std::vector<std::string>{"not json", R"({"verdict": "CORRECT"})", R"({"label": 1})",
                               R"({"label": " correct "})"},
      stats);
  const auto report = run_locomo_answer(conversations, o);
  ASSERT_EQ(report.outcomes.size(), 2u);
  EXPECT_EQ(report.outcomes[0].judge_labels, std::vector<std::string>{"INVALID"});
  EXPECT_EQ(report.outcomes[1].judge_labels, std::vector<std::string>{"CORRECT"});
  EXPECT_EQ(stats->phase("judge").invalid_answers, 3u);
  const auto results = report.results();
  EXPECT_EQ(results["overall"]["judge_invalid"], 1);
  EXPECT_DOUBLE_EQ(results["overall"]["j"].get<double>(), 0.5);
}

TEST_F(LocomoAnswerInProcess, TheContextStaysWithinTheBudget) {
  auto o = options();
  o.budget_words = 40;
  o.raw_top = 0;
  o.judge = std::make_shared<ScriptedJudge>(std::vector<std::string>{}, stats);
  const auto report = run_locomo_answer(conversations, o);
  for (const auto& q : report.outcomes) {
    EXPECT_LE(q.context.words, 40u) << q.question;
    EXPECT_EQ(q.context.original_messages, 0u);
    EXPECT_EQ(q.context.episodic.find("Original messages"), std::string::npos);
  }
  o.budget_words = 2000;
  o.raw_top = 2;
  const auto wide = run_locomo_answer(conversations, o);
  EXPECT_GT(wide.outcomes[0].context.original_messages, 0u);
  EXPECT_NE(wide.outcomes[0].context.episodic.find("    Original messages:\n    \u2022 ["),
            std::string::npos)
      << wide.outcomes[0].context.episodic;
}

TEST_F(LocomoAnswerInProcess, MissingModelsAndPlaceholdersAreConfigErrors) {
  auto o = options();
  o.answer_prompt = "Task: answer.\n{{episodic}}\nQuestion: {{question}}";
  EXPECT_THROW(run_locomo_answer(conversations, o), ConfigError);  // lacks {{semantic}}
  o = options();
  o.judge = nullptr;
  EXPECT_THROW(run_locomo_answer(conversations, o), ConfigError);
  o = options();
  o.memory.llm.chat = nullptr;
  EXPECT_THROW(run_locomo_answer(conversations, o), ConfigError);
}

TEST(ChatSeed, SentToOpenAiNeverToAnthropic) {
  ScriptedLlmServer server;
  auto recorder = std::make_shared<Recorder>();
  ChatRequest request;
  request.messages = {{"user", "Task: answer.\nQuestion: where?"}};
  request.seed = 42;
  scripted_chat(server, recorder, nullptr)->complete(request);
  AnthropicChatOptions a;
  a.base_url = server.anthropic_base_url();
  a.model = "scripted";
  a.http = fast_http(recorder);
  AnthropicChatClient(a, nullptr).complete(request);
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].json["seed"], 42);
  EXPECT_EQ(requests[1].route, LlmRoute::kMessages);
  EXPECT_FALSE(requests[1].json.contains("seed"));
}

}  // namespace
}  // namespace nemori::test
