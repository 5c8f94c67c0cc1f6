#include "nemori/retrieval/retrieval_service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>

#include "nemori/core/error.h"
#include "nemori/retrieval/episode_embedding.h"
#include "retrieval/statement_index.h"

namespace nemori {

using retrieval_internal::StatementIndex;

namespace {

constexpr std::size_t kMaxK = 10000;

double ms_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

void check_owner(const std::string& owner_id) {
  if (owner_id.empty()) throw ValidationError("owner_id", "is required");
}

std::size_t string_bytes(const std::string& s) {
  return sizeof(std::string) + (s.size() >= sizeof(std::string) ? s.capacity() + 1 : 0);
}

std::size_t strings_bytes(const std::vector<std::string>& list) {
  std::size_t bytes = sizeof(list);
  for (const auto& s : list) bytes += string_bytes(s);
  return bytes;
}

// Heap memory of an episode copy and its evidence ids, estimated (JSON fields as a guess).
std::size_t episode_bytes(const Episode& e, const std::vector<std::string>& raw_ids) {
  const EpisodeMetadata& m = e.metadata;
  std::size_t bytes = sizeof(Episode) + 64 + string_bytes(e.episode_id) + string_bytes(e.owner_id) +
                      string_bytes(e.title) + string_bytes(e.content) + string_bytes(e.summary) +
                      strings_bytes(e.search_keywords) + strings_bytes(m.source_data_ids) +
                      strings_bytes(m.entities) + strings_bytes(m.topics) +
                      strings_bytes(m.emotions) + strings_bytes(m.key_points) +
                      strings_bytes(m.time_references) + strings_bytes(m.related_episode_ids) +
                      strings_bytes(raw_ids) + 128;  // custom_fields, structured_data
  if (e.embedding_vector) bytes += e.embedding_vector->capacity() * sizeof(float);
  return bytes;
}

}  // namespace

struct RetrievalService::Impl {
  // The indexes of one owner.
  struct OwnerIndex {
    Bm25Index episodes;
    Bm25Index raw_events;
    std::optional<VectorIndex> vectors;
    // Vectors of raw events waiting for their episode (embedded when indexed or loaded).
    std::optional<VectorIndex> raw_vectors;
    Timeline episode_timeline;  // episodes in time order, for context scoring and neighbours
    StatementIndex statements;  // every version of the owner's statements
    // A copy of each indexed episode with its evidence, so a search reads no storage.
    std::unordered_map<std::string, IndexedEpisode> records;
    // Raw event id -> ids of the episodes built from it (in the order they were indexed).
    std::unordered_map<std::string, std::vector<std::string>> episodes_of_raw;
    std::size_t records_bytes = 0;  // episode_bytes() of every record

    // Never 0, so that even an empty resident owner counts (and can be evicted).
    std::size_t approximate_bytes() const {
      return sizeof(OwnerIndex) + 512 + episodes.approximate_memory_bytes() +
             raw_events.approximate_memory_bytes() +
             (vectors ? vectors->approximate_memory_bytes() : 0) +
             (raw_vectors ? raw_vectors->approximate_memory_bytes() : 0) +
             episode_timeline.approximate_memory_bytes() + statements.approximate_bytes() +
             records_bytes +
             episodes_of_raw.size() *
                 (sizeof(std::string) + sizeof(std::vector<std::string>) + 2 * sizeof(void*) + 48);
    }

    // Forgets the record of an episode and its raw-event entries (no-op when absent).
    void drop_record(const std::string& episode_id) {
      const auto it = records.find(episode_id);
      if (it == records.end()) return;
      for (const std::string& raw : it->second.raw_event_ids) {
        const auto r = episodes_of_raw.find(raw);
        if (r == episodes_of_raw.end()) continue;
        std::erase(r->second, episode_id);
        if (r->second.empty()) episodes_of_raw.erase(r);
      }
      records_bytes -= episode_bytes(*it->second.episode, it->second.raw_event_ids);
      records.erase(it);
    }

    // Keeps a copy of the episode with its evidence ids, replacing an older version.
    void put_record(const Episode& episode, std::vector<std::string> raw_event_ids) {
      drop_record(episode.episode_id);
      for (const std::string& raw : raw_event_ids) {
        auto& list = episodes_of_raw[raw];
        if (std::find(list.begin(), list.end(), episode.episode_id) == list.end())
          list.push_back(episode.episode_id);
      }
      // The vector lives in the vector index; the copy goes without it (half the memory).
      auto copy = std::make_shared<Episode>(episode);
      copy->embedding_vector.reset();
      records_bytes += episode_bytes(*copy, raw_event_ids);
      records[episode.episode_id] = {std::move(copy), std::move(raw_event_ids),
                                     word_count(episode)};
    }
  };

  // An owner's registry entry; `index` is null while the owner is not resident.
  struct Slot {
    std::shared_mutex mutex;
    std::unique_ptr<OwnerIndex> index;  // guarded by mutex
    bool detached = false;              // dropped from the registry; guarded by mutex
    std::atomic<std::uint64_t> last_used{0};
    std::atomic<std::size_t> bytes{0};
  };

  RetrievalOptions options;
  std::shared_ptr<const Tokenizer> tokenizer;
  Bm25Options raw_bm25;

  mutable std::mutex registry_mutex;
  std::unordered_map<std::string, std::shared_ptr<Slot>> slots;
  std::atomic<std::uint64_t> clock{0};
  std::atomic<std::size_t> resident_owners{0};
  std::atomic<std::size_t> resident_bytes{0};
  std::atomic<std::uint64_t> loads{0};
  std::atomic<std::uint64_t> evictions{0};

  explicit Impl(RetrievalOptions o) : options(std::move(o)) {
    tokenizer = std::make_shared<const Tokenizer>(options.tokenizer);
    raw_bm25 = options.bm25;
    raw_bm25.weights = options.raw_event_weights;
    // Validate the BM25 options once, now.
    Bm25Index probe(tokenizer, options.bm25);
    Bm25Index probe_raw(tokenizer, raw_bm25);
    VectorIndexOptions vector_check = options.vectors;
    if (vector_check.dimension == 0) vector_check.dimension = 1;
    VectorIndex check(vector_check);  // throws ConfigError on bad settings
    if (options.embedder && options.vectors.dimension != 0 &&
        options.embedder->dimension() != options.vectors.dimension) {
      throw ConfigError("vectors.dimension (" + std::to_string(options.vectors.dimension) +
                        ") differs from the embedder's (" +
                        std::to_string(options.embedder->dimension()) + ")");
    }
    if ((options.max_owners != 0 || options.max_bytes != 0) && !options.loader) {
      throw ConfigError("max_owners / max_bytes need a loader (evicted owners are reloaded)");
    }
  }

  std::unique_ptr<OwnerIndex> empty_index() const {
    return std::make_unique<OwnerIndex>(OwnerIndex{Bm25Index(tokenizer, options.bm25),
                                                   Bm25Index(tokenizer, raw_bm25),
                                                   {},
                                                   {},
                                                   {},
                                                   StatementIndex(tokenizer, options.bm25),
                                                   {},
                                                   {},
                                                   0});
  }

  std::size_t vector_dimension(std::size_t first_vector_size) const {
    if (options.vectors.dimension != 0) return options.vectors.dimension;
    if (options.embedder) return options.embedder->dimension();
    return first_vector_size;
  }

  VectorIndex& vectors_of(std::optional<VectorIndex>& slot, std::size_t first_vector_size) {
    if (!slot) {
      VectorIndexOptions vo = options.vectors;
      vo.dimension = vector_dimension(first_vector_size);
      slot.emplace(vo);
    }
    return *slot;
  }

  // Refuses a stored vector of another model or dimension than the embedder's: searching it
  // with the embedder's query vectors would rank by noise.
  void check_stored_vector(const Episode& e) const {
    if (!options.embedder || !e.embedding_vector) return;
    if (has_current_embedding(e, *options.embedder)) return;
    const std::string model = options.embedder->model();
    const std::size_t dimension = options.embedder->dimension();
    throw ConfigError(
        "episode \"" + e.episode_id + "\" of owner \"" + e.owner_id +
        "\" has a stored embedding of model \"" +
        (e.embedding_model.empty() ? std::string("(unknown)") : e.embedding_model) +
        "\" (dimension " + std::to_string(e.embedding_vector->size()) +
        "), but the configured embedder is \"" + model + "\" (dimension " +
        (dimension == 0 ? std::string("not known yet") : std::to_string(dimension)) +
        "); run `nemori reembed` to re-embed the store with the configured model, or configure "
        "the stored one again");
  }

  // The vector to index for a stored statement: its own, unless the embedder (when there is
  // one) could not have made it (another model or dimension); such a statement is found by
  // BM25 only, since comparing it with the embedder's vectors would rank by noise.
  std::optional<std::vector<float>> statement_vector(const Statement& s) const {
    if (!s.embedding_vector || s.embedding_vector->empty()) return std::nullopt;
    if (options.embedder) {
      const std::size_t dimension = options.embedder->dimension();
      if (dimension != 0 && s.embedding_vector->size() != dimension) return std::nullopt;
      if (!s.embedding_model.empty() && s.embedding_model != options.embedder->model())
        return std::nullopt;
    }
    return *s.embedding_vector;
  }

  // Applies statements (all of the index's owner) to its statement corpus.
  void apply_statements(OwnerIndex& index, std::span<const Statement> statements) {
    if (statements.empty()) return;
    std::vector<std::optional<std::vector<float>>> vectors;
    vectors.reserve(statements.size());
    std::size_t first_size = 0;
    for (const Statement& s : statements) {
      vectors.push_back(statement_vector(s));
      if (first_size == 0 && vectors.back()) first_size = vectors.back()->size();
    }
    VectorIndexOptions vo = options.vectors;
    vo.dimension = vector_dimension(first_size);
    index.statements.upsert(statements, vectors, vo);
  }

  // Vectors for raw events waiting for their episode (none without an embedder): found by
  // meaning before their episode exists. Built events are left to their episode's vector.
  std::vector<VectorDocument> raw_vectors_for(std::span<const RawEvent* const> events) const {
    std::vector<VectorDocument> docs;
    if (!options.embedder) return docs;
    std::vector<std::string> texts;
    for (const RawEvent* e : events) {
      if (e->processed) continue;
      Document d = document_from_raw_event(*e);
      docs.push_back({e->data_id, {}, d.timestamp, std::move(d.type)});
      texts.push_back(d.title.empty() ? std::move(d.content) : d.title + ": " + d.content);
    }
    auto vectors = embed_in_batches(*options.embedder, texts);
    for (std::size_t i = 0; i < docs.size(); ++i) docs[i].vector = std::move(vectors[i]);
    return docs;
  }

  // Embeddings for the episodes that need one (nullopt where none is wanted or available).
  std::vector<std::optional<std::vector<float>>> embeddings_for(
      std::span<const Episode* const> episodes) const {
    std::vector<std::optional<std::vector<float>>> out(episodes.size());
    std::vector<std::size_t> missing;
    for (std::size_t i = 0; i < episodes.size(); ++i) {
      if (episodes[i]->embedding_vector) {
        check_stored_vector(*episodes[i]);
        out[i] = *episodes[i]->embedding_vector;
      } else if (options.embedder && options.embed_missing) {
        missing.push_back(i);
      }
    }
    if (missing.empty()) return out;  // also: no embedder to dereference
    std::vector<std::string> texts;
    texts.reserve(missing.size());
    for (std::size_t m : missing) texts.push_back(embedding_text(*episodes[m]));
    auto vectors = embed_in_batches(*options.embedder, texts);
    for (std::size_t m = 0; m < missing.size(); ++m) out[missing[m]] = std::move(vectors[m]);
    return out;
  }

  // Applies episodes (with their vectors) to an owner's indexes. Vectors are checked first so
  // a dimension mismatch changes nothing. `links` (episode id -> raw ids) gives the evidence of
  // episodes without source_data_ids.
  void apply_episodes(
      OwnerIndex& index, std::span<const Episode* const> episodes,
      std::vector<std::optional<std::vector<float>>>& vectors,
      const std::unordered_map<std::string, std::vector<std::string>>* links = nullptr) {
    std::vector<VectorDocument> docs;
    for (std::size_t i = 0; i < episodes.size(); ++i) {
      if (!vectors[i]) continue;
      docs.push_back({episodes[i]->episode_id, std::move(*vectors[i]),
                      episodes[i]->temporal_info.timestamp,
                      std::string(to_string(episodes[i]->episode_type))});
    }
    if (!docs.empty()) {
      vectors_of(index.vectors, docs.front().vector.size()).upsert_batch(docs);
    }
    for (std::size_t i = 0; i < episodes.size(); ++i) {
      const Episode& e = *episodes[i];
      if (auto old = index.episodes.info(e.episode_id))
        index.episode_timeline.remove(e.episode_id, old->timestamp);
      index.episodes.upsert(document_from_episode(e));
      index.episode_timeline.add(e.episode_id, e.temporal_info.timestamp);
      std::vector<std::string> evidence = e.metadata.source_data_ids;
      if (evidence.empty() && links != nullptr) {
        if (const auto it = links->find(e.episode_id); it != links->end()) evidence = it->second;
      }
      index.put_record(e, std::move(evidence));
      // A new version without a vector must not leave the old vector behind.
      if (!vectors[i] && index.vectors) index.vectors->remove(episodes[i]->episode_id);
    }
  }

  std::unique_ptr<OwnerIndex> load(const std::string& owner_id, std::size_t* episodes_out,
                                   std::size_t* raw_out) {
    auto index = empty_index();
    if (!options.loader) return index;
    OwnerData data = options.loader(owner_id);
    std::vector<const Episode*> eps;
    eps.reserve(data.episodes.size());
    for (const Episode& e : data.episodes) {
      if (e.owner_id == owner_id) eps.push_back(&e);
    }
    // Link evidence as EpisodeRepository::raw_ids_for_episode gives it: the owner's raw events
    // only, in time order (then id).
    std::unordered_map<std::string, Timestamp> raw_time;
    if (!data.links.empty()) {
      for (const RawEvent& r : data.raw_events) {
        if (r.owner_id == owner_id) raw_time.emplace(r.data_id, r.temporal_info.timestamp);
      }
    }
    std::unordered_map<std::string, std::vector<std::string>> links;
    for (auto& [episode_id, raw_id] : data.links) {
      if (raw_time.contains(raw_id)) links[episode_id].push_back(std::move(raw_id));
    }
    for (auto& [episode_id, ids] : links) {
      std::sort(ids.begin(), ids.end(), [&](const std::string& a, const std::string& b) {
        const Timestamp ta = raw_time.at(a), tb = raw_time.at(b);
        return ta != tb ? ta < tb : a < b;
      });
    }
    auto vectors = embeddings_for(eps);
    apply_episodes(*index, eps, vectors, &links);
    std::vector<const RawEvent*> raws;
    for (const RawEvent& r : data.raw_events) {
      if (r.owner_id != owner_id) continue;
      index->raw_events.upsert(document_from_raw_event(r));
      raws.push_back(&r);
    }
    const std::size_t raw = raws.size();
    apply_raw_vectors(*index, raw_vectors_for(raws));
    std::erase_if(data.statements, [&](const Statement& s) { return s.owner_id != owner_id; });
    apply_statements(*index, data.statements);
    loads.fetch_add(1);
    if (episodes_out) *episodes_out = eps.size();
    if (raw_out) *raw_out = raw;
    return index;
  }

  void apply_raw_vectors(OwnerIndex& index, std::vector<VectorDocument> docs) {
    if (docs.empty()) return;
    vectors_of(index.raw_vectors, docs.front().vector.size()).upsert_batch(docs);
  }

  std::shared_ptr<Slot> find_slot(const std::string& owner_id, bool create) {
    std::lock_guard lock(registry_mutex);
    auto it = slots.find(owner_id);
    if (it != slots.end()) return it->second;
    if (!create) return nullptr;
    auto slot = std::make_shared<Slot>();
    slots.emplace(owner_id, slot);
    return slot;
  }

  void touch(Slot& slot) { slot.last_used.store(clock.fetch_add(1) + 1); }

  // Requires the slot's unique lock.
  void ensure_loaded(Slot& slot, const std::string& owner_id) {
    if (slot.index) return;
    slot.index = load(owner_id, nullptr, nullptr);
    resident_owners.fetch_add(1);
    update_bytes(slot);
  }

  // Requires the slot's unique lock.
  void update_bytes(Slot& slot) {
    const std::size_t now = slot.index ? slot.index->approximate_bytes() : 0;
    const std::size_t before = slot.bytes.exchange(now);
    resident_bytes.fetch_add(now);
    resident_bytes.fetch_sub(before);
  }

  // Runs fn(OwnerIndex&) under the owner's write lock, loading it first.
  template <typename Fn>
  auto write(const std::string& owner_id, Fn fn) {
    for (;;) {
      std::shared_ptr<Slot> slot = find_slot(owner_id, true);
      std::unique_lock lock(slot->mutex);
      if (slot->detached) continue;
      ensure_loaded(*slot, owner_id);
      touch(*slot);
      struct Finally {
        Impl* impl;
        Slot* slot;
        ~Finally() { impl->update_bytes(*slot); }
      };
      if constexpr (std::is_void_v<decltype(fn(*slot->index))>) {
        {
          Finally f{this, slot.get()};
          fn(*slot->index);
        }
        lock.unlock();
        enforce_limits(slot.get());
        return;
      } else {
        decltype(fn(*slot->index)) result;
        {
          Finally f{this, slot.get()};
          result = fn(*slot->index);
        }
        lock.unlock();
        enforce_limits(slot.get());
        return result;
      }
    }
  }

  // True when index writes for the owner can be left out: with a loader, an owner that is not
  // resident reads storage when it is next loaded, and storage already holds the write (the
  // contract: storage first, then index_*). Saves loading (and then throwing away, in a
  // one-shot command) the whole owner just to add a few documents.
  bool skips_writes_for(const std::string& owner_id) {
    if (!options.loader) return false;
    std::shared_ptr<Slot> slot = find_slot(owner_id, false);
    if (!slot) return true;
    std::shared_lock lock(slot->mutex);
    return slot->detached || !slot->index;
  }

  // write() for index updates: does nothing for an owner that skips_writes_for() (checked
  // again under the owner's lock, so a load running meanwhile either sees the write in storage
  // or gets it from fn once it is done).
  template <typename Fn>
  void write_if_resident(const std::string& owner_id, Fn fn) {
    if (!options.loader) {
      write(owner_id, fn);
      return;
    }
    for (;;) {
      std::shared_ptr<Slot> slot = find_slot(owner_id, false);
      if (!slot) return;
      std::unique_lock lock(slot->mutex);
      if (slot->detached) continue;  // dropped meanwhile: look again
      if (!slot->index) return;
      touch(*slot);
      {
        struct Finally {
          Impl* impl;
          Slot* slot;
          ~Finally() { impl->update_bytes(*slot); }
        } f{this, slot.get()};
        fn(*slot->index);
      }
      lock.unlock();
      enforce_limits(slot.get());
      return;
    }
  }

  // Runs fn(const OwnerIndex&) under the owner's read lock (a write lock if it must be loaded).
  // Returns nullopt for an unknown owner when there is no loader.
  template <typename Fn>
  auto read(const std::string& owner_id, Fn fn)
      -> std::optional<decltype(fn(std::declval<const OwnerIndex&>()))> {
    for (;;) {
      std::shared_ptr<Slot> slot = find_slot(owner_id, static_cast<bool>(options.loader));
      if (!slot) return std::nullopt;
      {
        std::shared_lock lock(slot->mutex);
        if (slot->detached) continue;
        if (slot->index) {
          touch(*slot);
          return fn(static_cast<const OwnerIndex&>(*slot->index));
        }
      }
      std::unique_lock lock(slot->mutex);
      if (slot->detached) continue;
      const bool loaded_now = !slot->index;
      ensure_loaded(*slot, owner_id);
      touch(*slot);
      auto result = fn(static_cast<const OwnerIndex&>(*slot->index));
      lock.unlock();
      if (loaded_now) enforce_limits(slot.get());
      return result;
    }
  }

  bool over_limits() const {
    return (options.max_owners != 0 && resident_owners.load() > options.max_owners) ||
           (options.max_bytes != 0 && resident_bytes.load() > options.max_bytes);
  }

  // Evicts least recently used idle owners (never `keep`) until within limits.
  void enforce_limits(const Slot* keep) {
    if (!options.loader) return;
    while (over_limits()) {
      std::vector<std::pair<std::uint64_t, std::shared_ptr<Slot>>> candidates;
      {
        std::lock_guard lock(registry_mutex);
        for (const auto& [owner, slot] : slots) {
          if (slot.get() != keep && slot->bytes.load() > 0) {
            candidates.emplace_back(slot->last_used.load(), slot);
          }
        }
      }
      std::sort(candidates.begin(), candidates.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      bool evicted = false;
      for (auto& [used, slot] : candidates) {
        std::unique_lock lock(slot->mutex, std::try_to_lock);
        if (!lock.owns_lock() || !slot->index) continue;  // busy or gone: try the next
        evict_locked(*slot);
        evicted = true;
        break;
      }
      if (!evicted) return;  // every other owner is busy; try again after the next write
    }
  }

  // Requires the slot's unique lock.
  void evict_locked(Slot& slot) {
    slot.index.reset();
    update_bytes(slot);
    resident_owners.fetch_sub(1);
    evictions.fetch_add(1);
  }

  SearchResponse search(const std::string& owner_id, std::string_view query,
                        const SearchOptions& o) {
    const auto start = std::chrono::steady_clock::now();
    check_owner(owner_id);
    if (o.k == 0 || o.k > kMaxK) {
      throw ValidationError("k", "must be within 1.." + std::to_string(kMaxK));
    }
    SearchResponse response;
    response.query_terms = tokenizer->tokenize(query);
    const bool raw = o.corpus == SearchCorpus::kRawEvents;
    const bool statements = o.corpus == SearchCorpus::kStatements;
    // The query vector, embedded outside any lock.
    std::optional<std::vector<float>> qv = o.query_vector;
    if (o.mode != SearchMode::kBm25 && !qv) {
      if (options.embedder) {
        const auto embed_start = std::chrono::steady_clock::now();
        std::vector<std::string> texts{std::string(query)};
        auto vectors = options.embedder->embed(texts);
        if (vectors.size() != 1) throw LlmError("embedder returned no vector for the query");
        qv = std::move(vectors[0]);
        response.embed_ms = ms_since(embed_start);
      } else if (o.mode == SearchMode::kVector) {
        throw ConfigError(
            "vector search needs an embedding client (RetrievalOptions::embedder) or a "
            "query_vector");
      }
    }
    o.context.validate();
    // With context scoring, the first ranking keeps more hits than asked for.
    const bool in_context = o.context.enabled() && !statements;
    const std::size_t first_k =
        in_context
            ? std::max(o.k, std::min(kMaxK, o.context.candidates == 0
                                                ? std::max<std::size_t>(200, 10 * o.k)
                                                : o.context.candidates))
            : o.k;
    const std::size_t candidates =
        o.mode == SearchMode::kHybrid
            ? std::max(o.candidates == 0 ? 2 * first_k : o.candidates, first_k)
            : first_k;
    auto result = read(owner_id, [&](const OwnerIndex& index) {
      SearchResponse r;
      const Bm25Index& bm25 =
          statements ? index.statements.bm25() : raw ? index.raw_events : index.episodes;
      const VectorIndex* vectors = statements ? index.statements.vectors()
                                   : raw      ? (index.raw_vectors ? &*index.raw_vectors : nullptr)
                                              : (index.vectors ? &*index.vectors : nullptr);
      const SearchFilter filter =
          statements ? index.statements.search_filter(o.filter, o.statements) : o.filter;
      const bool vectors_usable = qv && vectors && vectors->size() > 0;
      SearchMode mode = o.mode;
      if (mode == SearchMode::kHybrid && !vectors_usable) mode = SearchMode::kBm25;
      r.mode = mode;
      std::vector<ScoredDocument> text_hits, vector_hits;
      if (mode != SearchMode::kVector) {
        text_hits = bm25.search_terms(response.query_terms, candidates, filter);
      }
      if (qv && vectors && qv->size() != vectors->dimension()) {
        throw ValidationError("query_vector", "has " + std::to_string(qv->size()) +
                                                  " dimensions but the owner's vectors have " +
                                                  std::to_string(vectors->dimension()));
      }
      if (mode != SearchMode::kBm25 && vectors_usable) {
        vector_hits = vectors->search(*qv, candidates, filter);
        if (o.vector_floor) {
          std::erase_if(vector_hits,
                        [&](const ScoredDocument& d) { return d.score <= *o.vector_floor; });
        }
      }
      if (mode == SearchMode::kHybrid) {
        r.hits = fuse_rrf(text_hits, vector_hits, first_k, o.fusion);
      } else if (mode == SearchMode::kVector) {
        r.hits = hits_from(vector_hits, SearchMode::kVector);
      } else {
        r.hits = hits_from(text_hits, SearchMode::kBm25);
      }
      for (SearchHit& h : r.hits) {
        if (auto info = bm25.info(h.id)) {
          h.timestamp = info->timestamp;
          h.word_count = info->word_count;
        }
      }
      if (in_context) {
        r.hits = rescore_in_context(std::move(r.hits), raw ? nullptr : &index.episode_timeline,
                                    o.context, o.k);
      }
      return r;
    });
    if (result) {
      response.hits = std::move(result->hits);
      response.mode = result->mode;
    } else {
      response.mode = o.mode == SearchMode::kHybrid && !qv ? SearchMode::kBm25 : o.mode;
    }
    response.took_ms = ms_since(start);
    return response;
  }
};

RetrievalService::RetrievalService(RetrievalOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

RetrievalService::~RetrievalService() = default;

void RetrievalService::index_episode(const Episode& episode) {
  index_episodes(std::span<const Episode>(&episode, 1));
}

void RetrievalService::index_episodes(std::span<const Episode> episodes) {
  // Group by owner, keeping input order inside each owner.
  std::map<std::string, std::vector<const Episode*>> by_owner;
  for (const Episode& e : episodes) {
    check_owner(e.owner_id);
    if (e.episode_id.empty()) throw ValidationError("episode_id", "is required");
    by_owner[e.owner_id].push_back(&e);
  }
  for (auto& [owner, list] : by_owner) {
    if (impl_->skips_writes_for(owner)) continue;  // its next load reads them (no embedding now)
    auto vectors = impl_->embeddings_for(list);
    impl_->write_if_resident(
        owner, [&](Impl::OwnerIndex& index) { impl_->apply_episodes(index, list, vectors); });
  }
}

bool RetrievalService::remove_episode(const std::string& owner_id, const std::string& episode_id) {
  check_owner(owner_id);
  return impl_->write(owner_id, [&](Impl::OwnerIndex& index) {
    if (auto old = index.episodes.info(episode_id))
      index.episode_timeline.remove(episode_id, old->timestamp);
    index.drop_record(episode_id);
    const bool removed = index.episodes.remove(episode_id);
    const bool removed_vector = index.vectors && index.vectors->remove(episode_id);
    return removed || removed_vector;
  });
}

void RetrievalService::index_raw_event(const RawEvent& event) {
  index_raw_events(std::span<const RawEvent>(&event, 1));
}

void RetrievalService::index_raw_events(std::span<const RawEvent> events) {
  std::map<std::string, std::vector<const RawEvent*>> by_owner;
  for (const RawEvent& e : events) {
    check_owner(e.owner_id);
    if (e.data_id.empty()) throw ValidationError("data_id", "is required");
    by_owner[e.owner_id].push_back(&e);
  }
  for (auto& [owner, list] : by_owner) {
    if (impl_->skips_writes_for(owner)) continue;  // its next load reads (and embeds) them
    auto vectors = impl_->raw_vectors_for(list);   // outside the owner's lock
    impl_->write_if_resident(owner, [&](Impl::OwnerIndex& index) {
      for (const RawEvent* e : list) {
        index.raw_events.upsert(document_from_raw_event(*e));
        if (e->processed && index.raw_vectors) index.raw_vectors->remove(e->data_id);
      }
      impl_->apply_raw_vectors(index, std::move(vectors));
    });
  }
}

bool RetrievalService::remove_raw_event(const std::string& owner_id, const std::string& data_id) {
  check_owner(owner_id);
  return impl_->write(owner_id, [&](Impl::OwnerIndex& index) {
    if (index.raw_vectors) index.raw_vectors->remove(data_id);
    return index.raw_events.remove(data_id);
  });
}

void RetrievalService::index_statements(const std::string& owner_id,
                                        std::span<const Statement> statements) {
  check_owner(owner_id);
  for (const Statement& s : statements) {
    if (s.statement_id.empty()) throw ValidationError("statement_id", "is required");
    if (s.owner_id != owner_id) {
      throw ValidationError("owner_id", "of statement \"" + s.statement_id + "\" is \"" +
                                            s.owner_id + "\", not \"" + owner_id + "\"");
    }
  }
  if (statements.empty() || impl_->skips_writes_for(owner_id)) return;  // its load reads them
  impl_->write_if_resident(owner_id, [&](Impl::OwnerIndex& index) {
    impl_->apply_statements(index, statements);
  });
}

std::size_t RetrievalService::remove_statements(const std::string& owner_id,
                                                std::span<const std::string> statement_ids) {
  check_owner(owner_id);
  return impl_->write(owner_id, [&](Impl::OwnerIndex& index) {
    std::size_t removed = 0;
    for (const std::string& id : statement_ids) removed += index.statements.remove(id) ? 1 : 0;
    return removed;
  });
}

std::vector<std::optional<Statement>> RetrievalService::statements(
    const std::string& owner_id, std::span<const std::string> statement_ids) {
  check_owner(owner_id);
  auto found = impl_->read(owner_id, [&](const Impl::OwnerIndex& index) {
    std::vector<std::optional<Statement>> out(statement_ids.size());
    for (std::size_t i = 0; i < statement_ids.size(); ++i) {
      if (const Statement* s = index.statements.find(statement_ids[i])) out[i] = *s;
    }
    return out;
  });
  return found ? std::move(*found) : std::vector<std::optional<Statement>>(statement_ids.size());
}

std::vector<ScoredDocument> RetrievalService::nearest_statements(const std::string& owner_id,
                                                                 std::span<const float> vector,
                                                                 std::size_t k) {
  check_owner(owner_id);
  auto found = impl_->read(owner_id, [&](const Impl::OwnerIndex& index) {
    return index.statements.nearest_current(vector, k);
  });
  return found ? std::move(*found) : std::vector<ScoredDocument>{};
}

SearchResponse RetrievalService::search(const std::string& owner_id, std::string_view query,
                                        const SearchOptions& options) {
  return impl_->search(owner_id, query, options);
}

std::vector<EpisodeInContext> RetrievalService::episodes(const std::string& owner_id,
                                                         std::span<const std::string> episode_ids,
                                                         std::size_t neighbours) {
  check_owner(owner_id);
  auto found = impl_->read(owner_id, [&](const Impl::OwnerIndex& index) {
    std::vector<EpisodeInContext> out(episode_ids.size());
    const auto record = [&](const std::string& id) -> const IndexedEpisode* {
      const auto it = index.records.find(id);
      return it == index.records.end() ? nullptr : &it->second;
    };
    for (std::size_t i = 0; i < episode_ids.size(); ++i) {
      const IndexedEpisode* r = record(episode_ids[i]);
      if (r == nullptr) continue;
      out[i].episode = *r;
      if (neighbours == 0) continue;
      const auto [before, after] = index.episode_timeline.around(
          episode_ids[i], r->episode->temporal_info.timestamp, neighbours);
      for (const auto& id : before) {
        if (const IndexedEpisode* n = record(id)) out[i].before.push_back(*n);
      }
      for (const auto& id : after) {
        if (const IndexedEpisode* n = record(id)) out[i].after.push_back(*n);
      }
    }
    return out;
  });
  return found ? std::move(*found) : std::vector<EpisodeInContext>(episode_ids.size());
}

std::vector<std::vector<std::string>> RetrievalService::episodes_of_raw_events(
    const std::string& owner_id, std::span<const std::string> raw_data_ids) {
  check_owner(owner_id);
  auto found = impl_->read(owner_id, [&](const Impl::OwnerIndex& index) {
    std::vector<std::vector<std::string>> out(raw_data_ids.size());
    for (std::size_t i = 0; i < raw_data_ids.size(); ++i) {
      if (const auto it = index.episodes_of_raw.find(raw_data_ids[i]);
          it != index.episodes_of_raw.end())
        out[i] = it->second;
    }
    return out;
  });
  return found ? std::move(*found) : std::vector<std::vector<std::string>>(raw_data_ids.size());
}

void RetrievalService::record_access(const std::string& owner_id,
                                     std::span<const std::string> episode_ids, Timestamp at) {
  check_owner(owner_id);
  impl_->write_if_resident(owner_id, [&](Impl::OwnerIndex& index) {
    for (const std::string& id : episode_ids) {
      const auto it = index.records.find(id);
      if (it == index.records.end()) continue;
      auto copy = std::make_shared<Episode>(*it->second.episode);
      ++copy->recall_count;
      copy->last_accessed = at;
      it->second.episode = std::move(copy);
    }
  });
}

void RetrievalService::drop_owner(const std::string& owner_id) {
  std::shared_ptr<Impl::Slot> slot;
  {
    std::lock_guard lock(impl_->registry_mutex);
    auto it = impl_->slots.find(owner_id);
    if (it == impl_->slots.end()) return;
    slot = it->second;
    impl_->slots.erase(it);
  }
  std::unique_lock lock(slot->mutex);
  slot->detached = true;
  if (slot->index) {
    slot->index.reset();
    impl_->update_bytes(*slot);
    impl_->resident_owners.fetch_sub(1);
  }
}

bool RetrievalService::evict(const std::string& owner_id) {
  if (!impl_->options.loader) return false;
  std::shared_ptr<Impl::Slot> slot = impl_->find_slot(owner_id, false);
  if (!slot) return false;
  std::unique_lock lock(slot->mutex);
  if (slot->detached || !slot->index) return false;
  impl_->evict_locked(*slot);
  return true;
}

PreloadReport RetrievalService::preload(std::span<const std::string> owner_ids) {
  const auto start = std::chrono::steady_clock::now();
  PreloadReport report;
  std::mutex report_mutex;
  std::atomic<std::size_t> next{0};
  std::exception_ptr error;
  std::size_t threads = impl_->options.load_threads;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min(threads, owner_ids.size());
  auto worker = [&] {
    for (;;) {
      const std::size_t i = next.fetch_add(1);
      if (i >= owner_ids.size()) return;
      try {
        const std::string& owner = owner_ids[i];
        check_owner(owner);
        std::shared_ptr<Impl::Slot> slot = impl_->find_slot(owner, true);
        std::unique_lock lock(slot->mutex);
        if (slot->detached || slot->index) continue;
        std::size_t episodes = 0, raw = 0;
        slot->index = impl_->load(owner, &episodes, &raw);
        impl_->resident_owners.fetch_add(1);
        impl_->update_bytes(*slot);
        impl_->touch(*slot);
        lock.unlock();
        impl_->enforce_limits(slot.get());
        std::lock_guard rl(report_mutex);
        ++report.owners;
        report.episodes += episodes;
        report.raw_events += raw;
      } catch (...) {
        std::lock_guard rl(report_mutex);
        if (!error) error = std::current_exception();
        next.store(owner_ids.size());
      }
    }
  };
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
  report.took_ms = ms_since(start);
  return report;
}

bool RetrievalService::is_resident(const std::string& owner_id) const {
  std::shared_ptr<Impl::Slot> slot;
  {
    std::lock_guard lock(impl_->registry_mutex);
    auto it = impl_->slots.find(owner_id);
    if (it == impl_->slots.end()) return false;
    slot = it->second;
  }
  std::shared_lock lock(slot->mutex);
  return slot->index != nullptr;
}

RetrievalStats RetrievalService::stats() const {
  std::vector<std::shared_ptr<Impl::Slot>> all;
  {
    std::lock_guard lock(impl_->registry_mutex);
    all.reserve(impl_->slots.size());
    for (const auto& [owner, slot] : impl_->slots) all.push_back(slot);
  }
  RetrievalStats s;
  s.owners_known = all.size();
  for (const auto& slot : all) {
    std::shared_lock lock(slot->mutex);
    if (!slot->index) continue;
    ++s.owners_resident;
    s.episodes += slot->index->episodes.size();
    s.raw_events += slot->index->raw_events.size();
    if (slot->index->vectors) s.vectors += slot->index->vectors->size();
    s.statements += slot->index->statements.size();
    s.memory_bytes += slot->index->approximate_bytes();
  }
  s.loads = impl_->loads.load();
  s.evictions = impl_->evictions.load();
  return s;
}

const Tokenizer& RetrievalService::tokenizer() const {
  return *impl_->tokenizer;
}

const RetrievalOptions& RetrievalService::options() const {
  return impl_->options;
}

}  // namespace nemori
