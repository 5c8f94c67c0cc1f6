#include "nemori/memory/memory_system.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_set>

#include "memory/background_builder.h"
#include "memory/index_freshness.h"
#include "memory/message_ids.h"
#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/words.h"
#include "nemori/episodes/episode_merger.h"
#include "nemori/episodes/llm_episode_generator.h"
#include "nemori/episodes/llm_prompts.h"
#include "nemori/episodes/llm_segmenter.h"
#include "nemori/retrieval/episode_embedding.h"
#include "nemori/semantic/semantic_extractor.h"
#include "nemori/storage/factory.h"
#include "nemori/storage/query.h"

namespace nemori {

namespace {

using Clock = std::chrono::steady_clock;

void require_owner(const std::string& owner_id) {
  if (owner_id.empty()) throw ValidationError("owner_id", "is required");
}

// storage.apply(batch) of a batch that skips identical raw events. Another process (or thread)
// storing the same event between the batch's check and its insert makes the insert fail as a
// duplicate: the batch is applied again, and then finds the event stored (skipped when
// identical, a DuplicateError still when it differs).
WriteBatchResult apply_skipping_identical(Storage& storage, const WriteBatch& batch) {
  constexpr int kAttempts = 3;
  for (int attempt = 1;; ++attempt) {
    try {
      return storage.apply(batch);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kDuplicate || attempt == kAttempts) throw;
    }
  }
}

}  // namespace

// The message a raw event stands for: conversation events hold one; any other event becomes a
// message "spoken" by its source, so every kind of event can be segmented and narrated.
Message message_of(const RawEvent& event) {
  if (event.data_type == DataType::kConversation && event.content.is_object()) {
    try {
      return message_from_raw_event(event);
    } catch (const ValidationError&) {
      // Not a message object: narrate it like any other event below.
    }
  }
  Message m;
  m.speaker_id = event.source.empty() ? std::string(to_string(event.data_type)) : event.source;
  m.content = searchable_text(event);
  m.timestamp = event.temporal_info.timestamp;
  return m;
}

std::size_t pending_raw_events(Storage& storage, const std::string& owner_id) {
  require_owner(owner_id);
  RawDataQuery query;
  query.owner_ids = {owner_id};
  query.processed = false;
  query.limit = 0;
  return storage.raw_data().search(query).total_count;
}

std::map<std::string, std::size_t> pending_by_owner(Storage& storage) {
  std::map<std::string, std::size_t> out;
  for (const auto& owner : storage.list_owners()) {
    if (const std::size_t n = pending_raw_events(storage, owner); n > 0) out[owner] = n;
  }
  return out;
}

std::unique_ptr<MemorySystem> MemorySystem::open(const MemoryConfig& config) {
  return std::make_unique<MemorySystem>(open_storage(config.storage), config);
}

MemorySystem::MemorySystem(std::unique_ptr<Storage> storage, const MemoryConfig& config)
    : config_(config), storage_(std::move(storage)) {
  RetrievalOptions options = config_.retrieval;
  if (!options.embedder) options.embedder = config_.llm.embedder;
  embedder_ = options.embedder;
  options.embed_missing = false;  // stored vectors are loaded, never recomputed
  Storage* store = storage_.get();
  options.loader = [this, store](const std::string& owner_id) {
    // The watermark first: the data read next holds at least what it counts (both from the
    // primary: a lagging read replica would load less than the primary counts).
    const std::shared_ptr<void> primary = store->read_from_primary();
    const detail::OwnerWatermark watermark = detail::read_watermark(*store, owner_id);
    OwnerData data;
    data.episodes = store->episodes().by_owner(owner_id, std::nullopt, 0).episodes;
    RawDataQuery query;
    query.owner_ids = {owner_id};
    data.raw_events = store->raw_data().search(query).events;
    for (EpisodeLink& link : store->episodes().links(owner_id))
      data.links.emplace_back(std::move(link.episode_id), std::move(link.raw_data_id));
    if (watermark.statements > 0) {  // every version, with sources: current, as-of, history
      StatementQuery statements;
      statements.owner_ids = {owner_id};
      statements.state = StatementState::kAll;
      data.statements = store->statements().search(statements).statements;
    }
    freshness_->loaded(owner_id, watermark);
    return data;
  };
  retrieval_ = std::make_unique<RetrievalService>(std::move(options));
  // memory:// is reached by this process only: nothing to check.
  const std::chrono::milliseconds check_every = storage_->backend() == "memory"
                                                    ? std::chrono::milliseconds(-1)
                                                    : config_.index_check_interval;
  freshness_ = std::make_unique<detail::IndexFreshness>(*storage_, *retrieval_, check_every);
  RetrievalService* retrieval = retrieval_.get();
  const TokenizeFn tokenize = [retrieval](std::string_view text) {
    return retrieval->tokenizer().tokenize(text);
  };
  segmenter_ = std::make_unique<HeuristicSegmenter>(tokenize, config_.segmentation);
  generator_ = std::make_unique<ExtractiveEpisodeGenerator>(tokenize);
  if (config_.llm.chat) {  // the model segments and writes; the LLM-free pair is its fallback
    LlmSegmenterOptions segmentation;
    segmentation.prompt = prompt_text("segmentation", config_.llm.prompts);
    segmentation.stats = config_.llm.stats;
    segmenter_ = std::make_unique<LlmSegmenter>(config_.llm.chat, std::move(segmenter_),
                                                std::move(segmentation));
    LlmEpisodeGeneratorOptions writing;
    writing.prompt = prompt_text("episode", config_.llm.prompts);
    writing.stats = config_.llm.stats;
    generator_ = std::make_unique<LlmEpisodeGenerator>(config_.llm.chat, std::move(generator_),
                                                       std::move(writing));
  }
  const SemanticStatus status = semantic_status();
  if ((status.semantic_on() || status.merging_on()) && statements_supported()) {
    if (status.semantic_on()) {
      extractor_ = std::make_unique<SemanticExtractor>(
          config_.llm.chat, embedder_, config_.semantic, config_.llm.prompts, config_.llm.stats);
    }
    if (status.merging_on()) {
      EpisodeMergerOptions merging;
      merging.candidates = config_.merging.candidates;
      merging.similarity_threshold = config_.merging.similarity_threshold;
      merging.window = config_.merging.window;
      merging.max_merged_words = config_.merging.max_merged_words;
      merging.prompt = prompt_text("merge", config_.llm.prompts);
      merging.stats = config_.llm.stats;
      merger_ = std::make_unique<EpisodeMerger>(config_.llm.chat, std::move(merging));
    }
  }
  if (config_.building.workers > 0) {
    const bool semantic = extractor_ != nullptr;
    builder_ = std::make_unique<detail::BackgroundBuilder>(
        config_.building,
        [this](const std::string& owner_id, NewestSegment newest) { process(owner_id, newest); },
        [store, semantic] {
          std::map<std::string, std::size_t> due = pending_by_owner(*store);
          // Episodes left pending by the semantic pass (a crash, a backlog) count too.
          if (semantic) {
            for (const std::string& owner : store->statements().pending_owners()) due[owner] += 0;
          }
          return due;
        });
  }
}

MemorySystem::~MemorySystem() {
  // Workers still use builder_ while they finish a build: join them before it goes.
  if (builder_) builder_->stop();
}

void MemorySystem::settle() {
  if (builder_) builder_->settle();
}

std::mutex& MemorySystem::owner_mutex(const std::string& owner_id) {
  std::lock_guard lock(owners_mutex_);
  auto& slot = owner_mutexes_[owner_id];
  if (!slot) slot = std::make_unique<std::mutex>();
  return *slot;
}

std::vector<std::string> MemorySystem::add_messages(const std::string& owner_id,
                                                    std::span<const Message> messages,
                                                    const std::string& source) {
  return add(owner_id, messages, {}, source).message_ids;
}

std::size_t MemorySystem::add_raw_events(std::span<const RawEvent> events) {
  for (const auto& e : events) require_owner(e.owner_id);
  return store_raw_events(events);
}

AddResult MemorySystem::add(const std::string& owner_id, std::span<const Message> messages,
                            std::span<const RawEvent> events, const std::string& source) {
  require_owner(owner_id);
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i].owner_id != owner_id) {
      throw ValidationError(
          "events[" + std::to_string(i) + "] (data_id \"" + events[i].data_id + "\").owner_id",
          "is \"" + events[i].owner_id + "\", not the owner \"" + owner_id +
              "\" the events are added for");
    }
  }
  std::vector<RawEvent> batch;
  batch.reserve(messages.size() + events.size());
  for (const auto& m : messages) {
    batch.push_back(to_raw_event(m, owner_id, source));
    if (auto id = detail::message_data_id(owner_id, m)) batch.back().data_id = std::move(*id);
  }
  batch.insert(batch.end(), events.begin(), events.end());
  AddResult result;
  result.already_stored = store_raw_events(batch);
  result.message_ids.reserve(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) result.message_ids.push_back(batch[i].data_id);
  result.raw_events = events.size();
  return result;
}

std::size_t MemorySystem::store_raw_events(std::span<const RawEvent> events) {
  if (events.empty()) return 0;
  WriteBatch batch;
  batch.raw_events.assign(events.begin(), events.end());
  batch.skip_identical_raw_events = true;
  WriteBatchResult stored;
  try {
    stored = apply_skipping_identical(*storage_, batch);
  } catch (const Error& e) {
    // The batch's "raw_events[N] (...)" is "item N" of the events passed in.
    const std::string message = e.what();
    if (!message.starts_with("raw_events[")) throw;
    const std::string text = "item " + message.substr(11, message.find(']') - 11) +
                             message.substr(message.find(']') + 1);
    switch (e.kind()) {
      case ErrorKind::kValidation:
        throw ValidationError(text);
      case ErrorKind::kDuplicate:
        throw DuplicateError(text);
      default:
        throw;
    }
  }
  // Index (and hand the workers) only what this call stored.
  const std::unordered_set<std::string> old(stored.raw_already_stored.begin(),
                                            stored.raw_already_stored.end());
  std::vector<RawEvent> fresh;
  if (old.empty()) {
    retrieval_->index_raw_events(events);
  } else {
    for (const RawEvent& e : events) {
      if (!old.contains(e.data_id)) fresh.push_back(e);
    }
    retrieval_->index_raw_events(fresh);
  }
  if (old.size() < events.size()) {
    std::map<std::string, std::size_t> fresh_by_owner;
    for (const RawEvent& e : events) {
      if (!old.contains(e.data_id)) ++fresh_by_owner[e.owner_id];
    }
    for (const auto& [owner, n] : fresh_by_owner) {
      freshness_->wrote(owner, n, 0);
      if (builder_) builder_->added(owner, n);
    }
  }
  return stored.raw_already_stored.size();
}

ProcessResult MemorySystem::process(const std::string& owner_id, NewestSegment newest) {
  require_owner(owner_id);
  std::lock_guard lock(owner_mutex(owner_id));
  if (!builder_) return build(owner_id, newest);
  builder_->build_started(owner_id);
  try {
    const ProcessResult result = build(owner_id, newest);
    builder_->build_ended(owner_id, result.left_open, false);
    return result;
  } catch (...) {
    builder_->build_ended(owner_id, 0, true);
    throw;
  }
}

ProcessResult MemorySystem::build(const std::string& owner_id, NewestSegment newest) {
  // One builder per owner across processes too (PostgreSQL: an advisory lock the server
  // drops if this process dies), so two processes never build the same events twice, nor
  // interleave two read-modify-writes of the owner's statements.
  const std::shared_ptr<void> held = storage_->lock_owner(owner_id);
  std::vector<std::string> fresh;
  ProcessResult result = build_episodes(owner_id, newest, fresh);
  // Stages 2 and 3 never fail the build: its episodes are stored already.
  if (extractor_) {
    const auto [finished, added] = extract_statements(owner_id, fresh);
    result.semantic_episodes = finished;
    result.statements_added = added;
  }
  if (merger_ && !fresh.empty()) result.merges = merge_episodes(owner_id, fresh);
  return result;
}

void MemorySystem::report_error(const std::string& owner_id, const std::string& error) const {
  if (config_.building.on_error) {
    config_.building.on_error(owner_id, error);
  } else {
    std::fprintf(stderr, "nemori: owner %s: %s\n", owner_id.c_str(), error.c_str());
  }
}

ProcessResult MemorySystem::build_episodes(const std::string& owner_id, NewestSegment newest,
                                           std::vector<std::string>& fresh_ids) {
  ProcessResult result;
  const std::vector<RawEvent> events =
      storage_->raw_data().get_unprocessed(owner_id, std::nullopt, std::nullopt);
  if (events.empty()) return result;
  std::vector<Message> messages;
  messages.reserve(events.size());
  for (const auto& e : events) messages.push_back(message_of(e));
  std::vector<Segment> segments = newest == NewestSegment::kKeepOpen
                                      ? segmenter_->segment_stream(messages)
                                      : segmenter_->segment(messages);
  std::size_t built_events = events.size();
  if (newest == NewestSegment::kKeepOpen && !segments.empty() &&
      segments.back().boundary == "end_of_input") {
    // The open segment stays pending: later messages decide where it ends.
    built_events = segments.back().begin;
    result.left_open = events.size() - built_events;
    segments.pop_back();
    if (segments.empty()) return result;
  }
  std::vector<Episode> episodes;
  for (const Segment& s : segments) {
    const std::span<const RawEvent> seg_events(events.data() + s.begin, s.end - s.begin);
    const std::span<const Message> seg_messages(messages.data() + s.begin, s.end - s.begin);
    Episode episode = generator_->generate(owner_id, seg_events, seg_messages);
    episode.metadata.custom_fields["boundary"] = s.boundary;
    finalize(episode);
    // The id follows from the owner, the builder and the events, so that a run interrupted
    // between storing episodes and marking their events processed is completed, not
    // duplicated, by the next run over the same events.
    std::string key = owner_id + '\n' + generator_->name();
    for (const auto& id : episode.metadata.source_data_ids) key += '\n' + id;
    episode.episode_id = derived_id(key);
    episodes.push_back(std::move(episode));
  }
  std::vector<std::string> episode_ids;
  episode_ids.reserve(episodes.size());
  for (const auto& e : episodes) episode_ids.push_back(e.episode_id);
  const auto existing = storage_->episodes().get_batch(episode_ids);
  std::vector<Episode> fresh;
  std::vector<std::size_t> fresh_at;  // where each of `fresh` stands in `episodes`
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    if (existing[i]) {
      episodes[i] = *existing[i];  // built by an interrupted run: keep it as stored
    } else {
      fresh.push_back(episodes[i]);
      fresh_at.push_back(i);
    }
  }
  if (embedder_) {  // their vectors are stored with them, in the same transaction, and indexed
    embed_episodes(*embedder_, fresh);
    for (std::size_t j = 0; j < fresh.size(); ++j) episodes[fresh_at[j]] = fresh[j];
  }
  // The episodes, their links and the processed marks in one transaction: a crash leaves
  // all of them or none (never an episode without links, nor events marked but unbuilt).
  WriteBatch batch;
  batch.episodes = std::move(fresh);
  for (const auto& e : episodes) {  // links are idempotent
    for (const auto& raw_id : e.metadata.source_data_ids)
      batch.links.push_back({e.episode_id, raw_id});
  }
  batch.processed_ids.reserve(built_events);
  for (std::size_t i = 0; i < built_events; ++i) batch.processed_ids.push_back(events[i].data_id);
  batch.processed_version = "nemori-" + generator_->name() + "-1";
  for (const Episode& e : batch.episodes) fresh_ids.push_back(e.episode_id);
  if (extractor_) {
    // Built with the semantic pass on: pending for it (an episode without a row was stored
    // before the pass was on, which semantic.backlog = false skips).
    for (const Episode& e : batch.episodes) {
      SemanticProgress p;
      p.episode_id = e.episode_id;
      p.owner_id = owner_id;
      p.state = SemanticState::kPending;
      p.version = config_.semantic.version;
      p.updated_at = now_utc();
      batch.semantic_progress.push_back(std::move(p));
    }
  }
  const WriteBatchResult stored = storage_->apply(batch);
  retrieval_->index_episodes(episodes);
  freshness_->wrote(owner_id, 0, stored.episodes_stored);
  result.raw_events = built_events;
  result.episodes = episodes.size();
  return result;
}

ProcessResult MemorySystem::process_all() {
  ProcessResult total;
  for (const auto& owner : storage_->list_owners()) {
    const auto r = process(owner);
    total.raw_events += r.raw_events;
    total.episodes += r.episodes;
    total.semantic_episodes += r.semantic_episodes;
    total.statements_added += r.statements_added;
    total.merges += r.merges;
  }
  return total;
}

SearchMode MemorySystem::search_mode(std::optional<SearchMode> asked) const {
  if (!asked) return embedder_ ? SearchMode::kHybrid : SearchMode::kBm25;
  if (*asked != SearchMode::kBm25 && !embedder_) {
    throw ConfigError(std::string("search mode \"") + std::string(to_string(*asked)) +
                      "\" needs an embedding model, and none is configured (set "
                      "NEMORI_EMBEDDING_MODEL and NEMORI_EMBEDDING_BASE_URL, or [embedding] "
                      "model in the config file; docs/llm.md)");
  }
  return *asked;
}

ContextScoringOptions default_context_scoring() {
  ContextScoringOptions o;
  o.neighbour_weight = 0.3;
  o.sitting_weight = 0.3;
  return o;
}

MemorySearchResponse MemorySystem::search(const MemorySearchRequest& request) {
  require_owner(request.owner_id);
  const auto t0 = Clock::now();
  MemorySearchResponse response;
  SearchOptions options;
  options.k = std::max<std::size_t>(1, request.limit);
  options.mode = search_mode(request.mode);
  options.corpus = SearchCorpus::kEpisodes;
  options.context = request.context;
  if (request.time_range) {
    options.filter.since = request.time_range->start;
    options.filter.until = request.time_range->end;
  }
  freshness_->before_read(request.owner_id);
  if (options.mode != SearchMode::kBm25 && request.statement_limit > 0) {
    // One embedding of the query serves both rankings (episodes and statements).
    const auto embed_start = Clock::now();
    std::vector<std::string> texts{request.query};
    auto vectors = embedder_->embed(texts);
    if (vectors.size() != 1) throw LlmError("embedder returned no vector for the query");
    options.query_vector = std::move(vectors[0]);
    response.embed_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - embed_start).count();
  }
  SearchResponse found = retrieval_->search(request.owner_id, request.query, options);
  response.embed_ms += found.embed_ms;
  if (request.message_evidence) fuse_message_evidence(request, found);
  // The hits, their neighbours and their evidence come from the owner's index (no storage
  // round trip).
  std::vector<std::string> ids;
  ids.reserve(found.hits.size());
  for (const auto& h : found.hits) ids.push_back(h.id);
  const std::vector<EpisodeInContext> episodes =
      retrieval_->episodes(request.owner_id, ids, request.neighbours);

  std::unordered_set<std::string> taken;
  bool budget_full = false;
  const auto add = [&](const IndexedEpisode& indexed, const SearchHit* hit, bool neighbour) {
    const Episode& e = *indexed.episode;
    if (budget_full || e.owner_id != request.owner_id || !taken.insert(e.episode_id).second) return;
    const std::size_t words = indexed.words;
    if (request.word_budget > 0 && response.words + words > request.word_budget) {
      budget_full = true;
      return;
    }
    MemoryHit h;
    h.episode = e;
    h.neighbour = neighbour;
    if (hit != nullptr) {
      h.score = hit->score;
      h.bm25_score = hit->bm25_score.value_or(0.0);
      h.vector_score = hit->vector_score.value_or(0.0);
    }
    h.raw_event_ids = indexed.raw_event_ids;
    h.words = words;
    response.words += words;
    response.hits.push_back(std::move(h));
  };
  for (std::size_t i = 0; i < episodes.size() && !budget_full; ++i) {
    if (!episodes[i].episode) continue;  // removed since it was ranked
    for (const auto& n : episodes[i].before) add(n, nullptr, true);
    add(*episodes[i].episode, &found.hits[i], false);
    for (const auto& n : episodes[i].after) add(n, nullptr, true);
  }
  if (request.statement_limit > 0) search_statements(request, options, response);
  if (request.mark_accessed) {
    auto& repo = storage_->episodes();
    const Timestamp now = now_utc();
    std::vector<std::string> accessed;
    for (auto& h : response.hits) {
      if (!h.neighbour && repo.mark_accessed(h.episode.episode_id, now)) {
        ++h.episode.recall_count;
        h.episode.last_accessed = now;
        accessed.push_back(h.episode.episode_id);
      }
    }
    retrieval_->record_access(request.owner_id, accessed, now);
  }
  response.took_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  return response;
}

void MemorySystem::search_statements(const MemorySearchRequest& request,
                                     const SearchOptions& episode_options,
                                     MemorySearchResponse& response) {
  constexpr std::size_t kMaxK = 10000;
  SearchOptions options;
  options.k = std::min(request.statement_limit, kMaxK);
  options.mode = episode_options.mode;
  options.query_vector = episode_options.query_vector;
  options.corpus = SearchCorpus::kStatements;
  options.statements.include_superseded = request.include_superseded;
  options.statements.as_of = request.as_of;
  const SearchResponse found = retrieval_->search(request.owner_id, request.query, options);
  std::vector<std::string> ids;
  ids.reserve(found.hits.size());
  for (const auto& h : found.hits) ids.push_back(h.id);
  const auto statements = retrieval_->statements(request.owner_id, ids);
  for (std::size_t i = 0; i < statements.size(); ++i) {
    if (!statements[i] || statements[i]->owner_id != request.owner_id) continue;
    StatementHit hit;
    hit.statement = *statements[i];
    hit.score = found.hits[i].score;
    hit.bm25_score = found.hits[i].bm25_score.value_or(0.0);
    hit.vector_score = found.hits[i].vector_score.value_or(0.0);
    hit.current = hit.statement.current();
    hit.words = statement_words(hit.statement);
    if (request.statement_word_budget > 0 &&
        response.statement_words + hit.words > request.statement_word_budget)
      break;
    response.statement_words += hit.words;
    response.statements.push_back(std::move(hit));
  }
}

std::size_t statement_words(const Statement& statement) {
  return count_words(statement.content);
}

void MemorySystem::fuse_message_evidence(const MemorySearchRequest& request,
                                         SearchResponse& found) {
  constexpr double kRrf = 60.0;
  SearchOptions options;
  options.k = std::max<std::size_t>(1, request.limit) * 2;
  options.mode = SearchMode::kBm25;
  options.corpus = SearchCorpus::kRawEvents;
  if (request.time_range) {
    options.filter.since = request.time_range->start;
    options.filter.until = request.time_range->end;
  }
  const SearchResponse messages = retrieval_->search(request.owner_id, request.query, options);
  std::unordered_map<std::string, double> fused;     // episode id -> fused score
  std::unordered_map<std::string, SearchHit> by_id;  // episode id -> its hit
  for (std::size_t rank = 0; rank < found.hits.size(); ++rank) {
    fused[found.hits[rank].id] += 1.0 / (kRrf + static_cast<double>(rank + 1));
    by_id[found.hits[rank].id] = found.hits[rank];
  }
  std::vector<std::string> message_ids;
  message_ids.reserve(messages.hits.size());
  for (const auto& h : messages.hits) message_ids.push_back(h.id);
  const auto episodes_of = retrieval_->episodes_of_raw_events(request.owner_id, message_ids);
  std::unordered_map<std::string, bool> credited;  // episodes credited with their best message
  for (std::size_t rank = 0; rank < episodes_of.size(); ++rank) {
    for (const std::string& episode_id : episodes_of[rank]) {
      if (credited[episode_id]) continue;
      credited[episode_id] = true;
      fused[episode_id] += 1.0 / (kRrf + static_cast<double>(rank + 1));
      if (!by_id.count(episode_id)) {
        SearchHit hit;
        hit.id = episode_id;
        by_id[episode_id] = hit;
      }
    }
  }
  std::vector<SearchHit> hits;
  hits.reserve(by_id.size());
  for (auto& [id, hit] : by_id) {
    hit.score = fused[id];
    hits.push_back(std::move(hit));
  }
  std::sort(hits.begin(), hits.end(), [](const SearchHit& a, const SearchHit& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  if (hits.size() > request.limit) hits.resize(std::max<std::size_t>(1, request.limit));
  found.hits = std::move(hits);
}

std::vector<MessageHit> MemorySystem::search_messages(const std::string& owner_id,
                                                      const std::string& query, std::size_t limit) {
  require_owner(owner_id);
  SearchOptions options;
  options.k = std::max<std::size_t>(1, limit);
  options.mode = search_mode(std::nullopt);
  options.corpus = SearchCorpus::kRawEvents;
  freshness_->before_read(owner_id);
  const SearchResponse found = retrieval_->search(owner_id, query, options);
  std::vector<std::string> ids;
  ids.reserve(found.hits.size());
  for (const auto& h : found.hits) ids.push_back(h.id);
  const auto events = storage_->raw_data().get_batch(ids);
  std::vector<MessageHit> out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i] && events[i]->owner_id == owner_id)
      out.push_back({*events[i], found.hits[i].score});
  }
  return out;
}

std::optional<Episode> MemorySystem::get_episode(const std::string& owner_id,
                                                 const std::string& episode_id) {
  auto e = storage_->episodes().get(episode_id);
  if (!e || e->owner_id != owner_id) return std::nullopt;
  return e;
}

std::vector<Episode> MemorySystem::list_episodes(const std::string& owner_id, std::size_t limit,
                                                 std::size_t offset) {
  require_owner(owner_id);
  return storage_->episodes().by_owner(owner_id, limit, offset).episodes;
}

EpisodeDeletion MemorySystem::delete_episode(const std::string& owner_id,
                                             const std::string& episode_id) {
  require_owner(owner_id);
  std::lock_guard lock(owner_mutex(owner_id));
  EpisodeDeletion result;
  const auto episode = storage_->episodes().get(episode_id);
  if (!episode || episode->owner_id != owner_id) return result;
  // The statements the deletion may touch: those the episode supports and those they closed.
  std::vector<std::string> touched;
  if (statements_supported()) {
    StatementQuery supported;
    supported.owner_ids = {owner_id};
    supported.state = StatementState::kAll;
    supported.source_episode_id = episode_id;
    for (const Statement& s : storage_->statements().search(supported).statements) {
      touched.push_back(s.statement_id);
      for (const Statement& h : storage_->statements().history(s.statement_id)) {
        if (h.superseded_by == s.statement_id) touched.push_back(h.statement_id);
      }
    }
  }
  WriteBatch batch;
  batch.delete_episodes = {episode_id};
  WriteBatchResult applied;
  try {
    applied = storage_->apply(batch);
  } catch (const NotFoundError&) {
    return result;  // deleted meanwhile by another process
  }
  result.deleted = applied.episodes_deleted > 0;
  result.statements_removed = applied.statements_removed;
  result.statements_reopened = applied.statements_reopened;
  retrieval_->remove_episode(owner_id, episode_id);
  refresh_statements(owner_id, touched);
  freshness_->removed(owner_id, applied.episodes_deleted, applied.statements_removed);
  return result;
}

void MemorySystem::refresh_statements(const std::string& owner_id,
                                      std::span<const std::string> ids) {
  if (ids.empty()) return;
  std::vector<std::string> unique(ids.begin(), ids.end());
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::vector<Statement> stored;
  std::vector<std::string> gone;
  const auto found = storage_->statements().get_batch(unique);
  for (std::size_t i = 0; i < unique.size(); ++i) {
    if (found[i] && found[i]->owner_id == owner_id) {
      stored.push_back(*found[i]);
    } else {
      gone.push_back(unique[i]);
    }
  }
  if (!gone.empty()) retrieval_->remove_statements(owner_id, gone);
  if (!stored.empty()) retrieval_->index_statements(owner_id, stored);
}

bool MemorySystem::statements_supported() {
  try {
    storage_->statements();
    return true;
  } catch (const UnsupportedBackendError&) {
    return false;
  }
}

StatementSearchResult MemorySystem::list_statements(const std::string& owner_id,
                                                    StatementQuery query) {
  require_owner(owner_id);
  query.owner_ids = {owner_id};
  return storage_->statements().search(query);
}

std::optional<Statement> MemorySystem::get_statement(const std::string& owner_id,
                                                     const std::string& statement_id) {
  require_owner(owner_id);
  auto s = storage_->statements().get(statement_id);
  if (!s || s->owner_id != owner_id) return std::nullopt;
  return s;
}

std::vector<Statement> MemorySystem::statement_history(const std::string& owner_id,
                                                       const std::string& statement_id) {
  if (!get_statement(owner_id, statement_id)) return {};
  std::vector<Statement> chain = storage_->statements().history(statement_id);
  std::erase_if(chain, [&](const Statement& s) { return s.owner_id != owner_id; });
  return chain;
}

StatementDeletion MemorySystem::delete_statement(const std::string& owner_id,
                                                 const std::string& statement_id) {
  require_owner(owner_id);
  std::lock_guard lock(owner_mutex(owner_id));
  StatementDeletion result;
  if (!get_statement(owner_id, statement_id)) return result;
  std::vector<std::string> closed;  // what it closed: reopened by the removal
  for (const Statement& s : storage_->statements().history(statement_id)) {
    if (s.superseded_by == statement_id) closed.push_back(s.statement_id);
  }
  result.deleted = storage_->statements().remove(statement_id);
  if (!result.deleted) return result;
  for (auto& s : storage_->statements().get_batch(closed)) {
    if (s && s->owner_id == owner_id) result.reopened.push_back(std::move(*s));
  }
  std::vector<std::string> touched = closed;
  touched.push_back(statement_id);
  refresh_statements(owner_id, touched);
  freshness_->removed(owner_id, 0, 1);
  return result;
}

SemanticStatus MemorySystem::semantic_status() const {
  const auto mode = [this](bool enabled) -> std::string {
    if (!config_.llm.chat) return "off (LLM-free)";
    if (!embedder_) return "off (needs an embedding model)";
    if (!enabled) return "off (disabled)";
    return "on";
  };
  return SemanticStatus{mode(config_.semantic.enabled), mode(config_.merging.enabled)};
}

OwnerDeletion MemorySystem::delete_owner(const std::string& owner_id) {
  require_owner(owner_id);
  std::lock_guard lock(owner_mutex(owner_id));
  const OwnerDeletion deleted = storage_->delete_owner(owner_id);
  retrieval_->drop_owner(owner_id);
  freshness_->forget(owner_id);
  if (builder_) builder_->forget(owner_id);
  return deleted;
}

}  // namespace nemori
