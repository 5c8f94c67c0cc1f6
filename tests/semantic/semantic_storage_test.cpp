// The extractor's batches applied to a real store (memory://) and the retrieval index loaded
// from it: statements added, strengthened and closed end to end, one transaction per episode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/storage/factory.h"
#include "semantic_test_support.h"

namespace nemori::test {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// The owner's memory in storage, with a retrieval index that loads from it.
struct StoredWorld : SemanticWorld {
  std::unique_ptr<Storage> storage = open_storage("memory://");
  std::unique_ptr<RetrievalService> indexed;
  std::unique_ptr<IndexedKnownStatements> from_index;

  StoredWorld() { reload(); }

  // A retrieval index reading the owner's statements from storage, as MemorySystem's loader.
  void reload() {
    RetrievalOptions options;
    Storage* store = storage.get();
    options.loader = [store](const std::string& owner) {
      OwnerData data;
      StatementQuery q;
      q.owner_ids = {owner};
      q.state = StatementState::kAll;
      data.statements = store->statements().search(q).statements;
      return data;
    };
    from_index.reset();
    indexed = std::make_unique<RetrievalService>(options);
    from_index = std::make_unique<IndexedKnownStatements>(*indexed);
  }

  // Stores the episode and its messages, extracts, applies the batch, updates the index.
  SemanticExtraction process(SemanticExtractor& extractor, const Episode& e,
                             const std::vector<RawEvent>& events, Timestamp now) {
    WriteBatch stored;
    stored.raw_events = events;
    stored.episodes = {e};
    for (const RawEvent& r : events) stored.links.push_back({e.episode_id, r.data_id});
    storage->apply(stored);
    SemanticExtraction x = extractor.extract(e, events, *from_index, now);
    storage->apply(x.batch);
    std::vector<std::string> ids;
    for (const Statement& s : x.batch.statements) ids.push_back(s.statement_id);
    for (const Statement& s : x.batch.statement_updates) ids.push_back(s.statement_id);
    std::vector<Statement> changed;
    for (auto& s : storage->statements().get_batch(ids)) {
      if (s) changed.push_back(std::move(*s));
    }
    indexed->index_statements("o", changed);
    return x;
  }

  Statement stored_with_content(const std::string& content) {
    StatementQuery q;
    q.owner_ids = {"o"};
    q.state = StatementState::kAll;
    q.text_contains = content;
    const auto found = storage->statements().search(q).statements;
    EXPECT_EQ(found.size(), 1u) << content;
    return found.empty() ? Statement{} : found[0];
  }
};

TEST(SemanticStorage, StatementsAreAddedStrengthenedAndClosedInTheStore) {
  StoredWorld w;
  auto extractor = w.extractor();
  w.process(extractor, SemanticWorld::episode("e1", "Caroline at home", may(8)),
            w.events({{"Caroline", "I live in Boston. I love pottery.", may(8)}}), may(8));
  w.process(extractor, SemanticWorld::episode("e2", "A quiet weekend", may(13)),
            w.events({{"Caroline", "I love pottery!", may(13)}}), may(13));
  const Timestamp moved = may(20, 10, 0);
  w.process(extractor, SemanticWorld::episode("e3", "Caroline moved", moved),
            w.events({{"Caroline", "I moved from Boston to Denver.", moved}}), may(21));

  auto& repo = w.storage->statements();
  EXPECT_EQ(repo.count("o", StatementState::kCurrent), 2u);
  EXPECT_EQ(repo.count("o", StatementState::kSuperseded), 1u);
  const Statement pottery = w.stored_with_content("Caroline likes pottery.");
  EXPECT_NEAR(pottery.confidence, 0.96, 1e-9);
  EXPECT_THAT(pottery.source_episode_ids, ElementsAre("e1", "e2"));
  const Statement boston = w.stored_with_content("Caroline lives in Boston.");
  const Statement denver = w.stored_with_content("Caroline lives in Denver.");
  EXPECT_EQ(boston.valid_to, moved);
  EXPECT_EQ(boston.superseded_by, denver.statement_id);
  EXPECT_TRUE(denver.current());
  EXPECT_EQ(repo.history(denver.statement_id).size(), 2u);
  for (const char* id : {"e1", "e2", "e3"}) {
    const auto p = repo.progress(id);
    ASSERT_TRUE(p.has_value()) << id;
    EXPECT_EQ(p->state, SemanticState::kDone);
    EXPECT_GE(p->semantic_calls, 1u);
    EXPECT_GT(p->semantic_tokens, 0u);
  }
  EXPECT_EQ(repo.progress("e3")->semantic_calls, 2u);  // predict and calibrate

  // A fresh index loaded from the store ranks the same current statements.
  w.reload();
  SearchOptions o;
  o.corpus = SearchCorpus::kStatements;
  o.mode = SearchMode::kBm25;
  std::vector<std::string> found;
  for (const auto& h : w.indexed->search("o", "caroline", o).hits) found.push_back(h.id);
  EXPECT_THAT(found, UnorderedElementsAre(denver.statement_id, pottery.statement_id));

  // An episode telling the known fact again, with nothing related by title: strengthened.
  const auto cold = w.extractor().extract(
      SemanticWorld::episode("e1", "Unrelated title", may(8)),
      w.events({{"Caroline", "I love pottery.", may(8)}}), *w.from_index, may(30));
  EXPECT_TRUE(cold.batch.statements.empty());  // strengthens the known one instead
  EXPECT_EQ(cold.strengthened, 1u);
}

TEST(SemanticStorage, ADroppedEpisodeStoresOnlyItsProgress) {
  StoredWorld w;
  w.answer("not JSON");
  w.answer("still not JSON");
  auto extractor = w.extractor();
  const auto x = w.process(extractor, SemanticWorld::episode("e1", "Caroline at home", may(8)),
                           w.events({{"Caroline", "I live in Boston.", may(8)}}), may(8));
  EXPECT_EQ(w.storage->statements().count("o", StatementState::kAll), 0u);
  const auto p = w.storage->statements().progress("e1");
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->state, SemanticState::kDropped);
  EXPECT_EQ(p->detail, x.batch.semantic_progress[0].detail);
  EXPECT_EQ(p->semantic_calls, 2u);
}

}  // namespace
}  // namespace nemori::test
