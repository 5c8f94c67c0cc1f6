// Word counts, the unit of every word budget (retrieval, evaluation contexts, statements).
#pragma once

#include <cstddef>
#include <string_view>

namespace nemori {

/// Number of runs of characters other than space, tab, CR and LF in `text`.
std::size_t count_words(std::string_view text);

}  // namespace nemori
