// The conversation the many-process tests feed: deterministic, so that a child process and the
// test agree on every message (and its id) without passing data around.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "nemori/core/message.h"
#include "nemori/core/time.h"

namespace nemori::test {

/// A word that only message `i` holds: "qx" and the digits of i written as consonants (letters
/// only, so the tokenizer keeps it whole and the stemmer leaves it alone).
inline std::string unique_word(std::size_t i) {
  static const char* digits = "bcdfghjklm";
  std::string out = "qx";
  const std::string n = std::to_string(i);
  for (char c : n) out += digits[c - '0'];
  return out;
}

/// Message `i` of the conversation: sittings of 12 messages three hours apart, each sitting on
/// three subjects in turn, and a word of its own (unique_word(i)) so a search can find it alone.
inline Message conversation_message(std::size_t i) {
  static const std::vector<std::vector<std::string>> subjects = {
      {"pottery", "clay", "kiln", "glaze"},         {"beagle", "leash", "walks", "shelter"},
      {"interview", "robotics", "salary", "offer"}, {"lisbon", "train", "coast", "sister"},
      {"garden", "tomatoes", "compost", "seeds"},   {"marathon", "running", "shoes", "pace"}};
  const std::size_t sitting = i / 12;
  const std::size_t in_sitting = i % 12;
  const auto& words = subjects[(sitting * 3 + in_sitting / 4) % subjects.size()];
  Message m;
  m.speaker_id = i % 2 == 0 ? "Maya" : "Nemo";
  m.user_name = m.speaker_id;
  m.external_id = "m" + std::to_string(i);
  m.content = "About the " + words[i % 4] + " and the " + words[(i + 1) % 4] + " again, " +
              words[(i + 2) % 4] + " " + unique_word(i);
  m.timestamp = make_timestamp(2025, 3, 3, 8) + std::chrono::hours(3 * sitting) +
                std::chrono::minutes(in_sitting);
  return m;
}

/// Messages first .. first + count - 1.
inline std::vector<Message> conversation(std::size_t first, std::size_t count) {
  std::vector<Message> out;
  out.reserve(count);
  for (std::size_t i = first; i < first + count; ++i) out.push_back(conversation_message(i));
  return out;
}

}  // namespace nemori::test
