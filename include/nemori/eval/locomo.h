// The LoCoMo evaluation data set: long multi-session conversations with questions whose
// evidence is given as dialog ids ("D1:3").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/message.h"
#include "nemori/core/time.h"

namespace nemori {

/// One question about a conversation.
struct LocomoQuestion {
  std::string question;
  std::string answer;  ///< Text form (numbers converted); empty for adversarial questions.
  std::vector<std::string> evidence;  ///< Dialog ids holding the answer.
  int category = 0;  ///< 1 multi-hop, 2 temporal, 3 open-domain, 4 single-hop, 5 adversarial.
};

/// One session: turns sharing a date.
struct LocomoSession {
  int number = 0;         ///< From the key "session_N".
  std::string date_text;  ///< As in the file, e.g. "1:56 pm on 8 May, 2023".
  Timestamp date{};       ///< Parsed (read as UTC).
  std::vector<Message> turns;
};

/// One conversation with its questions.
struct LocomoConversation {
  std::string sample_id;
  std::string speaker_a, speaker_b;
  std::vector<LocomoSession> sessions;  ///< Sorted by session number (numerically).
  std::vector<LocomoQuestion> questions;
  /// Every turn of every session, in order.
  std::vector<Message> messages() const;
};

/// Parses "1:56 pm on 8 May, 2023" (whitespace collapsed; case-insensitive). Throws
/// ValidationError naming the text when it does not parse.
Timestamp parse_locomo_date(std::string_view text);

/// True when the JSON looks like LoCoMo (an array of objects with "conversation" and "qa", or
/// one such object).
bool is_locomo(const nlohmann::json& j);

/// Decodes LoCoMo JSON. Each turn becomes a Message: speaker_id = lower-cased name with spaces
/// as "_", user_name = the name, content = text plus " [image: CAPTION]" when the turn shares an
/// image, external_id = dia_id, timestamp = session date + 30 s × turn index (keeps order),
/// metadata = {session, img_url, blip_caption, query} when present. Sessions without a date are
/// skipped. Throws ValidationError naming the sample and key on malformed data.
std::vector<LocomoConversation> parse_locomo(const nlohmann::json& j);

/// Reads and parses a LoCoMo file.
std::vector<LocomoConversation> load_locomo(const std::filesystem::path& path);

}  // namespace nemori
