// When something happened.
#pragma once

#include <optional>
#include <string>

#include "nemori/core/time.h"

namespace nemori {

/// When an event or episode happened. JSON: {"timestamp", "duration", "timezone", "precision"}.
struct TemporalInfo {
  /// The instant (UTC, microseconds).
  Timestamp timestamp{};
  /// Length in seconds, when known.
  std::optional<double> duration;
  /// Informational label such as "Europe/Paris"; never used for arithmetic.
  std::optional<std::string> timezone;
  /// "second", "minute", "hour" or "day".
  std::string precision = "second";

  bool operator==(const TemporalInfo&) const = default;
};

}  // namespace nemori
