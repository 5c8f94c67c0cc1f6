// Retrieval benchmarks: BM25 (vs SQLite FTS5 on the same corpus and queries, same run), vector
// search (exact scan vs HNSW, with HNSW recall), and start-up index building.
//
// Sizes (environment): NEMORI_BENCH_DOCS (BM25 documents, default 100000),
// NEMORI_BENCH_VECTORS (vectors, default 100000), NEMORI_BENCH_DIM (default 768),
// NEMORI_BENCH_THREADS (HNSW build threads, default 2), NEMORI_BENCH_HNSW_M and
// NEMORI_BENCH_HNSW_EFC (graph degree and ef_construction, default: the library's defaults),
// NEMORI_LOCOMO (LoCoMo file for the recall comparison, default: the configured
// NEMORI_LOCOMO_PATH; skipped with a message when absent).
// A summary with ratios is printed last.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "bench_env.h"
#include "bench_report.h"
#include "nemori/core/episode.h"
#include "nemori/eval/evidence_recall.h"
#include "nemori/eval/locomo.h"
#include "nemori/memory/memory_system.h"
#include "nemori/retrieval/bm25_index.h"
#include "nemori/retrieval/retrieval_service.h"
#include "nemori/retrieval/vector_index.h"
#include "nemori/text/stop_words.h"
#include "nemori/text/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

using nemori::bench::env_size;

const std::size_t kDocs = env_size("NEMORI_BENCH_DOCS", 100000);
const std::size_t kVectors = env_size("NEMORI_BENCH_VECTORS", 100000);
const std::size_t kDim = env_size("NEMORI_BENCH_DIM", 768);
const std::size_t kThreads = env_size("NEMORI_BENCH_THREADS", 2);
const std::size_t kHnswM = env_size("NEMORI_BENCH_HNSW_M", nemori::VectorIndexOptions{}.hnsw_m);
const std::size_t kHnswEfc =
    env_size("NEMORI_BENCH_HNSW_EFC", nemori::VectorIndexOptions{}.hnsw_ef_construction);
constexpr std::size_t kTopK = 20;
constexpr std::size_t kQueries = 1000;

// Resident memory of this process in bytes.
std::size_t rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

using nemori::bench::percentile;

// Wall time and CPU time (of this thread, or of the whole process for multi-threaded work).
// On a shared machine CPU time is the steadier figure; both are reported.
class Stopwatch {
 public:
  explicit Stopwatch(bool process = false)
      : clock_(process ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID),
        wall_(Clock::now()),
        cpu_(cpu_now()) {}
  double wall_us() const {
    return std::chrono::duration<double, std::micro>(Clock::now() - wall_).count();
  }
  double cpu_us() const { return cpu_now() - cpu_; }

 private:
  double cpu_now() const {
    timespec ts{};
    clock_gettime(clock_, &ts);
    return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
  }
  clockid_t clock_;
  Clock::time_point wall_;
  double cpu_;
};

// Per-query latencies.
struct Latencies {
  std::vector<double> wall, cpu;
  void add(const Stopwatch& w) {
    cpu.push_back(w.cpu_us());
    wall.push_back(w.wall_us());
  }
  void report(benchmark::State& state, const std::string& prefix) const;
};

// Figures kept for the summary printed after the run.
using nemori::bench::summary;

void Latencies::report(benchmark::State& state, const std::string& prefix) const {
  state.counters["p50_us"] = percentile(wall, 0.5);
  state.counters["p99_us"] = percentile(wall, 0.99);
  state.counters["p50_cpu_us"] = percentile(cpu, 0.5);
  state.counters["p99_cpu_us"] = percentile(cpu, 0.99);
  summary()[prefix + "_p50_us"] = percentile(wall, 0.5);
  summary()[prefix + "_p99_us"] = percentile(wall, 0.99);
  summary()[prefix + "_p50_cpu_us"] = percentile(cpu, 0.5);
  summary()[prefix + "_p99_cpu_us"] = percentile(cpu, 0.99);
}

// ---------------------------------------------------------------------------------------------
// Synthetic corpus: episode-like texts. A vocabulary of 120 English function words plus 5,000
// pronounceable content words, drawn from a Zipf distribution (s = 1.0) over the whole
// vocabulary, so function words dominate as in real text; each document opens with a date
// ("On May 8, 2023") and has a 3-6 word title and 60-120 words of content. Queries are
// question-like: a function word or two plus 2-4 content words (Zipf over content words).
// Everything derives from fixed seeds.

class Zipf {
 public:
  Zipf(std::size_t n, double s) : cdf_(n) {
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) cdf_[i] = total += 1.0 / std::pow(i + 1.0, s);
    for (double& c : cdf_) c /= total;
  }
  std::size_t operator()(std::mt19937_64& rng) const {
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    return static_cast<std::size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

struct Corpus {
  std::vector<std::string> vocabulary;  // function words first
  std::size_t function_words = 0;
  std::vector<nemori::Document> docs;
  std::vector<std::string> queries;
};

const Corpus& corpus() {
  static const Corpus c = [] {
    Corpus c;
    const char* function_words[] = {
        "the",    "and",     "to",      "of",    "a",     "in",    "that",   "is",   "was",
        "he",     "for",     "it",      "with",  "as",    "his",   "on",     "be",   "at",
        "by",     "i",       "this",    "had",   "not",   "are",   "but",    "from", "or",
        "have",   "an",      "they",    "which", "one",   "you",   "were",   "her",  "all",
        "she",    "there",   "would",   "their", "we",    "him",   "been",   "has",  "when",
        "who",    "will",    "more",    "no",    "if",    "out",   "so",     "said", "what",
        "up",     "its",     "about",   "into",  "than",  "them",  "can",    "only", "other",
        "new",    "some",    "could",   "time",  "these", "two",   "may",    "then", "do",
        "first",  "any",     "my",      "now",   "such",  "like",  "our",    "over", "man",
        "me",     "even",    "most",    "made",  "after", "also",  "did",    "many", "before",
        "must",   "through", "back",    "years", "where", "much",  "your",   "way",  "well",
        "down",   "should",  "because", "each",  "just",  "those", "people", "how",  "too",
        "little", "state",   "good",    "very",  "make",  "world", "still",  "own",  "see",
        "men",    "work",    "long"};
    for (const char* w : function_words) c.vocabulary.emplace_back(w);
    c.function_words = c.vocabulary.size();
    const char* onsets[] = {"b", "c", "d", "f",  "g",  "k",  "l",  "m",  "n",  "p",  "r", "s",
                            "t", "v", "z", "br", "dr", "gr", "st", "tr", "ch", "sh", "pl"};
    const char* vowels[] = {"a", "e", "i", "o", "u", "ai", "ou", "ea"};
    std::mt19937_64 rng(20240508);
    std::set<std::string> seen(c.vocabulary.begin(), c.vocabulary.end());
    while (c.vocabulary.size() < c.function_words + 5000) {
      std::string w;
      const int syllables = 2 + static_cast<int>(rng() % 3);
      for (int s = 0; s < syllables; ++s) {
        w += onsets[rng() % std::size(onsets)];
        w += vowels[rng() % std::size(vowels)];
      }
      if (rng() % 3 == 0) w += "n";
      if (seen.insert(w).second) c.vocabulary.push_back(w);
    }
    const Zipf all(c.vocabulary.size(), 1.0);
    const Zipf content(c.vocabulary.size() - c.function_words, 1.0);
    const char* months[] = {"January", "February", "March",     "April",   "May",      "June",
                            "July",    "August",   "September", "October", "November", "December"};
    c.docs.reserve(kDocs);
    for (std::size_t i = 0; i < kDocs; ++i) {
      nemori::Document d;
      d.id = "episode-" + std::to_string(i);
      d.timestamp =
          nemori::from_micros(1'600'000'000'000'000 + static_cast<std::int64_t>(i) * 3'600'000'000);
      d.type = "conversational";
      const int title_words = 3 + static_cast<int>(rng() % 4);
      for (int w = 0; w < title_words; ++w) {
        if (w) d.title += ' ';
        d.title += c.vocabulary[c.function_words + content(rng)];
      }
      d.content = "On " + std::string(months[rng() % 12]) + " " + std::to_string(1 + rng() % 28) +
                  ", " + std::to_string(2019 + rng() % 6) + ",";
      const int words = 60 + static_cast<int>(rng() % 61);
      for (int w = 0; w < words; ++w) {
        d.content += ' ';
        d.content += c.vocabulary[all(rng)];
        if (rng() % 12 == 0) d.content += '.';
      }
      d.word_count = static_cast<std::uint32_t>(title_words + words + 4);
      c.docs.push_back(std::move(d));
    }
    const char* openers[] = {"when did", "what did", "where did", "who was", "how did", "why"};
    for (std::size_t q = 0; q < kQueries; ++q) {
      std::string text = openers[rng() % std::size(openers)];
      const int words = 2 + static_cast<int>(rng() % 3);
      for (int w = 0; w < words; ++w) {
        text += ' ';
        text += c.vocabulary[c.function_words + content(rng)];
      }
      c.queries.push_back(std::move(text));
    }
    return c;
  }();
  return c;
}

std::shared_ptr<const nemori::Tokenizer> tokenizer() {
  static const auto t = std::make_shared<const nemori::Tokenizer>();
  return t;
}

nemori::Bm25Options bench_bm25_options() {
  nemori::Bm25Options o;
  o.weights = {3.0, 1.0, 0.0, 0.0, 0.0};  // title and content, like the FTS5 table
  return o;
}

// ---------------------------------------------------------------------------------------------
// BM25 (ours)

void BM_Bm25Build(benchmark::State& state) {
  const Corpus& c = corpus();
  std::size_t bytes = 0, rss = 0;
  double wall_s = 0, cpu_s = 0;
  for (auto _ : state) {
    const std::size_t rss_before = rss_bytes();
    const Stopwatch watch;
    nemori::Bm25Index index(tokenizer(), bench_bm25_options());
    for (const auto& d : c.docs) index.upsert(d);
    wall_s += watch.wall_us() / 1e6;
    cpu_s += watch.cpu_us() / 1e6;
    state.PauseTiming();
    bytes = index.stats().memory_bytes;
    rss = rss_bytes() - rss_before;
    state.ResumeTiming();
  }
  const double n = static_cast<double>(c.docs.size());
  const double total = n * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
  state.counters["docs_per_cpu_s"] = total / cpu_s;
  state.counters["bytes_per_doc"] = static_cast<double>(bytes) / n;
  state.counters["rss_per_doc"] = static_cast<double>(rss) / n;
  summary()["bm25_build_docs_per_s"] = total / wall_s;
  summary()["bm25_build_docs_per_cpu_s"] = total / cpu_s;
  summary()["bm25_bytes_per_doc"] = static_cast<double>(bytes) / n;
  summary()["bm25_rss_per_doc"] = static_cast<double>(rss) / n;
}

const nemori::Bm25Index& bm25_index() {
  static const auto index = [] {
    auto i = std::make_unique<nemori::Bm25Index>(tokenizer(), bench_bm25_options());
    for (const auto& d : corpus().docs) i->upsert(d);
    return i;
  }();
  return *index;
}

void BM_Bm25Query(benchmark::State& state) {
  const Corpus& c = corpus();
  const nemori::Bm25Index& index = bm25_index();
  Latencies latencies;
  std::size_t q = 0, hits = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    auto result = index.search(c.queries[q++ % c.queries.size()], kTopK);
    latencies.add(watch);
    hits += result.size();
    benchmark::DoNotOptimize(result);
  }
  latencies.report(state, "bm25");
  state.counters["hits_per_query"] = static_cast<double>(hits) / latencies.wall.size();
}

// ---------------------------------------------------------------------------------------------
// SQLite FTS5 reference: same documents (title, content), bm25() with the same column
// weights, the same queries as OR of their words minus the same English stop words (FTS5 has
// no stop-word list; an application would strip them). Porter stemming.

struct Fts5 {
  sqlite3* db = nullptr;
  sqlite3_stmt* query = nullptr;
  ~Fts5() {
    sqlite3_finalize(query);
    sqlite3_close(db);
  }
};

void exec(sqlite3* db, const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s\n", error ? error : "?");
    std::abort();
  }
}

std::unique_ptr<Fts5> build_fts5() {
  auto f = std::make_unique<Fts5>();
  sqlite3_open(":memory:", &f->db);
  exec(f->db,
       "CREATE VIRTUAL TABLE docs USING fts5(title, content, "
       "tokenize = 'porter unicode61 remove_diacritics 2')");
  exec(f->db, "BEGIN");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(f->db, "INSERT INTO docs(rowid, title, content) VALUES (?, ?, ?)", -1, &insert,
                     nullptr);
  std::int64_t rowid = 0;
  for (const auto& d : corpus().docs) {
    sqlite3_bind_int64(insert, 1, rowid++);
    sqlite3_bind_text(insert, 2, d.title.data(), static_cast<int>(d.title.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert, 3, d.content.data(), static_cast<int>(d.content.size()),
                      SQLITE_STATIC);
    sqlite3_step(insert);
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  exec(f->db, "COMMIT");
  sqlite3_prepare_v2(f->db,
                     "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY bm25(docs, 3.0, 1.0) "
                     "LIMIT 20",
                     -1, &f->query, nullptr);
  return f;
}

// A text as an FTS5 query: the OR of its words (runs of letters and digits, lower-cased) minus
// nemori's English stop words, each quoted. "Melanie's" gives "melanie" and "s" (a stop word).
std::string fts5_query(const std::string& text) {
  const auto stop = nemori::StopWords::english();
  std::string out, word;
  auto flush = [&] {
    if (!word.empty() && !stop->contains(word))
      out += (out.empty() ? "\"" : " OR \"") + word + "\"";
    word.clear();
  };
  for (char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || u >= 0x80)
      word += static_cast<char>(std::tolower(u));
    else
      flush();
  }
  flush();
  return out;
}

std::vector<std::int64_t> run_fts5(Fts5& f, const std::string& match) {
  std::vector<std::int64_t> rows;
  sqlite3_bind_text(f.query, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
  while (sqlite3_step(f.query) == SQLITE_ROW) rows.push_back(sqlite3_column_int64(f.query, 0));
  sqlite3_reset(f.query);
  return rows;
}

void BM_Fts5Build(benchmark::State& state) {
  std::size_t bytes = 0;
  double wall_s = 0, cpu_s = 0;
  for (auto _ : state) {
    const auto before = sqlite3_memory_used();
    const Stopwatch watch;
    auto f = build_fts5();
    wall_s += watch.wall_us() / 1e6;
    cpu_s += watch.cpu_us() / 1e6;
    state.PauseTiming();
    bytes = static_cast<std::size_t>(sqlite3_memory_used() - before);
    f.reset();
    state.ResumeTiming();
  }
  const double n = static_cast<double>(corpus().docs.size());
  const double total = n * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
  state.counters["docs_per_cpu_s"] = total / cpu_s;
  state.counters["bytes_per_doc"] = static_cast<double>(bytes) / n;
  summary()["fts5_bytes_per_doc"] = static_cast<double>(bytes) / n;
  summary()["fts5_build_docs_per_s"] = total / wall_s;
  summary()["fts5_build_docs_per_cpu_s"] = total / cpu_s;
}

Fts5& fts5() {
  static const auto f = build_fts5();
  return *f;
}

void BM_Fts5Query(benchmark::State& state) {
  const Corpus& c = corpus();
  Fts5& f = fts5();
  std::vector<std::string> matches;
  for (const auto& q : c.queries) matches.push_back(fts5_query(q));
  Latencies latencies;
  std::size_t q = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    auto rows = run_fts5(f, matches[q++ % matches.size()]);
    latencies.add(watch);
    benchmark::DoNotOptimize(rows);
  }
  // Agreement of the two top-20 lists (a sanity check, not a goal: tokenizers differ).
  const nemori::Bm25Index& index = bm25_index();
  double overlap = 0;
  const std::size_t sample = std::min<std::size_t>(200, c.queries.size());
  for (std::size_t i = 0; i < sample; ++i) {
    const auto rows = run_fts5(f, matches[i]);
    std::set<std::string> theirs;
    for (auto r : rows) theirs.insert("episode-" + std::to_string(r));
    const auto ours = index.search(c.queries[i], kTopK);
    std::size_t common = 0;
    for (const auto& h : ours) common += theirs.count(h.id);
    overlap += rows.empty() ? 1.0 : static_cast<double>(common) / rows.size();
  }
  latencies.report(state, "fts5");
  state.counters["top20_overlap"] = overlap / sample;
  summary()["top20_overlap_with_fts5"] = overlap / sample;
}

// ---------------------------------------------------------------------------------------------
// Vectors: clustered synthetic embeddings (1,000 Gaussian centres, per-vector noise as large as
// the spread of the centres), the rough shape of real sentence embeddings; queries are drawn the
// same way, and recall is also measured for pure Gaussian queries far from every cluster (the
// hard case for a graph index).

struct VectorData {
  std::vector<nemori::VectorDocument> docs;
  std::vector<std::vector<float>> queries;         // drawn like the documents
  std::vector<std::vector<float>> random_queries;  // pure Gaussian: far from every cluster
};

const VectorData& vector_data() {
  static const VectorData data = [] {
    VectorData d;
    std::mt19937_64 rng(768);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    const std::size_t centres = 1000;
    std::vector<float> centre(centres * kDim);
    for (float& x : centre) x = normal(rng);
    auto sample = [&] {
      std::vector<float> v(kDim);
      const std::size_t c = rng() % centres;
      for (std::size_t i = 0; i < kDim; ++i) v[i] = centre[c * kDim + i] + normal(rng);
      return v;
    };
    d.docs.reserve(kVectors);
    for (std::size_t i = 0; i < kVectors; ++i) {
      d.docs.push_back({"episode-" + std::to_string(i), sample(), {}, "conversational"});
    }
    for (int q = 0; q < 200; ++q) d.queries.push_back(sample());
    for (int q = 0; q < 100; ++q) {
      std::vector<float> v(kDim);
      for (float& x : v) x = normal(rng);
      d.random_queries.push_back(std::move(v));
    }
    return d;
  }();
  return data;
}

// Exact-scan variants: the default (int8 first pass, all hardware threads), the same on one
// thread, and the float scan on one thread (the reference: what the scan was before the int8
// pass).
enum ExactVariant { kExactDefault = 0, kExactOneThread = 1, kExactFloat = 2 };
const char* const kExactNames[] = {"exact", "exact_1thread", "exact_float_1thread"};

const nemori::VectorIndex& exact_index(int variant = kExactDefault) {
  static std::unique_ptr<nemori::VectorIndex> indexes[3];
  auto& index = indexes[variant];
  if (!index) {
    nemori::VectorIndexOptions o;
    o.dimension = kDim;
    o.hnsw_threshold = 0;
    if (variant != kExactDefault) o.search_threads = 1;
    if (variant == kExactFloat) o.quantised_scan = false;
    index = std::make_unique<nemori::VectorIndex>(o);
    index->upsert_batch(vector_data().docs);
    summary()[std::string(kExactNames[variant]) + "_bytes_per_vector"] =
        static_cast<double>(index->stats().memory_bytes) / vector_data().docs.size();
  }
  return *index;
}

nemori::VectorIndex& hnsw_index() {
  static const auto index = [] {
    nemori::VectorIndexOptions o;
    o.dimension = kDim;
    o.hnsw_threshold = 1;
    o.hnsw_m = kHnswM;
    o.hnsw_ef_construction = kHnswEfc;
    o.build_threads = kThreads;
    auto i = std::make_unique<nemori::VectorIndex>(o);
    const Stopwatch watch(true);
    i->upsert_batch(vector_data().docs);
    const double n = static_cast<double>(vector_data().docs.size());
    summary()["hnsw_build_s"] = watch.wall_us() / 1e6;
    summary()["hnsw_build_cpu_s"] = watch.cpu_us() / 1e6;
    summary()["hnsw_build_vectors_per_s"] = n / (watch.wall_us() / 1e6);
    summary()["hnsw_build_vectors_per_cpu_s"] = n / (watch.cpu_us() / 1e6);
    summary()["hnsw_bytes_per_vector"] =
        static_cast<double>(i->stats().memory_bytes) / vector_data().docs.size();
    return i;
  }();
  return *index;
}

// Arg: an ExactVariant.
void BM_VectorExactQuery(benchmark::State& state) {
  const auto variant = static_cast<int>(state.range(0));
  const std::string name = kExactNames[variant];
  const auto& index = exact_index(variant);
  const auto& queries = vector_data().queries;
  Latencies latencies;
  std::size_t q = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    auto hits = index.search(queries[q++ % queries.size()], kTopK);
    latencies.add(watch);
    benchmark::DoNotOptimize(hits);
  }
  latencies.report(state, name);
  state.counters["vectors"] = static_cast<double>(index.size());
  // The int8 first pass must not change the result: compare with a brute-force float cosine
  // scan (written here, independent of the index) on clustered and random queries.
  const auto& docs = vector_data().docs;
  std::vector<double> doc_norms(docs.size());
  for (std::size_t i = 0; i < docs.size(); ++i) {
    double n = 0;
    for (float x : docs[i].vector) n += static_cast<double>(x) * x;
    doc_norms[i] = std::sqrt(n);
  }
  std::size_t found = 0, total = 0, identical = 0, lists = 0;
  auto check = [&](const std::vector<float>& query) {
    std::vector<std::pair<double, std::size_t>> scored(docs.size());
    for (std::size_t i = 0; i < docs.size(); ++i) {
      double dot = 0;
      for (std::size_t j = 0; j < kDim; ++j) {
        dot += static_cast<double>(query[j]) * docs[i].vector[j];
      }
      scored[i] = {-dot / doc_norms[i], i};
    }
    std::partial_sort(scored.begin(), scored.begin() + kTopK, scored.end());
    std::vector<std::string> truth;
    for (std::size_t r = 0; r < kTopK; ++r) truth.push_back(docs[scored[r].second].id);
    std::vector<std::string> ours;
    for (const auto& h : index.search(query, kTopK)) ours.push_back(h.id);
    const std::set<std::string> truth_set(truth.begin(), truth.end());
    for (const auto& id : ours) found += truth_set.count(id);
    total += truth.size();
    identical += ours == truth;
    ++lists;
  };
  for (std::size_t i = 0; i < 20; ++i) check(vector_data().queries[i]);
  for (std::size_t i = 0; i < 20; ++i) check(vector_data().random_queries[i]);
  state.counters["recall_vs_brute_force"] = static_cast<double>(found) / total;
  state.counters["identical_lists"] = static_cast<double>(identical) / lists;
  summary()[name + "_recall_vs_brute_force"] = static_cast<double>(found) / total;
  summary()[name + "_identical_lists_share"] = static_cast<double>(identical) / lists;
}

void BM_VectorHnswBuild(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(&hnsw_index());  // built once, timed inside
  state.counters["build_s"] = summary()["hnsw_build_s"];
  state.counters["build_cpu_s"] = summary()["hnsw_build_cpu_s"];
  state.counters["vectors_per_s"] = summary()["hnsw_build_vectors_per_s"];
  state.counters["threads"] = static_cast<double>(kThreads);
  state.counters["M"] = static_cast<double>(kHnswM);
  state.counters["ef_construction"] = static_cast<double>(kHnswEfc);
}

// Exact top-20 ids of each query of a set (computed once).
const std::vector<std::set<std::string>>& truths(const std::vector<std::vector<float>>& set) {
  static std::map<const void*, std::vector<std::set<std::string>>> cache;
  auto& out = cache[&set];
  if (out.empty()) {
    for (const auto& query : set) {
      std::set<std::string> truth;
      for (const auto& h : exact_index().search(query, kTopK)) truth.insert(h.id);
      out.push_back(std::move(truth));
    }
  }
  return out;
}

// Arg: hnsw_ef_search with no per-k minimum and no exact fallback for far queries (the graph
// alone), or 0 for the library defaults (which include the fallback).
void BM_VectorHnswQuery(benchmark::State& state) {
  auto& index = hnsw_index();
  const nemori::VectorIndexOptions defaults;
  const auto ef = static_cast<std::size_t>(state.range(0));
  if (ef == 0) {
    index.set_hnsw_ef_search(defaults.hnsw_ef_search, defaults.hnsw_ef_search_per_k);
    index.set_hnsw_exact_fallback(defaults.hnsw_exact_fallback);
  } else {
    index.set_hnsw_ef_search(ef, 0);
    index.set_hnsw_exact_fallback(false);
  }
  const std::string name = ef == 0 ? "hnsw" : "hnsw_ef" + std::to_string(ef);
  const auto& queries = vector_data().queries;
  Latencies latencies;
  std::size_t q = 0;
  for (auto _ : state) {
    const Stopwatch watch;
    auto hits = index.search(queries[q++ % queries.size()], kTopK);
    latencies.add(watch);
    benchmark::DoNotOptimize(hits);
  }
  // Recall@20 against the exact scan, and latency of the random queries.
  Latencies random_latencies;
  auto recall_of = [&](const std::vector<std::vector<float>>& set, Latencies* timing) {
    const auto& truth = truths(set);
    std::size_t found = 0, total = 0;
    for (std::size_t i = 0; i < set.size(); ++i) {
      const Stopwatch watch;
      const auto hits = index.search(set[i], kTopK);
      if (timing) timing->add(watch);
      for (const auto& h : hits) found += truth[i].count(h.id);
      total += truth[i].size();
    }
    return static_cast<double>(found) / static_cast<double>(total);
  };
  const double recall = recall_of(queries, nullptr);
  const double recall_random = recall_of(vector_data().random_queries, &random_latencies);
  latencies.report(state, name);
  state.counters["recall_at_20"] = recall;
  state.counters["recall_at_20_random_queries"] = recall_random;
  state.counters["p50_cpu_us_random_queries"] = percentile(random_latencies.cpu, 0.5);
  summary()[name + "_recall_at_20"] = recall;
  summary()[name + "_recall_at_20_random_queries"] = recall_random;
  summary()[name + "_random_queries_p50_cpu_us"] = percentile(random_latencies.cpu, 0.5);
}

// ---------------------------------------------------------------------------------------------
// Start-up: RetrievalService::preload from a loader that hands over stored episodes (the cost
// of reading storage is the backend's and not measured here).

std::vector<nemori::Episode> episodes_for(std::size_t owners) {
  std::vector<nemori::Episode> out;
  out.reserve(corpus().docs.size());
  std::size_t i = 0;
  for (const auto& d : corpus().docs) {
    nemori::Episode e;
    e.episode_id = d.id;
    e.owner_id = "owner-" + std::to_string(i++ % owners);
    e.title = d.title;
    e.content = d.content;
    e.temporal_info.timestamp = d.timestamp;
    out.push_back(std::move(e));
  }
  return out;
}

void BM_ServicePreload(benchmark::State& state) {
  const auto owners = static_cast<std::size_t>(state.range(0));
  const auto episodes = episodes_for(owners);
  std::map<std::string, std::vector<const nemori::Episode*>> by_owner;
  for (const auto& e : episodes) by_owner[e.owner_id].push_back(&e);
  std::vector<std::string> owner_ids;
  for (const auto& [o, list] : by_owner) owner_ids.push_back(o);
  nemori::RetrievalOptions options;
  options.load_threads = kThreads;
  options.loader = [&](const std::string& owner) {
    nemori::OwnerData data;
    for (const auto* e : by_owner[owner]) data.episodes.push_back(*e);
    return data;
  };
  double per_s = 0, per_cpu_s = 0;
  for (auto _ : state) {
    nemori::RetrievalService service(options);
    const Stopwatch watch(true);
    const auto report = service.preload(owner_ids);
    per_s = static_cast<double>(report.episodes) / (watch.wall_us() / 1e6);
    per_cpu_s = static_cast<double>(report.episodes) / (watch.cpu_us() / 1e6);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * episodes.size()));
  state.counters["owners"] = static_cast<double>(owners);
  state.counters["episodes_per_s"] = per_s;
  state.counters["episodes_per_cpu_s"] = per_cpu_s;
  const std::string key = "preload_" + std::to_string(owners) + "_owners_episodes_per_";
  summary()[key + "s"] = per_s;
  summary()[key + "cpu_s"] = per_cpu_s;
}

// ---------------------------------------------------------------------------------------------
// LoCoMo: evidence recall and latency of nemori's BM25 and of FTS5 bm25() over the same
// episodes (built by MemorySystem with its defaults) and the same questions (categories 1-4).
// FTS5 gets the same five fields with the same weights and each question as an OR of its words
// minus the same stop words; both return their best 200 and are scored at 1000 words.

std::string locomo_path() {
  const char* v = std::getenv("NEMORI_LOCOMO");
  return v != nullptr && *v != '\0' ? v : NEMORI_LOCOMO_PATH;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void BM_LocomoRecall(benchmark::State& state) {
  const std::string path = locomo_path();
  if (!std::ifstream(path)) {
    state.SkipWithError(("LoCoMo file not found: " + path + " (set NEMORI_LOCOMO)").c_str());
    return;
  }
  const auto conversations = nemori::load_locomo(path);
  constexpr std::size_t kDepth = 200, kBudget = 1000;
  double recall_nemori = 0, recall_plain = 0, recall_fts5 = 0;
  std::size_t questions = 0, episodes = 0;
  Latencies ours, theirs;
  for (auto _ : state) {
    nemori::MemoryConfig config;
    config.storage.backend = "memory";
    auto memory = nemori::MemorySystem::open(config);
    for (const auto& conv : conversations) {
      const auto messages = conv.messages();
      const auto ids = memory->add_messages(conv.sample_id, messages, "locomo");
      memory->process(conv.sample_id);
      std::map<std::string, std::string> dialog_of;
      for (std::size_t i = 0; i < ids.size(); ++i)
        dialog_of[ids[i]] = messages[i].external_id.value_or("");
      const auto stored = memory->list_episodes(conv.sample_id, 1000000, 0);
      episodes += stored.size();
      // The episodes as ranked units, in both engines.
      std::map<std::string, nemori::RankedUnit> units;
      nemori::Bm25Index index(nullptr, nemori::Bm25Options{});
      Fts5 f;
      sqlite3_open(":memory:", &f.db);
      exec(f.db,
           "CREATE VIRTUAL TABLE docs USING fts5(title, content, summary, keywords, entities, "
           "tokenize = 'porter unicode61 remove_diacritics 2')");
      sqlite3_stmt* insert = nullptr;
      sqlite3_prepare_v2(f.db, "INSERT INTO docs VALUES (?, ?, ?, ?, ?)", -1, &insert, nullptr);
      std::vector<std::string> rowid_to_episode;
      for (const auto& e : stored) {
        nemori::RankedUnit& unit = units[e.episode_id];
        unit.words = nemori::word_count(e);
        for (const auto& id : e.metadata.source_data_ids) unit.dialog_ids.push_back(dialog_of[id]);
        const nemori::Document d = nemori::document_from_episode(e);
        index.upsert(d);
        const std::string fields[] = {d.title, d.content, d.summary, joined(d.keywords),
                                      joined(d.entities)};
        for (int i = 0; i < 5; ++i)
          sqlite3_bind_text(insert, i + 1, fields[i].c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_step(insert);
        sqlite3_reset(insert);
        rowid_to_episode.push_back(e.episode_id);
      }
      sqlite3_finalize(insert);
      sqlite3_prepare_v2(f.db,
                         "SELECT rowid FROM docs WHERE docs MATCH ? ORDER BY "
                         "bm25(docs, 3.0, 1.0, 2.0, 2.0, 2.0) LIMIT 200",
                         -1, &f.query, nullptr);
      for (const auto& q : conv.questions) {
        if (q.category < 1 || q.category > 4) continue;
        const auto evidence = nemori::normalise_evidence(q.evidence);
        auto to_units = [&](const std::vector<std::string>& ids_ranked) {
          std::vector<nemori::RankedUnit> ranked;
          for (const auto& id : ids_ranked) ranked.push_back(units.at(id));
          return ranked;
        };
        std::vector<std::string> ranked_ids;
        const Stopwatch ours_watch;
        for (const auto& hit : index.search(q.question, kDepth)) ranked_ids.push_back(hit.id);
        ours.add(ours_watch);
        recall_plain += nemori::recall_at_budget(to_units(ranked_ids), evidence, kBudget);

        ranked_ids.clear();
        const std::string match = fts5_query(q.question);
        const Stopwatch theirs_watch;
        const auto rows = match.empty() ? std::vector<std::int64_t>{} : run_fts5(f, match);
        theirs.add(theirs_watch);
        for (auto r : rows) ranked_ids.push_back(rowid_to_episode[static_cast<std::size_t>(r) - 1]);
        recall_fts5 += nemori::recall_at_budget(to_units(ranked_ids), evidence, kBudget);

        nemori::MemorySearchRequest request;
        request.owner_id = conv.sample_id;
        request.query = q.question;
        request.limit = kDepth;
        ranked_ids.clear();
        for (const auto& hit : memory->search(request).hits)
          ranked_ids.push_back(hit.episode.episode_id);
        recall_nemori += nemori::recall_at_budget(to_units(ranked_ids), evidence, kBudget);
        ++questions;
      }
    }
  }
  const double n = static_cast<double>(std::max<std::size_t>(questions, 1));
  state.counters["questions"] = static_cast<double>(questions);
  state.counters["episodes"] = static_cast<double>(episodes);
  state.counters["recall_1000w_bm25"] = recall_plain / n;
  state.counters["recall_1000w_fts5"] = recall_fts5 / n;
  state.counters["recall_1000w_default"] = recall_nemori / n;
  summary()["locomo_recall_1000w_bm25"] = recall_plain / n;
  summary()["locomo_recall_1000w_fts5"] = recall_fts5 / n;
  summary()["locomo_recall_1000w_default_search"] = recall_nemori / n;
  ours.report(state, "locomo_bm25");
  theirs.report(state, "locomo_fts5");
}

BENCHMARK(BM_Bm25Build)->Unit(benchmark::kMillisecond)->Iterations(2);
BENCHMARK(BM_Bm25Query)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Fts5Build)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_Fts5Query)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VectorExactQuery)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_VectorHnswBuild)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_VectorHnswQuery)
    ->Arg(0)
    ->Arg(64)
    ->Arg(128)
    ->Arg(256)
    ->Arg(512)
    ->Arg(1024)
    ->Arg(2048)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LocomoRecall)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_ServicePreload)->Arg(1)->Arg(100)->Unit(benchmark::kMillisecond)->Iterations(1);

void print_summary() {
  auto& s = summary();
  auto get = [&](const std::string& key) { return s.count(key) ? s[key] : 0.0; };
  std::printf("\nSummary (%zu documents, %zu x %zu-dim vectors; wall and CPU time)\n", kDocs,
              kVectors, kDim);
  for (const auto& [k, v] : s) std::printf("  %-48s %14.3f\n", k.c_str(), v);
  auto ratio = [&](const char* what, const std::string& num, const std::string& den) {
    if (get(num) > 0 && get(den) > 0) {
      std::printf("  %-48s %13.2fx\n", what, get(num) / get(den));
    }
  };
  ratio("BM25 top-20 p50, FTS5 / nemori (wall)", "fts5_p50_us", "bm25_p50_us");
  ratio("BM25 top-20 p50, FTS5 / nemori (CPU)", "fts5_p50_cpu_us", "bm25_p50_cpu_us");
  ratio("build rate, nemori / FTS5 (wall)", "bm25_build_docs_per_s", "fts5_build_docs_per_s");
  ratio("build rate, nemori / FTS5 (CPU)", "bm25_build_docs_per_cpu_s",
        "fts5_build_docs_per_cpu_s");
  ratio("memory per doc, nemori / FTS5", "bm25_bytes_per_doc", "fts5_bytes_per_doc");
  ratio("LoCoMo top-200 p50, FTS5 / nemori (CPU)", "locomo_fts5_p50_cpu_us",
        "locomo_bm25_p50_cpu_us");
  ratio("exact top-20 p50, float scan / default (wall)", "exact_float_1thread_p50_us",
        "exact_p50_us");
  ratio("exact top-20 p50, float scan / int8 pass, 1 thread (wall)", "exact_float_1thread_p50_us",
        "exact_1thread_p50_us");
  ratio("vector top-20 p50, exact / HNSW (wall)", "exact_p50_us", "hnsw_p50_us");
}

}  // namespace

int main(int argc, char** argv) {
  return nemori::bench::run_benchmarks(argc, argv, print_summary);
}
