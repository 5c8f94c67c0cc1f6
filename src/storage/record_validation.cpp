#include "storage/record_validation.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <unordered_map>

#include "nemori/core/error.h"

namespace nemori::detail {

namespace {

void validate_precision(const std::string& precision) {
  static constexpr std::string_view kPrecisions[] = {"second", "minute", "hour", "day"};
  if (std::find(std::begin(kPrecisions), std::end(kPrecisions), precision) ==
      std::end(kPrecisions)) {
    throw ValidationError("temporal_info.precision",
                          "unknown value \"" + precision + "\" (valid: second, minute, hour, day)");
  }
}

// Rethrows a ValidationError of batch item `index` with the position in front.
template <typename Check>
void check_item(std::size_t index, Check check) {
  try {
    check();
  } catch (const ValidationError& e) {
    throw ValidationError("item " + std::to_string(index) + ": " + e.what());
  }
}

// Throws DuplicateError when two items share an id.
template <typename Record, typename IdOf>
void reject_repeated_ids(std::span<const Record> records, IdOf id_of, std::string_view what) {
  std::unordered_map<std::string_view, std::size_t> first_seen;
  first_seen.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto [it, inserted] = first_seen.emplace(id_of(records[i]), i);
    if (!inserted) {
      throw DuplicateError(std::string(what) + " \"" + std::string(it->first) +
                           "\" appears twice in the batch (items " + std::to_string(it->second) +
                           " and " + std::to_string(i) + "); nothing was stored");
    }
  }
}

}  // namespace

void validate_for_storage(const RawEvent& event, std::size_t max_content_bytes) {
  validate(event, max_content_bytes);
  validate_precision(event.temporal_info.precision);
}

void validate_for_storage(const Episode& episode) {
  validate(episode);
  validate_precision(episode.temporal_info.precision);
}

void validate_batch_for_storage(std::span<const RawEvent> events, std::size_t max_content_bytes) {
  for (std::size_t i = 0; i < events.size(); ++i) {
    check_item(i, [&] { validate_for_storage(events[i], max_content_bytes); });
  }
  reject_repeated_ids(
      events, [](const RawEvent& e) -> std::string_view { return e.data_id; }, "data_id");
}

void validate_batch_for_storage(std::span<const Episode> episodes) {
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    check_item(i, [&] { validate_for_storage(episodes[i]); });
  }
  reject_repeated_ids(
      episodes, [](const Episode& e) -> std::string_view { return e.episode_id; }, "episode_id");
}

}  // namespace nemori::detail
