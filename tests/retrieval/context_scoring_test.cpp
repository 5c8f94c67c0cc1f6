// Context scoring: neighbour and sitting boosts computed by hand, the timeline, validation,
// and the RetrievalService path that keeps the timeline in step with re-indexed episodes.
#include "nemori/retrieval/context_scoring.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/retrieval/retrieval_service.h"

namespace nemori {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::ElementsAre;

const Timestamp kDay1 = make_timestamp(2023, 5, 1, 10);
const Timestamp kDay5 = make_timestamp(2023, 5, 5, 10);

SearchHit hit(std::string id, double score, Timestamp at) {
  SearchHit h;
  h.id = std::move(id);
  h.score = score;
  h.timestamp = at;
  return h;
}

std::vector<std::string> ids(const std::vector<SearchHit>& hits) {
  std::vector<std::string> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}

TEST(ContextScoring, DisabledKeepsTheOrderAndCutsAtK) {
  const std::vector<SearchHit> in = {hit("a", 3, kDay1), hit("b", 2, kDay5), hit("c", 1, kDay1)};
  const auto out = rescore_in_context(in, nullptr, ContextScoringOptions{}, 2);
  EXPECT_THAT(ids(out), ElementsAre("a", "b"));
  EXPECT_DOUBLE_EQ(out[0].score, 3);
}

TEST(ContextScoring, NeighboursInTimeLendTheirScore) {
  // Time order: a, b, c (minutes apart), x (not a hit), d.
  Timeline timeline;
  timeline.add("a", kDay1);
  timeline.add("b", kDay1 + minutes(5));
  timeline.add("c", kDay1 + minutes(10));
  timeline.add("x", kDay1 + hours(30));
  timeline.add("d", kDay5);
  const std::vector<SearchHit> in = {hit("d", 1.0, kDay5), hit("a", 0.9, kDay1),
                                     hit("b", 0.5, kDay1 + minutes(5)),
                                     hit("c", 0.5, kDay1 + minutes(10))};
  ContextScoringOptions o;
  o.neighbour_weight = 0.3;
  const auto out = rescore_in_context(in, &timeline, o, 4);
  // a = 0.9 + 0.3 x 0.5 = 1.05; b = 0.5 + 0.3 x (0.9 + 0.5) = 0.92; c = 0.5 + 0.3 x 0.5 = 0.65.
  EXPECT_THAT(ids(out), ElementsAre("a", "d", "b", "c"));
  EXPECT_NEAR(out[0].score, 1.05, 1e-12);
  EXPECT_NEAR(out[1].score, 1.0, 1e-12);
  EXPECT_NEAR(out[2].score, 0.92, 1e-12);
  EXPECT_NEAR(out[3].score, 0.65, 1e-12);
}

TEST(ContextScoring, ASittingLendsItsBestScore) {
  ContextScoringOptions o;
  o.sitting_weight = 0.5;
  o.sitting_window = hours(6);
  // "top" and "same-day" share a sitting; "other-day" is alone on day 5.
  const std::vector<SearchHit> in = {hit("top", 2.0, kDay1), hit("other-day", 1.2, kDay5),
                                     hit("same-day", 1.0, kDay1 + hours(2))};
  const auto out = rescore_in_context(in, nullptr, o, 3);
  // top = 2 + 0.5 x 2 = 3; same-day = 1 + 0.5 x 2 = 2; other-day = 1.2 + 0.5 x 1.2 = 1.8.
  EXPECT_THAT(ids(out), ElementsAre("top", "same-day", "other-day"));
  EXPECT_NEAR(out[1].score, 2.0, 1e-12);
  EXPECT_NEAR(out[2].score, 1.8, 1e-12);
}

TEST(ContextScoring, TheSittingWindowIsCentredOnEachHit) {
  ContextScoringOptions o;
  o.sitting_weight = 1.0;
  o.sitting_window = hours(1);
  // b is within an hour of a and of c, but a and c are two hours apart.
  const std::vector<SearchHit> in = {hit("a", 3.0, kDay1), hit("b", 1.0, kDay1 + hours(1)),
                                     hit("c", 2.0, kDay1 + hours(2))};
  const auto out = rescore_in_context(in, nullptr, o, 3);
  // b and c tie at 4 and keep their first order.
  EXPECT_THAT(ids(out), ElementsAre("a", "b", "c"));
  EXPECT_NEAR(out[0].score, 6.0, 1e-12);  // a: its own 3 is the best within the hour
  EXPECT_NEAR(out[1].score, 4.0, 1e-12);  // b: a's 3
  EXPECT_NEAR(out[2].score, 4.0, 1e-12);  // c: its own 2 (a is two hours away)
}

TEST(ContextScoring, TimelineFindsNeighboursAndForgets) {
  Timeline t;
  t.add("b", kDay1 + minutes(1));
  t.add("a", kDay1);
  t.add("c", kDay1 + minutes(2));
  EXPECT_EQ(t.size(), 3u);
  auto [before, after] = t.around("b", kDay1 + minutes(1));
  EXPECT_EQ(before, "a");
  EXPECT_EQ(after, "c");
  t.remove("b", kDay1 + minutes(1));
  std::tie(before, after) = t.around("a", kDay1);
  EXPECT_FALSE(before.has_value());
  EXPECT_EQ(after, "c");
  EXPECT_FALSE(t.around("b", kDay1 + minutes(1)).first.has_value());
  EXPECT_GT(t.approximate_memory_bytes(), 0u);
}

TEST(ContextScoring, TimelineGivesUpToNNeighboursOnEachSideOldestFirst) {
  Timeline t;
  for (int i = 0; i < 5; ++i) t.add(std::string(1, static_cast<char>('a' + i)), kDay1 + minutes(i));
  const auto [before, after] = t.around("c", kDay1 + minutes(2), 3);
  EXPECT_EQ(before, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(after, (std::vector<std::string>{"d", "e"}));
  const auto [none_before, one_after] = t.around("a", kDay1, 1);
  EXPECT_TRUE(none_before.empty());
  EXPECT_EQ(one_after, (std::vector<std::string>{"b"}));
  EXPECT_TRUE(t.around("x", kDay1, 2).first.empty());
}

TEST(ContextScoring, RejectsNegativeWeights) {
  ContextScoringOptions o;
  o.neighbour_weight = -0.1;
  EXPECT_THROW(o.validate(), ValidationError);
  o.neighbour_weight = 0;
  o.sitting_weight = -1;
  EXPECT_THROW(rescore_in_context({hit("a", 1, kDay1)}, nullptr, o, 1), ValidationError);
}

Episode episode(const std::string& id, const std::string& content, Timestamp at) {
  Episode e;
  e.owner_id = "o";
  e.episode_id = id;
  e.title = id;
  e.content = content;
  e.temporal_info.timestamp = at;
  return e;
}

TEST(ContextScoring, RetrievalServiceFollowsEpisodesThatMoveInTime) {
  RetrievalService service;
  // "kayak trip" matches k1 and k2 equally; "lake" sits right after k2 in time, "filler"
  // (no match) right before k1.
  service.index_episode(episode("k1", "kayak trip", kDay5));
  service.index_episode(episode("k2", "kayak trip", kDay1));
  service.index_episode(episode("lake", "kayak by the lake at dawn", kDay1 + minutes(5)));
  service.index_episode(episode("filler", "nothing related", kDay1 + hours(48)));
  SearchOptions o;
  o.mode = SearchMode::kBm25;
  o.k = 2;
  o.context.neighbour_weight = 0.5;
  const auto first = service.search("o", "kayak trip", o);
  ASSERT_EQ(first.hits.size(), 2u);
  EXPECT_EQ(first.hits[0].id, "k2");  // borrows from "lake", its neighbour
  // Move k1 next to "lake" and k2 away: the boost follows.
  service.index_episode(episode("k1", "kayak trip", kDay1 + minutes(10)));
  service.index_episode(episode("k2", "kayak trip", kDay5));
  const auto second = service.search("o", "kayak trip", o);
  ASSERT_EQ(second.hits.size(), 2u);
  EXPECT_EQ(second.hits[0].id, "k1");
  EXPECT_TRUE(service.remove_episode("o", "lake"));
  const auto third = service.search("o", "kayak trip", o);
  ASSERT_EQ(third.hits.size(), 2u);
  EXPECT_DOUBLE_EQ(third.hits[0].score, third.hits[1].score);  // no neighbour left to lend
}

}  // namespace
}  // namespace nemori
