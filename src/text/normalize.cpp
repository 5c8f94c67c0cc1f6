#include "nemori/text/normalize.h"

#include <utf8proc.h>

#include "nemori/core/utf8.h"
#include "text/unicode.h"

namespace nemori {

namespace text_internal {

namespace {

bool in(char32_t cp, char32_t lo, char32_t hi) {
  return cp >= lo && cp <= hi;
}

// Diacritics removed by accent folding.
bool is_accent_mark(char32_t cp) {
  return in(cp, 0x0300, 0x036F) || in(cp, 0x1AB0, 0x1AFF) || in(cp, 0x1DC0, 0x1DFF) ||
         in(cp, 0x20D0, 0x20FF) || in(cp, 0xFE20, 0xFE2F) || in(cp, 0x0591, 0x05BD) ||
         cp == 0x05BF || cp == 0x05C1 || cp == 0x05C2 || cp == 0x05C4 || cp == 0x05C5 ||
         cp == 0x05C7 ||                          // Hebrew points
         in(cp, 0x064B, 0x065F) || cp == 0x0670;  // Arabic harakat
}

bool is_apostrophe(char32_t cp) {
  return cp == 0x2019 || cp == 0x2018 || cp == 0x02BC || cp == 0xFF07;
}

bool is_cjk(char32_t cp) {
  return in(cp, 0x1100, 0x11FF) ||  // Hangul Jamo
         in(cp, 0x2E80, 0x2FDF) ||  // CJK and Kangxi radicals
         in(cp, 0x3005, 0x3007) || in(cp, 0x3021, 0x3029) || in(cp, 0x3031, 0x3035) ||
         cp == 0x303B ||                              // iteration marks, ideographic numbers
         in(cp, 0x3041, 0x309F) ||                    // Hiragana
         (in(cp, 0x30A0, 0x30FF) && cp != 0x30FB) ||  // Katakana (not the middle dot)
         in(cp, 0x3130, 0x318F) ||                    // Hangul compatibility Jamo
         in(cp, 0x31F0, 0x31FF) ||                    // Katakana extensions
         in(cp, 0x3400, 0x4DBF) || in(cp, 0x4E00, 0x9FFF) ||  // Han
         in(cp, 0xA960, 0xA97F) || in(cp, 0xAC00, 0xD7FF) ||  // Hangul
         in(cp, 0xF900, 0xFAFF) ||                            // Han compatibility
         in(cp, 0xFF66, 0xFF9F) ||                            // half-width Katakana
         in(cp, 0x1B000, 0x1B16F) ||                          // Kana supplements
         in(cp, 0x20000, 0x3FFFF);                            // Han extensions
}

bool is_emoji(char32_t cp) {
  return in(cp, 0x1F000, 0x1FAFF) || in(cp, 0x2600, 0x27BF) || in(cp, 0x2300, 0x23FF) ||
         in(cp, 0x2B00, 0x2BFF) || in(cp, 0x2190, 0x21FF) || in(cp, 0x25A0, 0x25FF) ||
         cp == 0x00A9 || cp == 0x00AE || cp == 0x203C || cp == 0x2049 || cp == 0x2122 ||
         cp == 0x2139 || cp == 0x3030 || cp == 0x303D || cp == 0x3297 || cp == 0x3299;
}

}  // namespace

CharClass classify_non_ascii(char32_t cp) {
  if (cp == 0x2010 || cp == 0x2011) return CharClass::kHyphen;
  if (cp == 0x00AD) return CharClass::kIgnorable;
  if (cp == 0xFE0E || cp == 0xFE0F || cp == 0x200D || in(cp, 0x1F3FB, 0x1F3FF)) {
    return CharClass::kSeparator;  // emoji presentation selectors, joiner, skin tones
  }
  if (cp > 0x10FFFF) return CharClass::kSeparator;
  if (is_cjk(cp)) {
    const auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
    if (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_LO) return CharClass::kCjk;
    if (cat == UTF8PROC_CATEGORY_NL) return CharClass::kCjk;
    if (cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC) return CharClass::kMark;
    return CharClass::kSeparator;
  }
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
      return CharClass::kDigit;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
      return CharClass::kMark;
    case UTF8PROC_CATEGORY_SO:
      return is_emoji(cp) ? CharClass::kEmoji : CharClass::kSeparator;
    default:
      return CharClass::kSeparator;
  }
}

void normalize_to_utf32(std::string_view text, bool fold_accents, std::vector<char32_t>& out) {
  out.clear();
  if (is_ascii(text)) {
    out.reserve(text.size());
    for (char c : text) {
      out.push_back(static_cast<char32_t>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c));
    }
    return;
  }
  std::string repaired;
  if (!is_valid_utf8(text)) {
    repaired = repair_utf8(text);
    text = repaired;
  }
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  const auto length = static_cast<utf8proc_ssize_t>(text.size());
  const auto options = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT |
                                                      UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD);
  std::vector<utf8proc_int32_t> buffer(text.size() + 16);
  utf8proc_ssize_t n = 0;
  for (;;) {
    n = utf8proc_decompose(bytes, length, buffer.data(),
                           static_cast<utf8proc_ssize_t>(buffer.size()), options);
    if (n < 0) return;  // cannot happen on valid UTF-8; yields no text rather than garbage
    if (static_cast<std::size_t>(n) <= buffer.size()) break;
    buffer.resize(static_cast<std::size_t>(n));
  }
  utf8proc_ssize_t kept = 0;
  for (utf8proc_ssize_t i = 0; i < n; ++i) {
    const auto cp = static_cast<char32_t>(buffer[static_cast<std::size_t>(i)]);
    if (fold_accents && is_accent_mark(cp)) continue;
    buffer[static_cast<std::size_t>(kept++)] =
        is_apostrophe(cp) ? U'\'' : static_cast<utf8proc_int32_t>(cp);
  }
  const auto composed = utf8proc_normalize_utf32(
      buffer.data(), kept, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
  if (composed < 0) return;
  out.reserve(static_cast<std::size_t>(composed));
  for (utf8proc_ssize_t i = 0; i < composed; ++i) {
    out.push_back(static_cast<char32_t>(buffer[static_cast<std::size_t>(i)]));
  }
}

}  // namespace text_internal

std::string normalize_for_search(std::string_view text, bool fold_accents) {
  thread_local std::vector<char32_t> cps;
  text_internal::normalize_to_utf32(text, fold_accents, cps);
  std::string out;
  out.reserve(cps.size());
  for (char32_t cp : cps) text_internal::append_utf8(out, cp);
  return out;
}

}  // namespace nemori
