// The enumerations of the domain model, with their stable text (or integer) forms.
//
// Text forms are the original system's values, so JSON moves between the two unchanged.
// Every parse_* function throws ValidationError naming the unknown value and listing the valid
// ones.
#pragma once

#include <array>
#include <string_view>

namespace nemori {

/// What kind of thing a raw event records.
enum class DataType {
  kConversation,
  kActivity,
  kLocation,
  kMedia,
  kDocument,
  kSensor,
  kExternal,
  kCustom
};
/// All DataType values, in declaration order.
inline constexpr std::array<DataType, 8> kAllDataTypes = {
    DataType::kConversation, DataType::kActivity, DataType::kLocation, DataType::kMedia,
    DataType::kDocument,     DataType::kSensor,   DataType::kExternal, DataType::kCustom};
/// "conversation", "activity", ...
std::string_view to_string(DataType type);
/// Inverse of to_string(DataType). Throws ValidationError on an unknown value.
DataType parse_data_type(std::string_view text);

/// What kind of experience an episode narrates.
enum class EpisodeType {
  kConversational,
  kBehavioral,
  kSpatial,
  kCreative,
  kPhysiological,
  kSocial,
  kMixed,
  kSynthetic
};
/// All EpisodeType values, in declaration order.
inline constexpr std::array<EpisodeType, 8> kAllEpisodeTypes = {
    EpisodeType::kConversational, EpisodeType::kBehavioral,    EpisodeType::kSpatial,
    EpisodeType::kCreative,       EpisodeType::kPhysiological, EpisodeType::kSocial,
    EpisodeType::kMixed,          EpisodeType::kSynthetic};
/// "conversational", "behavioral", ...
std::string_view to_string(EpisodeType type);
/// Inverse of to_string(EpisodeType). Throws ValidationError on an unknown value.
EpisodeType parse_episode_type(std::string_view text);

/// How much an episode spans; stored as its integer value 1..4.
enum class EpisodeLevel { kAtomic = 1, kCompound = 2, kThematic = 3, kArchival = 4 };
/// All EpisodeLevel values, in declaration order.
inline constexpr std::array<EpisodeLevel, 4> kAllEpisodeLevels = {
    EpisodeLevel::kAtomic, EpisodeLevel::kCompound, EpisodeLevel::kThematic,
    EpisodeLevel::kArchival};
/// "atomic", "compound", ... (the integer form is static_cast<int>(level)).
std::string_view to_string(EpisodeLevel level);
/// From the integer value 1..4. Throws ValidationError otherwise.
EpisodeLevel episode_level_from_int(long long value);

/// Who wrote a message.
enum class MessageRole { kUser, kAssistant, kSystem, kTool };
/// "user", "assistant", "system", "tool".
std::string_view to_string(MessageRole role);
/// Inverse of to_string(MessageRole). Throws ValidationError on an unknown value.
MessageRole parse_message_role(std::string_view text);

}  // namespace nemori
