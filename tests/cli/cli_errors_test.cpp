// What a new user meets when something is wrong (issue 16): usage errors exit 2 on one line
// naming the option and the bound, runtime errors exit 1 on one line, and the command says
// what waits to be done (events not in episodes yet) or what was not kept (memory://).
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "nemori_command.h"

namespace {

using Run = nemori::test::CommandRun;
const auto run = nemori::test::run_nemori;

const std::string kData = NEMORI_TEST_DATA_DIR;
const std::string kSample = std::string(NEMORI_SOURCE_DIR) + "/data/samples/maya.jsonl";

bool has(const Run& r, const std::string& text) {
  return r.out.find(text) != std::string::npos;
}

std::size_t lines(const Run& r) {
  return static_cast<std::size_t>(std::count(r.out.begin(), r.out.end(), '\n'));
}

// A scratch directory removed at the end of a test.
struct Scratch {
  std::filesystem::path path;
  explicit Scratch(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("nemori-cli-errors-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~Scratch() { std::filesystem::remove_all(path); }
  std::string url(const std::string& file) const {
    return "--storage duckdb://" + (path / file).string();
  }
};

TEST(CliErrors, UsageErrorsExitTwoOnOneLineNamingTheProblem) {
  const struct {
    std::string args, expected;
  } cases[] = {
      {"search x --owner a --mode bogus --storage memory://",
       "nemori: usage error: --mode: unknown value \"bogus\" (valid: bm25, vector, hybrid)"},
      {"search x --owner a -k 0 --storage memory://",
       "nemori: usage error: --limit: must be at least 1 (got 0)"},
      {"import dump.jsonl --batch-size 0 --storage memory://",
       "nemori: usage error: --batch-size: must be at least 1 (got 0)"},
      {"migrate --from memory:// --to memory:// --batch-size 0",
       "nemori: usage error: --batch-size: must be at least 1 (got 0)"},
      {"episodes --owner a -n 0 --storage memory://", "--limit: must be at least 1 (got 0)"},
      {"frobnicate", "nemori: usage error: unknown command \"frobnicate\""},
      {"eval frob", "nemori: usage error: unknown command \"frob\" (nemori eval has: locomo"},
      {"", "'nemori' needs a command: validate,"},
      {"search hello", "--owner is required (run 'nemori search --help')"},
      {"search x --owner ' ' --storage memory://",
       "--owner: an owner id must not be empty or only white space"},
      {"ingest x.jsonl --owner '' --storage memory://",
       "--owner: an owner id must not be empty or only white space"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.args);
    EXPECT_EQ(r.code, 2) << c.args << ": " << r.out;
    EXPECT_TRUE(has(r, c.expected)) << c.args << ": " << r.out;
    EXPECT_EQ(lines(r), 1u) << c.args << ": " << r.out;
    EXPECT_FALSE(has(r, "179769")) << "no double-precision bound: " << r.out;
  }
}

TEST(CliErrors, AnUnreachableServerIsOneLine) {
  const auto r = run("stats --storage postgresql://u:secret@127.0.0.1:1/db");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r, "nemori: error: cannot reach the PostgreSQL server")) << r.out;
  EXPECT_EQ(lines(r), 1u) << "libpq's several lines are joined: " << r.out;
  EXPECT_FALSE(has(r, "secret")) << r.out;
}

TEST(CliErrors, ImportIntoAFullStoreNamesTheFlag) {
  Scratch dir("import");
  ASSERT_EQ(run("ingest " + kSample + " --owner maya " + dir.url("s.duckdb")).code, 0);
  const std::string dump = (dir.path / "d.jsonl").string();
  ASSERT_EQ(run("export -o " + dump + " " + dir.url("s.duckdb")).code, 0);
  const auto r = run("import " + dump + " " + dir.url("s.duckdb"));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r, "not empty (1 owner)") && has(r, "pass --replace")) << r.out;
  EXPECT_EQ(lines(r), 1u) << r.out;
}

TEST(CliErrors, ImportAndIngestIntoMemorySayNothingWasKept) {
  Scratch dir("memory");
  ASSERT_EQ(run("ingest " + kSample + " --owner maya " + dir.url("s.duckdb")).code, 0);
  const std::string dump = (dir.path / "d.jsonl").string();
  ASSERT_EQ(run("export -o " + dump + " " + dir.url("s.duckdb")).code, 0);
  const auto i = run("import " + dump + " --storage memory://");
  EXPECT_EQ(i.code, 0) << i.out;
  EXPECT_TRUE(has(i, "imported 41 raw events")) << i.out;
  EXPECT_TRUE(has(i, "memory://, which ends with this command: nothing was kept")) << i.out;
  const auto g = run("ingest " + kSample + " --owner maya --storage memory://");
  EXPECT_EQ(g.code, 0) << g.out;
  EXPECT_TRUE(has(g, "nothing was kept")) << g.out;
  EXPECT_FALSE(has(g, "nemori flush")) << "no advice that cannot work on memory://: " << g.out;
  const auto m =
      run("migrate --from duckdb://" + (dir.path / "s.duckdb").string() + " --to memory://");
  EXPECT_EQ(m.code, 0) << m.out;
  EXPECT_TRUE(has(m, "nothing was kept")) << m.out;
  const auto kept = run("ingest " + kSample + " --owner maya " + dir.url("t.duckdb"));
  EXPECT_FALSE(has(kept, "nothing was kept")) << kept.out;
}

TEST(CliErrors, SearchSaysHowManyEventsWaitForProcess) {
  Scratch dir("pending");
  const std::string url = dir.url("p.duckdb");
  const auto ingest = run("ingest " + kSample + " --owner maya " + url);
  ASSERT_EQ(ingest.code, 0) << ingest.out;
  EXPECT_TRUE(has(ingest, "41 raw events of maya are not in episodes yet")) << ingest.out;
  const auto search = run("search \"dog\" --owner maya " + url);
  EXPECT_EQ(search.code, 0) << search.out;
  EXPECT_TRUE(has(search, "(no episode matches)")) << search.out;
  EXPECT_TRUE(has(search, "41 raw events of maya are not in episodes yet")) << search.out;
  EXPECT_TRUE(has(search, "run 'nemori flush --owner maya --storage duckdb://")) << search.out;
  const auto listing = run("episodes --owner maya " + url);
  EXPECT_TRUE(has(listing, "(no episodes of maya)") && has(listing, "41 raw events"))
      << listing.out;
  ASSERT_EQ(run("process --owner maya " + url).code, 0);
  const auto after = run("search \"dog\" --owner maya " + url);
  EXPECT_EQ(after.code, 0) << after.out;
  EXPECT_FALSE(has(after, "not in episodes yet")) << after.out;
  EXPECT_FALSE(has(after, "(no episode matches)")) << after.out;
}

TEST(CliErrors, AnOffsetPastTheEndStatesTheBound) {
  Scratch dir("offset");
  const std::string url = dir.url("o.duckdb");
  ASSERT_EQ(run("ingest " + kSample + " --owner maya --process " + url).code, 0);
  const auto r = run("episodes --owner maya --offset 2000000 " + url);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r, "--offset: 2000000 is past the end: maya has ")) << r.out;
  EXPECT_TRUE(has(r, "use an offset below ")) << r.out;
  EXPECT_EQ(run("episodes --owner maya --offset 1 " + url).code, 0);
}

TEST(CliErrors, IngestingALocomoFileStoresItsConversations) {
  const std::string locomo = kData + "/eval/tiny_locomo.json";
  ASSERT_EQ(run("validate " + locomo).code, 0);
  const auto r = run("ingest " + locomo + " --owner a --storage memory://");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r, "stored a:tiny-1: 8 messages")) << r.out;
  EXPECT_FALSE(has(r, "nemori validate")) << "validate calls this file valid: " << r.out;
}

TEST(CliSearchOutput, EachHitShowsItsTimeTitleAndBestMatchingMessages) {
  Scratch dir("output");
  const std::string url = dir.url("o.duckdb");
  ASSERT_EQ(run("ingest " + kSample + " --owner maya --process " + url).code, 0);
  const auto r =
      run("search \"What is the dog called and where is he from?\" --owner maya -k 1 " + url);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r, "  1. 2025-03-09 09:30 UTC  ")) << "the hit's time: " << r.out;
  EXPECT_TRUE(has(r,
                  "Maya: Big news: we adopted a dog yesterday! A three-year-old beagle mix "
                  "from the Riverside shelter."))
      << "the message that answers, not only a title: " << r.out;
  EXPECT_TRUE(has(r, "Maya: Biscuit. He is very food-motivated"))
      << "the reply that names the dog, the other half of the answer: " << r.out;
  EXPECT_FALSE(has(r, "\033[")) << "no terminal codes when stdout is not a terminal: " << r.out;
  const auto demo = run("demo --storage memory:// --file " + kSample);
  EXPECT_EQ(demo.code, 0) << demo.out;
  EXPECT_TRUE(has(demo, "the Riverside shelter")) << demo.out;
  EXPECT_TRUE(has(demo, "Maya: Biscuit.")) << "the dog's name: " << demo.out;
  EXPECT_TRUE(has(demo, "I start on June 2nd")) << demo.out;
}

}  // namespace
