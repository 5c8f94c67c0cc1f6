// Stored embeddings on LoCoMo with the scripted server's deterministic embedding model (a real
// HTTP server on loopback, in this process):
// - ingest: every conversation of NEMORI_LOCOMO_PATH added and flushed on memory://; the
//   embedding requests and texts the server saw, against one request per 64 texts per flush;
// - search: MemorySystem::search over one conversation (NEMORI_BENCH_CONVERSATION, default 0),
//   every question NEMORI_BENCH_ROUNDS times (default 20), limit 10, in hybrid mode (the
//   default with an embedder) split into the query's embedding call (embed_ms) and the rest
//   (the goal: p50 <= 1 ms), and in BM25 mode on the same system in the same run (reference).
// NEMORI_BENCH_DIMENSION sets the vectors' dimension (default 256). A summary is printed last.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "bench_env.h"
#include "bench_locomo.h"
#include "bench_report.h"
#include "nemori/eval/locomo.h"
#include "nemori/llm/config.h"
#include "nemori/memory/memory_system.h"
#include "scripted_llm_server.h"

namespace {

using nemori::bench::env_size;
using nemori::bench::percentile;
using nemori::bench::summary;

const std::size_t kConversation = env_size("NEMORI_BENCH_CONVERSATION", 0);
const std::size_t kRounds = std::max<std::size_t>(1, env_size("NEMORI_BENCH_ROUNDS", 20));
const std::size_t kDimension = std::max<std::size_t>(1, env_size("NEMORI_BENCH_DIMENSION", 256));

void BM_HybridSearchLocomo(benchmark::State& state) {
  const auto loaded = nemori::bench::load_locomo_or_skip(state, kConversation);
  if (!loaded) return;
  const auto& conversations = *loaded;
  nemori::testing::ScriptedLlmServer::Options server_options;
  server_options.embedding_dimension = kDimension;
  nemori::testing::ScriptedLlmServer server(server_options);
  nemori::LlmConfigSources sources;
  sources.flags = {{"embedding.base_url", server.openai_base_url()},
                   {"embedding.model", "scripted-embedding"}};
  sources.getenv = [](const std::string&) { return std::optional<std::string>(); };
  nemori::MemoryConfig config;
  config.storage.backend = "memory";
  config.llm = nemori::make_llm_clients(nemori::load_llm_config(sources));
  auto memory = nemori::MemorySystem::open(config);
  // Ingest every conversation: one request per 64 new episodes of each flush.
  std::size_t episodes = 0, expected_requests = 0;
  for (const auto& conversation : conversations) {
    memory->add_messages(conversation.sample_id, conversation.messages());
    const std::size_t built = memory->flush(conversation.sample_id).episodes;
    episodes += built;
    expected_requests += (built + 63) / 64;
  }
  std::size_t requests = 0, texts = 0;
  for (const auto& r : server.requests()) {
    if (r.route != nemori::testing::LlmRoute::kEmbeddings) continue;
    ++requests;
    texts += r.json.contains("input") && r.json["input"].is_array() ? r.json["input"].size() : 1;
  }
  summary()["episodes"] = static_cast<double>(episodes);
  summary()["requests"] = static_cast<double>(requests);
  summary()["expected_requests"] = static_cast<double>(expected_requests);
  summary()["texts"] = static_cast<double>(texts);
  summary()["messages"] = 0;
  for (const auto& c : conversations)
    summary()["messages"] += static_cast<double>(c.messages().size());

  const auto& conversation = conversations[kConversation];
  nemori::MemorySearchRequest request;
  request.owner_id = conversation.sample_id;
  request.query = "warm up";
  memory->search(request);  // loads the owner from storage (its stored vectors)
  summary()["vectors"] = static_cast<double>(memory->retrieval().stats().vectors);
  summary()["requests_after_load"] = 0;
  for (const auto& r : server.requests())
    summary()["requests_after_load"] += r.route == nemori::testing::LlmRoute::kEmbeddings;
  for (auto _ : state) {
    std::vector<double> search_us, embed_us, bm25_us;
    for (std::size_t round = 0; round < kRounds; ++round) {
      for (const auto& q : conversation.questions) {
        request.query = q.question;
        request.mode.reset();  // hybrid
        const auto hybrid = memory->search(request);
        benchmark::DoNotOptimize(hybrid.hits.data());
        search_us.push_back((hybrid.took_ms - hybrid.embed_ms) * 1000.0);
        embed_us.push_back(hybrid.embed_ms * 1000.0);
        request.mode = nemori::SearchMode::kBm25;
        const auto bm25 = memory->search(request);
        benchmark::DoNotOptimize(bm25.hits.data());
        bm25_us.push_back(bm25.took_ms * 1000.0);
      }
    }
    summary()["hybrid_p50_us"] = percentile(search_us, 0.5);
    summary()["hybrid_p99_us"] = percentile(search_us, 0.99);
    summary()["embed_p50_us"] = percentile(embed_us, 0.5);
    summary()["embed_p99_us"] = percentile(embed_us, 0.99);
    summary()["bm25_p50_us"] = percentile(bm25_us, 0.5);
    summary()["bm25_p99_us"] = percentile(bm25_us, 0.99);
    state.counters["hybrid_p50_us"] = summary()["hybrid_p50_us"];
    state.counters["embed_p50_us"] = summary()["embed_p50_us"];
    state.counters["bm25_p50_us"] = summary()["bm25_p50_us"];
  }
}

void print_summary() {
  auto& s = summary();
  if (!s.count("hybrid_p50_us")) return;
  std::printf(
      "\nIngest of %.0f messages: %.0f episodes, %.0f embedding requests for %.0f texts "
      "(%.2f requests per 64 texts; one per 64 new episodes of each flush gives %.0f)\n",
      s["messages"], s["episodes"], s["requests"], s["texts"],
      s["requests"] * 64.0 / std::max(1.0, s["texts"]), s["expected_requests"]);
  std::printf(
      "Loading the searched owner: %.0f vectors, %.0f embedding requests in all after it "
      "(the warm-up query's only)\n",
      s["vectors"], s["requests_after_load"]);
  std::printf("MemorySystem::search, limit 10, dimension %zu (microseconds):\n", kDimension);
  std::printf("  hybrid without the query's embedding  p50 %7.1f  p99 %7.1f\n", s["hybrid_p50_us"],
              s["hybrid_p99_us"]);
  std::printf("  the query's embedding call (loopback) p50 %7.1f  p99 %7.1f\n", s["embed_p50_us"],
              s["embed_p99_us"]);
  std::printf("  bm25 (reference, same run)            p50 %7.1f  p99 %7.1f\n", s["bm25_p50_us"],
              s["bm25_p99_us"]);
  std::printf("  hybrid / bm25: p50 %.2f\n", s["hybrid_p50_us"] / std::max(1e-9, s["bm25_p50_us"]));
}

}  // namespace

BENCHMARK(BM_HybridSearchLocomo)->Unit(benchmark::kMillisecond)->Iterations(1);

int main(int argc, char** argv) {
  return nemori::bench::run_benchmarks(argc, argv, print_summary);
}
