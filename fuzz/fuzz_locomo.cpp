// Fuzz target: the LoCoMo loader (`nemori validate` and `nemori eval locomo` on a LoCoMo file).
//
// Contract under test: any input gives conversations or a nemori::Error naming what is wrong,
// never a crash, a hang, undefined behaviour or another exception.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/eval/locomo.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const nlohmann::json j = nemori::parse_json(text, "locomo");
    if (!nemori::is_locomo(j)) return 0;
    for (const auto& conversation : nemori::parse_locomo(j)) {
      for (const auto& message : conversation.messages()) {
        (void)nemori::to_json(nemori::to_raw_event(message, "fuzz")).dump();
      }
    }
  } catch (const nemori::Error&) {
  }
  return 0;
}
