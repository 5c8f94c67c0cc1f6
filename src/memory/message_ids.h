// Ids of stored messages derived from what identifies the message, so that storing the same
// message again finds it instead of duplicating it.
#pragma once

#include <optional>
#include <string>

#include "nemori/core/message.h"

namespace nemori::detail {

/// The data_id of `message` stored for `owner_id`: a UUIDv8 (RFC 9562) made of the first 122
/// bits of a SHA-256 of the owner and the message's external_id, or, without one, of the
/// owner, timestamp, speaker and a SHA-256 of the content. nullopt for a message with neither
/// an external_id nor a timestamp (it gets a fresh random id: nothing identifies it).
std::optional<std::string> message_data_id(const std::string& owner_id, const Message& message);

}  // namespace nemori::detail
