// A child process for the many-process tests: opens a MemorySystem on the given store, does
// one thing to one owner and prints what it did, one line at a time (flushed, so a parent can
// act on a line while the child runs).
//
//   nemori_memory_child STORE COMMAND OWNER [ARGS...]
//   STORE:   duckdb:PATH  or  postgresql:SCHEMA:URL
//   add OWNER FIRST COUNT PIECE    adds conversation messages FIRST.. in pieces of PIECE
//   flush OWNER                    prints "building", builds every pending message, then
//                                  "built RAW EPISODES"
//   feed OWNER FIRST COUNT PIECE   adds in pieces, building after each (newest segment kept
//                                  open, as the size trigger does), then flushes
//
// Exit code 0 on success, 1 with the error on stderr.
#include <cstdio>
#include <exception>
#include <string>

#include "nemori/memory/memory_system.h"
#include "processes/conversation.h"

namespace {

nemori::StorageConfig parse_store(const std::string& store) {
  nemori::StorageConfig config;
  if (store.starts_with("duckdb:")) {
    config.backend = "duckdb";
    config.path = store.substr(7);
  } else if (store.starts_with("postgresql:")) {
    const std::string rest = store.substr(11);
    const std::size_t colon = rest.find(':');
    config.backend = "postgresql";
    config.schema = rest.substr(0, colon);
    config.url = rest.substr(colon + 1);
  } else {
    throw std::runtime_error("STORE must be duckdb:PATH or postgresql:SCHEMA:URL, not " + store);
  }
  return config;
}

void say(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

void add(nemori::MemorySystem& memory, const std::string& owner, std::size_t first,
         std::size_t count, std::size_t piece, bool build_each) {
  for (std::size_t at = first; at < first + count; at += piece) {
    const auto messages = nemori::test::conversation(at, std::min(piece, first + count - at));
    memory.add_messages(owner, messages);
    if (build_each) memory.process(owner, nemori::NewestSegment::kKeepOpen);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s STORE COMMAND OWNER [ARGS...]\n", argv[0]);
    return 2;
  }
  try {
    nemori::MemoryConfig config;
    config.storage = parse_store(argv[1]);
    const std::string command = argv[2];
    const std::string owner = argv[3];
    auto memory = nemori::MemorySystem::open(config);
    if ((command == "add" || command == "feed") && argc == 7) {
      const bool feed = command == "feed";
      add(*memory, owner, std::stoul(argv[4]), std::stoul(argv[5]), std::stoul(argv[6]), feed);
      if (feed) memory->flush(owner);
      say(command + " done");
    } else if (command == "flush" && argc == 4) {
      say("building");
      const nemori::ProcessResult r = memory->flush(owner);
      say("built " + std::to_string(r.raw_events) + " " + std::to_string(r.episodes));
    } else {
      std::fprintf(stderr, "unknown command or wrong arguments: %s\n", command.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
