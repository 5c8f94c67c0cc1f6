// Record ids: UUIDv7 layout, ordering, uniqueness under threads, and caller id checks.
#include "nemori/core/id.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "nemori/core/error.h"

namespace nemori {
namespace {

using testing::HasSubstr;
using testing::ThrowsMessage;

// The 48-bit Unix millisecond timestamp at the front of a UUIDv7.
std::uint64_t embedded_millis(const std::string& id) {
  const std::string hex = id.substr(0, 8) + id.substr(9, 4);
  return std::stoull(hex, nullptr, 16);
}

std::uint64_t clock_millis() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

TEST(Uuid7, HasCanonicalLowerCaseForm) {
  const std::string id = new_id();
  ASSERT_EQ(id.size(), 36u);
  EXPECT_TRUE(is_uuid(id));
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      EXPECT_EQ(id[i], '-');
    } else {
      EXPECT_TRUE((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')) << id;
    }
  }
}

TEST(Uuid7, HasVersionSevenAndRfcVariantBits) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = new_id();
    EXPECT_EQ(id[14], '7') << id;                                          // version nibble
    EXPECT_NE(std::string("89ab").find(id[19]), std::string::npos) << id;  // variant 10xx
  }
}

TEST(Uuid7, StrictlyIncreasingWithinOneThread) {
  constexpr int kCount = 100000;
  std::string previous = new_id();
  for (int i = 0; i < kCount; ++i) {
    std::string next = new_id();
    ASSERT_LT(previous, next) << "at id " << i;
    previous = std::move(next);
  }
}

TEST(Uuid7, UniqueAcrossThreadsAndOrderedWithinEach) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(new_id());
    });
  }
  for (auto& th : threads) th.join();

  std::unordered_set<std::string> all;
  all.reserve(kThreads * kPerThread);
  for (const auto& list : ids) {
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (i > 0) {
        EXPECT_LT(list[i - 1], list[i]);
      }
      all.insert(list[i]);
    }
  }
  EXPECT_EQ(all.size(), static_cast<std::size_t>(kThreads * kPerThread));
}

TEST(Uuid7, EmbeddedTimeFollowsTheClock) {
  const std::uint64_t before = clock_millis();
  const std::string first = new_id();
  const std::uint64_t after = clock_millis();
  EXPECT_GE(embedded_millis(first), before);
  // The generator may run slightly ahead of the clock after a burst of ids (RFC 9562 counter
  // overflow borrows the next millisecond), but never by much and never behind it.
  EXPECT_LE(embedded_millis(first), after + 1000);

  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::uint64_t later_clock = clock_millis();
  const std::string later = new_id();
  EXPECT_GT(later, first);
  EXPECT_GE(embedded_millis(later), later_clock);
  EXPECT_GT(embedded_millis(later), embedded_millis(first));
}

TEST(Uuid7, IdsAreNotPredictableAfterTheTimestamp) {
  // Two ids made in a row share most of their time prefix but their random tails differ.
  const std::string a = new_id();
  const std::string b = new_id();
  EXPECT_NE(a.substr(19), b.substr(19));
}

TEST(IsUuid, AcceptsAnyVersionAndCase) {
  EXPECT_TRUE(is_uuid("3f0c1f1e-6f1a-4c1b-9a53-2a7f0a4b9c11"));  // v4
  EXPECT_TRUE(is_uuid("3F0C1F1E-6F1A-4C1B-9A53-2A7F0A4B9C11"));
  EXPECT_TRUE(is_uuid("00000000-0000-0000-0000-000000000000"));
}

TEST(IsUuid, RejectsMalformedText) {
  for (const char* text :
       {"", "not-a-uuid", "3f0c1f1e6f1a4c1b9a532a7f0a4b9c11", "3f0c1f1e-6f1a-4c1b-9a53-2a7f0a4b9c1",
        "3f0c1f1e-6f1a-4c1b-9a53-2a7f0a4b9c111", "3f0c1f1e-6f1a-4c1b-9a53_2a7f0a4b9c11",
        "3f0c1f1e-6f1a-4c1b-9a5-32a7f0a4b9c11", "g f0c1f1e-6f1a-4c1b-9a53-2a7f0a4b9c1",
        "{3f0c1f1e-6f1a-4c1b-9a53-2a7f0a4b9c}"}) {
    EXPECT_FALSE(is_uuid(text)) << text;
  }
}

TEST(ValidateId, AcceptsNonUuidIds) {
  EXPECT_NO_THROW(validate_id("alice", "owner_id"));
  EXPECT_NO_THROW(validate_id("caroline_0", "owner_id"));
  EXPECT_NO_THROW(validate_id("D1:3", "data_id"));
  EXPECT_NO_THROW(validate_id("Zoë 🌈", "owner_id"));
  EXPECT_NO_THROW(validate_id(std::string(255, 'x'), "owner_id"));
}

TEST(ValidateId, RejectsEmptyLongAndControlCharacters) {
  EXPECT_THAT([] { validate_id("", "owner_id"); },
              ThrowsMessage<ValidationError>(HasSubstr("owner_id: must not be empty")));
  EXPECT_THAT([] { validate_id(std::string(256, 'x'), "episode_id"); },
              ThrowsMessage<ValidationError>(HasSubstr("episode_id: longer than 255 bytes")));
  EXPECT_THAT([] { validate_id("a\tb", "data_id"); },
              ThrowsMessage<ValidationError>(HasSubstr("data_id: contains a control character")));
  EXPECT_THAT([] { validate_id("a\x7f", "data_id"); },
              ThrowsMessage<ValidationError>(HasSubstr("data_id: contains a control character")));
  EXPECT_THAT([] { validate_id("ab\xff", "owner_id"); },
              ThrowsMessage<ValidationError>(HasSubstr("owner_id: invalid UTF-8 at byte 2")));
  EXPECT_THAT([] { validate_id(std::string("a\0b", 3), "owner_id"); },
              ThrowsMessage<ValidationError>(HasSubstr("owner_id: contains a NUL character")));
}

TEST(DerivedId, IsAStableVersion8UuidOfItsKey) {
  const std::string a = derived_id("owner\nextractive\nr1\nr2");
  EXPECT_TRUE(is_uuid(a));
  EXPECT_EQ(a[14], '8') << a;                                          // version nibble
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos) << a;  // RFC 9562 variant
  EXPECT_EQ(a, derived_id("owner\nextractive\nr1\nr2"));
  EXPECT_NE(a, derived_id("owner\nextractive\nr1\nr3"));
  EXPECT_NE(a, derived_id("owner\nextractive\nr1"));
  EXPECT_NE(derived_id(""), derived_id(std::string(1, '\0')));
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) seen.insert(derived_id("key" + std::to_string(i)));
  EXPECT_EQ(seen.size(), 10000u);
}

}  // namespace
}  // namespace nemori
