// The checks every backend runs before writing a record, so that all of them accept and
// reject exactly the same input (and everything stored can be dumped and restored).
#pragma once

#include <cstddef>
#include <span>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"

namespace nemori::detail {

/// validate(event, max_content_bytes) plus: temporal_info.precision is one of second, minute,
/// hour, day. Throws ValidationError naming the field.
void validate_for_storage(const RawEvent& event, std::size_t max_content_bytes);

/// validate(episode) plus: temporal_info.precision is one of second, minute, hour, day.
/// Throws ValidationError naming the field.
void validate_for_storage(const Episode& episode);

/// Checks a whole batch before anything is written: validate_for_storage on every item (the
/// message is prefixed with "item N: ", counted from 0), then no data_id twice in the batch
/// (DuplicateError naming the id and both positions).
void validate_batch_for_storage(std::span<const RawEvent> events, std::size_t max_content_bytes);

/// The same for episodes (ids compared on episode_id).
void validate_batch_for_storage(std::span<const Episode> episodes);

}  // namespace nemori::detail
