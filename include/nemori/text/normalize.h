// Text normalisation for search: the one definition of "the same word" used by the tokenizer.
#pragma once

#include <string>
#include <string_view>

namespace nemori {

/// Normalises text for matching: Unicode case folding and compatibility composition (NFKC:
/// full-width "ＡＢ１" -> "ab1", ligatures "ﬁ" -> "fi"), curly apostrophes made straight, and,
/// when `fold_accents` is set, accents removed ("Café" -> "cafe", "Ñandú" -> "nandu").
///
/// Accent removal drops only diacritical marks (the Combining Diacritical Marks blocks plus
/// Hebrew points and Arabic harakat); marks that change a letter's identity in other scripts
/// (Japanese dakuten "が", Devanagari vowel signs) are kept, unlike a blanket strip of every
/// mark. Invalid UTF-8 is repaired first (each bad byte becomes U+FFFD). Never throws.
std::string normalize_for_search(std::string_view text, bool fold_accents = true);

}  // namespace nemori
