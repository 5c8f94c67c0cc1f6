#include "nemori/core/enums.h"

#include <string>

#include "core/enum_names.h"
#include "nemori/core/error.h"

namespace nemori {

namespace {

using detail::parse_enum_name;

constexpr std::array<MessageRole, 4> kAllRoles = {MessageRole::kUser, MessageRole::kAssistant,
                                                  MessageRole::kSystem, MessageRole::kTool};

}  // namespace

std::string_view to_string(DataType type) {
  switch (type) {
    case DataType::kConversation:
      return "conversation";
    case DataType::kActivity:
      return "activity";
    case DataType::kLocation:
      return "location";
    case DataType::kMedia:
      return "media";
    case DataType::kDocument:
      return "document";
    case DataType::kSensor:
      return "sensor";
    case DataType::kExternal:
      return "external";
    case DataType::kCustom:
      return "custom";
  }
  return "custom";
}

DataType parse_data_type(std::string_view text) {
  return parse_enum_name(text, kAllDataTypes, "data_type");
}

std::string_view to_string(EpisodeType type) {
  switch (type) {
    case EpisodeType::kConversational:
      return "conversational";
    case EpisodeType::kBehavioral:
      return "behavioral";
    case EpisodeType::kSpatial:
      return "spatial";
    case EpisodeType::kCreative:
      return "creative";
    case EpisodeType::kPhysiological:
      return "physiological";
    case EpisodeType::kSocial:
      return "social";
    case EpisodeType::kMixed:
      return "mixed";
    case EpisodeType::kSynthetic:
      return "synthetic";
  }
  return "mixed";
}

EpisodeType parse_episode_type(std::string_view text) {
  return parse_enum_name(text, kAllEpisodeTypes, "episode_type");
}

std::string_view to_string(EpisodeLevel level) {
  switch (level) {
    case EpisodeLevel::kAtomic:
      return "atomic";
    case EpisodeLevel::kCompound:
      return "compound";
    case EpisodeLevel::kThematic:
      return "thematic";
    case EpisodeLevel::kArchival:
      return "archival";
  }
  return "atomic";
}

EpisodeLevel episode_level_from_int(long long value) {
  if (value < 1 || value > 4) {
    throw ValidationError("level", "unknown value " + std::to_string(value) +
                                       " (valid: 1 atomic, 2 compound, 3 thematic, 4 archival)");
  }
  return static_cast<EpisodeLevel>(value);
}

std::string_view to_string(MessageRole role) {
  switch (role) {
    case MessageRole::kUser:
      return "user";
    case MessageRole::kAssistant:
      return "assistant";
    case MessageRole::kSystem:
      return "system";
    case MessageRole::kTool:
      return "tool";
  }
  return "user";
}

MessageRole parse_message_role(std::string_view text) {
  return parse_enum_name(text, kAllRoles, "role");
}

}  // namespace nemori
