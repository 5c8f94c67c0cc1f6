// Parsing an enum from its name (internal to the core layer): one rule and one error message
// for every enum of core.
#pragma once

#include <array>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>

#include "nemori/core/error.h"

namespace nemori::detail {

/// How a name is compared with to_string() of each value.
enum class NameCase { kExact, kIgnoreAscii };

/// The value of `values` whose to_string() is `text`; a ValidationError of `what` naming `text`
/// and listing the valid names otherwise.
template <typename Enum, std::size_t N>
Enum parse_enum_name(std::string_view text, const std::array<Enum, N>& values,
                     std::string_view what, NameCase name_case = NameCase::kExact) {
  std::string wanted(text);
  if (name_case == NameCase::kIgnoreAscii) {
    for (char& c : wanted) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string valid;
  for (Enum v : values) {
    if (to_string(v) == wanted) return v;
    valid += (valid.empty() ? "" : ", ") + std::string(to_string(v));
  }
  throw ValidationError(what, "unknown value \"" + std::string(text) + "\" (valid: " + valid + ")");
}

}  // namespace nemori::detail
