#include "nemori/core/raw_event.h"

#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/json.h"
#include "nemori/core/utf8.h"

namespace nemori {

void validate(const RawEvent& e, std::size_t max_content_bytes) {
  validate_id(e.data_id, "data_id");
  if (e.owner_id.empty()) throw ValidationError("owner_id", "is required");
  validate_id(e.owner_id, "owner_id");
  if (e.content.is_null()) throw ValidationError("content", "must not be null");
  validate_text(e.source, "source");
  validate_text(e.processing_version, "processing_version");
  validate_text(e.temporal_info.precision, "temporal_info.precision");
  if (e.temporal_info.timezone) validate_text(*e.temporal_info.timezone, "temporal_info.timezone");
  validate_timestamp(e.temporal_info.timestamp, "temporal_info.timestamp");
  if (!e.metadata.is_object()) throw ValidationError("metadata", "must be a JSON object");
  validate_json_text(e.content, "content");
  validate_json_text(e.metadata, "metadata");
  const std::size_t size = e.content.is_string() ? e.content.get_ref<const std::string&>().size()
                                                 : e.content.dump().size();
  if (size > max_content_bytes) {
    throw ValidationError("content", "is " + std::to_string(size) + " bytes, above the limit of " +
                                         std::to_string(max_content_bytes));
  }
}

}  // namespace nemori
