// Filters applied by every index before scoring.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nemori/core/time.h"

namespace nemori {

/// Restricts a search to some documents. Every set condition must hold (AND); an unset or empty
/// condition does not filter. Filters apply before scoring and ranking, so a search returns the
/// best k among the documents that pass, never fewer because of the filter when enough pass.
struct SearchFilter {
  std::optional<Timestamp> since;  ///< Only documents at or after this time (inclusive).
  std::optional<Timestamp> until;  ///< Only documents at or before this time (inclusive).
  /// Only documents whose type tag is one of these (e.g. to_string(EpisodeType::kSocial)).
  std::vector<std::string> types;
  /// Only documents with one of these ids (nullopt: any id; an empty list: none).
  std::optional<std::vector<std::string>> ids;

  /// True when no condition is set.
  bool empty() const { return !since && !until && types.empty() && !ids; }
};

}  // namespace nemori
