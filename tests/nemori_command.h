// Running the `nemori` binary (NEMORI_BINARY, set by tests/CMakeLists.txt) from a test.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace nemori::test {

/// What one run of the command gave.
struct CommandRun {
  int code = -1;    ///< exit code; -1 when it did not exit normally
  std::string out;  ///< stdout and stderr together
};

/// Runs `nemori ARGS` through the shell (ARGS quoted by the caller) and waits for it.
inline CommandRun run_nemori(const std::string& args) {
  const std::string command = std::string(NEMORI_BINARY) + " " + args + " 2>&1";
  CommandRun r;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) r.out += buffer.data();
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace nemori::test
