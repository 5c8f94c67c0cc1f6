// The exact vector scan (an int8 first pass, then float re-scoring of the candidates) returns
// exactly what a full float scan returns, near-ties and exact ties included; the int8 kernels
// agree with each other.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/retrieval/vector_index.h"
#include "retrieval/random_vectors.h"
#include "retrieval/simd.h"

namespace nemori {
namespace {

using retrieval_internal::available_u8s8_kernels;
using retrieval_internal::dot_product;

using testing_data::gaussian_vector;

// The index's normalisation, repeated here.
std::vector<float> unit(const std::vector<float>& in) {
  double norm = 0;
  for (float x : in) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  const float scale = norm > 0 ? static_cast<float>(1.0 / norm) : 0.0f;
  std::vector<float> out(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) out[i] = in[i] * scale;
  return out;
}

// Full float scan: every vector scored with the same kernel, ranked by score then id.
std::vector<ScoredDocument> full_scan(const std::vector<VectorDocument>& docs,
                                      const std::vector<float>& query, std::size_t k) {
  const std::vector<float> q = unit(query);
  std::vector<ScoredDocument> all;
  for (const auto& d : docs) {
    const std::vector<float> v = unit(d.vector);
    all.push_back({d.id, dot_product(q.data(), v.data(), q.size())});
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  all.resize(std::min(k, all.size()));
  return all;
}

// Random vectors plus exact duplicates, scaled copies (equal after normalisation, up to
// rounding) and copies nudged by tiny amounts: many ties and near-ties.
std::vector<VectorDocument> tricky_docs(std::size_t n, std::size_t dim, std::mt19937& rng) {
  std::vector<VectorDocument> docs;
  std::uniform_real_distribution<float> tiny(-1e-5f, 1e-5f);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<float> v;
    if (i >= 10 && i % 5 == 0) {
      v = docs[rng() % docs.size()].vector;  // duplicate
    } else if (i >= 10 && i % 5 == 1) {
      v = docs[rng() % docs.size()].vector;  // scaled copy
      for (float& x : v) x *= 3.0f;
    } else if (i >= 10 && i % 5 == 2) {
      v = docs[rng() % docs.size()].vector;  // near-tie
      v[rng() % dim] += tiny(rng);
    } else {
      v = gaussian_vector(dim, rng);
    }
    docs.push_back({"d" + std::to_string(i), std::move(v),
                    from_micros(static_cast<std::int64_t>(i)), i % 3 ? "a" : "b"});
  }
  return docs;
}

TEST(VectorExactScan, Int8KernelsAgreeWithTheGenericOne) {
  std::mt19937 rng(5);
  const auto kernels = available_u8s8_kernels();
  ASSERT_FALSE(kernels.empty());
  EXPECT_EQ(kernels.front().name, "generic");
  for (std::size_t n : {1, 15, 16, 31, 63, 64, 100, 127, 128, 129, 768, 1000}) {
    const std::size_t count = 37;
    std::vector<std::uint8_t> codes(count * n);
    for (auto& c : codes) c = static_cast<std::uint8_t>(1 + rng() % 255);
    codes[0] = 255;  // extremes
    std::vector<std::int8_t> q(n);
    for (auto& c : q) c = static_cast<std::int8_t>(static_cast<int>(rng() % 255) - 127);
    q[0] = 127;
    const std::vector<std::int16_t> q16(q.begin(), q.end());
    std::vector<std::uint32_t> slots;
    for (std::uint32_t s = 0; s < count; s += 1 + rng() % 2) slots.push_back(s);
    std::vector<std::int32_t> expected(slots.size());
    kernels.front().fn(q.data(), q16.data(), codes.data(), n, slots.data(), slots.size(),
                       expected.data());
    std::int64_t first = 0;
    for (std::size_t j = 0; j < n; ++j) first += static_cast<std::int64_t>(codes[j]) * q[j];
    EXPECT_EQ(expected[0], first);
    for (const auto& kernel : kernels) {
      std::vector<std::int32_t> got(slots.size());
      kernel.fn(q.data(), q16.data(), codes.data(), n, slots.data(), slots.size(), got.data());
      EXPECT_EQ(got, expected) << kernel.name << " n=" << n;
    }
  }
}

TEST(VectorExactScan, EqualsTheFullFloatScanWithTiesAndNearTies) {
  for (std::size_t dim : {8, 37, 96, 384}) {
    std::mt19937 rng(static_cast<unsigned>(dim));
    const auto docs = tricky_docs(1500, dim, rng);
    VectorIndexOptions o;
    o.dimension = dim;
    o.hnsw_threshold = 0;
    VectorIndex index(o);
    index.upsert_batch(docs);
    for (int q = 0; q < 30; ++q) {
      std::vector<float> query;
      if (q % 3 == 0) {
        query = gaussian_vector(dim, rng);
      } else if (q % 3 == 1) {
        query = docs[rng() % docs.size()].vector;  // ties at the top
      } else {
        query = docs[rng() % docs.size()].vector;  // near a document
        for (float& x : query) x += 0.01f * gaussian_vector(1, rng)[0];
      }
      for (std::size_t k : {1, 20, 200, 2000}) {
        EXPECT_EQ(index.search(query, k), full_scan(docs, query, k))
            << "dim " << dim << " query " << q << " k " << k;
      }
    }
  }
}

TEST(VectorExactScan, EqualsTheFullFloatScanWithFiltersDeletesAndHnsw) {
  std::mt19937 rng(11);
  const std::size_t dim = 48;
  auto docs = tricky_docs(1200, dim, rng);
  VectorIndexOptions o;
  o.dimension = dim;
  o.hnsw_threshold = 0;
  VectorIndex index(o);
  index.upsert_batch(docs);
  // Delete a third (enough to compact) and replace a few.
  std::vector<VectorDocument> kept;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    if (i % 3 == 1) {
      ASSERT_TRUE(index.remove(docs[i].id));
    } else {
      kept.push_back(docs[i]);
    }
  }
  for (std::size_t i = 0; i < 50; ++i) {
    kept[i].vector = gaussian_vector(dim, rng);
    index.upsert(kept[i]);
  }
  SearchFilter only_b;
  only_b.types = {"b"};
  std::vector<VectorDocument> kept_b;
  for (const auto& d : kept) {
    if (d.type == "b") kept_b.push_back(d);
  }
  for (int q = 0; q < 20; ++q) {
    const auto query = q % 2 ? gaussian_vector(dim, rng) : kept[rng() % kept.size()].vector;
    EXPECT_EQ(index.search(query, 20), full_scan(kept, query, 20)) << q;
    EXPECT_EQ(index.search(query, 20, only_b), full_scan(kept_b, query, 20)) << q;
  }
  // The same through an HNSW index's exact search.
  o.hnsw_threshold = 100;
  VectorIndex graph(o);
  graph.upsert_batch(kept);
  ASSERT_TRUE(graph.uses_hnsw());
  for (int q = 0; q < 10; ++q) {
    const auto query = gaussian_vector(dim, rng);
    EXPECT_EQ(graph.search_exact(query, 20), full_scan(kept, query, 20)) << q;
  }
}

TEST(VectorExactScan, ZeroQueryAndZeroVectors) {
  const std::size_t dim = 16;
  std::vector<VectorDocument> docs;
  std::mt19937 rng(3);
  for (int i = 0; i < 40; ++i) {
    docs.push_back({"z" + std::to_string(i),
                    i % 4 == 0 ? std::vector<float>(dim, 0.0f) : gaussian_vector(dim, rng),
                    {},
                    "t"});
  }
  VectorIndexOptions o;
  o.dimension = dim;
  o.hnsw_threshold = 0;
  VectorIndex index(o);
  index.upsert_batch(docs);
  const std::vector<float> zero(dim, 0.0f);
  EXPECT_EQ(index.search(zero, 10), full_scan(docs, zero, 10));
  const auto query = gaussian_vector(dim, rng);
  EXPECT_EQ(index.search(query, 40), full_scan(docs, query, 40));
}

TEST(VectorExactScan, FarQueriesOnAGraphAreAnsweredExactly) {
  // Tight clusters; random Gaussian queries are far from all of them (the hard case for graph
  // search). With the fallback on they get the exact answer; queries like the data stay on the
  // graph with high recall.
  std::mt19937 rng(21);
  const std::size_t dim = 64, n = 4000, k = 20;
  std::vector<std::vector<float>> centres;
  for (int c = 0; c < 40; ++c) centres.push_back(gaussian_vector(dim, rng));
  auto near_centre = [&] {
    std::vector<float> v = centres[rng() % centres.size()];
    const auto noise = gaussian_vector(dim, rng);
    for (std::size_t i = 0; i < dim; ++i) v[i] += 0.3f * noise[i];
    return v;
  };
  std::vector<VectorDocument> docs;
  for (std::size_t i = 0; i < n; ++i)
    docs.push_back({"c" + std::to_string(i), near_centre(), {}, "t"});
  VectorIndexOptions o;
  o.dimension = dim;
  o.hnsw_threshold = 500;
  VectorIndex index(o);
  index.upsert_batch(docs);
  ASSERT_TRUE(index.uses_hnsw());
  for (int q = 0; q < 30; ++q) {
    const auto query = gaussian_vector(dim, rng);
    EXPECT_EQ(index.search(query, k), index.search_exact(query, k)) << q;
  }
  std::size_t found = 0, total = 0;
  for (int q = 0; q < 50; ++q) {
    const auto query = near_centre();
    const auto exact = index.search_exact(query, k);
    const auto approx = index.search(query, k);
    for (const auto& h : approx) {
      found +=
          std::count_if(exact.begin(), exact.end(), [&](const auto& e) { return e.id == h.id; });
    }
    total += exact.size();
  }
  EXPECT_GE(static_cast<double>(found) / static_cast<double>(total), 0.95);
}

TEST(VectorExactScan, EfSearchCanBeChanged) {
  VectorIndexOptions o;
  o.dimension = 4;
  VectorIndex index(o);
  EXPECT_NO_THROW(index.set_hnsw_ef_search(64, 0));
  EXPECT_THROW(index.set_hnsw_ef_search(0, 0), ConfigError);
  EXPECT_THROW(index.set_hnsw_ef_search(64, 5000), ConfigError);
}

}  // namespace
}  // namespace nemori
