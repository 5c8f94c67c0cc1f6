// `nemori bench storage`: batch-store speed, query latency and memory of each storage backend,
// with the engine's own bulk load of the same rows as the reference.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "command.h"
#include "nemori/core/error.h"
#include "nemori/storage/config.h"
#include "storage_bench.h"

namespace nemori::cli {

namespace {

struct BenchStorageFlags {
  std::vector<std::string> backends;
  std::size_t rows = 100000;
  std::size_t batch_size = 1000;
  std::size_t queries = 200;
  double query_seconds_cap = 30;
  std::size_t owners = 100;
  std::uint64_t seed = 42;
  std::size_t clients = 8;
  double concurrency_seconds = 3;
  std::string duckdb_path;
  std::string postgres_url;
  std::string output;
  bool json = false;
  bool no_reference = false;
  bool in_process = false;
};

bool has(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bench::StorageBenchOptions to_options(const BenchStorageFlags& f) {
  bench::StorageBenchOptions o;
  o.postgres_url = f.postgres_url;
  if (o.postgres_url.empty()) {
    if (const char* env = std::getenv("NEMORI_TEST_POSTGRES_URL"); env != nullptr) {
      o.postgres_url = env;
    }
  }
  if (f.backends.empty()) {
    const auto supported = supported_backends();
    o.backends.push_back("memory");
    if (has(supported, "duckdb")) o.backends.push_back("duckdb");
    if (!o.postgres_url.empty() && has(supported, "postgresql")) o.backends.push_back("postgresql");
  } else {
    for (const std::string& b : f.backends) {
      const std::string name = b == "postgres" ? "postgresql" : b;
      if (!has(o.backends, name)) o.backends.push_back(name);
    }
  }
  o.rows = f.rows;
  o.batch_size = f.batch_size;
  o.queries = f.queries;
  o.query_seconds_cap = f.query_seconds_cap;
  o.owners = f.owners;
  o.seed = f.seed;
  o.clients = f.clients;
  o.concurrency_seconds = f.concurrency_seconds;
  o.duckdb_path = f.duckdb_path;
  o.reference = !f.no_reference;
  o.isolate = !f.in_process;
  o.progress = [](const std::string& label, std::size_t done, std::size_t total) {
    show_progress(label, done, total);
  };
  o.log = [](const std::string& line) {
    if (stderr_is_terminal()) std::fprintf(stderr, "%s\n", line.c_str());
  };
  return o;
}

// Accepts whole numbers >= 1 with a short message otherwise.
const CLI::Validator kAtLeastOne(
    [](std::string& text) -> std::string {
      std::size_t used = 0;
      try {
        const long long value = std::stoll(text, &used);
        if (used == text.size() && value >= 1) return "";
      } catch (const std::exception&) {
      }
      return "must be a whole number of at least 1 (got \"" + text + "\")";
    },
    "N>=1");

// Accepts numbers > 0 with a short message otherwise.
const CLI::Validator kPositive(
    [](std::string& text) -> std::string {
      std::size_t used = 0;
      try {
        const double value = std::stod(text, &used);
        if (used == text.size() && value > 0) return "";
      } catch (const std::exception&) {
      }
      return "must be a number above 0 (got \"" + text + "\")";
    },
    "X>0");

}  // namespace

void register_bench(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Measure speed and memory");
  bench->require_subcommand(1);
  auto f = std::make_shared<BenchStorageFlags>();
  auto* cmd = bench->add_subcommand(
      "storage",
      "Store N raw events (in batches) and N episodes in each backend, run the common queries, "
      "and print rows/s, query latency p50/p99, peak memory and concurrent throughput, with the "
      "engine's own bulk load of the same rows (DuckDB COPY, psql \\copy) as the reference");
  cmd->add_option("--backends", f->backends,
                  "Comma-separated: memory, duckdb, postgresql (default: memory,duckdb, plus "
                  "postgresql when --postgres-url or $NEMORI_TEST_POSTGRES_URL is set)")
      ->delimiter(',');
  cmd->add_option("-n,--rows", f->rows, "Raw events stored, and as many episodes (default 100000)")
      ->check(kAtLeastOne);
  cmd->add_option("--batch-size", f->batch_size, "Records per store_batch call (default 1000)")
      ->check(kAtLeastOne);
  cmd->add_option("--queries", f->queries, "Timed runs per query kind (default 200)")
      ->check(kAtLeastOne);
  cmd->add_option("--query-seconds", f->query_seconds_cap,
                  "Stop a query kind early once its runs took this many seconds (default 30)")
      ->check(kPositive);
  cmd->add_option("--owners", f->owners, "Owners the rows are spread over (default 100)")
      ->check(kAtLeastOne);
  cmd->add_option("--seed", f->seed, "Seed of the synthetic data (default 42)");
  cmd->add_option("--clients", f->clients,
                  "Threads of the concurrent-clients phase (default 8; 0 = skip)");
  cmd->add_option("--concurrency-seconds", f->concurrency_seconds,
                  "Length of the concurrent-clients phase (default 3)")
      ->check(kPositive);
  cmd->add_option("--duckdb-path", f->duckdb_path,
                  "DuckDB file for nemori (must not exist; kept). Default: a temporary file, "
                  "deleted afterwards");
  cmd->add_option("--postgres-url", f->postgres_url,
                  "PostgreSQL server to measure (default: $NEMORI_TEST_POSTGRES_URL); the tables "
                  "go into fresh schemas bench_<pid> and bench_<pid>_ref, dropped afterwards");
  cmd->add_option("-o,--output", f->output, "Also write the results as Markdown tables to FILE");
  cmd->add_flag("--json", f->json, "Print JSON instead of tables");
  cmd->add_flag("--no-reference", f->no_reference, "Skip the engine's own bulk load");
  cmd->add_flag("--in-process", f->in_process,
                "Run every backend in this process (peak memory is then not per backend)");
  set_action(*cmd, [f]() -> int {
    const bench::StorageBenchOptions options = to_options(*f);
    const bench::StorageBenchReport report = bench::run_storage_bench(options);
    if (f->json) {
      std::printf("%s\n", report.to_json().dump(2).c_str());
    } else {
      std::printf("%s", report.to_text().c_str());
    }
    if (!f->output.empty()) {
      write_file_atomically(f->output, [&](std::ostream& out) { out << report.to_markdown(); });
    }
    for (const auto& r : report.results) {
      if (!r.error.empty()) {
        std::fprintf(stderr, "nemori: error: %s: %s\n", r.backend.c_str(), r.error.c_str());
      }
    }
    return report.ok() ? 0 : 1;
  });
}

}  // namespace nemori::cli
