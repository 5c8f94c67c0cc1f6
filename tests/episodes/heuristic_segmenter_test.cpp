// The LLM-free segmenter: time gaps, topic shifts, size limits, full coverage.
#include <gtest/gtest.h>

#include "nemori/episodes/segmenter.h"
#include "nemori/text/tokenizer.h"

namespace nemori {
namespace {

Message msg(std::string text, Timestamp t) {
  Message m;
  m.speaker_id = "a";
  m.content = std::move(text);
  m.timestamp = t;
  return m;
}

TokenizeFn tokenize() {
  auto tokenizer = std::make_shared<Tokenizer>();
  return [tokenizer](std::string_view text) { return tokenizer->tokenize(text); };
}

TEST(HeuristicSegmenter, CutsOnALongSilence) {
  const Timestamp t0 = make_timestamp(2024, 1, 1, 10);
  std::vector<Message> m = {msg("we talk about the garden", t0),
                            msg("the garden roses bloom", t0 + std::chrono::minutes(1)),
                            msg("garden roses need water", t0 + std::chrono::minutes(2)),
                            msg("garden roses again", t0 + std::chrono::hours(5))};
  HeuristicSegmenter seg(tokenize());
  const auto segments = seg.segment(m);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0], (Segment{0, 3, "time_gap"}));
  EXPECT_EQ(segments[1], (Segment{3, 4, "end_of_input"}));
}

TEST(HeuristicSegmenter, CutsWhenTheTopicChanges) {
  const Timestamp t0 = make_timestamp(2024, 1, 1, 10);
  std::vector<Message> m;
  for (const char* text : {"my cello lesson with the cello teacher", "cello practice every day",
                           "the cello bow needs rosin", "marathon training in Oslo",
                           "marathon time was four hours", "marathon medal photo"}) {
    m.push_back(msg(text, t0 + std::chrono::seconds(30 * m.size())));
  }
  HeuristicSegmenterOptions options;
  options.min_messages = 2;
  HeuristicSegmenter seg(tokenize(), options);
  const auto segments = seg.segment(m);
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0], (Segment{0, 3, "topic_shift"}));
}

TEST(HeuristicSegmenter, NeverExceedsTheMaximumAndCoversEveryMessageOnce) {
  const Timestamp t0 = make_timestamp(2024, 1, 1, 10);
  std::vector<Message> m;
  for (int i = 0; i < 25; ++i)
    m.push_back(msg("same topic words here", t0 + std::chrono::seconds(i)));
  HeuristicSegmenterOptions options;
  options.max_messages = 10;
  HeuristicSegmenter seg(tokenize(), options);
  const auto segments = seg.segment(m);
  std::size_t next = 0;
  for (const auto& s : segments) {
    EXPECT_EQ(s.begin, next);
    EXPECT_LE(s.end - s.begin, 10u);
    next = s.end;
  }
  EXPECT_EQ(next, m.size());
  EXPECT_TRUE(seg.segment({}).empty());
}

TEST(HeuristicSegmenter, KeepsAQuestionWithItsReply) {
  const Timestamp t0 = make_timestamp(2024, 1, 1, 10);
  std::vector<Message> m;
  for (const char* text :
       {"one", "two", "what are you researching?", "adoption agencies", "five", "six"}) {
    m.push_back(msg(text, t0 + std::chrono::seconds(30 * m.size())));
  }
  HeuristicSegmenterOptions options;
  options.min_messages = 1;
  options.max_messages = 3;
  options.topic_shift_threshold = 0;
  const auto kept = HeuristicSegmenter(tokenize(), options).segment(m);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0], (Segment{0, 4, "max_messages"}));  // one over the maximum, for the reply
  options.keep_question_with_reply = false;
  const auto cut = HeuristicSegmenter(tokenize(), options).segment(m);
  ASSERT_EQ(cut.size(), 2u);
  EXPECT_EQ(cut[0], (Segment{0, 3, "max_messages"}));
  // A time gap still cuts between a question and its reply.
  m[3].timestamp = t0 + std::chrono::hours(5);
  options.keep_question_with_reply = true;
  EXPECT_EQ(HeuristicSegmenter(tokenize(), options).segment(m)[0], (Segment{0, 3, "time_gap"}));
}

}  // namespace
}  // namespace nemori
