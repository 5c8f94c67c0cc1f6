// `make run`, the first thing a new user types after setup, builds only what the demo needs.
#include <array>
#include <cstdio>
#include <string>

#include <gtest/gtest.h>

namespace {

// The commands `make -n run` would run in the source tree (nothing is executed).
std::string planned_run_commands() {
  const std::string command =
      "make --no-print-directory -n -C '" + std::string(NEMORI_SOURCE_DIR) + "' run 2>&1";
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) out += buffer.data();
  pclose(pipe);
  return out;
}

TEST(MakeRun, BuildsOnlyTheCommandAndRunsSetupOnlyWhenNotDone) {
  const std::string plan = planned_run_commands();
  if (plan.find("No rule to make target") != std::string::npos || plan.empty()) {
    GTEST_SKIP() << "make is not available here: " << plan;
  }
  EXPECT_NE(plan.find("--target nemori\n"), std::string::npos)
      << "builds the nemori target only, not the test programs: " << plan;
  EXPECT_EQ(plan.find("make --no-print-directory build"), std::string::npos)
      << "no full build: " << plan;
  // setup.sh is guarded by its stamp, so `bash scripts/setup.sh && make run` runs it once.
  EXPECT_NE(plan.find("if [[ ! -f third_party/duckdb/.stamp ]]; then scripts/setup.sh; fi"),
            std::string::npos)
      << plan;
  EXPECT_NE(plan.find("scripts/run-demo.sh"), std::string::npos) << plan;
}

}  // namespace
