// Snowball stemming ("running" -> "run", "caroline's" -> "carolin").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace nemori {

/// A Snowball stemmer for one language (libstemmer). Thread-safe: every thread uses its own
/// stemmer instance and its own bounded cache of recent words, so any number of threads may call
/// one Stemmer at once without locking.
class Stemmer {
 public:
  /// A stemmer for `language` ("english", "french", "german"... or an ISO 639 code such as
  /// "en"). Throws ConfigError naming the language and listing the available ones when libstemmer
  /// has no such algorithm.
  explicit Stemmer(std::string_view language = "english");

  /// The stem of `word` (expected lower case, UTF-8). Returns `word` unchanged when it is empty
  /// or longer than 64 bytes. Never throws except std::bad_alloc.
  std::string stem(std::string_view word) const;
  /// Replaces `word` by its stem, as stem().
  void stem_in_place(std::string& word) const;

  /// The language this stemmer was made for, as given.
  const std::string& language() const { return language_; }
  /// Every language libstemmer provides (canonical names).
  static std::vector<std::string> languages();

 private:
  std::string language_;
  std::size_t slot_;  // index of the language in the per-thread stemmer table
};

}  // namespace nemori
