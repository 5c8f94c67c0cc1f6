#include "nemori/text/tokenizer.h"

#include <atomic>
#include <utility>

#include "text/flat_string_map.h"
#include "text/unicode.h"

namespace nemori {

namespace {

using text_internal::append_utf8;
using text_internal::CharClass;
using text_internal::classify;

// A run of letters and digits read from the text, e.g. "caroline's" or "covid19".
struct Piece {
  std::string text;
  bool has_letter = false;
  bool has_digit = false;
  // Byte offsets where a letter run or a digit run starts (when both kinds occur).
  std::vector<std::pair<std::size_t, bool>> runs;  // (offset, is_digit)

  void clear() {
    text.clear();
    has_letter = has_digit = false;
    runs.clear();
  }
};

// Text joined by ':' '.' '/' between digits ("13:56", "8/5/2023"), or a single piece.
struct Segment {
  std::string text;
  std::vector<Piece> parts;  // the pieces between joiners
  std::size_t part_count = 0;
  bool has_slash = false;
  std::size_t dots = 0;
  bool joined() const { return part_count > 1; }
};

bool is_ascii_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

void strip_leading_zeros(std::string& s) {
  std::size_t z = 0;
  while (z + 1 < s.size() && s[z] == '0') ++z;
  s.erase(0, z);
}

// Possessives and clitics: "caroline's" -> "caroline", "we'll" -> "we"; "don't" stays.
void strip_apostrophe_suffix(Piece& p) {
  const std::size_t apos = p.text.rfind('\'');
  if (apos == std::string::npos) return;
  const std::string_view suffix = std::string_view(p.text).substr(apos + 1);
  if (suffix == "s" || suffix == "ll" || suffix == "re" || suffix == "ve" || suffix == "d" ||
      suffix == "m") {
    p.text.resize(apos);
    while (!p.runs.empty() && p.runs.back().first >= p.text.size()) p.runs.pop_back();
  }
}

bool is_ordinal_suffix(std::string_view s) {
  return s == "st" || s == "nd" || s == "rd" || s == "th";
}

}  // namespace

// Walks one normalised text and appends its tokens.
struct Tokenizer::Emitter {
  // Buffers reused across calls on one thread.
  struct Scratch {
    std::string token;
    std::vector<Segment> segments;  // of one compound
    std::vector<std::string> cjk;   // characters of one CJK run
    std::vector<char32_t> code_points;
  };

  const Tokenizer& tokenizer;
  std::vector<std::string>* out;                            // tokenize(): final tokens go here...
  const std::function<void(std::string_view, bool)>* sink;  // ...or segment(): raw ones here
  Scratch& scratch;
  std::string& token = scratch.token;
  std::vector<Segment>& segments = scratch.segments;
  std::vector<std::string>& cjk = scratch.cjk;
  std::size_t segment_count = 0;

  void emit(const std::string& t, bool alphabetic) {
    if (t.empty() || t.size() > tokenizer.options_.max_token_bytes) return;
    if (sink != nullptr) {
      (*sink)(t, alphabetic);
    } else {
      tokenizer.finish(t, alphabetic, *out);
    }
  }

  template <typename Source>
  void run(const Source& s) {
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
      const CharClass c = classify(s[i]);
      if (c == CharClass::kLetter && s[i] < 0x80) {
        // Fast path: a plain ASCII word followed by a separator (most words of most texts).
        std::size_t j = i + 1;
        while (j < n && s[j] < 0x80 && classify(s[j]) == CharClass::kLetter) ++j;
        const CharClass next = j < n ? classify(s[j]) : CharClass::kSeparator;
        if (next == CharClass::kSeparator || next == CharClass::kNumberJoin) {
          token.clear();
          for (std::size_t k = i; k < j; ++k) token.push_back(static_cast<char>(s[k]));
          emit(token, true);
          i = j;
          continue;
        }
        i = compound(s, i);
      } else if (c == CharClass::kLetter || c == CharClass::kDigit) {
        i = compound(s, i);
      } else if (c == CharClass::kCjk) {
        i = cjk_run(s, i);
      } else if (c == CharClass::kEmoji) {
        if (tokenizer.options_.keep_emoji) {
          token.clear();
          append_utf8(token, s[i]);
          emit(token, false);
        }
        ++i;
      } else {
        ++i;
      }
    }
  }

  // Reads letters, digits, marks and inner apostrophes starting at i into p.
  template <typename Source>
  std::size_t read_piece(const Source& s, std::size_t i, Piece& p) {
    p.clear();
    const std::size_t n = s.size();
    bool last_letter = false;
    int last_kind = -1;  // 0 letter run, 1 digit run
    while (i < n) {
      const char32_t cp = s[i];
      const CharClass c = classify(cp);
      if (c == CharClass::kLetter || c == CharClass::kDigit) {
        const int kind = c == CharClass::kDigit ? 1 : 0;
        if (kind != last_kind) {
          p.runs.emplace_back(p.text.size(), kind == 1);
          last_kind = kind;
        }
        (kind == 1 ? p.has_digit : p.has_letter) = true;
        append_utf8(p.text, cp);
        last_letter = kind == 0;
        ++i;
      } else if (c == CharClass::kMark) {
        if (!p.text.empty()) append_utf8(p.text, cp);
        ++i;
      } else if (c == CharClass::kIgnorable) {
        ++i;
      } else if (c == CharClass::kApostrophe && last_letter && i + 1 < n &&
                 classify(s[i + 1]) == CharClass::kLetter) {
        p.text.push_back('\'');
        ++i;
      } else {
        break;
      }
    }
    strip_apostrophe_suffix(p);
    return i;
  }

  Segment& next_segment() {
    if (segment_count == segments.size()) segments.emplace_back();
    Segment& seg = segments[segment_count++];
    seg.text.clear();
    seg.part_count = 0;
    seg.has_slash = false;
    seg.dots = 0;
    return seg;
  }

  Piece& next_part(Segment& seg) {
    if (seg.part_count == seg.parts.size()) seg.parts.emplace_back();
    return seg.parts[seg.part_count++];
  }

  template <typename Source>
  std::size_t compound(const Source& s, std::size_t i) {
    const std::size_t n = s.size();
    segment_count = 0;
    Segment* seg = &next_segment();
    i = read_piece(s, i, next_part(*seg));
    seg->text = seg->parts[0].text;
    for (;;) {
      if (i >= n) break;
      const char32_t cp = s[i];
      const CharClass c = classify(cp);
      const bool after_digit =
          !seg->text.empty() && seg->text.back() >= '0' && seg->text.back() <= '9';
      if (c == CharClass::kNumberJoin && after_digit && i + 1 < n &&
          classify(s[i + 1]) == CharClass::kDigit) {
        if (cp == ',') {
          // Thousands separator: exactly three digits follow, then no letter or digit.
          const bool three = i + 3 < n && classify(s[i + 2]) == CharClass::kDigit &&
                             classify(s[i + 3]) == CharClass::kDigit;
          const bool ends = i + 4 >= n || (classify(s[i + 4]) != CharClass::kDigit &&
                                           classify(s[i + 4]) != CharClass::kLetter);
          if (!three || !ends || seg->part_count != 1) break;
          Piece& last = seg->parts[seg->part_count - 1];
          for (std::size_t k = 1; k <= 3; ++k) {
            append_utf8(last.text, s[i + k]);
            append_utf8(seg->text, s[i + k]);
          }
          i += 4;
          continue;
        }
        if (cp == '/') seg->has_slash = true;
        if (cp == '.') ++seg->dots;
        append_utf8(seg->text, cp);
        Piece& part = next_part(*seg);
        i = read_piece(s, i + 1, part);
        seg->text += part.text;
        continue;
      }
      if (c == CharClass::kHyphen && i + 1 < n) {
        const CharClass next = classify(s[i + 1]);
        if (next == CharClass::kLetter || next == CharClass::kDigit) {
          seg = &next_segment();
          i = read_piece(s, i + 1, next_part(*seg));
          seg->text = seg->parts[0].text;
          continue;
        }
      }
      break;
    }
    emit_compound();
    return i;
  }

  void emit_number(std::string_view digits) {
    token.assign(digits);
    if (is_ascii_digits(token)) strip_leading_zeros(token);
    emit(token, false);
  }

  void emit_piece(const Piece& p) {
    if (p.text.empty()) return;
    if (!p.has_digit) {
      token = p.text;
      emit(token, true);
      return;
    }
    if (!p.has_letter) {
      emit_number(p.text);
      return;
    }
    // Letters and digits mixed: the runs, then the whole.
    for (std::size_t r = 0; r < p.runs.size(); ++r) {
      const std::size_t begin = p.runs[r].first;
      const std::size_t end = r + 1 < p.runs.size() ? p.runs[r + 1].first : p.text.size();
      if (begin >= end) continue;
      const std::string_view run = std::string_view(p.text).substr(begin, end - begin);
      if (p.runs[r].second) {
        emit_number(run);
      } else if (!(r > 0 && is_ordinal_suffix(run))) {
        token.assign(run);
        emit(token, true);
      }
    }
    const bool ordinal = p.runs.size() == 2 && p.runs[0].second &&
                         is_ordinal_suffix(std::string_view(p.text).substr(p.runs[1].first));
    if (tokenizer.options_.join_compounds || ordinal) {
      token = p.text;
      emit(token, false);
    }
  }

  void emit_segment(const Segment& seg) {
    if (!seg.joined()) {
      emit_piece(seg.parts[0]);
      return;
    }
    token = seg.text;
    emit(token, false);
    if (seg.has_slash || seg.dots >= 2) {  // a date: its parts too
      for (std::size_t k = 0; k < seg.part_count; ++k) emit_piece(seg.parts[k]);
    }
  }

  void emit_compound() {
    if (segment_count == 1) {
      emit_segment(segments[0]);
      return;
    }
    bool all_numbers = true, all_plain = true;
    for (std::size_t k = 0; k < segment_count; ++k) {
      const Segment& seg = segments[k];
      if (seg.joined()) all_plain = false;
      if (seg.joined() || !is_ascii_digits(seg.text)) all_numbers = false;
    }
    if (all_numbers) {  // "2023-05-08": the whole and each number
      token.clear();
      for (std::size_t k = 0; k < segment_count; ++k) {
        if (k > 0) token.push_back('-');
        token += segments[k].text;
      }
      emit(token, false);
      for (std::size_t k = 0; k < segment_count; ++k) emit_number(segments[k].text);
      return;
    }
    for (std::size_t k = 0; k < segment_count; ++k) emit_segment(segments[k]);
    if (all_plain && tokenizer.options_.join_compounds) {
      token.clear();
      bool letters = true;
      for (std::size_t k = 0; k < segment_count; ++k) {
        token += segments[k].parts[0].text;
        if (segments[k].parts[0].has_digit) letters = false;
      }
      emit(token, letters);
    }
  }

  template <typename Source>
  std::size_t cjk_run(const Source& s, std::size_t i) {
    const std::size_t n = s.size();
    std::size_t count = 0;
    while (i < n) {
      const CharClass c = classify(s[i]);
      if (c == CharClass::kCjk) {
        if (count == cjk.size()) cjk.emplace_back();
        cjk[count].clear();
        append_utf8(cjk[count], s[i]);
        ++count;
      } else if (c == CharClass::kMark && count > 0) {
        append_utf8(cjk[count - 1], s[i]);
      } else {
        break;
      }
      ++i;
    }
    const auto& opt = tokenizer.options_;
    if (count == 1 || !opt.cjk_bigrams || opt.cjk_unigrams) {
      for (std::size_t k = 0; k < count; ++k) emit(cjk[k], false);
    }
    if (opt.cjk_bigrams) {
      for (std::size_t k = 0; k + 1 < count; ++k) {
        token = cjk[k];
        token += cjk[k + 1];
        emit(token, false);
      }
    }
    return i;
  }
};

namespace {

// Lower-cased view of ASCII text, read as code points.
struct AsciiSource {
  std::string_view text;
  std::size_t size() const { return text.size(); }
  char32_t operator[](std::size_t i) const {
    const char c = text[i];
    return static_cast<char32_t>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  }
};

}  // namespace

namespace {

std::atomic<std::uint64_t> g_next_tokenizer_id{1};

// What a word becomes: dropped (stop word) or its final (stemmed) form.
struct CachedWord {
  bool stop = false;
  std::string final_form;
};

constexpr std::size_t kWordCacheEntries = 1 << 16;  // per thread and tokenizer; then cleared
constexpr std::size_t kWordCaches = 8;              // tokenizers remembered per thread

using WordCache = text_internal::FlatStringMap<CachedWord>;

// This thread's cache for tokenizer `id` (the most recently used ones are kept).
WordCache& word_cache(std::uint64_t id) {
  thread_local std::vector<std::pair<std::uint64_t, std::unique_ptr<WordCache>>> caches;
  for (std::size_t i = 0; i < caches.size(); ++i) {
    if (caches[i].first != id) continue;
    if (i != 0) std::swap(caches[i], caches[0]);
    return *caches[0].second;
  }
  if (caches.size() >= kWordCaches) caches.pop_back();
  caches.emplace(caches.begin(), id, std::make_unique<WordCache>());
  return *caches[0].second;
}

}  // namespace

Tokenizer::Tokenizer(TokenizerOptions options)
    : options_(std::move(options)), id_(g_next_tokenizer_id.fetch_add(1)) {
  if (!options_.stop_words) options_.stop_words = StopWords::english();
  if (options_.stem) stemmer_.emplace(options_.language);
}

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  std::vector<std::string> out;
  tokenize(text, out);
  return out;
}

namespace {

template <typename Emitter>
void run_on(Emitter& emitter, std::string_view text, bool fold_accents) {
  if (text_internal::is_ascii(text)) {
    emitter.run(AsciiSource{text});
    return;
  }
  text_internal::normalize_to_utf32(text, fold_accents, emitter.scratch.code_points);
  emitter.run(emitter.scratch.code_points);
}

}  // namespace

void Tokenizer::tokenize(std::string_view text, std::vector<std::string>& out) const {
  thread_local Emitter::Scratch scratch;
  Emitter emitter{*this, &out, nullptr, scratch};
  run_on(emitter, text, options_.fold_accents);
}

void Tokenizer::segment(std::string_view text,
                        const std::function<void(std::string_view, bool)>& sink) const {
  thread_local Emitter::Scratch scratch;
  Emitter emitter{*this, nullptr, &sink, scratch};
  run_on(emitter, text, options_.fold_accents);
}

std::string Tokenizer::finalize(std::string_view word) const {
  if (options_.remove_stop_words && options_.stop_words->contains(word)) return {};
  return stemmer_ ? stemmer_->stem(word) : std::string(word);
}

void Tokenizer::finish(const std::string& token, bool alphabetic,
                       std::vector<std::string>& out) const {
  if (!alphabetic || (!options_.remove_stop_words && !stemmer_)) {
    out.push_back(token);
    return;
  }
  WordCache& cache = word_cache(id_);
  const std::uint64_t hash = text_internal::hash_bytes(token);
  const CachedWord* word = cache.find(token, hash);
  if (word == nullptr) {
    CachedWord fresh;
    fresh.final_form = finalize(token);
    fresh.stop = fresh.final_form.empty();
    if (cache.size() >= kWordCacheEntries) cache.clear();
    word = cache.insert(token, std::move(fresh)).first;
  }
  if (word->stop) return;
  out.push_back(word->final_form);
}

}  // namespace nemori
