#include "nemori/core/id.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"

namespace nemori {

namespace {

// Generator state shared by all threads: the last millisecond and a 12-bit counter within it
// (RFC 9562 method 1), so ids from one process are strictly increasing.
struct V7State {
  std::mutex mutex;
  std::uint64_t last_ms = 0;
  std::uint32_t counter = 0;
  std::mt19937_64 rng{[] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }()};
};

V7State& state() {
  static V7State s;
  return s;
}

// Canonical 8-4-4-4-12 lower-case text of 16 bytes.
std::string format_uuid(const std::array<std::uint8_t, 16>& b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0x0F]);
  }
  return out;
}

// FNV-1a over the bytes from `basis`, then the splitmix64 finaliser to spread the bits.
std::uint64_t hash64(std::string_view key, std::uint64_t basis) {
  std::uint64_t h = basis;
  for (const char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace

std::string new_id() {
  auto& s = state();
  std::uint64_t ms;
  std::uint32_t counter;
  std::uint64_t random_bits;
  {
    std::lock_guard lock(s.mutex);
    ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    if (ms <= s.last_ms) {
      ms = s.last_ms;
      if (++s.counter > 0xFFF) {  // counter exhausted: borrow the next millisecond
        ++ms;
        s.counter = 0;
      }
    } else {
      s.counter = static_cast<std::uint32_t>(s.rng() & 0x3FF);  // random start, room to grow
    }
    s.last_ms = ms;
    counter = s.counter;
    random_bits = s.rng();
  }
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 6; ++i) b[i] = static_cast<std::uint8_t>(ms >> (40 - 8 * i));
  b[6] = static_cast<std::uint8_t>(0x70 | ((counter >> 8) & 0x0F));
  b[7] = static_cast<std::uint8_t>(counter & 0xFF);
  for (int i = 8; i < 16; ++i) b[i] = static_cast<std::uint8_t>(random_bits >> (8 * (i - 8)));
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));
  return format_uuid(b);
}

std::string derived_id(std::string_view key) {
  const std::uint64_t high = hash64(key, 0xcbf29ce484222325ULL);
  const std::uint64_t low = hash64(key, 0x84222325cbf29ce4ULL ^ key.size());
  std::array<std::uint8_t, 16> b{};
  for (int i = 0; i < 8; ++i) {
    b[i] = static_cast<std::uint8_t>(high >> (56 - 8 * i));
    b[8 + i] = static_cast<std::uint8_t>(low >> (56 - 8 * i));
  }
  b[6] = static_cast<std::uint8_t>(0x80 | (b[6] & 0x0F));  // version 8: custom
  b[8] = static_cast<std::uint8_t>(0x80 | (b[8] & 0x3F));  // RFC 9562 variant
  return format_uuid(b);
}

bool is_uuid(std::string_view t) {
  if (t.size() != 36) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const char c = t[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

void validate_id(std::string_view id, std::string_view field) {
  if (id.empty()) throw ValidationError(field, "must not be empty");
  if (id.size() > 255) throw ValidationError(field, "longer than 255 bytes");
  validate_text(id, field);
  for (unsigned char c : id) {
    if (c < 0x20 || c == 0x7F) throw ValidationError(field, "contains a control character");
  }
}

}  // namespace nemori
