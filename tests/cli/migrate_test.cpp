// `nemori migrate` between DuckDB and PostgreSQL, both ways: the copy holds the same counts and
// dumps to the same records as the original. Needs a PostgreSQL test server
// (NEMORI_TEST_POSTGRES_URL); skipped, saying so, without one.
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "nemori_command.h"
#include "test_store.h"

namespace nemori::test {
namespace {

const std::string kSample = std::string(NEMORI_SOURCE_DIR) + "/data/samples/maya.jsonl";
const std::string kLocomo = std::string(NEMORI_TEST_DATA_DIR) + "/eval/tiny_locomo.json";

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

// The records of a store's dump (`nemori export`): every line but the header and the trailer,
// which carry the time of the export and checksums over it.
std::vector<std::string> dumped_records(const TestStore& store) {
  const CommandRun r = run_nemori_stdout("export --storage " + quote(store.url()));
  EXPECT_EQ(r.code, 0) << r.out;
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  EXPECT_GE(lines.size(), 2u) << r.out;
  if (lines.size() < 2) return {};
  EXPECT_NE(lines.front().find("\"format\":\"nemori-dump\""), std::string::npos) << lines.front();
  EXPECT_NE(lines.back().find("\"type\":\"end\""), std::string::npos) << lines.back();
  return {lines.begin() + 1, lines.end() - 1};
}

// `nemori stats --json`'s totals.
nlohmann::json totals(const TestStore& store) {
  const CommandRun r = run_nemori_stdout("stats --json --storage " + quote(store.url()));
  EXPECT_EQ(r.code, 0) << r.out;
  const auto stats = nlohmann::json::parse(r.out, nullptr, false);
  if (stats.is_discarded()) {
    ADD_FAILURE() << "stats --json printed no JSON: " << r.out;
    return {};
  }
  return {{"owners", stats.value("owners", -1)},
          {"raw_events", stats.value("total_raw_data", -1)},
          {"processed", stats.value("processed_raw_data", -1)},
          {"episodes", stats.value("total_episodes", -1)},
          {"links", stats.value("total_links", -1)},
          {"pending", stats.value("pending", nlohmann::json())}};
}

TEST(Migrate, DuckDbToPostgresAndBackKeepsEveryRecord) {
  TestStore source("duckdb", "migrate_source");
  TestStore postgres("postgresql", "migrate");
  TestStore back("duckdb", "migrate_back");
  if (postgres.unavailable()) GTEST_SKIP() << kNoPostgresServer;

  // Episodes and links for one owner, events still pending (no episode) for the others.
  const auto sample = run_nemori("ingest " + quote(kSample) + " --owner maya --process --storage " +
                                 quote(source.url()));
  ASSERT_EQ(sample.code, 0) << sample.out;
  const auto locomo = run_nemori("ingest " + quote(kLocomo) + " --storage " + quote(source.url()));
  ASSERT_EQ(locomo.code, 0) << locomo.out;
  const auto original = dumped_records(source);
  ASSERT_EQ(original.size(), 49u + 14u + 41u) << "raw events, episodes and links";
  ASSERT_EQ(totals(source)["pending"], nlohmann::json({{"tiny-1", 8}}));

  const auto there =
      run_nemori("migrate --from " + quote(source.url()) + " --to " + quote(postgres.url()));
  ASSERT_EQ(there.code, 0) << there.out;
  EXPECT_NE(there.out.find("counts verified"), std::string::npos) << there.out;
  EXPECT_EQ(there.out.find("nemori:nemori@"), std::string::npos) << "password shown: " << there.out;
  EXPECT_EQ(totals(postgres), totals(source));
  EXPECT_TRUE(dumped_records(postgres) == original) << "the PostgreSQL copy dumps differently";

  const auto home =
      run_nemori("migrate --from " + quote(postgres.url()) + " --to " + quote(back.url()));
  ASSERT_EQ(home.code, 0) << home.out;
  EXPECT_EQ(totals(back), totals(source));
  EXPECT_TRUE(dumped_records(back) == original) << "the copy of the copy dumps differently";

  // The copies work, not only dump: a search finds the stolen sandwich in each.
  for (const TestStore* store : {&postgres, &back}) {
    const auto found =
        run_nemori("search 'stolen sandwich' --owner maya -k 1 --storage " + quote(store->url()));
    EXPECT_EQ(found.code, 0) << found.out;
    EXPECT_NE(found.out.find("sandwich"), std::string::npos) << store->url() << ": " << found.out;
  }
}

TEST(Migrate, IntoANonEmptyStoreIsRefusedAndChangesNothing) {
  TestStore source("duckdb", "migrate_refused_source");
  TestStore postgres("postgresql", "migrate_refused");
  if (postgres.unavailable()) GTEST_SKIP() << kNoPostgresServer;
  for (const TestStore* store : {&source, &postgres}) {
    const auto r =
        run_nemori("ingest " + quote(kSample) + " --owner maya --storage " + quote(store->url()));
    ASSERT_EQ(r.code, 0) << r.out;
  }
  const auto before = dumped_records(postgres);
  const auto r =
      run_nemori("migrate --from " + quote(source.url()) + " --to " + quote(postgres.url()));
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("empty"), std::string::npos) << "says the target must be empty: " << r.out;
  EXPECT_TRUE(dumped_records(postgres) == before) << "a refused migrate changed the target";
}

}  // namespace
}  // namespace nemori::test
