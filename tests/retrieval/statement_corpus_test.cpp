// RetrievalService's statement corpus (SearchCorpus::kStatements): BM25 and vectors over
// statements, the current / as-of / every-version filters, replacement by id, removal, the
// exact nearest current statements, and loading an owner's statements.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "nemori/core/error.h"
#include "nemori/retrieval/hashing_test_embedder.h"
#include "nemori/retrieval/retrieval_service.h"

namespace nemori {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;
using testing::UnorderedElementsAre;

const HashingTestEmbedder kEmbedder(64);

Statement statement(const std::string& id, const std::string& content, int month,
                    std::optional<int> closed_month = std::nullopt, bool with_vector = true) {
  Statement s;
  s.statement_id = id;
  s.owner_id = "o";
  s.subject = "Caroline";
  s.content = content;
  s.category = StatementCategory::kFact;
  s.valid_from = make_timestamp(2023, static_cast<unsigned>(month), 1);
  if (closed_month) s.valid_to = make_timestamp(2023, static_cast<unsigned>(*closed_month), 1);
  s.source_episode_ids = {"e-" + id};
  if (with_vector) {
    s.embedding_vector = kEmbedder.embed_one(content);
    s.embedding_model = kEmbedder.model();
  }
  return s;
}

std::vector<std::string> ids_of(const SearchResponse& r) {
  std::vector<std::string> out;
  for (const auto& h : r.hits) out.push_back(h.id);
  return out;
}

SearchOptions statement_search(SearchMode mode = SearchMode::kBm25) {
  SearchOptions o;
  o.corpus = SearchCorpus::kStatements;
  o.mode = mode;
  return o;
}

// Boston (Jan..May, closed), Denver (from May, current), pottery (from Feb, current).
std::vector<Statement> history() {
  return {statement("boston", "Caroline lives in Boston.", 1, 5),
          statement("denver", "Caroline lives in Denver.", 5),
          statement("pottery", "Caroline likes pottery.", 2)};
}

TEST(StatementCorpus, CurrentOnlyByDefaultEveryVersionOnRequestAndAsOfATime) {
  RetrievalService service;
  service.index_statements("o", history());
  SearchOptions o = statement_search();
  EXPECT_THAT(ids_of(service.search("o", "where does she live", o)), ElementsAre("denver"));
  o.statements.include_superseded = true;
  EXPECT_THAT(ids_of(service.search("o", "where does she live", o)),
              UnorderedElementsAre("boston", "denver"));
  o.statements.as_of = make_timestamp(2023, 3, 1);  // overrides include_superseded
  EXPECT_THAT(ids_of(service.search("o", "caroline", o)),
              UnorderedElementsAre("boston", "pottery"));
  o.statements.as_of = make_timestamp(2023, 5, 1);  // valid_to is exclusive, valid_from inclusive
  EXPECT_THAT(ids_of(service.search("o", "lives", o)), ElementsAre("denver"));
  o.statements.as_of = make_timestamp(2022, 12, 1);
  EXPECT_THAT(ids_of(service.search("o", "caroline", o)), IsEmpty());
}

TEST(StatementCorpus, SubjectIsTheTitleFieldAndCategoryAKeyword) {
  RetrievalService service;
  Statement other = statement("other", "Melanie likes hiking.", 2);
  other.subject = "Melanie";
  other.category = StatementCategory::kPreference;
  service.index_statements("o", std::vector<Statement>{statement("pottery", "Likes pottery.", 2), other});
  EXPECT_THAT(ids_of(service.search("o", "caroline", statement_search())), ElementsAre("pottery"));
  EXPECT_THAT(ids_of(service.search("o", "preference", statement_search())), ElementsAre("other"));
  SearchOptions o = statement_search();
  o.filter.types = {"fact"};
  EXPECT_THAT(ids_of(service.search("o", "likes", o)), ElementsAre("pottery"));
}

TEST(StatementCorpus, VectorAndHybridSearchUseTheStoredVectors) {
  RetrievalService service;
  auto list = history();
  list.push_back(statement("novector", "Caroline lives near the sea.", 3, std::nullopt, false));
  service.index_statements("o", list);
  SearchOptions o = statement_search(SearchMode::kVector);
  o.k = 1;
  o.query_vector = kEmbedder.embed_one("pottery");
  const SearchResponse r = service.search("o", "", o);
  ASSERT_THAT(ids_of(r), ElementsAre("pottery"));
  ASSERT_TRUE(r.hits[0].vector_score.has_value());
  EXPECT_GT(*r.hits[0].vector_score, 0.5);
  // Hybrid: the statement without a vector is still found by BM25.
  o.mode = SearchMode::kHybrid;
  o.k = 10;
  o.query_vector = kEmbedder.embed_one("sea");
  const SearchResponse h = service.search("o", "sea", o);
  EXPECT_EQ(h.mode, SearchMode::kHybrid);
  const auto found = std::find_if(h.hits.begin(), h.hits.end(),
                                  [](const SearchHit& hit) { return hit.id == "novector"; });
  ASSERT_NE(found, h.hits.end());
  EXPECT_EQ(found->bm25_rank, 1u);
  EXPECT_FALSE(found->vector_score.has_value());
  // The closed Boston statement never comes back from a current-only search, vectors included.
  for (const auto& id : ids_of(h)) EXPECT_NE(id, "boston");
}

TEST(StatementCorpus, VectorFloorDropsWeakVectorHits) {
  RetrievalService service;
  service.index_statements("o", history());
  SearchOptions o = statement_search(SearchMode::kVector);
  o.query_vector = kEmbedder.embed_one("pottery");
  o.vector_floor = 0.99;
  EXPECT_THAT(ids_of(service.search("o", "", o)), IsEmpty());
  o.vector_floor = 0.5;
  EXPECT_THAT(ids_of(service.search("o", "", o)), ElementsAre("pottery"));
}

TEST(StatementCorpus, NearestIsExactOverCurrentStatementsOnly) {
  RetrievalService service;
  service.index_statements("o", history());
  const auto query = kEmbedder.embed_one("Caroline lives in Boston.");
  const auto nearest = service.nearest_statements("o", query, 3);
  ASSERT_EQ(nearest.size(), 2u);  // Boston is closed
  EXPECT_EQ(nearest[0].id, "denver");
  EXPECT_GT(nearest[0].score, nearest[1].score);
  EXPECT_THAT(service.nearest_statements("nobody", query, 3), IsEmpty());
  EXPECT_THROW(service.nearest_statements("o", std::vector<float>(3, 1.0f), 3), ValidationError);
}

TEST(StatementCorpus, ANewVersionReplacesTheOldAndRemovalForgetsIt) {
  RetrievalService service;
  service.index_statements("o", history());
  Statement closed = statement("denver", "Caroline lives in Denver.", 5, 7);
  closed.superseded_by = "austin";
  service.index_statements("o", std::vector<Statement>{closed, statement("austin", "Caroline lives in Austin.", 7)});
  EXPECT_THAT(ids_of(service.search("o", "lives", statement_search())), ElementsAre("austin"));
  const std::vector<std::string> ids{"denver", "missing"};
  const auto copies = service.statements("o", ids);
  ASSERT_TRUE(copies[0].has_value());
  EXPECT_EQ(copies[0]->superseded_by, "austin");
  EXPECT_EQ(copies[0]->source_episode_ids, std::vector<std::string>{"e-denver"});
  EXPECT_TRUE(copies[0]->embedding_vector.has_value());
  EXPECT_FALSE(copies[1].has_value());
  EXPECT_EQ(service.stats().statements, 4u);

  const std::vector<std::string> removed{"austin", "missing"};
  EXPECT_EQ(service.remove_statements("o", removed), 1u);
  EXPECT_THAT(ids_of(service.search("o", "lives", statement_search())), IsEmpty());
  EXPECT_THAT(service.nearest_statements("o", kEmbedder.embed_one("Austin"), 5),
              testing::Each(testing::Field(&ScoredDocument::id, testing::Ne("austin"))));
}

TEST(StatementCorpus, StatementsOfAnotherOwnerAreRefusedAndNothingChanges) {
  RetrievalService service;
  Statement foreign = statement("x", "Someone else.", 1);
  foreign.owner_id = "p";
  EXPECT_THROW(service.index_statements("o", std::vector<Statement>{statement("a", "A fact.", 1), foreign}),
               ValidationError);
  EXPECT_THAT(service.statements("o", std::vector<std::string>{"a"}), ElementsAre(std::nullopt));
  EXPECT_THROW(service.index_statements("", history()), ValidationError);
}

TEST(StatementCorpus, VectorsOfAnotherModelThanTheEmbeddersAreLeftOut) {
  RetrievalOptions options;
  options.embedder = std::make_shared<HashingTestEmbedder>(64);
  RetrievalService service(options);
  Statement other = statement("other", "Caroline likes pottery.", 2);
  other.embedding_model = "another-model";
  service.index_statements("o", std::vector<Statement>{other});
  EXPECT_THAT(service.nearest_statements("o", kEmbedder.embed_one("pottery"), 3), IsEmpty());
  EXPECT_THAT(ids_of(service.search("o", "pottery", statement_search())), ElementsAre("other"));
}

TEST(StatementCorpus, TheLoaderBringsEveryVersionOfTheOwnersStatements) {
  RetrievalOptions options;
  options.loader = [](const std::string& owner) {
    OwnerData data;
    if (owner == "o") data.statements = history();
    return data;
  };
  RetrievalService service(options);
  // A write to an owner that is not resident waits for its load (storage has it already).
  service.index_statements("o", std::vector<Statement>{statement("late", "Caroline likes tea.", 6)});
  EXPECT_FALSE(service.is_resident("o"));
  SearchOptions o = statement_search();
  o.statements.include_superseded = true;
  EXPECT_THAT(ids_of(service.search("o", "caroline", o)),
              UnorderedElementsAre("boston", "denver", "pottery"));
  EXPECT_EQ(service.stats().statements, 3u);
  service.index_statements("o", std::vector<Statement>{statement("late", "Caroline likes tea.", 6)});
  EXPECT_THAT(ids_of(service.search("o", "tea", statement_search())), ElementsAre("late"));
}

}  // namespace
}  // namespace nemori
