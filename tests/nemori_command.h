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

/// Runs `nemori ARGS` through the shell (ARGS quoted by the caller) and waits for it. With
/// `with_stderr` false, `out` is stdout alone (what a pipe would get) and stderr is dropped.
inline CommandRun run_nemori_command(const std::string& args, bool with_stderr) {
  const std::string command =
      std::string(NEMORI_BINARY) + " " + args + (with_stderr ? " 2>&1" : " 2>/dev/null");
  CommandRun r;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) r.out += buffer.data();
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

/// `nemori ARGS` with stdout and stderr together in `out`.
inline CommandRun run_nemori(const std::string& args) {
  return run_nemori_command(args, true);
}

/// `nemori ARGS` with stdout alone in `out`.
inline CommandRun run_nemori_stdout(const std::string& args) {
  return run_nemori_command(args, false);
}

}  // namespace nemori::test
