// HTTP overhead of cpp-httplib on loopback: what the REST server's transport costs per request.
//
//   ./bench/server_bench
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
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>
#include <httplib.h>

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

// 64 client threads, 200 requests each; reports requests/s and p50/p99 latency.
void BM_HttpConnections(benchmark::State& state) {
  const auto connections = static_cast<std::size_t>(state.range(0));
  const auto pool = static_cast<std::size_t>(state.range(1));
  const bool deep_backlog = state.range(2) != 0;
  constexpr int kRequests = 200;
  std::vector<double> latencies;
  for (auto _ : state) {
    TrivialServer server(pool, 100, deep_backlog);
    std::vector<std::vector<double>> per_thread(connections);
    std::atomic<int> failed{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < connections; ++t) {
      threads.emplace_back([&, t] {
        httplib::Client client("127.0.0.1", server.port);
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);
        client.set_read_timeout(30, 0);
        for (int i = 0; i < kRequests; ++i) {
          const auto before = std::chrono::steady_clock::now();
          auto res = client.Get("/healthz");
          if (!res || res->status != 200) ++failed;
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
    state.counters["req_per_s"] = static_cast<double>(connections * kRequests) / seconds;
  }
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    state.counters["p50_ms"] = latencies[latencies.size() / 2];
    state.counters["p99_ms"] = latencies[latencies.size() * 99 / 100];
    state.counters["max_ms"] = latencies.back();
  }
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

}  // namespace

BENCHMARK_MAIN();
