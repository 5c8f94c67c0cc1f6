// The storage benchmark behind `nemori bench storage`: batch-store speed, query latency, peak
// memory and concurrent throughput of each storage backend, against the backend engine's own
// bulk load of the same rows (DuckDB COPY, psql \copy) measured in the same run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"

namespace nemori::bench {

/// What to measure and how.
struct StorageBenchOptions {
  /// Backends to measure, in order: "memory", "duckdb", "postgresql".
  std::vector<std::string> backends;
  /// Raw events stored, and as many episodes.
  std::size_t rows = 100000;
  /// Records per store_batch call.
  std::size_t batch_size = 1000;
  /// Timed runs per query kind.
  std::size_t queries = 200;
  /// A query kind stops early once its runs took this long (at least 5 runs are kept).
  double query_seconds_cap = 30;
  /// Distinct owners the rows are spread over.
  std::size_t owners = 100;
  /// Seed of the synthetic data (same seed, same rows).
  std::uint64_t seed = 42;
  /// DuckDB database file for nemori; empty = a file in a temporary directory (deleted after).
  /// A given path must not exist yet and is kept.
  std::string duckdb_path;
  /// PostgreSQL URL (nemori's tables go into a fresh schema, dropped afterwards).
  std::string postgres_url;
  /// Threads of the concurrent-clients phase (0 = skip that phase).
  std::size_t clients = 8;
  /// Length of the concurrent-clients phase, in seconds.
  double concurrency_seconds = 3;
  /// Measure the engine's own bulk load (DuckDB COPY, psql \copy) as the reference.
  bool reference = true;
  /// Run each backend in its own child process, so its peak memory is its own.
  bool isolate = true;
  /// Called with (phase, done, total) while storing; may be empty.
  std::function<void(const std::string&, std::size_t, std::size_t)> progress;
  /// Called with a one-line note when a phase starts; may be empty.
  std::function<void(const std::string&)> log;
};

/// Latency of one query kind over its timed runs.
struct QueryLatency {
  std::string name;      ///< e.g. "episodes.by_owner newest 20"
  std::size_t runs = 0;  ///< Timed runs (fewer than asked when the time cap was hit).
  double p50_ms = 0;     ///< Median latency.
  double p99_ms = 0;     ///< 99th percentile latency (nearest rank).
  double mean_ms = 0;    ///< Mean latency.
};

/// Throughput of several threads sharing one Storage (mixed gets and searches).
struct ConcurrencyResult {
  std::size_t clients = 0;  ///< Threads.
  double seconds = 0;       ///< Measured wall time.
  std::size_t ops = 0;      ///< Operations completed by all threads.
  double ops_per_s = 0;     ///< ops / seconds.
  double p50_ms = 0;        ///< Median latency of one operation.
  double p99_ms = 0;        ///< 99th percentile latency of one operation.
};

/// Everything measured for one backend.
struct BackendBenchResult {
  std::string backend;                 ///< "memory", "duckdb" or "postgresql".
  std::size_t rows = 0;                ///< Raw events stored (and episodes stored).
  std::size_t batch_size = 0;          ///< Records per store_batch call.
  double raw_store_s = 0;              ///< Time spent in RawDataRepository::store_batch.
  double raw_rows_per_s = 0;           ///< rows / raw_store_s.
  double raw_tail_rows_per_s = 0;      ///< rows/s of the last tenth of the raw events (scaling).
  double episode_store_s = 0;          ///< Time spent in EpisodeRepository::store_batch.
  double episode_rows_per_s = 0;       ///< rows / episode_store_s.
  double episode_tail_rows_per_s = 0;  ///< rows/s of the last tenth of the episodes.
  std::string reference;            ///< "DuckDB COPY", "psql \\copy", or empty when none applies.
  double reference_s = 0;           ///< Time of the reference bulk load of the same raw events.
  double reference_rows_per_s = 0;  ///< rows / reference_s.
  double ratio = 0;  ///< raw_rows_per_s / reference_rows_per_s (0 when no reference).
  std::vector<QueryLatency> queries;             ///< One entry per query kind.
  std::optional<ConcurrencyResult> concurrency;  ///< The concurrent-clients phase, when run.
  double baseline_rss_mb = 0;                    ///< Resident memory before the backend was opened.
  double peak_rss_mb = 0;  ///< Peak resident memory (getrusage ru_maxrss) of the process.
  bool isolated = false;   ///< True when measured in its own child process.
  std::string note;        ///< What the memory figure covers, or other caveats.
  std::string error;       ///< Why the run failed; empty on success.
};

/// A whole run: the machine, the options and one result per backend.
struct StorageBenchReport {
  std::string date;                         ///< UTC date and time of the run (ISO-8601).
  unsigned cpus = 0;                        ///< Online CPUs.
  double memory_gb = 0;                     ///< Physical memory.
  StorageBenchOptions options;              ///< What was asked.
  std::vector<BackendBenchResult> results;  ///< In the order of options.backends.

  /// True when every backend ran to the end.
  bool ok() const;
  /// Machine-readable form (stable keys, numbers unrounded).
  nlohmann::json to_json() const;
  /// Fixed-width tables for a terminal.
  std::string to_text() const;
  /// Markdown tables (store speed with reference ratios, query latencies, concurrency).
  std::string to_markdown() const;
};

/// Runs the benchmark. Per-backend failures are recorded in the result's `error` (the other
/// backends still run); throws ConfigError for unusable options (unknown backend, no
/// PostgreSQL URL, an existing --duckdb-path).
StorageBenchReport run_storage_bench(const StorageBenchOptions& options);

/// Id of the synthetic raw event `index` (a UUIDv7-shaped, deterministic string).
std::string synthetic_raw_id(std::uint64_t seed, std::size_t index);
/// Id of the synthetic episode `index`.
std::string synthetic_episode_id(std::uint64_t seed, std::size_t index);
/// Owner of record `index` among `owners` owners ("bench-user-007").
std::string synthetic_owner(std::size_t index, std::size_t owners);
/// The synthetic raw event `index`: a chat message of 20-60 words, 30 s after the previous one.
RawEvent synthetic_raw_event(std::uint64_t seed, std::size_t index, std::size_t owners);
/// The synthetic episode `index`: title, narrative, summary, entities, topics, keywords.
Episode synthetic_episode(std::uint64_t seed, std::size_t index, std::size_t owners);

}  // namespace nemori::bench
