// A DuckDB file whose secondary index lost the rows of a replayed write-ahead log (what DuckDB
// 1.4-1.5 write when a database with a pending WAL is closed without a query binding the
// index: docs/duckdb.md): `nemori health` must say so, and `nemori repair` must restore it.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <duckdb.h>
#include <gtest/gtest.h>

#include "nemori/core/raw_event.h"
#include "nemori/core/time.h"
#include "nemori/storage/factory.h"
#include "nemori_command.h"

namespace nemori {
namespace {

namespace fs = std::filesystem;

using CliRun = test::CommandRun;
const auto run = test::run_nemori;

std::vector<RawEvent> events_of(const std::string& owner, int count) {
  std::vector<RawEvent> events;
  for (int i = 0; i < count; ++i) {
    RawEvent e;
    e.data_id = owner + "-" + std::to_string(i);
    e.owner_id = owner;
    e.data_type = DataType::kConversation;
    e.content = nlohmann::json::array({{{"speaker_id", owner},
                                        {"content", "message " + std::to_string(i)},
                                        {"timestamp", "2024-05-01T10:00:00+00:00"}}});
    e.temporal_info.timestamp = *parse_iso8601("2024-05-01T10:00:00+00:00");
    events.push_back(std::move(e));
  }
  return events;
}

class DuckDbIndexRepairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("nemori-repair-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "store.duckdb").string();
    url_ = "duckdb://" + path_;
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Leaves `ben`'s 300 raw events in the WAL only, then closes the file the way that loses
  // them from the owner index: a bare DuckDB open and close, no query in between.
  void damage_owner_index() {
    open_storage(url_)->raw_data().store_batch(events_of("ada", 200));  // closed cleanly
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      auto storage = open_storage(url_);
      storage->raw_data().store_batch(events_of("ben", 300));
      _exit(0);  // as if killed: committed to the WAL, never checkpointed
    }
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ASSERT_TRUE(fs::exists(path_ + ".wal"));
    duckdb_database database = nullptr;
    ASSERT_EQ(duckdb_open(path_.c_str(), &database), DuckDBSuccess);
    duckdb_close(&database);
  }

  fs::path dir_;
  std::string path_;
  std::string url_;
};

TEST_F(DuckDbIndexRepairTest, HealthReportsTheDamagedIndexAndRepairRestoresIt) {
  damage_owner_index();
  const CliRun health = run("health --storage " + url_);
  EXPECT_EQ(health.code, 1) << health.out;
  EXPECT_NE(health.out.find("ix_raw_data_owner_id"), std::string::npos) << health.out;
  EXPECT_NE(health.out.find("nemori repair"), std::string::npos) << health.out;
  // Owner-scoped reads miss the rows while the index is damaged...
  EXPECT_EQ(open_storage(url_)->raw_data().count("ben"), 0u)
      << "the damage was not reproduced: this DuckDB may have fixed the bug (docs/duckdb.md)";

  const CliRun repair = run("repair --storage " + url_);
  EXPECT_EQ(repair.code, 0) << repair.out;
  EXPECT_NE(repair.out.find("rebuilt 7 indexes"), std::string::npos) << repair.out;
  EXPECT_NE(repair.out.find("every index agrees with its table"), std::string::npos) << repair.out;

  const CliRun after = run("health --storage " + url_);
  EXPECT_EQ(after.code, 0) << after.out;
  auto storage = open_storage(url_);
  EXPECT_EQ(storage->raw_data().count("ben"), 300u);
  EXPECT_EQ(storage->raw_data().count("ada"), 200u);
  EXPECT_TRUE(storage->check_integrity(true).consistent());
}

TEST_F(DuckDbIndexRepairTest, OpeningThroughNemoriAfterACrashKeepsTheIndexWhole) {
  open_storage(url_)->raw_data().store_batch(events_of("ada", 200));
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto storage = open_storage(url_);
    storage->raw_data().store_batch(events_of("ben", 300));
    _exit(0);  // as if killed
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(fs::exists(path_ + ".wal"));
  // Opened and closed by nemori with no owner read: the checkpoint on open keeps the rows.
  { open_storage(url_)->close(); }
  auto storage = open_storage(url_);
  EXPECT_EQ(storage->raw_data().count("ben"), 300u);
  EXPECT_TRUE(storage->check_integrity(true).consistent());
}

TEST_F(DuckDbIndexRepairTest, RepairOfAHealthyStoreChangesNothing) {
  open_storage(url_)->raw_data().store_batch(events_of("ada", 50));
  const CliRun repair = run("repair --storage " + url_);
  EXPECT_EQ(repair.code, 0) << repair.out;
  EXPECT_EQ(open_storage(url_)->raw_data().count("ada"), 50u);
}

}  // namespace
}  // namespace nemori
