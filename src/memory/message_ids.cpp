#include "memory/message_ids.h"

#include <cstdio>

#include "nemori/core/sha256.h"
#include "nemori/core/time.h"

namespace nemori::detail {

namespace {

// Length-prefixed, so that no two different field lists hash the same text.
void add_field(Sha256& hash, const std::string& field) {
  hash.update(std::to_string(field.size()));
  hash.update(":");
  hash.update(field);
}

}  // namespace

std::optional<std::string> message_data_id(const std::string& owner_id, const Message& message) {
  Sha256 hash;
  hash.update("nemori-message-id-v1");
  add_field(hash, owner_id);
  if (message.external_id && !message.external_id->empty()) {
    add_field(hash, "external_id");
    add_field(hash, *message.external_id);
  } else if (message.timestamp) {
    add_field(hash, "content");
    add_field(hash, format_iso8601(*message.timestamp));
    add_field(hash, message.speaker_id);
    add_field(hash, sha256_hex(message.content));
  } else {
    return std::nullopt;
  }
  std::array<std::uint8_t, 32> digest = hash.digest();
  digest[6] = static_cast<std::uint8_t>((digest[6] & 0x0f) | 0x80);  // version 8
  digest[8] = static_cast<std::uint8_t>((digest[8] & 0x3f) | 0x80);  // RFC 9562 variant
  char text[37];
  std::snprintf(
      text, sizeof text, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
      digest[0], digest[1], digest[2], digest[3], digest[4], digest[5], digest[6], digest[7],
      digest[8], digest[9], digest[10], digest[11], digest[12], digest[13], digest[14], digest[15]);
  return std::string(text);
}

}  // namespace nemori::detail
