// Fuzz target: the dump reader behind `nemori import`, restoring into an in-memory store.
//
// Contract under test: any input is restored or refused with a nemori::Error naming the line
// (nothing written then), never a crash, a hang, undefined behaviour or another exception.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "nemori/core/error.h"
#include "nemori/storage/dump.h"
#include "nemori/storage/factory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto storage = nemori::open_storage(nemori::parse_storage_url("memory://"));
  try {
    nemori::restore_dump(*storage, in, /*replace=*/false, /*batch_size=*/64);
  } catch (const nemori::Error&) {
  }
  return 0;
}
