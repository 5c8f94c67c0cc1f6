// The `nemori` command as a user runs it: exit codes, messages, validate, ingest and search.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nemori_command.h"

namespace {

using Run = nemori::test::CommandRun;
const auto run = nemori::test::run_nemori;

const std::string kData = NEMORI_TEST_DATA_DIR;
const std::string kSample = std::string(NEMORI_SOURCE_DIR) + "/data/samples/maya.jsonl";

TEST(Cli, VersionAndHelpExitZero) {
  const auto v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("nemori 0."), std::string::npos) << v.out;
  for (const char* sub : {"", "validate", "ingest", "search", "stats", "health", "export", "import",
                          "migrate", "eval locomo", "bench storage", "demo", "flush"}) {
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
  EXPECT_NE(found.find("1. 2025-03-09 09:30 utc"), std::string::npos) << search.out;
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

// ---- hostile input (issue 15) -----------------------------------------------------------------

// A scratch directory removed at the end of a test.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() /
             ("nemori-cli-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& name, const std::string& text) const {
    const auto file = path / name;
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  }
};

bool has(const Run& r, const std::string& text) {
  return r.out.find(text) != std::string::npos;
}

const std::string kM1 = R"({"speaker_id": "a", "content": "m1"})";
const std::string kM2 = R"({"speaker_id": "a", "content": "m2"})";
const std::string kM3 = R"({"speaker_id": "a", "content": "m3"})";

TEST(CliHostileInput, ARawNulByteIsAnErrorNamingItsLine) {
  ScratchDir dir("nul");
  const std::string nul(1, '\0');
  const struct {
    std::string name, text, where;
  } cases[] = {
      {"inline.jsonl", kM1 + nul + kM2 + "\n" + kM3 + "\n", "inline.jsonl:1: "},
      {"own_line.jsonl", kM1 + "\n" + nul + "\n" + kM3 + "\n", "own_line.jsonl:2: "},
      {"arrays.json", "[" + kM1 + "]\n" + nul + "[" + kM2 + "]\n", "arrays.json:2: "},
  };
  for (const auto& c : cases) {
    const std::string file = dir.write(c.name, c.text);
    const auto v = run("validate " + file);
    EXPECT_EQ(v.code, 1) << c.name << ": " << v.out;
    EXPECT_TRUE(has(v, c.where) && has(v, "NUL byte")) << c.name << ": " << v.out;
    const auto i = run("ingest " + file + " --owner a --storage memory://");
    EXPECT_EQ(i.code, 1) << c.name << ": " << i.out;
    EXPECT_TRUE(has(i, "nothing was stored")) << i.out;
  }
}

TEST(CliHostileInput, DeepNestingIsRefusedNotACrash) {
  ScratchDir dir("deep");
  const std::size_t depth = 30000;
  const std::string deep = std::string(depth, '[') + std::string(depth, ']');
  const std::string file =
      dir.write("deep.jsonl", R"({"data_type": "custom", "content": )" + deep + "}\n");
  const auto v = run("validate " + file);
  EXPECT_EQ(v.code, 1) << v.out;  // was SIGSEGV
  EXPECT_TRUE(has(v, "deep.jsonl:1: ") && has(v, "nests more than 72 levels")) << v.out;
  const auto i = run("ingest " + file + " --owner a --storage memory://");
  EXPECT_EQ(i.code, 1) << i.out;
  // A stored value may nest 64 levels, not 65; the error names the field.
  const std::string ok = std::string(64, '[') + std::string(64, ']');
  const std::string over = std::string(65, '[') + std::string(65, ']');
  const std::string edge =
      dir.write("edge.jsonl", R"({"data_type": "custom", "content": )" + ok + "}\n" +
                                  R"({"data_type": "custom", "content": )" + over + "}\n");
  const auto e = run("validate " + edge);
  EXPECT_EQ(e.code, 1) << e.out;
  EXPECT_TRUE(has(e, "1 valid") && has(e, "edge.jsonl:2: raw_event.content[0]")) << e.out;
  EXPECT_TRUE(has(e, "nests more than 64 levels")) << e.out;
}

TEST(CliHostileInput, TimestampsThatCannotRoundTripAreRefused) {
  ScratchDir dir("time");
  const std::string file =
      dir.write("times.jsonl",
                R"({"speaker_id": "a", "content": "x", "timestamp": "0000-01-01T00:00:00+01:00"})"
                "\n"
                R"({"speaker_id": "a", "content": "x", "timestamp": "9999-12-31T23:30:00-01:00"})"
                "\n"
                R"({"speaker_id": "a", "content": "x", "timestamp": "0000-12-31T23:30:00-01:00"})"
                "\n");
  const auto v = run("validate " + file);
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_TRUE(has(v,
                  "times.jsonl:1: message.timestamp: \"0000-01-01T00:00:00+01:00\" is outside "
                  "the years 0001-9999"))
      << v.out;
  EXPECT_TRUE(has(v, "times.jsonl:2: message.timestamp:")) << v.out;
  EXPECT_TRUE(has(v, "1 valid")) << "0001-01-01T00:30Z is fine: " << v.out;
}

TEST(CliHostileInput, IngestStoresAllFilesInOneTransactionOrNothing) {
  ScratchDir dir("ingest");
  const std::string url = "--storage duckdb://" + (dir.path / "i.duckdb").string();
  const std::string good = dir.write("good.jsonl", kM1 + "\n" + kM2 + "\n");
  const std::string bad =
      dir.write("bad.jsonl", kM3 + "\n" + R"({"speaker_id": "a", "timestamp": "nope"})" + "\n");
  const auto r = run("ingest " + good + " " + bad + " --owner a " + url);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r, "bad.jsonl:2: message.timestamp") && has(r, "nothing was stored")) << r.out;
  EXPECT_TRUE(has(run("stats " + url), "raw events       0")) << "good.jsonl was not committed";

  // A raw id already stored: the messages of the same run are not committed either.
  const std::string raw = dir.write("raw.jsonl", R"({"data_id": "r1", "content": "x"})"
                                                 "\n");
  ASSERT_EQ(run("ingest " + raw + " --owner a " + url).code, 0);
  const std::string mixed =
      dir.write("mixed.jsonl", kM1 + "\n" + R"({"data_id": "r1", "content": "again"})" + "\n");
  const auto m = run("ingest " + mixed + " --owner a " + url);
  EXPECT_EQ(m.code, 1) << m.out;
  EXPECT_TRUE(has(m, "nothing was stored")) << m.out;
  EXPECT_TRUE(has(run("stats " + url), "raw events       1")) << "only r1 is stored";

  const auto ok = run("ingest " + good + " --owner a " + url);
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(has(ok, "stored 2 records for a (2 messages, 0 raw events)")) << ok.out;
}

TEST(CliHostileInput, ARawEventOfAnotherOwnerIsRefused) {
  ScratchDir dir("owner");
  const std::string file =
      dir.write("b.jsonl", R"({"data_id": "e1", "owner_id": "B", "content": "hello"})"
                           "\n");
  const auto r = run("ingest " + file + " --owner A --storage memory://");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_TRUE(has(r, "b.jsonl:1: raw_event.owner_id: \"B\" is not the --owner \"A\"")) << r.out;
  EXPECT_EQ(run("ingest " + file + " --owner B --storage memory://").code, 0);
}

TEST(CliHostileInput, MessageSearchShowsEveryKindOfRawEvent) {
  ScratchDir dir("search");
  const std::string url = "--storage duckdb://" + (dir.path / "s.duckdb").string();
  const std::string sample = kData + "/core/original_raw_event.json";  // content: a message list
  ASSERT_EQ(run("ingest " + sample + " --owner caroline_0 " + url).code, 0);
  const std::string doc = dir.write(
      "doc.jsonl", R"({"data_type": "document", "source": "files", "content": {"title": "Lease",)"
                   R"( "body": "the flat lease runs until March"}})"
                   "\n");
  ASSERT_EQ(run("ingest " + doc + " --owner caroline_0 " + url).code, 0);
  const auto r = run("search \"swamped lease\" --messages --owner caroline_0 " + url);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_TRUE(has(r, "locomo_dataset: ") && has(r, "swamped")) << r.out;
  EXPECT_TRUE(has(r, "files: ") && has(r, "lease runs until March")) << r.out;
}

TEST(CliHostileInput, ExportWritesThroughFifosAndDevicesAndFollowsSymlinks) {
  ScratchDir dir("export");
  const std::string url = "--storage duckdb://" + (dir.path / "e.duckdb").string();
  ASSERT_EQ(run("ingest " + dir.write("m.jsonl", kM1 + "\n") + " --owner a " + url).code, 0);

  // A symbolic link: its target is replaced, the link stays.
  const auto target = dir.path / "real.jsonl";
  std::ofstream(target) << "old\n";
  const auto link = dir.path / "link.jsonl";
  std::filesystem::create_symlink(target, link);
  const auto s = run("export -o " + link.string() + " " + url);
  EXPECT_EQ(s.code, 0) << s.out;
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  std::ifstream in(target);
  std::string first;
  std::getline(in, first);
  EXPECT_NE(first.find("nemori-dump"), std::string::npos) << first;

  // A FIFO is written through, and stays a FIFO.
  const auto fifo = dir.path / "dump.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto copy = dir.path / "from-fifo.jsonl";
  const auto f = run("export -o " + fifo.string() + " " + url + " & cat " + fifo.string() + " > " +
                     copy.string() + "; wait");
  EXPECT_EQ(f.code, 0) << f.out;
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));
  EXPECT_GT(std::filesystem::file_size(copy), 0u);

  // A full device: an error, and the device is still a device.
  if (std::filesystem::exists("/dev/full")) {
    const auto full = run("export -o /dev/full " + url);
    EXPECT_EQ(full.code, 1) << full.out;
    EXPECT_TRUE(std::filesystem::is_character_file("/dev/full"));
  }
  // A directory is refused.
  const auto d = run("export -o " + dir.path.string() + " " + url);
  EXPECT_EQ(d.code, 1) << d.out;
  EXPECT_TRUE(has(d, "is a directory")) << d.out;
  // No temporary file is left behind anywhere.
  for (const auto& entry : std::filesystem::directory_iterator(dir.path)) {
    EXPECT_EQ(entry.path().filename().string().find(".partial"), std::string::npos) << entry.path();
  }
}

TEST(CliIngest, IngestingTheSameFileTwiceStoresNothingTheSecondTime) {
  ScratchDir dir("twice");
  const std::string url = "--storage duckdb://" + (dir.path / "store.duckdb").string();
  for (int round = 0; round < 3; ++round) {
    const auto r = run("ingest " + kSample + " --owner maya --process " + url);
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_TRUE(has(r, round == 0 ? ": 41 new, 0 already stored" : ": 0 new, 41 already stored"))
        << "round " << round << ": " << r.out;
  }
  const auto stats = run("stats --json " + url);
  ASSERT_EQ(stats.code, 0) << stats.out;
  const auto j = nlohmann::json::parse(stats.out);
  EXPECT_EQ(j["total_raw_data"], 41);
  ASSERT_EQ(run("ingest " + kSample + " --owner maya --process --storage duckdb://" +
                (dir.path / "once.duckdb").string())
                .code,
            0);
  const auto single = nlohmann::json::parse(
      run("stats --json --storage duckdb://" + (dir.path / "once.duckdb").string()).out);
  // Three ingests build what one does.
  EXPECT_EQ(j["total_episodes"], single["total_episodes"]);
  EXPECT_EQ(j["total_links"], single["total_links"]);
}

TEST(CliIngest, LocomoFilesGiveOneOwnerPerConversationAndFlushBuildsWhatIsPending) {
  ScratchDir dir("locomo");
  const std::string url = "--storage duckdb://" + (dir.path / "store.duckdb").string();
  const std::string locomo = kData + "/eval/tiny_locomo.json";
  // No --owner: the conversation's sample_id names its owner. Not a terminal: plain lines.
  const auto plain = run("ingest " + locomo + " " + url);
  ASSERT_EQ(plain.code, 0) << plain.out;
  EXPECT_TRUE(has(plain, "stored tiny-1: 8 messages, 8 new\n")) << plain.out;
  EXPECT_TRUE(has(plain, "ingested 1 conversation (tiny-1): 8 messages, 8 new, 0 already stored"))
      << plain.out;
  EXPECT_TRUE(has(plain, "run 'nemori flush --storage duckdb://")) << plain.out;
  // --owner is a prefix; --process builds at once.
  const auto prefixed = run("ingest " + locomo + " --owner x --process " + url);
  ASSERT_EQ(prefixed.code, 0) << prefixed.out;
  EXPECT_TRUE(has(prefixed, "stored x:tiny-1: 8 messages, 8 new, built ")) << prefixed.out;
  // stats shows what is pending, per owner.
  const auto pending = nlohmann::json::parse(run("stats --json " + url).out);
  EXPECT_EQ(pending["pending"], (nlohmann::json{{"tiny-1", 8}})) << pending.dump();
  const auto text = run("stats " + url);
  EXPECT_TRUE(has(text, "pending          8 raw events in no episode yet")) << text.out;
  EXPECT_TRUE(has(text, "  tiny-1         8")) << text.out;
  // flush builds them; process is the same command.
  const auto flush = run("flush --owner tiny-1 " + url);
  ASSERT_EQ(flush.code, 0) << flush.out;
  EXPECT_TRUE(has(flush, "from 8 raw events")) << flush.out;
  EXPECT_TRUE(has(run("process " + url), "built 0 episodes from 0 raw events"));
  EXPECT_EQ(nlohmann::json::parse(run("stats --json " + url).out)["pending"],
            nlohmann::json::object());
  for (const char* owner : {"tiny-1", "x:tiny-1"}) {
    const auto search =
        run(std::string("search \"cello teacher\" -k 1 --owner ") + owner + " " + url);
    EXPECT_EQ(search.code, 0) << search.out;
    EXPECT_TRUE(has(search, "I started learning the cello")) << owner << ": " << search.out;
  }
  // Again: nothing new.
  const auto again = run("ingest " + locomo + " " + url);
  EXPECT_TRUE(has(again, "8 messages, 0 new, 8 already stored")) << again.out;
}

TEST(CliIngest, JsonFilesStillNeedAnOwner) {
  const auto r = run("ingest " + kSample + " --storage memory://");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_TRUE(has(r, "--owner: is required for JSON/JSONL files")) << r.out;
}

}  // namespace
