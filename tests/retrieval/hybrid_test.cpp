// Reciprocal rank fusion and the test embedder.
#include "nemori/retrieval/hybrid.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "nemori/core/error.h"
#include "nemori/retrieval/hashing_test_embedder.h"

namespace nemori {
namespace {

using testing::ElementsAre;

std::vector<std::string> ids_of(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

TEST(Fusion, RanksByReciprocalRankSumOnAConstructedCase) {
  // BM25: a b c d ; vectors: c a e.
  const std::vector<ScoredDocument> bm25 = {{"a", 9}, {"b", 8}, {"c", 7}, {"d", 6}};
  const std::vector<ScoredDocument> vec = {{"c", 0.9}, {"a", 0.8}, {"e", 0.7}};
  const auto hits = fuse_rrf(bm25, vec, 10);
  // a: 1/61 + 1/62, c: 1/63 + 1/61, b: 1/62, e: 1/63, d: 1/64.
  EXPECT_THAT(ids_of(hits), ElementsAre("a", "c", "b", "e", "d"));
  EXPECT_NEAR(hits[0].score, 1.0 / 61 + 1.0 / 62, 1e-15);
  EXPECT_NEAR(hits[1].score, 1.0 / 63 + 1.0 / 61, 1e-15);
  EXPECT_EQ(hits[0].bm25_rank, 1u);
  EXPECT_EQ(hits[0].vector_rank, 2u);
  EXPECT_EQ(hits[0].bm25_score, 9.0);
  EXPECT_EQ(hits[0].vector_score, 0.8);
  EXPECT_EQ(hits[3].bm25_rank, std::nullopt);  // e: vectors only
  EXPECT_EQ(hits[3].vector_rank, 3u);
  EXPECT_EQ(hits[4].vector_score, std::nullopt);  // d: BM25 only
  EXPECT_THAT(ids_of(fuse_rrf(bm25, vec, 2)), ElementsAre("a", "c"));
}

TEST(Fusion, WeightsAndTheConstantChangeTheOrder) {
  const std::vector<ScoredDocument> bm25 = {{"a", 3}, {"b", 2}};
  const std::vector<ScoredDocument> vec = {{"b", 0.9}, {"a", 0.1}};
  // Equal weights: a and b tie (1/61 + 1/62 each); the best single rank ties too; id decides.
  EXPECT_THAT(ids_of(fuse_rrf(bm25, vec, 5)), ElementsAre("a", "b"));
  FusionOptions vectors_first;
  vectors_first.vector_weight = 2.0;
  EXPECT_THAT(ids_of(fuse_rrf(bm25, vec, 5, vectors_first)), ElementsAre("b", "a"));
  FusionOptions bm25_only;
  bm25_only.vector_weight = 0;
  bm25_only.k = 1;
  const auto hits = fuse_rrf(bm25, vec, 5, bm25_only);
  EXPECT_THAT(ids_of(hits), ElementsAre("a", "b"));
  EXPECT_NEAR(hits[0].score, 1.0 / 2, 1e-15);
}

TEST(Fusion, AnEmptySideLeavesTheOtherOrder) {
  const std::vector<ScoredDocument> bm25 = {{"x", 2}, {"y", 1}};
  EXPECT_THAT(ids_of(fuse_rrf(bm25, {}, 5)), ElementsAre("x", "y"));
  EXPECT_TRUE(fuse_rrf({}, {}, 5).empty());
}

TEST(Fusion, RejectsBadOptions) {
  FusionOptions bad;
  bad.k = 0;
  EXPECT_THROW(fuse_rrf({}, {}, 5, bad), ValidationError);
  bad = {};
  bad.bm25_weight = -1;
  EXPECT_THROW(fuse_rrf({}, {}, 5, bad), ValidationError);
}

TEST(Fusion, SearchModeText) {
  EXPECT_EQ(parse_search_mode("hybrid"), SearchMode::kHybrid);
  EXPECT_EQ(parse_search_mode(to_string(SearchMode::kVector)), SearchMode::kVector);
  EXPECT_EQ(to_string(SearchMode::kBm25), "bm25");
  EXPECT_THROW(parse_search_mode("fuzzy"), ValidationError);
}

TEST(HashingTestEmbedder, IsDeterministicNormalisedAndSimilarForSharedWords) {
  HashingTestEmbedder e(64);
  const std::vector<std::string> texts = {"Caroline went to the support group",
                                          "the support group met Caroline",
                                          "Melanie painted a sunset", ""};
  const auto v = e.embed(texts);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v, HashingTestEmbedder(64).embed(texts));
  auto dot = [](const std::vector<float>& a, const std::vector<float>& b) {
    double s = 0;
    for (std::size_t i = 0; i < a.size(); ++i) s += static_cast<double>(a[i]) * b[i];
    return s;
  };
  EXPECT_NEAR(dot(v[0], v[0]), 1.0, 1e-6);
  EXPECT_GT(dot(v[0], v[1]), dot(v[0], v[2]));
  EXPECT_EQ(dot(v[3], v[3]), 0.0);  // no tokens: zero vector
  EXPECT_EQ(e.dimension(), 64u);
  EXPECT_THROW(HashingTestEmbedder(0), ConfigError);
}

}  // namespace
}  // namespace nemori
