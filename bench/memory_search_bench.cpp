// MemorySystem::search over one LoCoMo conversation on a persistent store (DuckDB, PostgreSQL),
// p50 and p99, and what checking the owner's index against storage costs it
// (MemoryConfig::index_check_interval): never (the reference, same run), the default 100 ms,
// and before every search (0: each search pays one check, two indexed counts).
//
// The conversation (NEMORI_BENCH_CONVERSATION, default 0) of NEMORI_LOCOMO_PATH is added and
// flushed once per backend; then each setting opens its own MemorySystem on the store and asks
// every question of the conversation NEMORI_BENCH_ROUNDS times (default 20), limit 10 (an
// agent's request). PostgreSQL when NEMORI_TEST_POSTGRES_URL is set. A summary with ratios is
// printed last.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "bench_env.h"
#include "bench_locomo.h"
#include "bench_report.h"
#include "bench_store.h"
#include "nemori/eval/locomo.h"
#include "nemori/memory/memory_system.h"

namespace {

using Stopwatch = std::chrono::steady_clock;
using nemori::bench::env_size;
using nemori::bench::percentile;
using nemori::bench::summary;
using std::chrono::milliseconds;

const std::size_t kConversation = env_size("NEMORI_BENCH_CONVERSATION", 0);
const std::size_t kRounds = std::max<std::size_t>(1, env_size("NEMORI_BENCH_ROUNDS", 20));
const char* const kBackends[] = {"duckdb", "postgresql"};
// Check intervals: never (an hour is never within a run), the default, every search.
const milliseconds kIntervals[] = {milliseconds(3600000), milliseconds(100), milliseconds(0)};
const char* const kIntervalNames[] = {"never", "100ms", "every"};

// Arg 0: backend index. Every interval runs on the same store, in one benchmark run.
void BM_SearchOneConversation(benchmark::State& state) {
  const std::string backend = kBackends[state.range(0)];
  const auto loaded = nemori::bench::load_locomo_or_skip(state, kConversation);
  if (!loaded) return;
  const auto& conversations = *loaded;
  const auto& conversation = conversations[kConversation];
  const auto store = nemori::bench::make_store(backend, "search_bench", backend);
  if (!store) {
    state.SkipWithError("no PostgreSQL server: set NEMORI_TEST_POSTGRES_URL");
    return;
  }
  const std::string owner = conversation.sample_id;
  nemori::MemoryConfig config;
  config.storage = store->config;
  {
    auto writer = nemori::MemorySystem::open(config);
    writer->add_messages(owner, conversation.messages());
    writer->flush(owner);
    state.counters["episodes"] = static_cast<double>(writer->storage().episodes().count(owner));
  }
  for (auto _ : state) {
    for (std::size_t i = 0; i < std::size(kIntervals); ++i) {
      config.index_check_interval = kIntervals[i];
      auto memory = nemori::MemorySystem::open(config);
      std::vector<double> wall;
      nemori::MemorySearchRequest request;
      request.owner_id = owner;
      request.query = "warm up";
      memory->search(request);  // loads the owner
      for (std::size_t round = 0; round < kRounds; ++round) {
        for (const auto& q : conversation.questions) {
          request.query = q.question;
          const auto t0 = Stopwatch::now();
          benchmark::DoNotOptimize(memory->search(request));
          wall.push_back(std::chrono::duration<double, std::micro>(Stopwatch::now() - t0).count());
        }
      }
      const std::string name = backend + "_" + kIntervalNames[i];
      summary()[name + "_p50_us"] = percentile(wall, 0.5);
      summary()[name + "_p99_us"] = percentile(wall, 0.99);
      summary()[name + "_loads"] = static_cast<double>(memory->retrieval().stats().loads);
      state.counters[std::string(kIntervalNames[i]) + "_p50_us"] = percentile(wall, 0.5);
      state.counters[std::string(kIntervalNames[i]) + "_p99_us"] = percentile(wall, 0.99);
    }
  }
  store->cleanup();
}

void print_summary() {
  std::printf("\nMemorySystem::search, one LoCoMo conversation, limit 10 (wall, microseconds):\n");
  for (const char* backend : kBackends) {
    const std::string b = backend;
    if (!summary().count(b + "_never_p50_us")) continue;
    for (const char* interval : kIntervalNames) {
      const std::string n = b + "_" + interval;
      std::printf("  %-10s check %-6s p50 %7.1f  p99 %7.1f  (owner loads %.0f)\n", backend,
                  interval, summary()[n + "_p50_us"], summary()[n + "_p99_us"],
                  summary()[n + "_loads"]);
    }
    for (const char* interval : {"100ms", "every"}) {
      const std::string n = b + "_" + interval;
      std::printf("  %-10s %-6s / never: p50 %.2f, p99 %.2f\n", backend, interval,
                  summary()[n + "_p50_us"] / std::max(1e-9, summary()[b + "_never_p50_us"]),
                  summary()[n + "_p99_us"] / std::max(1e-9, summary()[b + "_never_p99_us"]));
    }
  }
}

}  // namespace

BENCHMARK(BM_SearchOneConversation)
    ->DenseRange(0, 1)
    ->ArgNames({"backend"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

int main(int argc, char** argv) {
  return nemori::bench::run_benchmarks(argc, argv, print_summary);
}
