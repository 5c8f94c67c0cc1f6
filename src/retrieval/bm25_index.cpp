#include "nemori/retrieval/bm25_index.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <memory>
#include <unordered_set>

#include "nemori/core/error.h"
#include "retrieval/doc_table.h"
#include "text/flat_string_map.h"

namespace nemori {

using retrieval_internal::DocTable;
using retrieval_internal::kNoSlot;
using retrieval_internal::SlotFilter;
using retrieval_internal::TopK;

namespace {

constexpr std::size_t kFields = 5;  // title, content, summary, keywords, entities

struct Posting {
  std::uint32_t doc;
  float tf;  // weighted term frequency
};

void check_options(const Bm25Options& o) {
  if (!(o.k1 >= 0) || !std::isfinite(o.k1)) throw ConfigError("bm25.k1 must be >= 0");
  if (!(o.b >= 0 && o.b <= 1)) throw ConfigError("bm25.b must be within 0..1");
  for (double w : {o.weights.title, o.weights.content, o.weights.summary, o.weights.keywords,
                   o.weights.entities}) {
    if (!(w >= 0) || !std::isfinite(w)) {
      throw ConfigError("bm25.weights must be finite and >= 0");
    }
  }
  if (!(o.compact_ratio > 0 && o.compact_ratio <= 1)) {
    throw ConfigError("bm25.compact_ratio must be within (0, 1]");
  }
}

void check_id(std::string_view id) {
  if (id.empty()) throw ValidationError("id", "is required");
  if (id.size() > 255) throw ValidationError("id", "is longer than 255 bytes");
}

// The distinct terms of a query, in first-occurrence order.
std::vector<std::string_view> distinct(std::span<const std::string> terms) {
  std::vector<std::string_view> out;
  out.reserve(terms.size());
  if (terms.size() <= 16) {
    for (const auto& t : terms) {
      if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(t);
    }
    return out;
  }
  std::unordered_set<std::string_view> seen;
  for (const auto& t : terms) {
    if (seen.insert(t).second) out.push_back(t);
  }
  return out;
}

// An append-only array of term ids in blocks (256 entries, doubling up to 64Ki): growing never
// copies what is stored (a single vector of every document's terms spent much of an index
// build re-copying itself). Reads (deletes, compaction) find the block by binary search.
class TermList {
 public:
  void push_back(std::uint32_t term) {
    if (used_ == block_size_) add_block();
    blocks_.back()[used_++] = term;
    ++size_;
  }
  std::uint32_t operator[](std::uint64_t i) const {
    const auto b = static_cast<std::size_t>(std::upper_bound(starts_.begin(), starts_.end(), i) -
                                            starts_.begin() - 1);
    return blocks_[b][i - starts_[b]];
  }
  std::uint64_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }

 private:
  static constexpr std::size_t kFirstBlock = 256, kMaxBlock = std::size_t{1} << 16;
  void add_block() {
    block_size_ = blocks_.empty() ? kFirstBlock : std::min(block_size_ * 2, kMaxBlock);
    blocks_.push_back(std::make_unique_for_overwrite<std::uint32_t[]>(block_size_));
    starts_.push_back(size_);
    capacity_ += block_size_;
    used_ = 0;
  }
  std::vector<std::unique_ptr<std::uint32_t[]>> blocks_;
  std::vector<std::uint64_t> starts_;  // index of each block's first entry
  std::uint64_t size_ = 0;
  std::size_t capacity_ = 0, block_size_ = 0, used_ = 0;
};

}  // namespace

struct Bm25Index::Impl {
  Impl() = default;
  Impl(const Impl&) = delete;  // `sink` points at this object
  Impl& operator=(const Impl&) = delete;

  std::shared_ptr<const Tokenizer> tokenizer;
  Bm25Options options;
  std::array<double, kFields> weights{};

  DocTable docs;
  // Terms.
  text_internal::FlatStringMap<std::uint32_t> term_ids;
  std::vector<std::vector<Posting>> postings;
  std::vector<std::uint32_t> df;  // live documents containing the term
  std::size_t total_postings = 0;
  // Per slot.
  std::vector<float> lengths;  // weighted length
  std::vector<std::array<std::uint32_t, kFields>> field_tokens;
  std::vector<std::uint32_t> word_counts;
  std::vector<std::uint64_t> fwd_offsets{0};  // slot s owns fwd_terms[off[s], off[s+1])
  TermList fwd_terms;
  // Statistics of the live documents.
  std::array<std::uint64_t, kFields> total_tokens{};

  // Scratch for upsert (writes are exclusive).
  struct DocTerm {
    std::uint32_t term;
    std::array<std::uint32_t, kFields> counts;
  };
  std::vector<DocTerm> doc_terms;
  std::vector<std::uint32_t> seen_stamp, seen_pos;
  std::uint32_t stamp = 0;

  double average_length() const {
    if (docs.live_count() == 0) return 0;
    double total = 0;
    for (std::size_t f = 0; f < kFields; ++f) {
      total += weights[f] * static_cast<double>(total_tokens[f]);
    }
    return total / static_cast<double>(docs.live_count());
  }

  double idf(std::uint32_t term) const {
    const double n = static_cast<double>(docs.live_count());
    const double d = df[term];
    return std::log1p((n - d + 0.5) / (d + 0.5));
  }

  std::uint32_t intern(std::string_view token) {
    const auto id = static_cast<std::uint32_t>(postings.size());
    const auto [value, inserted] = term_ids.insert(token, id);
    if (!inserted) return *value;
    postings.emplace_back();
    df.push_back(0);
    seen_stamp.push_back(0);
    seen_pos.push_back(0);
    return id;
  }

  // Segmented word -> term id (kStopTerm for stop words): one lookup per word instead of a
  // stop-word check, a stem and a dictionary lookup. Valid until compaction renumbers terms.
  static constexpr std::uint32_t kStopTerm = 0xFFFFFFFFu;
  static constexpr std::size_t kMaxSurfaceForms = 1u << 20;
  text_internal::FlatStringMap<std::uint32_t> surface_terms;
  std::size_t current_field = 0;
  std::array<std::uint32_t, kFields> pending_lengths{};
  std::function<void(std::string_view, bool)> sink = [this](std::string_view token, bool word) {
    add_token(token, word);
  };

  void add_token(std::string_view token, bool word) {
    std::uint32_t t;
    if (word) {
      const std::uint64_t hash = text_internal::hash_bytes(token);
      if (const std::uint32_t* known = surface_terms.find(token, hash)) {
        t = *known;
      } else {
        const std::string final_form = tokenizer->finalize(token);
        t = final_form.empty() ? kStopTerm : intern(final_form);
        if (surface_terms.size() >= kMaxSurfaceForms) surface_terms.clear();
        surface_terms.insert(token, t, hash);
      }
      if (t == kStopTerm) return;
    } else {
      t = intern(token);
    }
    ++pending_lengths[current_field];
    if (seen_stamp[t] != stamp) {
      seen_stamp[t] = stamp;
      seen_pos[t] = static_cast<std::uint32_t>(doc_terms.size());
      doc_terms.push_back({t, {}});
    }
    ++doc_terms[seen_pos[t]].counts[current_field];
  }

  void add_field(std::size_t field, std::string_view text) {
    if (text.empty()) return;
    current_field = field;
    tokenizer->segment(text, sink);
  }

  void add_field(std::size_t field, const std::vector<std::string>& items) {
    for (const auto& item : items) add_field(field, item);
  }

  void upsert(const Document& doc) {
    check_id(doc.id);
    if (const std::uint32_t old = docs.find(doc.id); old != kNoSlot) remove_slot(old);
    if (++stamp == 0) {  // wrapped: forget every stamp
      std::fill(seen_stamp.begin(), seen_stamp.end(), 0);
      stamp = 1;
    }
    doc_terms.clear();
    pending_lengths = {};
    if (weights[0] > 0) add_field(0, doc.title);
    if (weights[1] > 0) add_field(1, doc.content);
    if (weights[2] > 0) add_field(2, doc.summary);
    if (weights[3] > 0) add_field(3, doc.keywords);
    if (weights[4] > 0) add_field(4, doc.entities);

    const std::uint32_t slot = docs.add(doc.id, doc.timestamp, doc.type);
    double length = 0;
    for (std::size_t f = 0; f < kFields; ++f) {
      length += weights[f] * pending_lengths[f];
      total_tokens[f] += pending_lengths[f];
    }
    for (const DocTerm& dt : doc_terms) {
      double tf = 0;
      for (std::size_t f = 0; f < kFields; ++f) tf += weights[f] * dt.counts[f];
      postings[dt.term].push_back({slot, static_cast<float>(tf)});
      ++df[dt.term];
      fwd_terms.push_back(dt.term);
    }
    total_postings += doc_terms.size();
    fwd_offsets.push_back(fwd_terms.size());
    lengths.push_back(static_cast<float>(length));
    field_tokens.push_back(pending_lengths);
    word_counts.push_back(doc.word_count);
    maybe_compact();
  }

  void remove_slot(std::uint32_t slot) {
    for (std::uint64_t i = fwd_offsets[slot]; i < fwd_offsets[slot + 1]; ++i) --df[fwd_terms[i]];
    for (std::size_t f = 0; f < kFields; ++f) total_tokens[f] -= field_tokens[slot][f];
    docs.remove(slot);
  }

  void maybe_compact() {
    const std::size_t dead = docs.dead_count();
    if (dead >= options.compact_min_deleted &&
        static_cast<double>(dead) > options.compact_ratio * docs.slots()) {
      compact();
    }
  }

  void compact() {
    if (docs.dead_count() == 0) return;
    const std::vector<std::uint32_t> remap = docs.compact();
    // Terms still used keep their relative order under new ids.
    std::vector<std::uint32_t> term_remap(postings.size(), kNoSlot);
    std::uint32_t next_term = 0;
    total_postings = 0;
    for (std::uint32_t t = 0; t < postings.size(); ++t) {
      if (df[t] == 0) continue;
      term_remap[t] = next_term;
      std::vector<Posting> kept;
      kept.reserve(df[t]);
      for (const Posting& p : postings[t]) {
        if (remap[p.doc] != kNoSlot) kept.push_back({remap[p.doc], p.tf});
      }
      total_postings += kept.size();
      postings[next_term] = std::move(kept);
      df[next_term] = df[t];
      ++next_term;
    }
    postings.resize(next_term);
    df.resize(next_term);
    postings.shrink_to_fit();
    df.shrink_to_fit();
    seen_stamp.assign(next_term, 0);
    seen_pos.assign(next_term, 0);
    stamp = 0;
    text_internal::FlatStringMap<std::uint32_t> kept_terms;
    kept_terms.reserve(next_term);
    term_ids.for_each([&](std::string_view term, std::uint32_t id) {
      if (term_remap[id] != kNoSlot) kept_terms.insert(term, term_remap[id]);
    });
    term_ids = std::move(kept_terms);
    surface_terms.clear();
    std::vector<std::uint64_t> offsets{0};
    TermList terms;
    std::size_t next = 0;
    for (std::uint32_t s = 0; s < remap.size(); ++s) {
      if (remap[s] == kNoSlot) continue;
      for (std::uint64_t i = fwd_offsets[s]; i < fwd_offsets[s + 1]; ++i) {
        terms.push_back(term_remap[fwd_terms[i]]);
      }
      offsets.push_back(terms.size());
      lengths[next] = lengths[s];
      field_tokens[next] = field_tokens[s];
      word_counts[next] = word_counts[s];
      ++next;
    }
    fwd_offsets = std::move(offsets);
    fwd_terms = std::move(terms);
    lengths.resize(next);
    field_tokens.resize(next);
    word_counts.resize(next);
    lengths.shrink_to_fit();
    field_tokens.shrink_to_fit();
    word_counts.shrink_to_fit();
  }

  std::vector<ScoredDocument> search(std::span<const std::string> query_terms, std::size_t k,
                                     const SearchFilter& filter) const {
    if (k == 0 || docs.live_count() == 0) return {};
    const SlotFilter slot_filter = docs.compile(filter);
    if (slot_filter.rejects_all()) return {};
    const double k1 = options.k1;
    const double avg = average_length();
    const double base = k1 * (1 - options.b);
    const double scale = avg > 0 ? k1 * options.b / avg : 0;

    thread_local std::vector<double> acc;
    thread_local std::vector<std::uint32_t> touched;
    if (acc.size() < docs.slots()) acc.resize(docs.slots(), 0.0);
    touched.clear();
    for (std::string_view term : distinct(query_terms)) {
      const std::uint32_t* id = term_ids.find(term);
      if (id == nullptr || df[*id] == 0) continue;
      const double weight = idf(*id) * (k1 + 1);
      for (const Posting& p : postings[*id]) {
        if (!docs.live(p.doc) || !slot_filter.pass(p.doc)) continue;
        const double tf = p.tf;
        const double s = weight * tf / (tf + base + scale * lengths[p.doc]);
        if (acc[p.doc] == 0) touched.push_back(p.doc);
        acc[p.doc] += s;
      }
    }
    TopK top(docs, k);
    for (std::uint32_t slot : touched) {
      top.push(slot, acc[slot]);
      acc[slot] = 0;
    }
    return top.finish();
  }

  std::size_t approximate_memory_bytes() const {
    return total_postings * sizeof(Posting) * 5 / 4 + fwd_terms.size() * 4 +
           docs.slots() * (DocTable::kBytesPerDocument + 4 + 4 * kFields + 4 + 8) +
           postings.size() * (sizeof(std::vector<Posting>) + 4 + 8 + 64);
  }
};

Bm25Index::Bm25Index(std::shared_ptr<const Tokenizer> tokenizer, Bm25Options options)
    : impl_(std::make_unique<Impl>()) {
  if (!tokenizer) tokenizer = std::make_shared<const Tokenizer>();
  check_options(options);
  impl_->tokenizer = std::move(tokenizer);
  impl_->options = options;
  impl_->weights = {options.weights.title, options.weights.content, options.weights.summary,
                    options.weights.keywords, options.weights.entities};
}

Bm25Index::~Bm25Index() = default;
Bm25Index::Bm25Index(Bm25Index&&) noexcept = default;
Bm25Index& Bm25Index::operator=(Bm25Index&&) noexcept = default;

void Bm25Index::upsert(const Document& doc) {
  impl_->upsert(doc);
}

bool Bm25Index::remove(std::string_view id) {
  const std::uint32_t slot = impl_->docs.find(id);
  if (slot == kNoSlot) return false;
  impl_->remove_slot(slot);
  impl_->maybe_compact();
  return true;
}

bool Bm25Index::contains(std::string_view id) const {
  return impl_->docs.find(id) != kNoSlot;
}

std::size_t Bm25Index::size() const {
  return impl_->docs.live_count();
}

std::vector<ScoredDocument> Bm25Index::search(std::string_view query, std::size_t k,
                                              const SearchFilter& filter) const {
  thread_local std::vector<std::string> terms;
  terms.clear();
  impl_->tokenizer->tokenize(query, terms);
  return impl_->search(terms, k, filter);
}

std::vector<ScoredDocument> Bm25Index::search_terms(std::span<const std::string> terms,
                                                    std::size_t k,
                                                    const SearchFilter& filter) const {
  return impl_->search(terms, k, filter);
}

double Bm25Index::score(std::string_view query, std::string_view id) const {
  const Impl& m = *impl_;
  const std::uint32_t slot = m.docs.find(id);
  if (slot == kNoSlot) return 0;
  const std::vector<std::string> terms = m.tokenizer->tokenize(query);
  const double k1 = m.options.k1;
  const double avg = m.average_length();
  const double base = k1 * (1 - m.options.b);
  const double scale = avg > 0 ? k1 * m.options.b / avg : 0;
  double total = 0;
  for (std::string_view term : distinct(terms)) {
    const std::uint32_t* id = m.term_ids.find(term);
    if (id == nullptr || m.df[*id] == 0) continue;
    const auto& list = m.postings[*id];
    const auto p = std::lower_bound(list.begin(), list.end(), slot,
                                    [](const Posting& a, std::uint32_t s) { return a.doc < s; });
    if (p == list.end() || p->doc != slot) continue;
    const double tf = p->tf;
    total += m.idf(*id) * (k1 + 1) * tf / (tf + base + scale * m.lengths[slot]);
  }
  return total;
}

std::optional<Bm25Index::Info> Bm25Index::info(std::string_view id) const {
  const std::uint32_t slot = impl_->docs.find(id);
  if (slot == kNoSlot) return std::nullopt;
  return Info{impl_->docs.time(slot), impl_->docs.type_name(slot), impl_->word_counts[slot]};
}

std::vector<std::string> Bm25Index::ids() const {
  return impl_->docs.live_ids();
}

void Bm25Index::compact() {
  impl_->compact();
}

Bm25Stats Bm25Index::stats() const {
  const Impl& m = *impl_;
  Bm25Stats s;
  s.documents = m.docs.live_count();
  s.deleted = m.docs.dead_count();
  s.postings = m.total_postings;
  std::size_t bytes = m.docs.memory_bytes();
  bytes += m.postings.capacity() * sizeof(std::vector<Posting>) + m.df.capacity() * 4 +
           m.seen_stamp.capacity() * 4 + m.seen_pos.capacity() * 4;
  for (std::uint32_t t = 0; t < m.postings.size(); ++t) {
    bytes += m.postings[t].capacity() * sizeof(Posting);
    if (m.df[t] > 0) ++s.terms;
  }
  bytes += m.term_ids.memory_bytes() + m.surface_terms.memory_bytes();
  bytes += m.lengths.capacity() * 4 + m.field_tokens.capacity() * 4 * kFields +
           m.word_counts.capacity() * 4 + m.fwd_offsets.capacity() * 8 + m.fwd_terms.capacity() * 4;
  s.memory_bytes = bytes;
  return s;
}

std::size_t Bm25Index::approximate_memory_bytes() const {
  return impl_->approximate_memory_bytes();
}

const Tokenizer& Bm25Index::tokenizer() const {
  return *impl_->tokenizer;
}

const Bm25Options& Bm25Index::options() const {
  return impl_->options;
}

}  // namespace nemori
