// Record identifiers.
#pragma once

#include <string>
#include <string_view>

namespace nemori {

/// A new UUIDv7 (RFC 9562) in canonical lower-case text form. The first 48 bits are the Unix
/// time in milliseconds and a 12-bit counter follows, so ids made by one process sort in
/// creation order; the remaining 62 bits come from a cryptographically seeded random source.
/// Thread-safe.
std::string new_id();

/// A UUIDv8 (RFC 9562) that is a function of `key`: the same key always gives the same id, so
/// work that is redone (e.g. episodes rebuilt after a crash) finds what it made before. Two
/// 64-bit hashes, not a cryptographic digest: not for keys an adversary chooses.
std::string derived_id(std::string_view key);
/// True when `text` is a canonical UUID (8-4-4-4-12 hex digits, any version).
bool is_uuid(std::string_view text);

/// Checks an id supplied by a caller: non-empty, at most 255 bytes, valid UTF-8, no control
/// characters. Throws ValidationError naming `field` otherwise. Ids need not be UUIDs.
void validate_id(std::string_view id, std::string_view field);

}  // namespace nemori
