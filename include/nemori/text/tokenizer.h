// The tokenizer: text -> search terms, the same way for documents and queries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nemori/text/stemmer.h"
#include "nemori/text/stop_words.h"

namespace nemori {

/// How text becomes tokens. The defaults suit English mixed with any other language.
struct TokenizerOptions {
  /// Remove accents ("café" -> "cafe"); see normalize_for_search for what counts as an accent.
  bool fold_accents = true;
  /// Stem alphabetic tokens with Snowball ("running" -> "run").
  bool stem = true;
  /// Snowball language for stemming.
  std::string language = "english";
  /// Drop stop words (checked before stemming).
  bool remove_stop_words = true;
  /// The stop words; null means StopWords::english().
  std::shared_ptr<const StopWords> stop_words;
  /// For hyphenated and letter-digit compounds ("well-known", "covid19"), also emit the parts
  /// glued together ("wellknown") besides the parts themselves ("well", "known").
  bool join_compounds = true;
  /// CJK runs (Han, Kana, Hangul) become overlapping character bigrams ("東京都" -> "東京",
  /// "京都"); a run of one character becomes that character.
  bool cjk_bigrams = true;
  /// Also emit every CJK character on its own (so a one-character query matches longer runs).
  bool cjk_unigrams = false;
  /// Keep each emoji as a token of its own (skin tones, joiners and presentation selectors are
  /// dropped); when false every emoji is a separator.
  bool keep_emoji = false;
  /// Tokens longer than this many bytes (hashes, base64) are dropped.
  std::size_t max_token_bytes = 64;
};

/// Splits text into search terms. Applies, in order: UTF-8 repair (each invalid byte becomes a
/// separator), NFKC + case folding + accent folding, segmentation, stop words, stemming.
///
/// Segmentation rules (examples with stemming and stop words off):
/// - words: "Hello, World!" -> hello, world
/// - apostrophes: possessives lose their "'s" ("Caroline's" -> caroline, "parents'" -> parents);
///   clitics 'll 're 've 'd 'm are dropped ("we'll" -> we); "n't" forms stay whole ("don't").
/// - hyphens: "well-known" -> well, known, wellknown (the last only with join_compounds).
/// - letters and digits: "covid19" -> covid, 19, covid19; ordinals stay whole ("8th" -> 8th, 8).
/// - numbers keep their value: "2023" -> 2023, "007" -> 7, "100,000" -> 100000, "3.5" -> 3.5.
/// - times stay whole: "13:56" -> 13:56.
/// - dates keep the whole and the parts: "2023-05-08" -> 2023-05-08, 2023, 5, 8;
///   "8/5/2023" -> 8/5/2023, 8, 5, 2023.
/// - CJK: bigrams (see cjk_bigrams); digits next to CJK are separate tokens ("2023年" -> 2023, 年).
/// - emoji: dropped, or kept one per token (keep_emoji).
///
/// Thread-safe: a Tokenizer is immutable (each thread keeps its own cache of word -> final
/// token); any number of threads may call it at once.
class Tokenizer {
 public:
  /// Throws ConfigError when options.language has no Snowball stemmer (only if stem is set).
  explicit Tokenizer(TokenizerOptions options = {});

  /// The tokens of `text`, in text order (compound parts before the glued form).
  std::vector<std::string> tokenize(std::string_view text) const;
  /// Appends the tokens of `text` to `out` (reusing its storage). Never throws except
  /// std::bad_alloc.
  void tokenize(std::string_view text, std::vector<std::string>& out) const;

  /// Low-level access for indexes that cache per word: segments `text` like tokenize() but
  /// calls sink(token, is_word) for each token before stop-word removal and stemming.
  /// `is_word` tokens (alphabetic) still need finalize(); others (numbers, dates, CJK, glued
  /// forms with digits) are final. The view is valid during the call only. tokenize(text) equals
  /// segment(text) followed by finalize() on every word token and dropping empty results.
  void segment(std::string_view text,
               const std::function<void(std::string_view token, bool is_word)>& sink) const;
  /// What tokenize() makes of one segmented word: empty for a stop word, else its stem (or the
  /// word itself when stemming is off).
  std::string finalize(std::string_view word) const;

  /// The options this tokenizer was built with (stop_words filled in).
  const TokenizerOptions& options() const { return options_; }

 private:
  struct Emitter;
  void finish(const std::string& token, bool alphabetic, std::vector<std::string>& out) const;

  TokenizerOptions options_;
  std::optional<Stemmer> stemmer_;
  std::uint64_t id_;  // keys this tokenizer's per-thread cache of word -> final token
};

}  // namespace nemori
