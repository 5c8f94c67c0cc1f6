// Typed errors shared by every layer of nemori.
//
// Every error nemori throws derives from nemori::Error. Each subclass names a
// kind of failure a caller can react to; its message says what was wrong and,
// where it helps, what to do next.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nemori {

/// The kind of an Error, for callers that prefer a switch to catch clauses.
enum class ErrorKind {
  kConfig,
  kUnsupportedBackend,
  kNotFound,
  kDuplicate,
  kValidation,
  kStorage,
  kLlm,
};

/// Returns a short stable name for an ErrorKind ("config", "not_found", ...).
std::string_view to_string(ErrorKind kind);

/// Base of every error nemori throws.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  /// What kind of failure this is.
  ErrorKind kind() const noexcept { return kind_; }

 private:
  ErrorKind kind_;
};

/// A configuration value (URL, option, environment variable) is invalid.
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message) : Error(ErrorKind::kConfig, message) {}
};

/// A storage backend was requested that this build does not support.
class UnsupportedBackendError : public Error {
 public:
  explicit UnsupportedBackendError(const std::string& message)
      : Error(ErrorKind::kUnsupportedBackend, message) {}
};

/// A record that the operation needs does not exist.
class NotFoundError : public Error {
 public:
  explicit NotFoundError(const std::string& message) : Error(ErrorKind::kNotFound, message) {}
};

/// A record with the same id already exists.
class DuplicateError : public Error {
 public:
  explicit DuplicateError(const std::string& message) : Error(ErrorKind::kDuplicate, message) {}
};

/// Input is malformed: bad JSON, unknown enum value, invalid UTF-8, bad timestamp...
/// The message names the field and the reason.
class ValidationError : public Error {
 public:
  explicit ValidationError(const std::string& message) : Error(ErrorKind::kValidation, message) {}
  /// Builds "field: reason".
  ValidationError(std::string_view field, std::string_view reason)
      : Error(ErrorKind::kValidation, std::string(field) + ": " + std::string(reason)) {}
};

/// The storage backend failed (I/O, lost connection, engine error). Nothing was committed.
class StorageError : public Error {
 public:
  explicit StorageError(const std::string& message) : Error(ErrorKind::kStorage, message) {}
};

/// An LLM or embedding endpoint failed or answered something unusable.
class LlmError : public Error {
 public:
  explicit LlmError(const std::string& message) : Error(ErrorKind::kLlm, message) {}
};

}  // namespace nemori
