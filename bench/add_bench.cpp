// An agent's add: MemorySystem::add_messages of one message, p50 and p99, on each backend,
// while background workers build episodes, and without workers (the reference, same run).
//
// Each add goes to one of NEMORI_BENCH_OWNERS owners (default 8) in turn, so workers build
// some owners while others receive messages. NEMORI_BENCH_ADDS adds per run (default 3000).
// Backends: memory, DuckDB (a temporary file), PostgreSQL when NEMORI_TEST_POSTGRES_URL is set
// (in a schema of its own, dropped afterwards). NEMORI_BENCH_AFTER sets
// BackgroundBuildOptions::after_messages (default: the library's). A summary with ratios is
// printed last.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "bench_env.h"
#include "bench_report.h"
#include "bench_store.h"
#include "nemori/memory/memory_system.h"

namespace {

using Stopwatch = std::chrono::steady_clock;

using nemori::bench::env_size;
using nemori::bench::percentile;
using nemori::bench::summary;

const std::size_t kAdds = env_size("NEMORI_BENCH_ADDS", 3000);
const std::size_t kOwners = std::max<std::size_t>(1, env_size("NEMORI_BENCH_OWNERS", 8));
const std::size_t kAfter =
    env_size("NEMORI_BENCH_AFTER", nemori::BackgroundBuildOptions{}.after_messages);
const char* const kBackends[] = {"memory", "duckdb", "postgresql"};

// Chat-like messages: a few subjects, a sitting of 20-40 messages, then hours of silence.
std::vector<nemori::Message> chat(std::size_t n, unsigned seed) {
  static const std::vector<std::vector<std::string>> subjects = {
      {"pottery", "clay", "kiln", "glaze", "bowl", "wheel", "teacher", "class"},
      {"beagle", "leash", "walk", "park", "shelter", "treats", "vet", "puppy"},
      {"interview", "robotics", "offer", "salary", "design", "manager", "team", "office"},
      {"Lisbon", "train", "coast", "sister", "museum", "beach", "hotel", "dinner"},
      {"marathon", "training", "shoes", "pace", "race", "knee", "coach", "miles"}};
  static const std::vector<std::string> glue = {"the",   "my",  "we",  "really", "today", "new",
                                                "about", "was", "and", "next",   "week",  "great"};
  std::mt19937 rng(seed);
  std::vector<nemori::Message> out;
  nemori::Timestamp t = nemori::make_timestamp(2025, 1, 6, 9);
  std::size_t subject = 0, sitting_left = 30;
  for (std::size_t i = 0; i < n; ++i) {
    if (rng() % 6 == 0) subject = rng() % subjects.size();
    nemori::Message m;
    m.speaker_id = i % 2 == 0 ? "Maya" : "Nemo";
    m.user_name = m.speaker_id;
    for (int w = 0; w < 14; ++w) {
      const auto& pool = w % 2 == 0 ? subjects[subject] : glue;
      m.content += (w == 0 ? "" : " ") + pool[rng() % pool.size()];
    }
    m.timestamp = t;
    out.push_back(std::move(m));
    t += std::chrono::seconds(40 + rng() % 60);
    if (--sitting_left == 0) {
      t += std::chrono::hours(20);
      sitting_left = 20 + rng() % 20;
    }
  }
  return out;
}

// Arg 0: backend index; arg 1: background workers (0 = none, the reference).
void BM_AddOneMessage(benchmark::State& state) {
  const std::string backend = kBackends[state.range(0)];
  const auto workers = static_cast<std::size_t>(state.range(1));
  const std::string name = backend + (workers > 0 ? "_workers" : "_no_workers");
  const auto store = nemori::bench::make_store(backend, "add_bench", name);
  if (!store) {
    state.SkipWithError("no PostgreSQL server: set NEMORI_TEST_POSTGRES_URL");
    return;
  }
  nemori::MemoryConfig config;
  config.storage = store->config;
  config.building.workers = workers;
  config.building.after_messages = kAfter;
  std::vector<std::vector<nemori::Message>> messages;
  for (std::size_t o = 0; o < kOwners; ++o)
    messages.push_back(chat(kAdds / kOwners + 1, static_cast<unsigned>(o)));
  std::vector<double> wall;
  std::size_t episodes = 0, pending = 0;
  {
    auto memory = nemori::MemorySystem::open(config);
    wall.reserve(kAdds);
    for (auto _ : state) {
      for (std::size_t i = 0; i < kAdds; ++i) {
        const std::size_t owner = i % kOwners;
        const nemori::Message& m = messages[owner][i / kOwners];
        const auto t0 = Stopwatch::now();
        memory->add_messages("owner-" + std::to_string(owner), std::span(&m, 1));
        wall.push_back(std::chrono::duration<double, std::micro>(Stopwatch::now() - t0).count());
      }
    }
    // What the workers built while the adds went on (before any flush).
    episodes = memory->storage().stats().total_episodes;
    for (const auto& [owner, n] : nemori::pending_by_owner(memory->storage())) pending += n;
  }
  store->cleanup();
  state.counters["p50_us"] = percentile(wall, 0.5);
  state.counters["p99_us"] = percentile(wall, 0.99);
  state.counters["max_us"] = percentile(wall, 1.0);
  state.counters["episodes_built"] = static_cast<double>(episodes);
  state.counters["pending_at_end"] = static_cast<double>(pending);
  summary()[name + "_p50_us"] = percentile(wall, 0.5);
  summary()[name + "_p99_us"] = percentile(wall, 0.99);
}

void print_summary() {
  std::printf(
      "\nadd_messages of one message, %zu adds over %zu owners, built after %zu messages (wall, "
      "microseconds):\n",
      kAdds, kOwners, kAfter);
  for (const char* backend : kBackends) {
    const std::string b = backend;
    for (const char* mode : {"_workers", "_no_workers"}) {
      if (!summary().count(b + mode + "_p50_us")) continue;
      std::printf("  %-10s %-11s p50 %8.1f  p99 %8.1f\n", backend, mode + 1,
                  summary()[b + mode + "_p50_us"], summary()[b + mode + "_p99_us"]);
    }
    if (summary().count(b + "_workers_p99_us") && summary().count(b + "_no_workers_p99_us")) {
      std::printf(
          "  %-10s p99 with / without workers: %.2f\n", backend,
          summary()[b + "_workers_p99_us"] / std::max(1e-9, summary()[b + "_no_workers_p99_us"]));
    }
  }
}

}  // namespace

BENCHMARK(BM_AddOneMessage)
    ->ArgsProduct({{0, 1, 2}, {0, 2}})
    ->ArgNames({"backend", "workers"})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

int main(int argc, char** argv) {
  return nemori::bench::run_benchmarks(argc, argv, print_summary);
}
