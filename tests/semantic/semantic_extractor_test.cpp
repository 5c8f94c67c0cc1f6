// SemanticExtractor against the scripted server's deterministic model
// (docs/design/semantic-memory.md §2.5): the calls each path makes, reconciliation
// (strengthen, close, store closed, the one reconcile call), and invalid or failed answers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/llm/llm_error.h"
#include "semantic_test_support.h"

namespace nemori::test {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

constexpr const char* kExtractTask = "Task: semantic-extract.";
constexpr const char* kPredictTask = "Task: semantic-predict.";
constexpr const char* kCalibrateTask = "Task: semantic-calibrate.";
constexpr const char* kReconcileTask = "Task: semantic-reconcile.";

std::vector<std::string> contents(const std::vector<Statement>& list) {
  std::vector<std::string> out;
  for (const Statement& s : list) out.push_back(s.content);
  return out;
}

TEST(SemanticExtractor, ColdStartExtractsOnce) {
  SemanticWorld w;
  const auto events = w.events({{"Caroline", "I live in Boston. I love pottery and hiking.", may(8)},
                                {"Melanie", "My sister is Anna, she visits often.", may(8, 13, 57)}});
  const Episode e = SemanticWorld::episode("e1", "Caroline and Melanie catch up", may(8));
  const Timestamp now = make_timestamp(2024, 1, 1);
  const SemanticExtraction x = w.extractor().extract(e, events, w.known, now);

  EXPECT_THAT(w.chat_tasks(), ElementsAre(kExtractTask));
  EXPECT_EQ(w.embedding_requests(), 1u);  // every statement in one request
  EXPECT_EQ(w.stats->phase("semantic_extract").calls, 1u);
  EXPECT_THAT(contents(x.batch.statements),
              ElementsAre("Caroline lives in Boston.", "Caroline likes pottery.",
                          "Melanie's sister is Anna."));
  EXPECT_EQ(x.added, 3u);
  EXPECT_THAT(x.batch.statement_updates, IsEmpty());
  EXPECT_THAT(x.batch.statement_sources, IsEmpty());
  const Statement& boston = x.batch.statements[0];
  EXPECT_EQ(boston.owner_id, "o");
  EXPECT_EQ(boston.category, StatementCategory::kFact);
  EXPECT_EQ(boston.subject, "Caroline");
  EXPECT_DOUBLE_EQ(boston.confidence, 0.8);
  EXPECT_EQ(boston.valid_from, may(8));  // the day the model gave, at the cited message's time
  EXPECT_TRUE(boston.current());
  EXPECT_EQ(boston.recorded_at, now);
  EXPECT_EQ(boston.updated_at, now);
  EXPECT_THAT(boston.source_episode_ids, ElementsAre("e1"));
  ASSERT_TRUE(boston.embedding_vector.has_value());
  EXPECT_EQ(boston.embedding_model, "scripted-embedding");
  EXPECT_EQ(boston.metadata, (nlohmann::json{{"evidence", {"m1"}}, {"extraction", "direct"}}));
  EXPECT_EQ(x.batch.statements[2].category, StatementCategory::kRelationship);
  EXPECT_EQ(x.batch.statements[2].metadata["evidence"], nlohmann::json({"m2"}));
  EXPECT_NO_THROW(validate(boston));

  ASSERT_EQ(x.batch.semantic_progress.size(), 1u);
  const SemanticProgress& p = x.batch.semantic_progress[0];
  EXPECT_EQ(p.episode_id, "e1");
  EXPECT_EQ(p.owner_id, "o");
  EXPECT_EQ(p.state, SemanticState::kDone);
  EXPECT_EQ(p.version, "semantic-1");
  EXPECT_EQ(p.semantic_calls, 1u);
  EXPECT_EQ(p.semantic_tokens, w.stats->phase("semantic_extract").prompt_tokens +
                                   w.stats->phase("semantic_extract").completion_tokens);
  EXPECT_GT(p.semantic_tokens, 0u);

  // The prompt shows the messages numbered, with their time and speaker.
  EXPECT_THAT(w.chat_prompts()[0],
              HasSubstr("1. [2023-05-08 13:56 UTC, Monday] Caroline: I live in Boston."));
  EXPECT_THAT(w.chat_prompts()[0], HasSubstr("2. [2023-05-08 13:57 UTC, Monday] Melanie:"));

  // Extracting again makes the same ids.
  const SemanticExtraction again = w.extractor().extract(e, events, w.known, now);
  ASSERT_EQ(again.batch.statements.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i)
    EXPECT_EQ(again.batch.statements[i].statement_id, x.batch.statements[i].statement_id);
}

TEST(SemanticExtractor, KnownStatementsTakePredictAndCalibrate) {
  SemanticWorld w;
  auto extractor = w.extractor();
  w.apply(extractor.extract(SemanticWorld::episode("e1", "Caroline at home", may(8)),
                            w.events({{"Caroline", "I live in Boston. I love pottery.", may(8)}}),
                            w.known, may(8)));
  const std::size_t before = w.chat_tasks().size();
  const SemanticExtraction x = extractor.extract(
      SemanticWorld::episode("e2", "Caroline talks about Boston", may(9)),
      w.events({{"Caroline", "I work at the library.", may(9)}}), w.known, may(9));

  const auto tasks = w.chat_tasks();
  EXPECT_THAT(std::vector<std::string>(tasks.begin() + static_cast<long>(before), tasks.end()),
              ElementsAre(kPredictTask, kCalibrateTask));
  const auto prompts = w.chat_prompts();
  const std::string& predict = prompts[before];
  const std::string& calibrate = prompts[before + 1];
  EXPECT_THAT(predict, HasSubstr("[since 2023-05-08] Caroline lives in Boston."));
  EXPECT_THAT(predict, HasSubstr("Title: Caroline talks about Boston"));
  EXPECT_THAT(calibrate, HasSubstr("S1 [since 2023-05-08]"));
  EXPECT_THAT(calibrate, HasSubstr("S2 [since 2023-05-08]"));
  // The prediction (the deterministic model repeats title and what is known) is shown.
  EXPECT_THAT(calibrate, HasSubstr("Caroline talks about Boston. Caroline"));
  EXPECT_THAT(calibrate, HasSubstr("1. [2023-05-09 13:56 UTC, Tuesday] Caroline: I work at the library."));

  EXPECT_THAT(contents(x.batch.statements), ElementsAre("Caroline works at the library."));
  EXPECT_EQ(x.batch.statements[0].metadata["extraction"], "calibrate");
  EXPECT_EQ(x.batch.semantic_progress[0].semantic_calls, 2u);
  EXPECT_EQ(w.stats->phase("semantic_predict").calls, 1u);
  EXPECT_EQ(w.stats->phase("semantic_calibrate").calls, 1u);
}

TEST(SemanticExtractor, ReToldFactStrengthensInsteadOfAdding) {
  SemanticWorld w;
  auto extractor = w.extractor();
  w.apply(extractor.extract(SemanticWorld::episode("e1", "Caroline at home", may(8)),
                            w.events({{"Caroline", "I love pottery.", may(8)}}), w.known, may(8)));
  // An episode whose title and summary name nothing known: a cold start, and the re-told fact
  // is found by its vector (cosine 1.0), with no reconcile call.
  const SemanticExtraction x = extractor.extract(
      SemanticWorld::episode("e2", "A quiet weekend", may(13)),
      w.events({{"Caroline", "I love pottery!", may(13)}}), w.known, may(14));
  EXPECT_THAT(w.chat_tasks(), ElementsAre(kExtractTask, kExtractTask));
  EXPECT_THAT(x.batch.statements, IsEmpty());
  EXPECT_EQ(x.strengthened, 1u);
  ASSERT_EQ(x.batch.statement_updates.size(), 1u);
  EXPECT_NEAR(x.batch.statement_updates[0].confidence, 0.96, 1e-12);  // 1 - 0.2 * 0.2
  EXPECT_EQ(x.batch.statement_updates[0].updated_at, may(14));
  ASSERT_EQ(x.batch.statement_sources.size(), 1u);
  EXPECT_EQ(x.batch.statement_sources[0].episode_id, "e2");
  w.apply(x);
  ASSERT_EQ(w.stored.size(), 1u);
  const Statement s = w.with_content("Caroline likes pottery.");
  EXPECT_THAT(s.source_episode_ids, ElementsAre("e1", "e2"));
  // A third telling: 1 - 0.04 * 0.2 = 0.992, capped at 0.99.
  const SemanticExtraction third = extractor.extract(
      SemanticWorld::episode("e3", "A quiet evening", may(15)),
      w.events({{"Caroline", "I love pottery.", may(15)}}), w.known, may(15));
  ASSERT_EQ(third.batch.statement_updates.size(), 1u);
  EXPECT_DOUBLE_EQ(third.batch.statement_updates[0].confidence, 0.99);
}

TEST(SemanticExtractor, ReIngestingAConversationAddsNoStatement) {
  SemanticWorld w;
  auto extractor = w.extractor();
  const auto events = w.events({{"Caroline", "I live in Boston. I love pottery.", may(8)}});
  w.apply(extractor.extract(SemanticWorld::episode("e1", "Caroline at home", may(8)), events,
                            w.known, may(8)));
  const SemanticExtraction x = extractor.extract(
      SemanticWorld::episode("e1-again", "Caroline at home", may(8)), events, w.known, may(9));
  EXPECT_THAT(x.batch.statements, IsEmpty());
  EXPECT_THAT(x.batch.statement_updates, IsEmpty());
  EXPECT_EQ(x.batch.semantic_progress[0].state, SemanticState::kDone);
}

TEST(SemanticExtractor, MoveClosesTheOldStatement) {
  SemanticWorld w;
  auto extractor = w.extractor();
  w.apply(extractor.extract(SemanticWorld::episode("e1", "Caroline at home", may(8)),
                            w.events({{"Caroline", "I live in Boston.", may(8)}}), w.known, may(8)));
  const Statement boston = w.with_content("Caroline lives in Boston.");
  const Timestamp moved = may(20, 10, 0);
  const SemanticExtraction x = extractor.extract(
      SemanticWorld::episode("e2", "Caroline moved", moved),
      w.events({{"Caroline", "I moved from Boston to Denver.", moved}}), w.known, may(21));
  EXPECT_THAT(w.chat_tasks(), ElementsAre(kExtractTask, kPredictTask, kCalibrateTask));
  EXPECT_EQ(x.added, 1u);
  EXPECT_EQ(x.closed, 1u);
  ASSERT_EQ(x.batch.statement_updates.size(), 1u);
  const Statement& closed = x.batch.statement_updates[0];
  EXPECT_EQ(closed.statement_id, boston.statement_id);
  EXPECT_EQ(closed.valid_to, moved);
  EXPECT_EQ(closed.superseded_by, x.batch.statements[0].statement_id);
  EXPECT_EQ(closed.content, boston.content);  // nothing but the closing changes
  EXPECT_EQ(closed.confidence, boston.confidence);
  w.apply(x);

  std::size_t current_lives_in = 0;
  for (const Statement& s : w.statements(true))
    current_lives_in += s.content.find("lives in") != std::string::npos ? 1 : 0;
  EXPECT_EQ(current_lives_in, 1u);
  EXPECT_EQ(w.with_content("Caroline lives in Denver.").valid_from, moved);
  // The index agrees: now Denver, as of May 10 Boston, both in the history.
  SearchOptions o;
  o.corpus = SearchCorpus::kStatements;
  o.mode = SearchMode::kBm25;
  const auto ids = [&](const SearchOptions& options) {
    std::vector<std::string> out;
    for (const auto& h : w.retrieval.search("o", "caroline lives", options).hits) {
      out.push_back(w.stored.at(h.id).content);
    }
    return out;
  };
  EXPECT_THAT(ids(o), ElementsAre("Caroline lives in Denver."));
  SearchOptions as_of = o;
  as_of.statements.as_of = may(10);
  EXPECT_THAT(ids(as_of), ElementsAre("Caroline lives in Boston."));
  SearchOptions all = o;
  all.statements.include_superseded = true;
  EXPECT_THAT(ids(all), UnorderedElementsAre("Caroline lives in Boston.", "Caroline lives in Denver."));
}

TEST(SemanticExtractor, AmbiguousPairGoesToOneReconcileCall) {
  SemanticWorld w;
  SemanticOptions options;
  options.ambiguous_threshold = 0.6;  // the hashing embedder puts "lives in A/B" at about 0.67
  auto extractor = w.extractor(options);
  w.apply(extractor.extract(SemanticWorld::episode("e1", "Caroline at home", may(8)),
                            w.events({{"Caroline", "I live in Boston. I work at Apple.", may(8)}}),
                            w.known, may(8)));
  // Nothing known is related to this title: a cold start, then both statements fall in the
  // band of a known one: one reconcile call decides both pairs.
  const SemanticExtraction x = extractor.extract(
      SemanticWorld::episode("e2", "News from the week", may(20)),
      w.events({{"Caroline", "I live in Denver. I work at Google.", may(20)}}), w.known, may(21));
  EXPECT_THAT(w.chat_tasks(), ElementsAre(kExtractTask, kExtractTask, kReconcileTask));
  const std::string reconcile = w.chat_prompts().back();
  EXPECT_THAT(reconcile, HasSubstr("P1: new \"Caroline lives in Denver.\" (from 2023-05-20) / "
                                   "known \"Caroline lives in Boston.\" (since 2023-05-08)"));
  EXPECT_THAT(reconcile, HasSubstr("P2: new \"Caroline works at Google.\""));
  EXPECT_EQ(x.added, 2u);
  EXPECT_EQ(x.closed, 2u);
  EXPECT_EQ(x.batch.semantic_progress[0].semantic_calls, 2u);
  w.apply(x);
  EXPECT_THAT(contents(w.statements(true)),
              UnorderedElementsAre("Caroline lives in Denver.", "Caroline works at Google."));
  EXPECT_EQ(w.with_content("Caroline works at Apple.").superseded_by,
            w.with_content("Caroline works at Google.").statement_id);
}

TEST(SemanticExtractor, OlderContradictionIsStoredClosed) {
  SemanticWorld w;
  SemanticOptions options;
  options.ambiguous_threshold = 0.6;
  auto extractor = w.extractor(options);
  const Timestamp june = make_timestamp(2023, 6, 1, 9, 0);
  w.apply(extractor.extract(SemanticWorld::episode("e1", "Caroline at home", june),
                            w.events({{"Caroline", "I live in Denver.", june}}), w.known, june));
  const Statement denver = w.with_content("Caroline lives in Denver.");
  // An older conversation processed late (a backlog): its statement is stored already closed.
  const SemanticExtraction x = extractor.extract(
      SemanticWorld::episode("e0", "Old times", may(8)),
      w.events({{"Caroline", "I live in Boston.", may(8)}}), w.known, june);
  EXPECT_EQ(w.chat_tasks().back(), kReconcileTask);
  EXPECT_THAT(x.batch.statement_updates, IsEmpty());  // Denver stays current, untouched
  EXPECT_EQ(x.closed, 0u);
  ASSERT_EQ(x.batch.statements.size(), 1u);
  const Statement& boston = x.batch.statements[0];
  EXPECT_EQ(boston.valid_from, may(8));
  EXPECT_EQ(boston.valid_to, denver.valid_from);
  EXPECT_EQ(boston.superseded_by, denver.statement_id);
  EXPECT_NO_THROW(validate(boston));
}

TEST(SemanticExtractor, InvalidAnswerIsAskedAgainOnceThenDropped) {
  SemanticWorld w;
  w.answer("this is not JSON");
  w.answer("{\"statements\": \"none\"}");
  const SemanticExtraction x = w.extractor().extract(
      SemanticWorld::episode("e1", "Caroline at home", may(8)),
      w.events({{"Caroline", "I live in Boston.", may(8)}}), w.known, may(8));
  EXPECT_THAT(x.batch.statements, IsEmpty());
  EXPECT_EQ(w.embedding_requests(), 0u);
  ASSERT_EQ(x.batch.semantic_progress.size(), 1u);
  const SemanticProgress& p = x.batch.semantic_progress[0];
  EXPECT_EQ(p.state, SemanticState::kDropped);
  EXPECT_EQ(p.detail, "semantic_extract: the answer has no \"statements\" list");
  EXPECT_EQ(p.semantic_calls, 2u);
  expect_invalid_and_fallbacks(*w.stats, "semantic_extract", 2, 1);
  // The second request repeats the conversation with what was wrong.
  const auto requests = w.server.requests();
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_EQ(requests[1].json["messages"].size(), 3u);
  EXPECT_THAT(requests[1].json["messages"][2]["content"].get<std::string>(),
              HasSubstr("the answer is not one JSON object"));
}

TEST(SemanticExtractor, BadEvidenceIndexIsInvalid) {
  SemanticWorld w;
  const std::string bad =
      R"({"statements": [{"content": "Caroline lives in Boston.", "category": "fact",
          "evidence": [9]}]})";
  w.answer(bad);  // then the deterministic model answers the second request correctly
  const auto events = w.events({{"Caroline", "I live in Boston.", may(8)},
                                {"Melanie", "Nice!", may(8, 13, 57)}});
  const SemanticExtraction x = w.extractor().extract(
      SemanticWorld::episode("e1", "Caroline at home", may(8)), events, w.known, may(8));
  EXPECT_THAT(w.chat_prompts()[1],
              HasSubstr("statement 1: evidence 9 is not a message number (1 to 2)"));
  EXPECT_THAT(contents(x.batch.statements), ElementsAre("Caroline lives in Boston."));
  expect_invalid_and_fallbacks(*w.stats, "semantic_extract", 1, 0);

  w.answer(bad);
  w.answer(bad);
  const SemanticExtraction dropped = w.extractor().extract(
      SemanticWorld::episode("e2", "Caroline at home", may(8)), events, w.known, may(8));
  EXPECT_EQ(dropped.batch.semantic_progress[0].state, SemanticState::kDropped);
  EXPECT_THAT(dropped.batch.semantic_progress[0].detail,
              HasSubstr("evidence 9 is not a message number (1 to 2)"));
  EXPECT_THAT(dropped.batch.statements, IsEmpty());
}

TEST(SemanticExtractor, ReconcileAnswerInvalidTwiceKeepsBothStatements) {
  SemanticWorld w;
  SemanticOptions options;
  options.ambiguous_threshold = 0.6;
  auto extractor = w.extractor(options);
  w.apply(extractor.extract(SemanticWorld::episode("e1", "Caroline at home", may(8)),
                            w.events({{"Caroline", "I live in Boston.", may(8)}}), w.known, may(8)));
  w.answer(R"({"statements": [{"content": "Caroline lives in Denver.", "category": "fact",
               "subject": "Caroline", "evidence": [1], "valid_from": "2023-05-20"}]})");
  w.answer(R"({"decisions": []})");
  w.answer(R"({"decisions": [{"pair": "P7", "relation": "duplicate"}]})");
  const SemanticExtraction x = extractor.extract(
      SemanticWorld::episode("e2", "News from the week", may(20)),
      w.events({{"Caroline", "I live in Denver.", may(20)}}), w.known, may(21));
  EXPECT_THAT(w.chat_prompts().back(), HasSubstr("P1 is not decided"));
  expect_invalid_and_fallbacks(*w.stats, "semantic_reconcile", 2, 1);
  EXPECT_EQ(x.batch.semantic_progress[0].state, SemanticState::kDone);
  EXPECT_THAT(contents(x.batch.statements), ElementsAre("Caroline lives in Denver."));
  EXPECT_THAT(x.batch.statement_updates, IsEmpty());  // a possible duplicate beats a lost fact
}

TEST(SemanticExtractor, FailedCallThrowsLlmError) {
  SemanticWorld w(/*max_retries=*/0);
  w.server.enqueue(LlmRoute::kChatCompletions,
                   ScriptedReply::openai_error(500, "overloaded", "server_error"));
  const auto events = w.events({{"Caroline", "I live in Boston.", may(8)}});
  EXPECT_THROW(w.extractor().extract(SemanticWorld::episode("e1", "Caroline at home", may(8)),
                                     events, w.known, may(8)),
               LlmError);
  // Embedding the statements failing is a failed call too.
  w.server.enqueue(LlmRoute::kEmbeddings,
                   ScriptedReply::openai_error(500, "overloaded", "server_error"));
  EXPECT_THROW(w.extractor().extract(SemanticWorld::episode("e1", "Caroline at home", may(8)),
                                     events, w.known, may(8)),
               LlmError);
}

TEST(SemanticExtractor, AnEpisodeWithoutMessagesMakesNoCall) {
  SemanticWorld w;
  const SemanticExtraction x = w.extractor().extract(
      SemanticWorld::episode("e1", "Nothing", may(8)), {}, w.known, may(8));
  EXPECT_TRUE(w.server.requests().empty());
  ASSERT_EQ(x.batch.semantic_progress.size(), 1u);
  EXPECT_EQ(x.batch.semantic_progress[0].state, SemanticState::kDone);
}

TEST(SemanticExtractor, AReplacedPromptLackingAPlaceholderIsAConfigError) {
  SemanticWorld w;
  try {
    w.extractor({}, {{"semantic_calibrate", "Task: semantic-calibrate.\n{{messages}}"}});
    FAIL() << "no ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("prompts.semantic_calibrate"));
    EXPECT_THAT(e.what(), HasSubstr("{{prediction}}"));
  }
  EXPECT_THROW(SemanticExtractor(nullptr, w.embedder, {}), ConfigError);
  EXPECT_THROW(SemanticExtractor(w.chat, nullptr, {}), ConfigError);
}

}  // namespace
}  // namespace nemori::test
