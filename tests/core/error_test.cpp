// Typed errors: each class carries its kind, and every kind has a stable name.
#include "nemori/core/error.h"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace nemori {
namespace {

template <typename E>
void expect_kind(ErrorKind kind, std::string_view name) {
  const E error("something went wrong");
  EXPECT_EQ(error.kind(), kind);
  EXPECT_EQ(to_string(error.kind()), name);
  EXPECT_STREQ(error.what(), "something went wrong");
  // Catchable as the common base and as a standard exception.
  try {
    throw E("boom");
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind);
    EXPECT_STREQ(e.what(), "boom");
  }
  try {
    throw E("boom");
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "boom");
  }
}

TEST(Errors, EachTypedErrorReportsItsKind) {
  expect_kind<ConfigError>(ErrorKind::kConfig, "config");
  expect_kind<UnsupportedBackendError>(ErrorKind::kUnsupportedBackend, "unsupported_backend");
  expect_kind<NotFoundError>(ErrorKind::kNotFound, "not_found");
  expect_kind<DuplicateError>(ErrorKind::kDuplicate, "duplicate");
  expect_kind<ValidationError>(ErrorKind::kValidation, "validation");
  expect_kind<StorageError>(ErrorKind::kStorage, "storage");
  expect_kind<LlmError>(ErrorKind::kLlm, "llm");
}

TEST(Errors, KindNamesAreDistinct) {
  const ErrorKind kinds[] = {ErrorKind::kConfig,     ErrorKind::kUnsupportedBackend,
                             ErrorKind::kNotFound,   ErrorKind::kDuplicate,
                             ErrorKind::kValidation, ErrorKind::kStorage,
                             ErrorKind::kLlm};
  std::set<std::string_view> names;
  for (ErrorKind k : kinds) names.insert(to_string(k));
  EXPECT_EQ(names.size(), std::size(kinds));
}

TEST(Errors, UnknownKindValueHasAFallbackName) {
  EXPECT_EQ(to_string(static_cast<ErrorKind>(99)), "unknown");
}

TEST(Errors, ValidationErrorWithFieldBuildsFieldColonReason) {
  const ValidationError e("episode.title", "is required");
  EXPECT_STREQ(e.what(), "episode.title: is required");
  EXPECT_EQ(e.kind(), ErrorKind::kValidation);
}

TEST(Errors, CatchClauseSelectsTheRightSubclass) {
  bool caught_not_found = false;
  try {
    throw NotFoundError("episode 42 not found");
  } catch (const DuplicateError&) {
    FAIL() << "a NotFoundError must not be caught as DuplicateError";
  } catch (const NotFoundError& e) {
    caught_not_found = true;
    EXPECT_STREQ(e.what(), "episode 42 not found");
  }
  EXPECT_TRUE(caught_not_found);
}

}  // namespace
}  // namespace nemori
