// The `nemori` command as a user runs it: exit codes, messages, validate, ingest and search.
#include <sys/wait.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

namespace {

struct Run {
  int code = -1;
  std::string out;  ///< stdout and stderr together
};

Run run(const std::string& args) {
  const std::string command = std::string(NEMORI_BINARY) + " " + args + " 2>&1";
  Run r;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buffer{};
  while (std::fgets(buffer.data(), buffer.size(), pipe) != nullptr) r.out += buffer.data();
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const std::string kData = NEMORI_TEST_DATA_DIR;
const std::string kSample = std::string(NEMORI_SOURCE_DIR) + "/data/samples/maya.jsonl";

TEST(Cli, VersionAndHelpExitZero) {
  const auto v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("nemori 0."), std::string::npos) << v.out;
  for (const char* sub : {"", "validate", "ingest", "search", "stats", "health", "export", "import",
                          "migrate", "eval locomo", "bench storage", "demo"}) {
    const auto h = run(std::string(sub) + " --help");
    EXPECT_EQ(h.code, 0) << sub << ": " << h.out;
    EXPECT_NE(h.out.find("Usage"), std::string::npos) << sub;
  }
}

TEST(Cli, UsageErrorsExitTwoWithOneClearLine) {
  const auto none = run("");
  EXPECT_EQ(none.code, 2) << none.out;
  const auto unknown = run("frobnicate");
  EXPECT_EQ(unknown.code, 2) << unknown.out;
  const auto missing = run("search hello");
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.out.find("--owner"), std::string::npos) << missing.out;
}

TEST(Cli, RuntimeErrorsExitOneWithTheReason) {
  const auto r = run("validate /nonexistent/file.jsonl");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("nemori: error: /nonexistent/file.jsonl: cannot read: no such file"),
            std::string::npos)
      << r.out;
  const auto backend = run("stats --storage mongodb://localhost/x");
  EXPECT_EQ(backend.code, 1);
  EXPECT_NE(backend.out.find("memory"), std::string::npos)
      << "lists supported backends: " << backend.out;
}

TEST(Cli, ValidateReportsEachBadRecordWithItsLine) {
  const auto r = run("validate " + kData + "/cli/messages_bad.jsonl");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("messages_bad.jsonl:2: message.timestamp: \"yesterday\" is not an ISO-8601"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("messages_bad.jsonl:3: invalid JSON"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("messages_bad.jsonl:4: message.role: unknown value \"robot\""),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2 valid"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 invalid"), std::string::npos) << r.out;
}

TEST(Cli, ValidateAcceptsTheSampleAndLocomo) {
  const auto r = run("validate " + kSample);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("41 valid (41 messages"), std::string::npos) << r.out;
  const auto l = run("validate " + kData + "/eval/tiny_locomo.json");
  EXPECT_EQ(l.code, 0) << l.out;
  EXPECT_NE(l.out.find("locomo, 1 conversations, 8 messages"), std::string::npos) << l.out;
}

TEST(Cli, EvalLocomoWritesMissesAndRankings) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nemori-cli-eval-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto rankings = dir / "rankings.jsonl";
  const auto r = run("eval locomo " + kData + "/eval/tiny_locomo.json --json --rankings " +
                     rankings.string() + " --misses " + (dir / "misses.jsonl").string());
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"questions\": 3"), std::string::npos) << r.out;
  std::ifstream in(rankings);
  std::string line;
  std::size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    EXPECT_NE(line.find("\"ranking\":[{"), std::string::npos) << line;
    EXPECT_NE(line.find("\"dialog_ids\""), std::string::npos) << line;
  }
  EXPECT_EQ(lines, 3u) << "one line per question asked";
  EXPECT_TRUE(std::filesystem::exists(dir / "misses.jsonl"));
  std::filesystem::remove_all(dir);
}

TEST(Cli, IngestSearchExportImportOnDuckDB) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("nemori-cli-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string url = "--storage duckdb://" + (dir / "cli.duckdb").string();
  const auto ingest = run("ingest " + kSample + " --owner maya --process " + url);
  ASSERT_EQ(ingest.code, 0) << ingest.out;
  EXPECT_NE(ingest.out.find("stored 41 records"), std::string::npos) << ingest.out;
  const auto search = run("search \"beagle from the shelter\" --owner maya -k 1 " + url);
  EXPECT_EQ(search.code, 0) << search.out;
  std::string found = search.out;
  for (char& c : found) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(found.find("1. ["), std::string::npos) << search.out;
  EXPECT_NE(found.find("beagle"), std::string::npos)
      << "the beagle episode comes first: " << search.out;
  const auto other = run("search \"beagle\" --owner someone-else " + url);
  EXPECT_NE(other.out.find("no episode matches"), std::string::npos) << other.out;
  const auto dump = (dir / "dump.jsonl").string();
  ASSERT_EQ(run("export -o " + dump + " " + url).code, 0);
  const auto refused = run("import " + dump + " " + url);
  EXPECT_EQ(refused.code, 1) << "import into a non-empty store needs --replace: " << refused.out;
  const auto copy = run("import " + dump + " --storage memory://");
  EXPECT_EQ(copy.code, 0) << copy.out;
  EXPECT_NE(copy.out.find("imported 41 raw events"), std::string::npos) << copy.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
