// Timestamps: ISO-8601 formatting and parsing, offsets, microseconds, calendar checks.
#include "nemori/core/time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "nemori/core/error.h"

namespace nemori {
namespace {

using std::chrono::microseconds;
using testing::HasSubstr;
using testing::ThrowsMessage;

TEST(Time, FormatsWholeSecondsWithoutFraction) {
  EXPECT_EQ(format_iso8601(make_timestamp(2023, 5, 8, 13, 56)), "2023-05-08T13:56:00+00:00");
  EXPECT_EQ(format_iso8601(from_micros(0)), "1970-01-01T00:00:00+00:00");
}

TEST(Time, FormatsMicrosecondsWithSixDigits) {
  EXPECT_EQ(format_iso8601(make_timestamp(2023, 5, 8, 13, 56) + microseconds(250000)),
            "2023-05-08T13:56:00.250000+00:00");
  EXPECT_EQ(format_iso8601(make_timestamp(2023, 5, 8, 13, 56, 7) + microseconds(1)),
            "2023-05-08T13:56:07.000001+00:00");
}

TEST(Time, FormatsInstantsBeforeTheEpoch) {
  EXPECT_EQ(format_iso8601(from_micros(-1)), "1969-12-31T23:59:59.999999+00:00");
}

TEST(Time, ParsesDateOnlyAsMidnightUtc) {
  EXPECT_EQ(parse_iso8601("2023-05-08"), make_timestamp(2023, 5, 8));
}

TEST(Time, ParsesNaiveTimestampsAsUtc) {
  const Timestamp expected = make_timestamp(2023, 5, 8, 13, 56);
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00"), expected);
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56"), expected);
  EXPECT_EQ(parse_iso8601("2023-05-08 13:56:00"), expected);
  EXPECT_EQ(parse_iso8601("2023-05-08t13:56:00"), expected);
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00Z"), expected);
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00z"), expected);
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00+00:00"), expected);
}

TEST(Time, PositiveOffsetIsSubtractedToGetUtc) {
  // 13:56 in a +02:00 zone is 11:56 UTC.
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00+02:00"), make_timestamp(2023, 5, 8, 11, 56));
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00+0200"), make_timestamp(2023, 5, 8, 11, 56));
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00+02"), make_timestamp(2023, 5, 8, 11, 56));
}

TEST(Time, NegativeOffsetIsAddedToGetUtc) {
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00-05:30"), make_timestamp(2023, 5, 8, 19, 26));
}

TEST(Time, OffsetCanMoveTheInstantAcrossYearBoundary) {
  EXPECT_EQ(parse_iso8601("2023-12-31T23:30:00-01:00"), make_timestamp(2024, 1, 1, 0, 30));
  EXPECT_EQ(parse_iso8601("2024-01-01T00:30:00+01:00"), make_timestamp(2023, 12, 31, 23, 30));
}

TEST(Time, ParsesMicrosecondsWithOffsetToTheExactInstant) {
  const auto t = parse_iso8601("2023-05-08T13:56:00.123456+02:00");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, make_timestamp(2023, 5, 8, 11, 56) + microseconds(123456));
  EXPECT_EQ(format_iso8601(*t), "2023-05-08T11:56:00.123456+00:00");
}

TEST(Time, ShortFractionsAreScaledAndLongOnesTruncated) {
  const Timestamp base = make_timestamp(2023, 5, 8, 13, 56);
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00.5"), base + microseconds(500000));
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00,25"), base + microseconds(250000));
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00.1234567"), base + microseconds(123456));
  EXPECT_EQ(parse_iso8601("2023-05-08T13:56:00.000001Z"), base + microseconds(1));
}

TEST(Time, FormatThenParseIsTheIdentity) {
  for (std::int64_t us : {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1},
                          std::int64_t{1683554160123456}, std::int64_t{-86400000001},
                          std::int64_t{253402300799999999} /* 9999-12-31T23:59:59.999999 */}) {
    const Timestamp t = from_micros(us);
    const auto back = parse_iso8601(format_iso8601(t));
    ASSERT_TRUE(back.has_value()) << format_iso8601(t);
    EXPECT_EQ(to_micros(*back), us) << format_iso8601(t);
  }
}

TEST(Time, RejectsOutOfRangeFields) {
  EXPECT_FALSE(parse_iso8601("2023-13-01"));
  EXPECT_FALSE(parse_iso8601("2023-00-10"));
  EXPECT_FALSE(parse_iso8601("2023-02-29"));  // not a leap year
  EXPECT_TRUE(parse_iso8601("2024-02-29"));   // a leap year
  EXPECT_FALSE(parse_iso8601("2023-04-31"));
  EXPECT_FALSE(parse_iso8601("2023-05-08T24:00:00"));
  EXPECT_FALSE(parse_iso8601("2023-05-08T12:60:00"));
  EXPECT_FALSE(parse_iso8601("2023-05-08T12:00:61"));
  EXPECT_FALSE(parse_iso8601("2023-05-08T12:00:00+24:00"));
  EXPECT_FALSE(parse_iso8601("2023-05-08T12:00:00+02:60"));
}

TEST(Time, RejectsText) {
  for (const char* text :
       {"", "yesterday", "now", "2023", "2023-05", "05/08/2023", "2023-5-8", "2023-05-08T",
        "2023-05-08T13", "2023-05-08T13:56:00.", "2023-05-08T13:56:00 UTC", "2023-05-08T13:56:00+",
        "2023-05-08T13:56:00+02:", "2023-05-08T13:56:00+2:00", "2023-05-08+02:00",
        "2023-05-08T13:56:00Zjunk", " 2023-05-08", "2023-05-08 "}) {
    EXPECT_FALSE(parse_iso8601(text)) << "accepted: \"" << text << "\"";
  }
}

TEST(Time, MakeTimestampRejectsInvalidDates) {
  EXPECT_THAT([] { make_timestamp(2023, 2, 29); },
              ThrowsMessage<ValidationError>(HasSubstr("timestamp: invalid calendar date")));
  EXPECT_THROW(make_timestamp(2023, 13, 1), ValidationError);
  EXPECT_THROW(make_timestamp(2023, 1, 1, 24), ValidationError);
  EXPECT_THROW(make_timestamp(2023, 1, 1, 0, 60), ValidationError);
}

TEST(Time, MicrosConversionsAreInverse) {
  const Timestamp t = make_timestamp(2023, 5, 8, 13, 56) + microseconds(7);
  EXPECT_EQ(from_micros(to_micros(t)), t);
  EXPECT_EQ(to_micros(make_timestamp(1970, 1, 1, 0, 0, 1)), 1000000);
}

TEST(Time, NowIsCloseToTheSystemClockAndWholeMicroseconds) {
  const auto before = std::chrono::system_clock::now();
  const Timestamp now = now_utc();
  const auto after = std::chrono::system_clock::now();
  EXPECT_GE(now, std::chrono::floor<microseconds>(before));
  EXPECT_LE(now, std::chrono::ceil<microseconds>(after));
}

}  // namespace
}  // namespace nemori
