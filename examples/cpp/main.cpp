// A program that uses nemori as a library: it opens a MemorySystem on a DuckDB file, adds a
// short conversation, builds its episodes (no LLM needed) and searches them.
//
// Build it against an installed nemori (see README.md, "Using the library"):
//   cmake -S examples/cpp -B example-build -DCMAKE_PREFIX_PATH=/where/nemori/is/installed
//   cmake --build example-build && ./example-build/nemori_example memory.duckdb
#include <iostream>
#include <string>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/core/time.h"
#include "nemori/memory/memory_system.h"

namespace {

nemori::Message message(const std::string& speaker, const std::string& name,
                        const std::string& text, unsigned minute) {
  nemori::Message m;
  m.speaker_id = speaker;
  m.user_name = name;
  m.content = text;
  m.timestamp = nemori::make_timestamp(2025, 3, 9, 9, minute);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " FILE.duckdb\n";
    return 2;
  }
  try {
    nemori::MemoryConfig config;
    config.storage.backend = "duckdb";
    config.storage.path = argv[1];
    const auto memory = nemori::MemorySystem::open(config);

    const std::vector<nemori::Message> conversation = {
        message("maya", "Maya", "Big news: we adopted a dog yesterday, a beagle from the shelter!",
                30),
        message("nemo", "Nemo", "Congratulations! What is the dog called?", 31),
        message("maya", "Maya", "Biscuit. He already stole half a sandwich off the counter.", 32),
    };
    memory->add_messages("maya", conversation);  // stored (durable) at once
    const auto built = memory->flush("maya");    // builds the episodes of what is pending
    std::cout << "episodes built: " << built.episodes << "\n";

    nemori::MemorySearchRequest request;
    request.owner_id = "maya";
    request.query = "what is the dog called";
    request.limit = 3;
    for (const auto& hit : memory->search(request).hits) {
      std::cout << "hit: " << hit.episode.title << " (score " << hit.score << ")\n"
                << hit.episode.content << "\n";
    }
  } catch (const nemori::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
