// HTTP overhead of cpp-httplib on loopback, and the REST server's search route against the
// in-process MemorySystem::search it wraps.
//
//   ./bench/server_bench                                   (memory://, 20,000 messages)
//   NEMORI_BENCH_STORAGE=duckdb:///tmp/b.duckdb NEMORI_BENCH_MESSAGES=5000 ./bench/server_bench
//
// BM_SearchInProcess is the reference of BM_SearchHttp/C: the same query through
// POST /v1/owners/{owner}/search on C keep-alive connections (p50/p99 per request).
// BM_AddInProcess (MemorySystem::add of one message) is the reference of BM_AddHttp/C: one
// message per POST /v1/owners/{owner}/messages, each connection adding to an owner of its own.
// The store is the same: NEMORI_BENCH_STORAGE=postgresql://... for PostgreSQL.
//
// BM_InProcess is the reference: the trivial handler's work called directly. BM_Http/1 sends
// the same request over one keep-alive connection. BM_HttpConnections/64/POOL runs 64 client
// threads, each on its own keep-alive connection, against a worker pool of POOL threads: a
// keep-alive connection holds its worker between requests, so with fewer workers than
// connections the surplus connections wait until a worker's connection reaches its keep-alive
// request cap or times out (docs/api.md, "Choosing the HTTP library").
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <httplib.h>

#include "bench_env.h"
#include "bench_report.h"
#include "nemori/core/json.h"
#include "nemori/core/time.h"
#include "nemori/memory/memory_system.h"
#include "nemori/server/server.h"
#include "nemori/storage/config.h"

namespace {

// A server with one trivial route on an ephemeral loopback port, `pool` workers.
struct TrivialServer {
  httplib::Server server;
  std::thread thread;
  int port = 0;

  TrivialServer(std::size_t pool, std::size_t keep_alive_max, bool deep_backlog = true) {
    int listener = -1;
    server.set_socket_options([&listener](int fd) {
      int yes = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
      listener = fd;
    });
    server.new_task_queue = [pool] { return new httplib::ThreadPool(pool); };
    server.set_keep_alive_max_count(keep_alive_max);
    server.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms per response
    server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    // libcpp-httplib 0.11 listens with a backlog of 5: 64 clients connecting at once overflow
    // it and wait for SYN retransmits (1 s, 3 s, 7 s). listen() again raises the backlog.
    if (deep_backlog) ::listen(listener, SOMAXCONN);
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::yield();
  }
  ~TrivialServer() {
    server.stop();
    thread.join();
  }
};

void BM_InProcess(benchmark::State& state) {
  for (auto _ : state) {
    httplib::Response res;
    res.set_content("{\"status\":\"ok\"}", "application/json");
    benchmark::DoNotOptimize(res);
  }
}
BENCHMARK(BM_InProcess);

void BM_Http(benchmark::State& state) {
  TrivialServer server(8, 1000000);
  const bool nodelay = state.range(0) != 0;
  httplib::Client client("127.0.0.1", server.port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(nodelay);
  for (auto _ : state) {
    auto res = client.Get("/healthz");
    if (!res || res->status != 200) state.SkipWithError("request failed");
  }
}
BENCHMARK(BM_Http)->Arg(1)->UseRealTime();

// Runs `connections` client threads against 127.0.0.1:`port`, each on its own keep-alive
// connection sending `requests` requests with `send` (true when answered 200); sets the
// iteration time and req_per_s, and appends each request's latency (ms) to `latencies`.
void run_clients(benchmark::State& state, int port, std::size_t connections, int requests,
                 const std::function<bool(httplib::Client&)>& send,
                 std::vector<double>& latencies) {
  std::vector<std::vector<double>> per_thread(connections);
  std::atomic<int> failed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < connections; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      client.set_read_timeout(30, 0);
      for (int i = 0; i < requests; ++i) {
        const auto before = std::chrono::steady_clock::now();
        if (!send(client)) ++failed;
        per_thread[t].push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - before)
                .count());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  state.SetIterationTime(seconds);
  if (failed > 0) state.SkipWithError("requests failed");
  for (auto& v : per_thread) latencies.insert(latencies.end(), v.begin(), v.end());
  state.counters["req_per_s"] = static_cast<double>(connections) * requests / seconds;
}

// 64 client threads, 200 requests each; reports requests/s and p50/p99 latency.
void BM_HttpConnections(benchmark::State& state) {
  const auto connections = static_cast<std::size_t>(state.range(0));
  const auto pool = static_cast<std::size_t>(state.range(1));
  const bool deep_backlog = state.range(2) != 0;
  constexpr int kRequests = 200;
  std::vector<double> latencies;
  for (auto _ : state) {
    TrivialServer server(pool, 100, deep_backlog);
    run_clients(
        state, server.port, connections, kRequests,
        [](httplib::Client& client) {
          auto res = client.Get("/healthz");
          return res && res->status == 200;
        },
        latencies);
  }
  state.counters["p50_ms"] = nemori::bench::percentile(latencies, 0.5);
  state.counters["p99_ms"] = nemori::bench::percentile(latencies, 0.99);
  state.counters["max_ms"] = nemori::bench::percentile(latencies, 1.0);
}
BENCHMARK(BM_HttpConnections)
    ->ArgNames({"connections", "workers", "deep_backlog"})
    ->Args({1, 8, 1})
    ->Args({8, 8, 1})
    ->Args({64, 8, 0})
    ->Args({64, 8, 1})
    ->Args({64, 72, 0})
    ->Args({64, 72, 1})
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// One owner's store with NEMORI_BENCH_MESSAGES messages built into episodes, and a server on it.
struct SearchFixture {
  std::unique_ptr<nemori::MemorySystem> memory;
  std::unique_ptr<nemori::Server> server;
  std::thread thread;
  static constexpr const char* kKey = "bench-key-0123456789abcdef";

  SearchFixture() {
    nemori::MemoryConfig config;
    const char* url = std::getenv("NEMORI_BENCH_STORAGE");
    config.storage = nemori::parse_storage_url(url != nullptr ? url : "memory://");
    memory = nemori::MemorySystem::open(config);
    memory->delete_owner("bench");
    const std::size_t n = nemori::bench::env_size("NEMORI_BENCH_MESSAGES", 20000);
    const char* topics[] = {"hiking in the alps", "a new puppy",  "the bakery job", "piano lessons",
                            "a trip to Lisbon",   "moving house", "the garden",     "a marathon"};
    std::vector<nemori::Message> batch;
    for (std::size_t i = 0; i < n; ++i) {
      nemori::Message m;
      m.speaker_id = i % 2 == 0 ? "ann" : "ben";
      m.content =
          std::string("talking about ") + topics[(i / 5) % 8] + " number " + std::to_string(i);
      m.timestamp = nemori::make_timestamp(2024, 1, 1) + std::chrono::minutes(i);
      batch.push_back(m);
      if (batch.size() == 1000 || i + 1 == n) {
        memory->add_messages("bench", batch);
        batch.clear();
      }
    }
    memory->flush("bench");
    // Load the owner's indexes now: the first search of an owner builds them (seconds at
    // 100,000 episodes), which is not what a search costs afterwards.
    nemori::MemorySearchRequest warm;
    warm.owner_id = "bench";
    warm.query = "warm up";
    memory->search(warm);
    nemori::ServerOptions options;
    options.port = 0;
    options.keys.add(kKey, "*");
    options.log = [](std::string_view) {};
    server = std::make_unique<nemori::Server>(*memory, options);
    thread = std::thread([this] { server->run(); });
  }
  ~SearchFixture() {
    server->stop();
    thread.join();
  }
};

SearchFixture& search_fixture() {
  static SearchFixture fixture;
  return fixture;
}

void BM_SearchInProcess(benchmark::State& state) {
  auto& f = search_fixture();
  nemori::MemorySearchRequest request;
  request.owner_id = "bench";
  request.query = "puppy in Lisbon";
  std::vector<double> latencies;
  for (auto _ : state) {
    const auto before = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(f.memory->search(request));
    latencies.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - before)
            .count());
  }
  state.counters["p50_ms"] = nemori::bench::percentile(latencies, 0.5);
  state.counters["p99_ms"] = nemori::bench::percentile(latencies, 0.99);
  state.counters["episodes"] = static_cast<double>(f.memory->storage().episodes().count("bench"));
}
BENCHMARK(BM_SearchInProcess)->UseRealTime();

// C client threads, each on its own keep-alive connection, 200 searches each.
void BM_SearchHttp(benchmark::State& state) {
  auto& f = search_fixture();
  const auto connections = static_cast<std::size_t>(state.range(0));
  constexpr int kRequests = 200;
  std::vector<double> latencies;
  for (auto _ : state) {
    const httplib::Headers headers = {
        {"Authorization", std::string("Bearer ") + SearchFixture::kKey}};
    run_clients(
        state, f.server->port(), connections, kRequests,
        [&headers](httplib::Client& client) {
          auto res = client.Post("/v1/owners/bench/search", headers,
                                 R"({"query": "puppy in Lisbon"})", "application/json");
          return res && res->status == 200;
        },
        latencies);
  }
  state.counters["p50_ms"] = nemori::bench::percentile(latencies, 0.5);
  state.counters["p99_ms"] = nemori::bench::percentile(latencies, 0.99);
}
BENCHMARK(BM_SearchHttp)
    ->ArgName("connections")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

// A message no earlier run stored (so that none is skipped as already stored).
nemori::Message unique_message(const std::string& speaker) {
  static std::atomic<std::uint64_t> counter{0};
  static const std::string run =
      std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  nemori::Message m;
  m.speaker_id = speaker;
  m.content = "the bakery opens at seven, note " + run + "-" + std::to_string(counter++);
  m.timestamp = nemori::now_utc();
  return m;
}

void BM_AddInProcess(benchmark::State& state) {
  auto& f = search_fixture();
  f.memory->delete_owner("load-in-process");
  std::vector<double> latencies;
  for (auto _ : state) {
    const std::vector<nemori::Message> one = {unique_message("ann")};
    const auto before = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(f.memory->add("load-in-process", one, {}, ""));
    latencies.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - before)
            .count());
  }
  state.counters["p50_ms"] = nemori::bench::percentile(latencies, 0.5);
  state.counters["p99_ms"] = nemori::bench::percentile(latencies, 0.99);
}
BENCHMARK(BM_AddInProcess)->UseRealTime()->Iterations(2000);

// C client threads, each on its own keep-alive connection and owner, 200 adds of one message.
void BM_AddHttp(benchmark::State& state) {
  auto& f = search_fixture();
  const auto connections = static_cast<std::size_t>(state.range(0));
  constexpr int kRequests = 200;
  for (std::size_t t = 0; t < connections; ++t) f.memory->delete_owner("load-" + std::to_string(t));
  std::atomic<std::size_t> next_owner{0};
  std::vector<double> latencies;
  for (auto _ : state) {
    const httplib::Headers headers = {
        {"Authorization", std::string("Bearer ") + SearchFixture::kKey}};
    run_clients(
        state, f.server->port(), connections, kRequests,
        [&headers, &next_owner](httplib::Client& client) {
          // The first request of a connection picks its owner (thread_local: one per client).
          thread_local std::string owner;
          thread_local const httplib::Client* owner_of = nullptr;
          if (owner_of != &client) {
            owner = "load-" + std::to_string(next_owner++);
            owner_of = &client;
          }
          const nlohmann::json message = nemori::to_json(unique_message("ann"));
          const std::string body = nlohmann::json{{"messages", {message}}}.dump();
          auto res = client.Post(("/v1/owners/" + owner + "/messages").c_str(), headers, body,
                                 "application/json");
          return res && res->status == 202;
        },
        latencies);
  }
  state.counters["p50_ms"] = nemori::bench::percentile(latencies, 0.5);
  state.counters["p99_ms"] = nemori::bench::percentile(latencies, 0.99);
}
BENCHMARK(BM_AddHttp)
    ->ArgName("connections")
    ->Arg(1)
    ->Arg(8)
    ->Arg(64)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
