#include "nemori/core/message.h"

#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/json.h"

namespace nemori {

RawEvent to_raw_event(const Message& message, const std::string& owner_id,
                      const std::string& source) {
  RawEvent e;
  e.data_id = new_id();
  e.owner_id = owner_id;
  e.data_type = DataType::kConversation;
  e.content = to_json(message);
  e.source = source;
  e.temporal_info.timestamp = message.timestamp.value_or(now_utc());
  return e;
}

Message message_from_raw_event(const RawEvent& event) {
  if (event.data_type != DataType::kConversation) {
    throw ValidationError("data_type", "expected a conversation event, got " +
                                           std::string(to_string(event.data_type)));
  }
  Message m = message_from_json(event.content, "content");
  if (!m.timestamp) m.timestamp = event.temporal_info.timestamp;
  return m;
}

}  // namespace nemori
