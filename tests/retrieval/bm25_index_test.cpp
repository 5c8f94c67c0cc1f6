// BM25 index: scores, incremental maintenance, filters.
#include "nemori/retrieval/bm25_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "nemori/core/error.h"

namespace nemori {
namespace {

using testing::ElementsAre;
using testing::IsEmpty;

// Whitespace-like tokenization without stemming or stop words, for hand computations.
std::shared_ptr<const Tokenizer> plain_tokenizer() {
  TokenizerOptions o;
  o.stem = false;
  o.remove_stop_words = false;
  return std::make_shared<const Tokenizer>(o);
}

// Only the content field counts.
Bm25Options content_only() {
  Bm25Options o;
  o.weights = {0, 1, 0, 0, 0};
  return o;
}

Document doc(std::string id, std::string content, Timestamp t = {}, std::string type = "") {
  Document d;
  d.id = std::move(id);
  d.content = std::move(content);
  d.timestamp = t;
  d.type = std::move(type);
  return d;
}

std::vector<std::string> ids_of(const std::vector<ScoredDocument>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

TEST(Bm25Index, ScoresMatchTheBm25FormulaOnAHandComputedExample) {
  Bm25Index index(plain_tokenizer(), content_only());
  index.upsert(doc("d1", "cat sat on the mat"));         // 5 tokens, cat x1
  index.upsert(doc("d2", "cat cat dog"));                // 3 tokens, cat x2, dog x1
  index.upsert(doc("d3", "dog barked at the mailman"));  // 5 tokens, dog x1

  const double k1 = 1.2, b = 0.75, n = 3, avgdl = (5.0 + 3.0 + 5.0) / 3.0;
  auto idf = [&](double df) { return std::log(1 + (n - df + 0.5) / (df + 0.5)); };
  auto term = [&](double tf, double dl, double df) {
    return idf(df) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl));
  };
  const double d1 = term(1, 5, 2);
  const double d2 = term(2, 3, 2) + term(1, 3, 2);
  const double d3 = term(1, 5, 2);

  const auto hits = index.search("cat dog", 10);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].id, "d2");
  EXPECT_NEAR(hits[0].score, d2, 1e-12);
  // d1 and d3 tie: ids break the tie.
  EXPECT_EQ(hits[1].id, "d1");
  EXPECT_NEAR(hits[1].score, d1, 1e-12);
  EXPECT_EQ(hits[2].id, "d3");
  EXPECT_NEAR(hits[2].score, d3, 1e-12);
  EXPECT_NEAR(index.score("cat dog", "d2"), d2, 1e-12);
  EXPECT_EQ(index.score("cat dog", "nope"), 0.0);
}

TEST(Bm25Index, RepeatedQueryTermsCountOnce) {
  Bm25Index index(plain_tokenizer(), content_only());
  index.upsert(doc("a", "apple pie"));
  index.upsert(doc("b", "banana bread"));
  EXPECT_EQ(index.search("apple apple apple", 5), index.search("apple", 5));
}

TEST(Bm25Index, AFieldWeightScoresLikeRepeatingTheField) {
  Bm25Options weighted;
  weighted.weights = {3, 1, 0, 0, 0};
  Bm25Index a(plain_tokenizer(), weighted);
  Bm25Index b(plain_tokenizer(), content_only());
  const std::vector<std::pair<std::string, std::string>> docs = {
      {"Caroline joins support group", "she went to the group on Monday"},
      {"Melanie paints", "a sunset over the lake with Caroline"},
      {"Camping trip", "the family went camping in the mountains"}};
  for (std::size_t i = 0; i < docs.size(); ++i) {
    Document d = doc("d" + std::to_string(i), docs[i].second);
    d.title = docs[i].first;
    a.upsert(d);
    const std::string t = docs[i].first;
    b.upsert(doc(d.id, t + " " + t + " " + t + " " + docs[i].second));
  }
  for (const char* q : {"caroline group", "camping lake", "monday sunset family"}) {
    const auto ha = a.search(q, 10), hb = b.search(q, 10);
    ASSERT_EQ(ids_of(ha), ids_of(hb)) << q;
    for (std::size_t i = 0; i < ha.size(); ++i) EXPECT_NEAR(ha[i].score, hb[i].score, 1e-9);
  }
}

// A random corpus over a small vocabulary.
std::vector<Document> random_corpus(std::size_t n, std::mt19937& rng) {
  std::vector<std::string> vocab;
  for (int i = 0; i < 60; ++i) vocab.push_back("w" + std::to_string(i));
  std::vector<Document> docs;
  for (std::size_t i = 0; i < n; ++i) {
    Document d;
    d.id = "doc" + std::to_string(i);
    const int words = 3 + static_cast<int>(rng() % 20);
    for (int w = 0; w < words; ++w) {
      // Skewed: low word numbers are frequent.
      const std::size_t r = rng() % vocab.size();
      d.content += vocab[std::min(r, rng() % vocab.size())] + " ";
    }
    d.title = vocab[rng() % vocab.size()];
    d.entities = {vocab[rng() % vocab.size()]};
    d.timestamp = from_micros(static_cast<std::int64_t>(i) * 1000000);
    docs.push_back(std::move(d));
  }
  return docs;
}

void expect_same_results(const Bm25Index& a, const Bm25Index& b, std::mt19937& rng) {
  for (int q = 0; q < 40; ++q) {
    std::string query;
    for (int w = 0; w < 1 + q % 4; ++w) query += "w" + std::to_string(rng() % 60) + " ";
    const auto ha = a.search(query, 15), hb = b.search(query, 15);
    ASSERT_EQ(ha.size(), hb.size()) << query;
    for (std::size_t i = 0; i < ha.size(); ++i) {
      EXPECT_EQ(ha[i].id, hb[i].id) << query << " rank " << i;
      EXPECT_EQ(ha[i].score, hb[i].score) << query << " rank " << i;  // exactly equal
    }
  }
}

TEST(Bm25Index, IncrementalInsertAndDeleteGiveTheScoresOfAFreshBuild) {
  std::mt19937 rng(7);
  const auto docs = random_corpus(400, rng);
  Bm25Options options;
  options.compact_min_deleted = 1u << 30;  // no compaction: tombstones only
  Bm25Index incremental(plain_tokenizer(), options);
  for (const auto& d : docs) incremental.upsert(d);
  // Delete a third, re-insert some of them in another order.
  std::vector<std::size_t> kept;
  for (std::size_t i = 0; i < docs.size(); ++i) {
    if (i % 3 == 0) {
      EXPECT_TRUE(incremental.remove(docs[i].id));
    } else {
      kept.push_back(i);
    }
  }
  for (std::size_t i = 0; i < docs.size(); i += 9) {
    incremental.upsert(docs[i]);
    if (i % 3 == 0) kept.push_back(i);
  }
  EXPECT_EQ(incremental.size(), kept.size());
  EXPECT_GT(incremental.stats().deleted, 0u);

  // A fresh index of the remaining documents, inserted in reverse order.
  std::sort(kept.rbegin(), kept.rend());
  Bm25Index fresh(plain_tokenizer(), options);
  for (std::size_t i : kept) fresh.upsert(docs[i]);
  expect_same_results(incremental, fresh, rng);
}

TEST(Bm25Index, CompactionKeepsScoresAndFreesDeletedDocuments) {
  std::mt19937 rng(11);
  const auto docs = random_corpus(300, rng);
  Bm25Options options;
  options.compact_min_deleted = 10;
  options.compact_ratio = 0.2;
  Bm25Index index(plain_tokenizer(), options);
  for (const auto& d : docs) index.upsert(d);
  const std::size_t postings_before = index.stats().postings;
  for (std::size_t i = 0; i < 200; ++i) index.remove(docs[i].id);
  EXPECT_LT(index.stats().deleted, 60u);  // compacted along the way
  EXPECT_LT(index.stats().postings, postings_before);
  Bm25Index fresh(plain_tokenizer(), options);
  for (std::size_t i = 200; i < docs.size(); ++i) fresh.upsert(docs[i]);
  index.compact();
  EXPECT_EQ(index.stats().deleted, 0u);
  expect_same_results(index, fresh, rng);
}

TEST(Bm25Index, UpsertReplacesTheOldVersion) {
  Bm25Index index(plain_tokenizer(), content_only());
  index.upsert(doc("a", "old text about kayaks"));
  index.upsert(doc("b", "unrelated"));
  index.upsert(doc("a", "new text about pottery"));
  EXPECT_EQ(index.size(), 2u);
  EXPECT_THAT(index.search("kayaks", 5), IsEmpty());
  EXPECT_THAT(ids_of(index.search("pottery", 5)), ElementsAre("a"));
}

TEST(Bm25Index, RemovingTheLastDocumentLeavesAnEmptyIndex) {
  Bm25Index index(plain_tokenizer(), content_only());
  index.upsert(doc("a", "alpha"));
  EXPECT_TRUE(index.remove("a"));
  EXPECT_FALSE(index.remove("a"));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_THAT(index.search("alpha", 5), IsEmpty());
}

TEST(Bm25Index, FiltersApplyBeforeRanking) {
  Bm25Index index(plain_tokenizer(), content_only());
  for (int i = 0; i < 30; ++i) {
    // Lower i: more occurrences of "hike", so a higher score.
    std::string text;
    for (int r = 0; r < 30 - i; ++r) text += "hike ";
    index.upsert(doc("e" + std::to_string(100 + i), text + "filler words here",
                     from_micros(i * 1000), i % 3 == 0 ? "social" : "behavioral"));
  }
  SearchFilter by_type;
  by_type.types = {"social"};
  const auto social = index.search("hike", 5, by_type);
  EXPECT_THAT(ids_of(social), ElementsAre("e100", "e103", "e106", "e109", "e112"));

  SearchFilter by_time;
  by_time.since = from_micros(20 * 1000);
  by_time.until = from_micros(22 * 1000);
  EXPECT_THAT(ids_of(index.search("hike", 10, by_time)), ElementsAre("e120", "e121", "e122"));

  SearchFilter by_ids;
  by_ids.ids = std::vector<std::string>{"e129", "e105", "unknown"};
  EXPECT_THAT(ids_of(index.search("hike", 10, by_ids)), ElementsAre("e105", "e129"));

  SearchFilter none;
  none.types = {"no-such-type"};
  EXPECT_THAT(index.search("hike", 10, none), IsEmpty());
  SearchFilter empty_ids;
  empty_ids.ids = std::vector<std::string>{};
  EXPECT_THAT(index.search("hike", 10, empty_ids), IsEmpty());

  SearchFilter combined = by_type;
  combined.since = from_micros(10 * 1000);
  EXPECT_THAT(ids_of(index.search("hike", 2, combined)), ElementsAre("e112", "e115"));
}

TEST(Bm25Index, OnlyMatchingDocumentsAreReturned) {
  Bm25Index index(plain_tokenizer(), content_only());
  index.upsert(doc("a", "apple"));
  index.upsert(doc("b", "banana"));
  EXPECT_THAT(ids_of(index.search("apple cherry", 10)), ElementsAre("a"));
  EXPECT_THAT(index.search("", 10), IsEmpty());
  EXPECT_THAT(index.search("?!", 10), IsEmpty());
  EXPECT_THAT(index.search("apple", 0), IsEmpty());
}

TEST(Bm25Index, StopWordOnlyQueriesFindNothing) {
  Bm25Index index(std::make_shared<const Tokenizer>(), {});
  index.upsert(doc("a", "the cat"));
  EXPECT_THAT(index.search("the and of", 10), IsEmpty());
  EXPECT_THAT(ids_of(index.search("The CATS", 10)), ElementsAre("a"));
}

TEST(Bm25Index, KeepsNumbersDatesAndCjkSearchable) {
  Bm25Index index(std::make_shared<const Tokenizer>(), {});
  index.upsert(doc("a", "On 8 May 2023 at 13:56 Caroline went to the LGBTQ support group."));
  index.upsert(doc("b", "卡罗琳去了支持小组"));
  index.upsert(doc("c", "Melanie painted a lake sunset in 2022."));
  EXPECT_THAT(ids_of(index.search("2023", 10)), ElementsAre("a"));
  EXPECT_THAT(ids_of(index.search("13:56", 10)), ElementsAre("a"));
  EXPECT_THAT(ids_of(index.search("支持小组", 10)), ElementsAre("b"));
  EXPECT_THAT(ids_of(index.search("Caroline's group", 10)), ElementsAre("a"));
}

TEST(Bm25Index, InfoAndIds) {
  Bm25Index index(plain_tokenizer(), {});
  Document d = doc("a", "one two three", from_micros(42), "social");
  d.word_count = 3;
  index.upsert(d);
  const auto info = index.info("a");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->timestamp, from_micros(42));
  EXPECT_EQ(info->type, "social");
  EXPECT_EQ(info->word_count, 3u);
  EXPECT_FALSE(index.info("b"));
  EXPECT_THAT(index.ids(), ElementsAre("a"));
}

TEST(Bm25Index, RejectsBadIdsAndOptions) {
  Bm25Index index(plain_tokenizer(), {});
  EXPECT_THROW(index.upsert(doc("", "x")), ValidationError);
  EXPECT_THROW(index.upsert(doc(std::string(256, 'x'), "x")), ValidationError);
  EXPECT_EQ(index.size(), 0u);
  Bm25Options bad;
  bad.b = 1.5;
  EXPECT_THROW(Bm25Index(plain_tokenizer(), bad), ConfigError);
  bad = {};
  bad.k1 = -1;
  EXPECT_THROW(Bm25Index(plain_tokenizer(), bad), ConfigError);
  bad = {};
  bad.weights.title = std::nan("");
  EXPECT_THROW(Bm25Index(plain_tokenizer(), bad), ConfigError);
}

TEST(Bm25Index, StatsCountDocumentsTermsAndMemory) {
  Bm25Index index(plain_tokenizer(), content_only());
  index.upsert(doc("a", "x y z"));
  index.upsert(doc("b", "x y"));
  const Bm25Stats s = index.stats();
  EXPECT_EQ(s.documents, 2u);
  EXPECT_EQ(s.terms, 3u);
  EXPECT_EQ(s.postings, 5u);
  EXPECT_GT(s.memory_bytes, 0u);
  EXPECT_GT(index.approximate_memory_bytes(), 0u);
}

}  // namespace
}  // namespace nemori
