// SHA-256 (FIPS 180-4), for checksums of dumps and for ids derived from content.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace nemori {

/// An incremental SHA-256: update() any number of times, then digest() once.
class Sha256 {
 public:
  Sha256();
  /// Adds bytes to the hashed message.
  void update(std::string_view bytes);
  /// The 32-byte digest of everything added; the object must not be updated afterwards.
  std::array<std::uint8_t, 32> digest();
  /// digest() as 64 lower-case hex digits.
  std::string hex_digest();

 private:
  void block(const std::uint8_t* data);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

/// The SHA-256 of `bytes` as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace nemori
