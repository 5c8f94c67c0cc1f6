// Vector index: exact search, HNSW recall, deletes, filters, dimension checks.
#include "nemori/retrieval/vector_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "nemori/core/error.h"
#include "retrieval/random_vectors.h"

namespace nemori {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using testing::IsEmpty;

using testing_data::gaussian_vector;

std::vector<VectorDocument> random_docs(std::size_t n, std::size_t dim, std::mt19937& rng) {
  std::vector<VectorDocument> docs;
  for (std::size_t i = 0; i < n; ++i) {
    docs.push_back({"v" + std::to_string(i), gaussian_vector(dim, rng),
                    from_micros(static_cast<std::int64_t>(i)), i % 2 ? "odd" : "even"});
  }
  return docs;
}

// Cosine similarity in double precision.
double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return aa == 0 || bb == 0 ? 0 : ab / std::sqrt(aa * bb);
}

std::vector<std::pair<double, std::string>> brute_force(const std::vector<VectorDocument>& docs,
                                                        const std::vector<float>& q,
                                                        std::size_t k) {
  std::vector<std::pair<double, std::string>> all;
  for (const auto& d : docs) all.emplace_back(cosine(d.vector, q), d.id);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  all.resize(std::min(k, all.size()));
  return all;
}

VectorIndexOptions exact_options(std::size_t dim) {
  VectorIndexOptions o;
  o.dimension = dim;
  o.hnsw_threshold = 0;
  return o;
}

TEST(VectorIndex, ExactSearchMatchesBruteForce) {
  std::mt19937 rng(1);
  const std::size_t dim = 37;  // not a multiple of the SIMD width
  const auto docs = random_docs(800, dim, rng);
  VectorIndex index(exact_options(dim));
  for (const auto& d : docs) index.upsert(d);
  EXPECT_FALSE(index.uses_hnsw());
  for (int q = 0; q < 20; ++q) {
    const auto query = gaussian_vector(dim, rng);
    const auto expected = brute_force(docs, query, 10);
    const auto hits = index.search(query, 10);
    ASSERT_EQ(hits.size(), 10u);
    for (std::size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i].id, expected[i].second) << "query " << q << " rank " << i;
      EXPECT_NEAR(hits[i].score, expected[i].first, 1e-5);
    }
  }
}

TEST(VectorIndex, HnswRecallAt20IsAtLeast95PercentOnRandomData) {
  std::mt19937 rng(2);
  const std::size_t dim = 64, n = 5000, k = 20;
  const auto docs = random_docs(n, dim, rng);
  VectorIndexOptions o;
  o.dimension = dim;
  o.hnsw_threshold = 1000;
  VectorIndex index(o);
  index.upsert_batch(docs);
  ASSERT_TRUE(index.uses_hnsw());
  std::size_t found = 0, total = 0;
  for (int q = 0; q < 100; ++q) {
    const auto query = gaussian_vector(dim, rng);
    const auto exact = index.search_exact(query, k);
    const auto approx = index.search(query, k);
    std::set<std::string> truth;
    for (const auto& h : exact) truth.insert(h.id);
    for (const auto& h : approx) found += truth.count(h.id);
    total += truth.size();
  }
  const double recall = static_cast<double>(found) / static_cast<double>(total);
  RecordProperty("recall_at_20", std::to_string(recall));
  EXPECT_GE(recall, 0.95);
}

TEST(VectorIndex, SwitchesToHnswAboveTheThresholdOneInsertAtATime) {
  std::mt19937 rng(3);
  VectorIndexOptions o;
  o.dimension = 16;
  o.hnsw_threshold = 50;
  VectorIndex index(o);
  const auto docs = random_docs(120, 16, rng);
  for (std::size_t i = 0; i < docs.size(); ++i) {
    index.upsert(docs[i]);
    EXPECT_EQ(index.uses_hnsw(), i + 1 > 50) << i;
  }
  // The graph finds each stored vector as its own best match.
  for (std::size_t i = 0; i < docs.size(); i += 7) {
    const auto hits = index.search(docs[i].vector, 1);
    ASSERT_EQ(hits.size(), 1u);
    EXPECT_EQ(hits[0].id, docs[i].id);
    EXPECT_NEAR(hits[0].score, 1.0, 1e-5);
  }
}

TEST(VectorIndex, DimensionMismatchIsAValidationErrorNamingBothSizes) {
  VectorIndex index(exact_options(4));
  EXPECT_THAT(
      [&] {
        index.upsert({"a", {1, 2, 3}, {}, ""});
      },
      testing::ThrowsMessage<ValidationError>(
          AllOf(HasSubstr("3 dimensions"), HasSubstr("4-dimensional"))));
  EXPECT_EQ(index.size(), 0u);
  index.upsert({"a", {1, 0, 0, 0}, {}, ""});
  EXPECT_THROW(index.search(std::vector<float>{1, 0}, 5), ValidationError);
  const std::vector<VectorDocument> batch = {{"b", {1, 0, 0, 0}, {}, ""}, {"c", {1}, {}, ""}};
  EXPECT_THROW(index.upsert_batch(batch), ValidationError);
  EXPECT_EQ(index.size(), 1u);  // nothing of the batch was added
  EXPECT_THROW(index.upsert({"d", {1, NAN, 0, 0}, {}, ""}), ValidationError);
  EXPECT_THROW(VectorIndex(VectorIndexOptions{}), ConfigError);  // dimension 0
}

TEST(VectorIndex, RemoveAndReplaceInExactAndHnswModes) {
  for (std::size_t threshold : {std::size_t{0}, std::size_t{10}}) {
    std::mt19937 rng(4);
    VectorIndexOptions o;
    o.dimension = 8;
    o.hnsw_threshold = threshold;
    VectorIndex index(o);
    const auto docs = random_docs(40, 8, rng);
    for (const auto& d : docs) index.upsert(d);
    EXPECT_TRUE(index.remove("v3"));
    EXPECT_FALSE(index.remove("v3"));
    EXPECT_FALSE(index.contains("v3"));
    for (const auto& h : index.search(docs[3].vector, 40)) EXPECT_NE(h.id, "v3");
    // Replacing v5 by v7's vector: v5 now matches v7's vector perfectly.
    index.upsert({"v5", docs[7].vector, {}, ""});
    EXPECT_EQ(index.size(), 39u);
    const auto hits = index.search(docs[7].vector, 2);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].id, "v5");  // tie with v7 broken by id
    EXPECT_EQ(hits[1].id, "v7");
  }
}

TEST(VectorIndex, ManyDeletesRebuildTheIndexAndKeepResultsExact) {
  std::mt19937 rng(5);
  VectorIndexOptions o;
  o.dimension = 12;
  o.hnsw_threshold = 100;
  VectorIndex index(o);
  auto docs = random_docs(400, 12, rng);
  index.upsert_batch(docs);
  ASSERT_TRUE(index.uses_hnsw());
  std::vector<VectorDocument> kept;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    if (i % 4 != 0) {
      index.remove(docs[i].id);
    } else {
      kept.push_back(docs[i]);
    }
  }
  EXPECT_EQ(index.size(), 100u);
  EXPECT_LT(index.stats().deleted, 150u);  // rebuilt along the way
  const auto query = gaussian_vector(12, rng);
  const auto expected = brute_force(kept, query, 10);
  const auto hits = index.search_exact(query, 10);
  ASSERT_EQ(hits.size(), 10u);
  for (std::size_t i = 0; i < hits.size(); ++i) EXPECT_EQ(hits[i].id, expected[i].second);
}

TEST(VectorIndex, FiltersApplyInExactAndHnswModes) {
  for (std::size_t threshold : {std::size_t{0}, std::size_t{100}}) {
    std::mt19937 rng(6);
    VectorIndexOptions o;
    o.dimension = 16;
    o.hnsw_threshold = threshold;
    VectorIndex index(o);
    const auto docs = random_docs(3000, 16, rng);
    index.upsert_batch(docs);
    const auto query = gaussian_vector(16, rng);

    SearchFilter odd;
    odd.types = {"odd"};
    const auto hits = index.search(query, 10, odd);
    ASSERT_EQ(hits.size(), 10u);
    for (const auto& h : hits) EXPECT_EQ(std::stoi(h.id.substr(1)) % 2, 1) << h.id;

    SearchFilter early;
    early.until = from_micros(20);
    const auto early_hits = index.search(query, 50, early);
    EXPECT_EQ(early_hits.size(), 21u);

    SearchFilter ids;
    ids.ids = std::vector<std::string>{"v1", "v2000"};
    EXPECT_EQ(index.search(query, 10, ids).size(), 2u);
  }
}

TEST(VectorIndex, ZeroVectorsScoreZeroAndScoresAreCosines) {
  VectorIndex index(exact_options(3));
  index.upsert({"zero", {0, 0, 0}, {}, ""});
  index.upsert({"x", {2, 0, 0}, {}, ""});
  index.upsert({"xy", {1, 1, 0}, {}, ""});
  const auto hits = index.search(std::vector<float>{5, 0, 0}, 3);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, "x");
  EXPECT_NEAR(hits[0].score, 1.0, 1e-6);
  EXPECT_EQ(hits[1].id, "xy");
  EXPECT_NEAR(hits[1].score, std::sqrt(0.5), 1e-6);
  EXPECT_EQ(hits[2].id, "zero");
  EXPECT_EQ(hits[2].score, 0.0);
}

TEST(VectorIndex, StatsReportMemory) {
  std::mt19937 rng(8);
  VectorIndexOptions o;
  o.dimension = 32;
  o.hnsw_threshold = 100;
  VectorIndex index(o);
  index.upsert_batch(random_docs(50, 32, rng));
  auto s = index.stats();
  EXPECT_FALSE(s.hnsw);
  EXPECT_GE(s.memory_bytes, 50u * 32 * 4);
  index.upsert_batch(random_docs(200, 32, rng));  // same ids v0..v199: 200 vectors in total
  s = index.stats();
  EXPECT_TRUE(s.hnsw);
  EXPECT_EQ(s.vectors, 200u);
  EXPECT_GE(s.memory_bytes, 200u * 32 * 4);
}

}  // namespace
}  // namespace nemori
