// Query enums, the searchable text of raw events and the shared matching helpers.
#include "nemori/storage/query.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "nemori/core/error.h"
#include "storage/filter_eval.h"
#include "storage/folding.h"

namespace nemori {
namespace {

using nlohmann::json;

TEST(SortEnums, TextFormsRoundTrip) {
  for (SortBy by :
       {SortBy::kTimestamp, SortBy::kImportance, SortBy::kRecallCount, SortBy::kRelevance}) {
    EXPECT_EQ(parse_sort_by(to_string(by)), by);
  }
  EXPECT_EQ(to_string(SortBy::kRecallCount), "recall_count");
  EXPECT_EQ(parse_sort_order("asc"), SortOrder::kAsc);
  EXPECT_EQ(parse_sort_order(to_string(SortOrder::kDesc)), SortOrder::kDesc);
}

TEST(SortEnums, UnknownValuesListTheValidOnes) {
  try {
    parse_sort_by("date");
    FAIL();
  } catch (const ValidationError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("sort_by: unknown value \"date\""));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("recall_count"));
  }
  EXPECT_THROW(parse_sort_order("DESC"), ValidationError);
}

TEST(SearchableText, StringContentMessageContentOrCompactJson) {
  RawEvent e;
  e.content = "plain";
  EXPECT_EQ(searchable_text(e), "plain");
  e.content = {{"speaker_id", "bob"}, {"content", "Hi there"}};
  EXPECT_EQ(searchable_text(e), "Hi there");
  e.content = {{"content", 5}, {"b", "ü"}};
  EXPECT_EQ(searchable_text(e), R"({"b":"ü","content":5})");
  e.content = json::array({1, "x"});
  EXPECT_EQ(searchable_text(e), R"([1,"x"])");
}

TEST(Folding, EpisodeSearchTextJoinsTitleContentSummaryFolded) {
  Episode e;
  e.title = "ÉTÉ";
  e.content = "Straße";
  e.summary = "OK";
  EXPECT_EQ(detail::episode_search_text(e), "été\nstrasse\nok");
  EXPECT_EQ(detail::folded_list({"ÉCOLE", "Bob", "bob"}),
            (std::vector<std::string>{"école", "bob", "bob"}));
}

TEST(JsonValuesEqual, NumbersCompareByExactValue) {
  using detail::json_values_equal;
  EXPECT_TRUE(json_values_equal(json(1), json(1.0)));
  EXPECT_TRUE(json_values_equal(json(1u), json(1)));
  EXPECT_TRUE(json_values_equal(json(-2), json(-2.0)));
  EXPECT_FALSE(json_values_equal(json(1), json(1.5)));
  EXPECT_FALSE(json_values_equal(json(1), json("1")));
  EXPECT_FALSE(json_values_equal(json(-1), json(18446744073709551615u)));
  EXPECT_FALSE(json_values_equal(json(9007199254740993), json(9007199254740992.0)));
  EXPECT_TRUE(json_values_equal(json::parse(R"({"a":[1,{"b":2}]})"),
                                json::parse(R"({"a":[1.0,{"b":2.0}]})")));
  EXPECT_FALSE(json_values_equal(json::parse(R"({"a":1})"), json::parse(R"({"a":1,"b":2})")));
  EXPECT_FALSE(json_values_equal(json(nullptr), json(false)));
}

TEST(MetadataMatches, EveryFilterKeyMustBePresentAndEqual) {
  const json object = {{"lang", "en"}, {"n", 2}, {"none", nullptr}};
  EXPECT_TRUE(detail::metadata_matches(object, json::object()));
  EXPECT_TRUE(detail::metadata_matches(object, {{"n", 2.0}}));
  EXPECT_TRUE(detail::metadata_matches(object, {{"none", nullptr}}));
  EXPECT_FALSE(detail::metadata_matches(object, {{"missing", nullptr}}));
  EXPECT_FALSE(detail::metadata_matches(object, {{"lang", "en"}, {"n", 3}}));
}

TEST(PageBounds, OffsetThenLimit) {
  using detail::page_bounds;
  EXPECT_EQ(page_bounds(10, 0, std::nullopt).end, 10u);
  EXPECT_EQ(page_bounds(10, 8, 5).begin, 8u);
  EXPECT_EQ(page_bounds(10, 8, 5).end, 10u);
  EXPECT_EQ(page_bounds(10, 20, 5).begin, 10u);
  EXPECT_EQ(page_bounds(10, 20, 5).end, 10u);
  EXPECT_EQ(page_bounds(10, 2, 0).end, 2u);
}

}  // namespace
}  // namespace nemori
