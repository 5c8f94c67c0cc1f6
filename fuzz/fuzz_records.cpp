// Fuzz target: the record reader behind `nemori validate` and `nemori ingest` (JSON array,
// JSONL, one JSON object), then the checks every stored value goes through.
//
// Contract under test: any input gives records or errors naming a line, never a crash, a hang,
// undefined behaviour or an exception other than nemori::Error.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>

#include "nemori/core/error.h"
#include "nemori/core/input_formats.h"
#include "nemori/core/json.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const nemori::InputFile file = nemori::read_records(text);
  for (const auto& record : file.records) {
    // What ingest does with an accepted record before storing it.
    if (const auto* event = std::get_if<nemori::RawEvent>(&record.value)) {
      if (!event->owner_id.empty()) {
        try {
          nemori::validate(*event);
        } catch (const nemori::ValidationError&) {
        }
      }
      (void)nemori::to_json(*event).dump();
    } else if (const auto* message = std::get_if<nemori::Message>(&record.value)) {
      (void)nemori::to_json(nemori::to_raw_event(*message, "fuzz")).dump();
    } else if (const auto* episode = std::get_if<nemori::Episode>(&record.value)) {
      (void)nemori::to_json(*episode).dump();
    }
  }
  // The parser on its own, and the value checks on whatever it builds.
  try {
    const nlohmann::json value = nemori::parse_json(text);
    (void)nemori::json_depth(value);
    nemori::validate_json_text(value, "input");
  } catch (const nemori::ValidationError&) {
  }
  return 0;
}
