// `nemori facts` and the statements block of `nemori search` over a DuckDB store whose
// statements the test wrote with Storage::apply (no model needed to read them).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "nemori/core/episode.h"
#include "nemori/memory/memory_system.h"
#include "nemori/storage/factory.h"
#include "nemori_command.h"

namespace nemori::test {
namespace {

namespace fs = std::filesystem;

// A DuckDB store where Alice lived in Boston, then Denver; one episode supports both.
class FactsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nemori-facts-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    url_ = "duckdb://" + (dir_ / "store.duckdb").string();
    MemoryConfig config;
    config.storage = parse_storage_url(url_);
    auto memory = MemorySystem::open(config);
    Message m;
    m.speaker_id = "Alice";
    m.content = "I moved from Boston to Denver.";
    m.timestamp = make_timestamp(2023, 6, 1, 10, 0);
    memory->add_messages("alice", std::vector<Message>{m});
    memory->flush("alice");
    const std::string episode = memory->list_episodes("alice", 1, 0)[0].episode_id;
    const auto statement = [&](const std::string& id, const std::string& content,
                               Timestamp from) {
      Statement s;
      s.statement_id = id;
      s.owner_id = "alice";
      s.subject = "Alice";
      s.content = content;
      s.valid_from = from;
      s.recorded_at = s.updated_at = from;
      s.source_episode_ids = {episode};
      return s;
    };
    WriteBatch batch;
    Statement boston = statement("b0510000-boston", "Alice lives in Boston.",
                                 make_timestamp(2023, 1, 1, 0, 0));
    boston.valid_to = make_timestamp(2023, 6, 1, 10, 0);
    boston.superseded_by = "d3a70000-denver";
    batch.statements = {statement("d3a70000-denver", "Alice lives in Denver.",
                                  make_timestamp(2023, 6, 1, 10, 0)),
                        boston};
    memory->storage().apply(batch);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CommandRun facts(const std::string& args) {
    return run_nemori("facts --owner alice --storage '" + url_ + "' " + args);
  }

  fs::path dir_;
  std::string url_;
};

TEST_F(FactsTest, ListsCurrentStatementsAndEveryVersionWithAll) {
  CommandRun r = facts("");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("d3a70000  fact          0.80  2023-06-01  Alice lives in Denver."),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("Boston"), std::string::npos) << r.out;
  r = facts("--all");
  EXPECT_NE(r.out.find("Alice lives in Boston.  (until 2023-06-01)"), std::string::npos) << r.out;
  r = facts("--as-of 2023-03-01");
  EXPECT_NE(r.out.find("Boston"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Denver."), std::string::npos) << r.out;
  r = facts("--all --query DENVER --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["statement_id"], "d3a70000-denver");
  r = facts("--category mood");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("mood"), std::string::npos) << r.out;
}

TEST_F(FactsTest, HistoryShowsTheChainOldestFirst) {
  const CommandRun r = facts("--history d3a70000");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto boston = r.out.find("2023-01-01 … 2023-06-01  Alice lives in Boston.  (superseded by d3a70000)");
  const auto denver = r.out.find("2023-06-01 … now  Alice lives in Denver.");
  ASSERT_NE(boston, std::string::npos) << r.out;
  ASSERT_NE(denver, std::string::npos) << r.out;
  EXPECT_LT(boston, denver);
}

TEST_F(FactsTest, DeleteAsksUnlessYesAndPrintsWhatItReopened) {
  CommandRun r = run_nemori("facts --owner alice --storage '" + url_ +
                            "' --delete d3a70000 < /dev/null");
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.out.find("nothing deleted"), std::string::npos) << r.out;
  r = facts("--delete d3a70000 --yes");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("deleted d3a70000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reopened b0510000"), std::string::npos) << r.out;
  r = facts("");
  EXPECT_NE(r.out.find("Alice lives in Boston."), std::string::npos) << r.out;
}

TEST_F(FactsTest, SearchPrintsStatementsUnderTheEpisodes) {
  CommandRun r = run_nemori("search 'where does Alice live' --owner alice --storage '" + url_ + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto block = r.out.find("statements:\n");
  ASSERT_NE(block, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[2023-06-01 … now] Alice lives in Denver.", block), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("Boston.", block), std::string::npos) << r.out;
  r = run_nemori("search 'where does Alice live' --history --owner alice --storage '" + url_ + "'");
  EXPECT_NE(r.out.find("[2023-01-01 … 2023-06-01] Alice lives in Boston."), std::string::npos)
      << r.out;
}

TEST_F(FactsTest, StatsAndHealthSayWhatSemanticMemoryHoldsAndWhetherItRuns) {
  CommandRun r = run_nemori("stats --storage '" + url_ + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("statements       1 current, 1 superseded"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("merges           0"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("semantic memory  off (LLM-free)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("episode merging  off (LLM-free)"), std::string::npos) << r.out;
  r = run_nemori("health --storage '" + url_ + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("semantic memory  off (LLM-free)"), std::string::npos) << r.out;
}

TEST_F(FactsTest, ExportImportAndMigrateCountTheStatements) {
  const std::string dump = (dir_ / "store.jsonl").string();
  CommandRun r = run_nemori("export -o '" + dump + "' --storage '" + url_ + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(", 2 statements (2 sources), 0 semantic progress rows"), std::string::npos)
      << r.out;
  r = run_nemori("import '" + dump + "' --storage memory://");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("imported 1 raw events, 1 episodes, 1 links, 2 statements"),
            std::string::npos)
      << r.out;
  const std::string copy = "duckdb://" + (dir_ / "copy.duckdb").string();
  r = run_nemori("migrate --from '" + url_ + "' --to '" + copy + "'");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(", 2 statements (2 sources), 0 semantic progress rows from "),
            std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace nemori::test
