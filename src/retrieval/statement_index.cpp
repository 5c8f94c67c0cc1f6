#include "retrieval/statement_index.h"

#include <algorithm>
#include <limits>

#include "nemori/core/error.h"
#include "nemori/core/words.h"

namespace nemori::retrieval_internal {

namespace {

constexpr std::size_t kMaxIdBytes = 255;

std::uint32_t content_words(std::string_view text) {
  const std::size_t words = count_words(text);
  return static_cast<std::uint32_t>(
      std::min<std::size_t>(words, std::numeric_limits<std::uint32_t>::max()));
}

std::size_t string_bytes(const std::string& s) {
  return sizeof(std::string) + (s.size() >= sizeof(std::string) ? s.capacity() + 1 : 0);
}

// Heap memory of a statement copy, estimated (metadata JSON as a guess).
std::size_t statement_bytes(const Statement& s) {
  std::size_t bytes = sizeof(Statement) + 64 + string_bytes(s.statement_id) +
                      string_bytes(s.owner_id) + string_bytes(s.subject) + string_bytes(s.content) +
                      string_bytes(s.superseded_by) + string_bytes(s.embedding_model) +
                      96;  // metadata
  for (const auto& id : s.source_episode_ids) bytes += string_bytes(id);
  if (s.embedding_vector) bytes += s.embedding_vector->capacity() * sizeof(float);
  return bytes;
}

}  // namespace

Document document_from_statement(const Statement& statement) {
  Document d;
  d.id = statement.statement_id;
  d.timestamp = statement.valid_from;
  d.type = std::string(to_string(statement.category));
  d.title = statement.subject;
  d.content = statement.content;
  d.keywords = {d.type};
  d.word_count = content_words(statement.content);
  return d;
}

StatementIndex::StatementIndex(std::shared_ptr<const Tokenizer> tokenizer, Bm25Options bm25)
    : bm25_(std::move(tokenizer), bm25) {}

void StatementIndex::upsert(std::span<const Statement> statements,
                            std::span<const std::optional<std::vector<float>>> vectors,
                            const VectorIndexOptions& vector_options) {
  // Everything that can be refused is checked first, so nothing changes on an error.
  std::vector<VectorDocument> docs;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const Statement& s = statements[i];
    if (s.statement_id.empty()) throw ValidationError("statement_id", "is required");
    if (s.statement_id.size() > kMaxIdBytes) {
      throw ValidationError("statement_id", "is longer than 255 bytes");
    }
    if (i < vectors.size() && vectors[i]) {
      docs.push_back(
          {s.statement_id, *vectors[i], s.valid_from, std::string(to_string(s.category))});
    }
  }
  if (!docs.empty()) {
    if (!vectors_) {
      VectorIndexOptions vo = vector_options;
      if (vo.dimension == 0) vo.dimension = docs.front().vector.size();
      vectors_.emplace(vo);
    }
    vectors_->upsert_batch(docs);  // checks every vector before adding any
  }
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const Statement& s = statements[i];
    if (!(i < vectors.size() && vectors[i]) && vectors_) vectors_->remove(s.statement_id);
    bm25_.upsert(document_from_statement(s));
    auto [it, inserted] = records_.try_emplace(s.statement_id, s);
    if (!inserted) {
      records_bytes_ -= statement_bytes(it->second);
      if (!it->second.current()) --closed_;
      it->second = s;
    }
    records_bytes_ += statement_bytes(it->second);
    if (!it->second.current()) ++closed_;
  }
}

bool StatementIndex::remove(const std::string& statement_id) {
  const auto it = records_.find(statement_id);
  if (it == records_.end()) return false;
  if (!it->second.current()) --closed_;
  records_bytes_ -= statement_bytes(it->second);
  records_.erase(it);
  bm25_.remove(statement_id);
  if (vectors_) vectors_->remove(statement_id);
  return true;
}

const Statement* StatementIndex::find(const std::string& statement_id) const {
  const auto it = records_.find(statement_id);
  return it == records_.end() ? nullptr : &it->second;
}

SearchFilter StatementIndex::search_filter(const SearchFilter& filter,
                                           const StatementFilter& versions) const {
  SearchFilter out = filter;
  const bool every_version = versions.include_superseded && !versions.as_of;
  if (every_version || (!versions.as_of && closed_ == 0)) return out;  // nothing to leave out
  const auto wanted = [&](const Statement& s) {
    return versions.as_of ? s.valid_at(*versions.as_of) : s.current();
  };
  std::vector<std::string> allowed;
  if (filter.ids) {
    for (const std::string& id : *filter.ids) {
      const Statement* s = find(id);
      if (s != nullptr && wanted(*s)) allowed.push_back(id);
    }
  } else {
    allowed.reserve(records_.size() - (versions.as_of ? 0 : closed_));
    for (const auto& [id, s] : records_) {
      if (wanted(s)) allowed.push_back(id);
    }
  }
  out.ids = std::move(allowed);
  return out;
}

std::vector<ScoredDocument> StatementIndex::nearest_current(std::span<const float> vector,
                                                            std::size_t k) const {
  if (!vectors_ || vectors_->size() == 0 || k == 0) return {};
  return vectors_->search_exact(vector, k, search_filter({}, StatementFilter{}));
}

std::size_t StatementIndex::approximate_bytes() const {
  return sizeof(StatementIndex) + bm25_.approximate_memory_bytes() +
         (vectors_ ? vectors_->approximate_memory_bytes() : 0) + records_bytes_ +
         records_.size() * (sizeof(std::string) + 2 * sizeof(void*) + 16);
}

}  // namespace nemori::retrieval_internal
