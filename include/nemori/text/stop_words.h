// Stop words: very common words that carry no meaning for search ("the", "and", "did"...).
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace nemori {

/// An immutable set of stop words, compared after case and accent folding. Thread-safe (const).
class StopWords {
 public:
  /// A set of `words`. Each word is folded like tokens are (fold_case, accents removed, curly
  /// apostrophes made straight), so "Don’t" matches the token "don't". Never throws.
  explicit StopWords(std::span<const std::string> words);
  /// The same from string literals.
  explicit StopWords(std::initializer_list<std::string_view> words);

  /// True when `folded_token` (an already folded token) is a stop word.
  bool contains(std::string_view folded_token) const;
  /// Number of words in the set.
  std::size_t size() const { return words_.size(); }
  /// The words, folded, in no particular order.
  std::vector<std::string> words() const;

  /// The default English list (pronouns, articles, auxiliaries, prepositions, conjunctions and
  /// their contractions, as in NLTK's list). Numbers, month and day names are not stop words.
  static std::shared_ptr<const StopWords> english();
  /// An empty set (nothing is removed).
  static std::shared_ptr<const StopWords> none();

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_set<std::string, Hash, std::equal_to<>> words_;
};

}  // namespace nemori
