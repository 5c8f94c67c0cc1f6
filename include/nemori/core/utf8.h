// UTF-8 checks used to validate every string that enters nemori.
#pragma once

#include <string>
#include <string_view>

namespace nemori {

/// True when `text` is well-formed UTF-8 (no overlongs, no surrogates, max U+10FFFF).
bool is_valid_utf8(std::string_view text);

/// True when `text` is valid UTF-8 without NUL characters (what validate_text accepts).
bool is_valid_text(std::string_view text);

/// Throws ValidationError("field: invalid UTF-8 at byte N") unless `text` is valid UTF-8
/// without NUL characters (PostgreSQL text cannot hold NUL, so no backend accepts it).
void validate_text(std::string_view text, std::string_view field);

/// Replaces every invalid sequence with U+FFFD. Valid input is returned unchanged.
std::string repair_utf8(std::string_view text);

}  // namespace nemori

namespace nemori {

/// Unicode case folding (full folding, NFC), e.g. "Straße" -> "strasse", "ÉTÉ" -> "été".
/// The one definition of "case-insensitive" used by every storage backend and by retrieval.
/// Input must be valid UTF-8 (invalid sequences are repaired first).
std::string fold_case(std::string_view text);

}  // namespace nemori
