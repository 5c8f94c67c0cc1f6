// Code point classes and the UTF-32 normalisation pass shared by the text layer (internal).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nemori::text_internal {

/// What a code point is to the tokenizer.
enum class CharClass : std::uint8_t {
  kSeparator,   ///< space, punctuation, symbols, controls, U+FFFD
  kLetter,      ///< letters of alphabetic scripts (and No/Nl numbers such as "Ⅻ")
  kDigit,       ///< decimal digits
  kMark,        ///< combining marks (joined to the preceding letter)
  kCjk,         ///< Han, Hiragana, Katakana, Hangul
  kApostrophe,  ///< ' (after normalisation every apostrophe is U+0027)
  kHyphen,      ///< - and U+2010
  kNumberJoin,  ///< : . , / (meaningful between digits only)
  kEmoji,       ///< pictographic symbols
  kIgnorable,   ///< soft hyphen: skipped inside a word
};

/// The class of a code point >= 0x80 (see classify).
CharClass classify_non_ascii(char32_t cp);

/// Classes of the ASCII code points (a table, so that classify inlines for them).
struct AsciiClasses {
  CharClass cls[128];
  constexpr AsciiClasses() : cls() {
    for (int c = 0; c < 128; ++c) {
      CharClass k = CharClass::kSeparator;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) k = CharClass::kLetter;
      if (c >= '0' && c <= '9') k = CharClass::kDigit;
      if (c == '\'') k = CharClass::kApostrophe;
      if (c == '-') k = CharClass::kHyphen;
      if (c == ':' || c == '.' || c == ',' || c == '/') k = CharClass::kNumberJoin;
      cls[c] = k;
    }
  }
};
inline constexpr AsciiClasses kAsciiClasses;

/// The class of `cp` (a normalised code point).
inline CharClass classify(char32_t cp) {
  if (cp < 0x80) return kAsciiClasses.cls[cp];
  return classify_non_ascii(cp);
}

/// Normalises `text` (see normalize_for_search) into code points, replacing `out`.
void normalize_to_utf32(std::string_view text, bool fold_accents, std::vector<char32_t>& out);

/// Appends the UTF-8 encoding of `cp` to `out`.
inline void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

/// True when every byte of `text` is ASCII.
inline bool is_ascii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

}  // namespace nemori::text_internal
