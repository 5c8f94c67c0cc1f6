// LoCoMo loading: numeric session order, dialog ids, dates, images, questions.
#include <filesystem>

#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "nemori/eval/locomo.h"

namespace nemori {
namespace {

const std::string kTiny = std::string(NEMORI_TEST_DATA_DIR) + "/eval/tiny_locomo.json";

TEST(LocomoLoader, SortsSessionsByNumberNotText) {
  const auto convs = load_locomo(kTiny);
  ASSERT_EQ(convs.size(), 1u);
  const auto& c = convs[0];
  ASSERT_EQ(c.sessions.size(), 3u) << "session 3 has a date but no turns list and is skipped";
  EXPECT_EQ(c.sessions[0].number, 1);
  EXPECT_EQ(c.sessions[1].number, 2);
  EXPECT_EQ(c.sessions[2].number, 10);
}

TEST(LocomoLoader, KeepsDialogIdsSpeakersAndSessionDates) {
  const auto c = load_locomo(kTiny)[0];
  const auto messages = c.messages();
  ASSERT_EQ(messages.size(), 8u);
  EXPECT_EQ(messages[0].external_id, "D1:1");
  EXPECT_EQ(messages[0].speaker_id, "ana");
  EXPECT_EQ(messages[0].user_name, "Ana");
  EXPECT_EQ(messages[0].timestamp, make_timestamp(2023, 5, 8, 13, 56));
  EXPECT_EQ(messages[1].timestamp, make_timestamp(2023, 5, 8, 13, 56, 30));
  EXPECT_EQ(messages[2].external_id, "D2:1");
  EXPECT_EQ(messages[2].timestamp, make_timestamp(2023, 6, 3, 9, 15));
  EXPECT_EQ(messages[5].external_id, "D10:1");
  EXPECT_EQ(messages[5].timestamp, make_timestamp(2023, 7, 20, 19, 0));
}

TEST(LocomoLoader, AppendsImageCaptionsToTheText) {
  const auto messages = load_locomo(kTiny)[0].messages();
  EXPECT_EQ(messages[6].content, "Wow, what was your time? [image: a photo of a medal]");
  EXPECT_EQ(messages[6].metadata["blip_caption"], "a photo of a medal");
  EXPECT_EQ(messages[6].metadata["session"], 10);
}

TEST(LocomoLoader, ReadsQuestionsWithNumericAnswersAndCategories) {
  const auto c = load_locomo(kTiny)[0];
  ASSERT_EQ(c.questions.size(), 4u);
  EXPECT_EQ(c.questions[2].answer, "2023");
  EXPECT_EQ(c.questions[1].evidence, (std::vector<std::string>{"D2:1", "D2:3"}));
  EXPECT_EQ(c.questions[3].category, 5);
  EXPECT_EQ(c.questions[3].answer, "");
}

TEST(LocomoLoader, ParsesSessionDates) {
  EXPECT_EQ(parse_locomo_date("1:56 pm on 8 May, 2023"), make_timestamp(2023, 5, 8, 13, 56));
  EXPECT_EQ(parse_locomo_date("12:09  am on 13 September,  2023"),
            make_timestamp(2023, 9, 13, 0, 9));
  EXPECT_EQ(parse_locomo_date("12:30 pm on 1 January, 2022"), make_timestamp(2022, 1, 1, 12, 30));
  try {
    parse_locomo_date("yesterday at noon");
    FAIL() << "expected a ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("yesterday at noon"), std::string::npos);
  }
}

TEST(LocomoLoader, RejectsMalformedSamplesNamingThePlace) {
  const auto bad = nlohmann::json::parse(
      R"([{"sample_id":"x","qa":[],"conversation":{"session_1_date_time":"1:56 pm on 8 May, 2023",
          "session_1":[{"text":"no speaker"}]}}])");
  try {
    parse_locomo(bad);
    FAIL() << "expected a ValidationError";
  } catch (const ValidationError& e) {
    EXPECT_NE(std::string(e.what()).find("locomo[0].conversation.session_1[0].speaker"),
              std::string::npos)
        << e.what();
  }
}

// Integration with the real evaluation file, when it is there.
TEST(LocomoLoader, RealFileTurnCountsMatchAndOrderIsChronological) {
  if (!std::filesystem::exists(NEMORI_LOCOMO_PATH)) {
    GTEST_SKIP() << "LoCoMo data not found at " << NEMORI_LOCOMO_PATH
                 << " (the shared evaluation data lives beside the repository)";
  }
  const auto convs = load_locomo(NEMORI_LOCOMO_PATH);
  ASSERT_EQ(convs.size(), 7u);
  const std::vector<std::size_t> turns = {419, 369, 663, 629, 680, 675, 689};
  for (std::size_t i = 0; i < convs.size(); ++i) {
    const auto messages = convs[i].messages();
    EXPECT_EQ(messages.size(), turns[i]) << convs[i].sample_id;
    for (std::size_t k = 1; k < convs[i].sessions.size(); ++k) {
      EXPECT_LT(convs[i].sessions[k - 1].number, convs[i].sessions[k].number);
    }
    for (const auto& m : messages) ASSERT_TRUE(m.external_id.has_value());
  }
  EXPECT_EQ(convs[0].messages()[2].external_id, "D1:3");
}

}  // namespace
}  // namespace nemori
