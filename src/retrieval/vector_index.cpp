#include "nemori/retrieval/vector_index.h"

// hnswlib defines non-inline functions in its header: include it in this file only.
// NO_MANUAL_VECTORIZATION turns off hnswlib's SSE code: distances come from our own SIMD kernel
// (CosineSpace below), and hnswlib 0.6.2's prefetches read one link past the end of upper-layer
// link lists while building (an out-of-bounds read AddressSanitizer reports).
#define NO_MANUAL_VECTORIZATION
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "nemori/core/error.h"
#include "retrieval/doc_table.h"
#include "retrieval/simd.h"

namespace nemori {

using retrieval_internal::DocTable;
using retrieval_internal::dot_product;
using retrieval_internal::dot_u8s8_batch;
using retrieval_internal::kNoSlot;
using retrieval_internal::SlotFilter;
using retrieval_internal::TopK;

namespace {

// Inner-product distance on normalised vectors: 1 - cosine.
class CosineSpace final : public hnswlib::SpaceInterface<float> {
 public:
  explicit CosineSpace(std::size_t dimension) : dimension_(dimension) {}
  std::size_t get_data_size() override { return dimension_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &distance; }
  void* get_dist_func_param() override { return &dimension_; }

 private:
  static float distance(const void* a, const void* b, const void* param) {
    return 1.0f - dot_product(static_cast<const float*>(a), static_cast<const float*>(b),
                              *static_cast<const std::size_t*>(param));
  }
  std::size_t dimension_;
};

using Hnsw = hnswlib::HierarchicalNSW<float>;

// The int8 copy of one unit vector v: codes c (stored as c + 128) with v ~ scale * c.
struct QuantInfo {
  float scale = 0;     // max |v_i| / 127
  float residual = 0;  // || v - scale * c ||
  float norm = 0;      // || scale * c ||
};

// Quantises n floats into int8 codes (-127..127); returns the scale, residual and norm.
template <typename Code>
QuantInfo quantise(const float* v, std::size_t n, Code* out, int offset) {
  float max_abs = 0;
  for (std::size_t i = 0; i < n; ++i) max_abs = std::max(max_abs, std::fabs(v[i]));
  QuantInfo info;
  if (!(max_abs > 0)) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<Code>(offset);
    return info;
  }
  info.scale = max_abs / 127.0f;
  const double scale = info.scale;
  double residual = 0, norm = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double c = std::clamp(std::nearbyint(v[i] / scale), -127.0, 127.0);
    out[i] = static_cast<Code>(static_cast<int>(c) + offset);
    const double back = scale * c;
    residual += (v[i] - back) * (v[i] - back);
    norm += back * back;
  }
  info.residual = static_cast<float>(std::sqrt(residual));
  info.norm = static_cast<float>(std::sqrt(norm));
  return info;
}

void check_options(const VectorIndexOptions& o) {
  if (o.dimension == 0) throw ConfigError("vector index dimension must be > 0");
  if (o.dimension > 65536) throw ConfigError("vector index dimension must be <= 65536");
  if (o.hnsw_m < 2 || o.hnsw_m > 256) throw ConfigError("hnsw_m must be within 2..256");
  if (o.hnsw_ef_search_per_k > 1000) throw ConfigError("hnsw_ef_search_per_k must be <= 1000");
  if (o.hnsw_ef_construction == 0 || o.hnsw_ef_search == 0) {
    throw ConfigError("hnsw_ef_construction and hnsw_ef_search must be > 0");
  }
  if (o.search_threads > 64) throw ConfigError("search_threads must be <= 64");
  if (!(o.rebuild_ratio > 0 && o.rebuild_ratio <= 1)) {
    throw ConfigError("rebuild_ratio must be within (0, 1]");
  }
}

std::size_t thread_count(std::size_t requested) {
  if (requested != 0) return requested;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

// Runs fn(i) for i in [0, n) on `threads` threads; rethrows the first exception.
template <typename Fn>
void parallel_for(std::size_t n, std::size_t threads, Fn fn) {
  threads = std::min(threads, n);
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= n) return;
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        next.store(n);
      }
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace

struct VectorIndex::Impl {
  VectorIndexOptions options;
  DocTable docs;
  std::vector<float> flat;  // slot-major vectors while there is no graph
  // Every slot's vector as int8 codes (+128, slot-major) with its QuantInfo: the exact scan
  // reads these first (a quarter of the bytes) and re-scores only the candidates in float.
  std::vector<std::uint8_t> codes;
  std::vector<QuantInfo> quant;
  std::unique_ptr<CosineSpace> space;
  std::unique_ptr<Hnsw> hnsw;
  std::vector<hnswlib::tableint> internal_of;  // slot -> graph id while there is a graph
  // Queries whose best graph hit scores below this are far from the data: the exact scan
  // answers them (see calibrate()).
  float far_below = -std::numeric_limits<float>::infinity();
  std::size_t calibrated_at = 0;  // live vectors when far_below was set

  std::size_t dim() const { return options.dimension; }

  void check_vector(std::span<const float> v, const char* field) const {
    if (v.size() != dim()) {
      throw ValidationError(field, "has " + std::to_string(v.size()) +
                                       " dimensions but the index holds " + std::to_string(dim()) +
                                       "-dimensional vectors (was the embedding model changed? "
                                       "re-embed, or use a new index)");
    }
    for (float x : v) {
      if (!std::isfinite(x)) throw ValidationError(field, "holds a non-finite value");
    }
  }

  static void normalise(std::span<const float> in, float* out) {
    double norm = 0;
    for (float x : in) norm += static_cast<double>(x) * x;
    norm = std::sqrt(norm);
    const float scale = norm > 0 ? static_cast<float>(1.0 / norm) : 0.0f;
    for (std::size_t i = 0; i < in.size(); ++i) out[i] = in[i] * scale;
  }

  const float* vector_at(std::uint32_t slot) const {
    if (hnsw) return reinterpret_cast<const float*>(hnsw->getDataByInternalId(internal_of[slot]));
    return flat.data() + static_cast<std::size_t>(slot) * dim();
  }

  bool wants_graph(std::size_t live) const {
    return options.hnsw_threshold != 0 && live > options.hnsw_threshold;
  }

  void ensure_graph_capacity(std::size_t extra) {
    const std::size_t needed = hnsw->cur_element_count + extra;
    if (needed <= hnsw->max_elements_) return;
    hnsw->resizeIndex(std::max(needed, hnsw->max_elements_ * 2));
  }

  // Moves every live vector into a new graph (labels = compacted slots).
  void build_graph() {
    std::vector<float> vectors = live_vectors_compacted();
    const std::size_t n = docs.slots();
    auto space_new = std::make_unique<CosineSpace>(dim());
    auto graph = std::make_unique<Hnsw>(space_new.get(), std::max<std::size_t>(2 * n, 1024),
                                        options.hnsw_m, options.hnsw_ef_construction);
    graph->setEf(options.hnsw_ef_search);
    std::vector<hnswlib::tableint> ids(n);
    Hnsw* g = graph.get();
    parallel_for(n, thread_count(options.build_threads),
                 [&](std::size_t s) { ids[s] = g->addPoint(vectors.data() + s * dim(), s, -1); });
    hnsw = std::move(graph);
    space = std::move(space_new);
    internal_of = std::move(ids);
    flat.clear();
    flat.shrink_to_fit();
    calibrate();
  }

  // Far-query detection for the graph: the similarity of up to 64 stored vectors (spread over
  // the slots) to their nearest neighbour in the graph; its 5th percentile becomes far_below.
  // A query whose best hit is less similar than that is farther from the data than nearly any
  // stored vector is from its neighbour: graph search recall is poor there (the greedy descent
  // has no gradient to follow), so such queries go to the exact scan.
  void calibrate() {
    calibrated_at = docs.live_count();
    far_below = -std::numeric_limits<float>::infinity();
    if (!hnsw || !options.hnsw_exact_fallback || docs.live_count() < 2) return;
    constexpr std::size_t kSamples = 64;
    const std::size_t step = std::max<std::size_t>(1, docs.slots() / kSamples);
    std::vector<float> nearest;
    for (std::uint32_t s = 0; s < docs.slots() && nearest.size() < kSamples;
         s += static_cast<std::uint32_t>(step)) {
      if (!docs.live(s)) continue;
      auto found = hnsw->searchKnn(vector_at(s), 2);  // the vector itself and its neighbour
      if (found.size() < 2) continue;
      nearest.push_back(1.0f - found.top().first);
    }
    if (nearest.empty()) return;
    std::sort(nearest.begin(), nearest.end());
    far_below = nearest[nearest.size() / 20];
  }

  void maybe_calibrate() {
    if (hnsw && docs.live_count() >= 2 * calibrated_at) calibrate();
  }

  // Compacts the table and returns the live vectors in (new) slot order.
  std::vector<float> live_vectors_compacted() {
    std::vector<float> out;
    out.reserve(docs.live_count() * dim());
    std::vector<std::uint8_t> kept_codes;
    std::vector<QuantInfo> kept_quant;
    if (options.quantised_scan) {
      kept_codes.reserve(docs.live_count() * dim());
      kept_quant.reserve(docs.live_count());
    }
    for (std::uint32_t s = 0; s < docs.slots(); ++s) {
      if (!docs.live(s)) continue;
      const float* v = vector_at(s);
      out.insert(out.end(), v, v + dim());
      if (!options.quantised_scan) continue;
      const std::uint8_t* c = codes.data() + static_cast<std::size_t>(s) * dim();
      kept_codes.insert(kept_codes.end(), c, c + dim());
      kept_quant.push_back(quant[s]);
    }
    docs.compact();
    codes = std::move(kept_codes);
    quant = std::move(kept_quant);
    return out;
  }

  void maybe_rebuild() {
    const std::size_t dead = docs.dead_count();
    if (dead < 64 || static_cast<double>(dead) <= options.rebuild_ratio * docs.slots()) return;
    if (hnsw && docs.live_count() > options.hnsw_threshold / 2) {
      build_graph();
      return;
    }
    flat = live_vectors_compacted();
    hnsw.reset();
    space.reset();
    internal_of.clear();
  }

  void remove_slot(std::uint32_t slot) {
    if (hnsw) hnsw->markDelete(slot);
    docs.remove(slot);
  }

  // Adds an already checked and normalised vector; returns its slot.
  std::uint32_t add_normalised(const VectorDocument& doc, const float* unit, bool graph_insert) {
    if (const std::uint32_t old = docs.find(doc.id); old != kNoSlot) remove_slot(old);
    const std::uint32_t slot = docs.add(doc.id, doc.timestamp, doc.type);
    if (options.quantised_scan) {
      codes.resize(codes.size() + dim());
      quant.push_back(quantise(unit, dim(), codes.data() + codes.size() - dim(), 128));
    }
    if (hnsw) {
      internal_of.push_back(0);
      if (graph_insert) {
        ensure_graph_capacity(1);
        internal_of[slot] = hnsw->addPoint(unit, slot, -1);
      }
    } else {
      flat.insert(flat.end(), unit, unit + dim());
    }
    return slot;
  }

  void upsert(const VectorDocument& doc) {
    if (doc.id.empty()) throw ValidationError("id", "is required");
    check_vector(doc.vector, "vector");
    std::vector<float> unit(dim());
    normalise(doc.vector, unit.data());
    add_normalised(doc, unit.data(), true);
    if (!hnsw && wants_graph(docs.live_count())) build_graph();
    maybe_rebuild();
    maybe_calibrate();
  }

  void upsert_batch(std::span<const VectorDocument> input) {
    for (const VectorDocument& doc : input) {
      if (doc.id.empty()) throw ValidationError("id", "is required");
      check_vector(doc.vector, "vector");
    }
    // An id named twice: the last one wins.
    std::unordered_map<std::string_view, std::size_t> last;
    for (std::size_t i = 0; i < input.size(); ++i) last[input[i].id] = i;
    std::vector<const VectorDocument*> batch;
    batch.reserve(last.size());
    for (std::size_t i = 0; i < input.size(); ++i) {
      if (last[input[i].id] == i) batch.push_back(&input[i]);
    }
    std::vector<float> units(batch.size() * dim());
    std::vector<std::uint32_t> slots(batch.size());
    // Room for the whole batch at once (growth by doubling would leave up to half unused).
    const std::size_t vectors = docs.slots() + batch.size();
    if (!hnsw && flat.capacity() < vectors * dim()) flat.reserve(vectors * dim());
    if (options.quantised_scan && codes.capacity() < vectors * dim()) {
      codes.reserve(vectors * dim());
      quant.reserve(vectors);
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      normalise(batch[i]->vector, units.data() + i * dim());
      slots[i] = add_normalised(*batch[i], units.data() + i * dim(), false);
    }
    if (hnsw) {
      ensure_graph_capacity(batch.size());
      Hnsw* g = hnsw.get();
      parallel_for(batch.size(), thread_count(options.build_threads), [&](std::size_t i) {
        internal_of[slots[i]] = g->addPoint(units.data() + i * dim(), slots[i], -1);
      });
    } else if (wants_graph(docs.live_count())) {
      build_graph();
    }
    maybe_rebuild();
    maybe_calibrate();
  }

  std::vector<float> prepare_query(std::span<const float> query) const {
    check_vector(query, "query vector");
    std::vector<float> q(dim());
    normalise(query, q.data());
    return q;
  }

  // The query's int8 codes and the constants of the error bound.
  struct QueryCodes {
    std::vector<std::int8_t> codes;
    std::vector<std::int16_t> codes16;
    QuantInfo info;
    std::int64_t offset = 0;  // 128 * sum of the codes
    float length = 0;         // |q|, rounded up
    float margin = 0;         // rounding of the float dot product and of the bound itself
  };

  struct Candidate {
    std::uint32_t slot;
    float upper;
  };

  // Pass 1 over slots [begin, end): the best k lower bounds (a min-heap) and every vector
  // whose upper bound reached the k-th best lower bound seen so far.
  struct Pass1 {
    std::vector<float> lows;
    std::vector<Candidate> candidates;
  };

  void scan_codes(const QueryCodes& q, std::uint32_t begin, std::uint32_t end, std::size_t k,
                  const SlotFilter& filter, Pass1& out) const {
    const std::size_t d = dim();
    auto& lows = out.lows;
    lows.reserve(std::min<std::size_t>(k, end - begin) + 1);
    float threshold = -std::numeric_limits<float>::infinity();
    constexpr std::size_t kBlock = 256;
    std::uint32_t block[kBlock];
    std::int32_t dots[kBlock];
    for (std::uint32_t s = begin; s < end;) {
      std::size_t m = 0;
      for (; s < end && m < kBlock; ++s) {
        if (docs.live(s) && filter.pass(s)) block[m++] = s;
      }
      dot_u8s8_batch(q.codes.data(), q.codes16.data(), codes.data(), d, block, m, dots);
      for (std::size_t i = 0; i < m; ++i) {
        const QuantInfo& vi = quant[block[i]];
        const float approx = q.info.scale * vi.scale *
                             static_cast<float>(static_cast<std::int64_t>(dots[i]) - q.offset);
        const float error = q.length * vi.residual + q.info.residual * vi.norm + q.margin;
        const float upper = approx + error;
        if (upper < threshold) continue;
        const float lower = approx - error;
        if (lows.size() < k) {
          lows.push_back(lower);
          std::push_heap(lows.begin(), lows.end(), std::greater<>());
          if (lows.size() == k) threshold = lows.front();
        } else if (lower > lows.front()) {
          std::pop_heap(lows.begin(), lows.end(), std::greater<>());
          lows.back() = lower;
          std::push_heap(lows.begin(), lows.end(), std::greater<>());
          threshold = lows.front();
        }
        out.candidates.push_back({block[i], upper});
      }
    }
  }

  // Exact top k. With the int8 copy, in two passes: pass 1 scores every passing vector from
  // its codes, with a bound on the error, |q.v - q~.v~| <= |q| |v - v~| + |q - q~| |v~|
  // (Cauchy-Schwarz), widened by a margin for float rounding; pass 2 re-scores in float only
  // the vectors whose upper bound reaches the k-th best lower bound. Every other vector scores
  // strictly below k re-scored ones, so the result equals the full float scan's, ties included.
  std::vector<ScoredDocument> exact(const std::vector<float>& q, std::size_t k,
                                    const SlotFilter& filter) const {
    const std::size_t d = dim();
    const std::uint32_t n = docs.slots();
    TopK top(docs, k);
    if (!options.quantised_scan) {
      for (std::uint32_t s = 0; s < n; ++s) {
        if (!docs.live(s) || !filter.pass(s)) continue;
        top.push(s, dot_product(q.data(), vector_at(s), d));
      }
      return top.finish();
    }
    QueryCodes qc;
    qc.codes.resize(d);
    qc.info = quantise(q.data(), d, qc.codes.data(), 0);
    qc.codes16.assign(qc.codes.begin(), qc.codes.end());
    for (std::int8_t c : qc.codes) qc.offset += 128 * static_cast<std::int64_t>(c);
    double norm = 0;
    for (float x : q) norm += static_cast<double>(x) * x;
    qc.length = static_cast<float>(std::sqrt(norm)) * (1.0f + 1e-6f);
    qc.margin = 1e-4f + 4e-7f * static_cast<float>(d);

    // Large scans are split into contiguous ranges, one per thread.
    constexpr std::size_t kMinBytesPerThread = std::size_t{4} << 20;
    const std::size_t threads =
        std::max<std::size_t>(1, std::min({thread_count(options.search_threads), std::size_t{64},
                                           static_cast<std::size_t>(n) * d / kMinBytesPerThread}));
    std::vector<Pass1> parts(threads);
    parallel_for(threads, threads, [&](std::size_t t) {
      const auto begin = static_cast<std::uint32_t>(n * t / threads);
      const auto end = static_cast<std::uint32_t>(n * (t + 1) / threads);
      scan_codes(qc, begin, end, k, filter, parts[t]);
    });
    std::vector<float> lows;
    for (const Pass1& p : parts) lows.insert(lows.end(), p.lows.begin(), p.lows.end());
    float threshold = -std::numeric_limits<float>::infinity();
    if (lows.size() >= k) {
      std::nth_element(lows.begin(), lows.begin() + static_cast<std::ptrdiff_t>(k - 1), lows.end(),
                       std::greater<>());
      threshold = lows[k - 1];
    }
    for (const Pass1& p : parts) {
      for (const Candidate& c : p.candidates) {
        if (c.upper >= threshold) top.push(c.slot, dot_product(q.data(), vector_at(c.slot), d));
      }
    }
    return top.finish();
  }

  std::vector<ScoredDocument> approximate(const std::vector<float>& q, std::size_t k,
                                          const SlotFilter& filter) const {
    const std::size_t live = docs.live_count();
    std::size_t passing = live;
    if (filter.active()) {
      passing = 0;
      for (std::uint32_t s = 0; s < docs.slots(); ++s) {
        if (docs.live(s) && filter.pass(s)) ++passing;
      }
      // Few documents pass: scanning them is cheaper and exact.
      if (passing <= std::max<std::size_t>(options.hnsw_threshold, 64 * k)) {
        return exact(q, k, filter);
      }
    }
    std::size_t ask = k;
    if (filter.active()) ask = std::min(live, k * ((live + passing - 1) / passing) * 2);
    // Asking for more results than k widens the search list to that many (hnswlib searches
    // with max(ef, asked)): this is how the per-k candidate list size is applied.
    const std::size_t ef = std::max(options.hnsw_ef_search, options.hnsw_ef_search_per_k * k);
    for (;;) {
      auto found = hnsw->searchKnn(q.data(), std::max(ask, ef));
      TopK top(docs, k);
      std::size_t kept = 0;
      float best = -std::numeric_limits<float>::infinity();
      while (!found.empty()) {
        const auto [distance, label] = found.top();
        found.pop();
        best = std::max(best, 1.0f - distance);
        const auto slot = static_cast<std::uint32_t>(label);
        if (!docs.live(slot) || !filter.pass(slot)) continue;
        top.push(slot, 1.0 - static_cast<double>(distance));
        ++kept;
      }
      if (best < far_below) return exact(q, k, filter);
      if (kept >= k || ask >= live) return top.finish();
      ask = std::min(live, ask * 2);
    }
  }

  std::size_t approximate_memory_bytes() const {
    std::size_t bytes = docs.slots() * DocTable::kBytesPerDocument + flat.capacity() * 4 +
                        codes.capacity() + quant.capacity() * sizeof(QuantInfo);
    if (hnsw) {
      bytes += hnsw->max_elements_ * (hnsw->size_data_per_element_ + 64) +
               internal_of.capacity() * sizeof(hnswlib::tableint);
    }
    return bytes;
  }
};

VectorIndex::VectorIndex(VectorIndexOptions options) : impl_(std::make_unique<Impl>()) {
  check_options(options);
  impl_->options = options;
}

VectorIndex::~VectorIndex() = default;
VectorIndex::VectorIndex(VectorIndex&&) noexcept = default;
VectorIndex& VectorIndex::operator=(VectorIndex&&) noexcept = default;

void VectorIndex::upsert(const VectorDocument& doc) {
  impl_->upsert(doc);
}

void VectorIndex::upsert_batch(std::span<const VectorDocument> docs) {
  impl_->upsert_batch(docs);
}

bool VectorIndex::remove(std::string_view id) {
  const std::uint32_t slot = impl_->docs.find(id);
  if (slot == kNoSlot) return false;
  impl_->remove_slot(slot);
  impl_->maybe_rebuild();
  return true;
}

bool VectorIndex::contains(std::string_view id) const {
  return impl_->docs.find(id) != kNoSlot;
}

std::size_t VectorIndex::size() const {
  return impl_->docs.live_count();
}

std::size_t VectorIndex::dimension() const {
  return impl_->dim();
}

bool VectorIndex::uses_hnsw() const {
  return impl_->hnsw != nullptr;
}

void VectorIndex::set_hnsw_ef_search(std::size_t ef_search, std::size_t ef_search_per_k) {
  if (ef_search == 0) throw ConfigError("hnsw_ef_search must be > 0");
  if (ef_search_per_k > 1000) throw ConfigError("hnsw_ef_search_per_k must be <= 1000");
  impl_->options.hnsw_ef_search = ef_search;
  impl_->options.hnsw_ef_search_per_k = ef_search_per_k;
  if (impl_->hnsw) impl_->hnsw->setEf(ef_search);
}

void VectorIndex::set_hnsw_exact_fallback(bool on) {
  impl_->options.hnsw_exact_fallback = on;
  impl_->calibrate();
}

std::vector<ScoredDocument> VectorIndex::search(std::span<const float> query, std::size_t k,
                                                const SearchFilter& filter) const {
  const std::vector<float> q = impl_->prepare_query(query);
  if (k == 0 || impl_->docs.live_count() == 0) return {};
  const SlotFilter f = impl_->docs.compile(filter);
  if (f.rejects_all()) return {};
  return impl_->hnsw ? impl_->approximate(q, k, f) : impl_->exact(q, k, f);
}

std::vector<ScoredDocument> VectorIndex::search_exact(std::span<const float> query, std::size_t k,
                                                      const SearchFilter& filter) const {
  const std::vector<float> q = impl_->prepare_query(query);
  if (k == 0 || impl_->docs.live_count() == 0) return {};
  const SlotFilter f = impl_->docs.compile(filter);
  if (f.rejects_all()) return {};
  return impl_->exact(q, k, f);
}

VectorIndexStats VectorIndex::stats() const {
  VectorIndexStats s;
  s.vectors = impl_->docs.live_count();
  s.deleted = impl_->docs.dead_count();
  s.dimension = impl_->dim();
  s.hnsw = impl_->hnsw != nullptr;
  std::size_t bytes = impl_->docs.memory_bytes() + impl_->flat.capacity() * sizeof(float) +
                      impl_->codes.capacity() + impl_->quant.capacity() * sizeof(QuantInfo);
  if (const Hnsw* h = impl_->hnsw.get()) {
    bytes += h->max_elements_ * h->size_data_per_element_;      // level 0: links + vector + label
    bytes += h->max_elements_ * (sizeof(void*) + sizeof(int));  // upper link pointers, levels
    for (hnswlib::tableint i = 0; i < h->cur_element_count; ++i) {
      if (h->element_levels_[i] > 0) {
        bytes += h->size_links_per_element_ * static_cast<std::size_t>(h->element_levels_[i]);
      }
    }
    bytes += h->label_lookup_.size() * 32 + h->label_lookup_.bucket_count() * sizeof(void*);
    bytes += h->max_elements_ * sizeof(unsigned short);  // one visited list
    bytes += impl_->internal_of.capacity() * sizeof(hnswlib::tableint);
  }
  s.memory_bytes = bytes;
  return s;
}

std::size_t VectorIndex::approximate_memory_bytes() const {
  return impl_->approximate_memory_bytes();
}

}  // namespace nemori
