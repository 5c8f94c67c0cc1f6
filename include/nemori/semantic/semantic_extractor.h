// Predict-calibrate extraction of statements from one episode, and their reconciliation with
// what the owner's memory already knows (docs/design/semantic-memory.md §2). The extractor
// decides; it never writes: its result is one WriteBatch that the caller applies.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nemori/core/episode.h"
#include "nemori/core/raw_event.h"
#include "nemori/core/statement.h"
#include "nemori/llm/chat.h"
#include "nemori/llm/stats.h"
#include "nemori/retrieval/embedding.h"
#include "nemori/semantic/semantic_options.h"
#include "nemori/storage/repository.h"

namespace nemori {

/// A known statement with its cosine similarity to a vector.
struct RelatedStatement {
  Statement statement;
  double cosine = 0;
};

/// What an owner's memory already knows, as the extractor asks it. MemorySystem answers from
/// the retrieval index's statement corpus (IndexedKnownStatements); tests may answer from a
/// list.
class KnownStatements {
 public:
  virtual ~KnownStatements() = default;
  /// The owner's current statements related to an episode: BM25 over `text` fused (RRF, k=60)
  /// with the nearest by `vector` (empty: BM25 only), vector hits at cosine <= `floor` dropped;
  /// at most `limit`, best first.
  virtual std::vector<Statement> related(const std::string& owner_id, const std::string& text,
                                         std::span<const float> vector, std::size_t limit,
                                         double floor) = 0;
  /// The owner's `limit` current statements nearest to `vector` by cosine (exact), best first.
  virtual std::vector<RelatedStatement> nearest(const std::string& owner_id,
                                                std::span<const float> vector,
                                                std::size_t limit) = 0;
};

/// What the semantic pass decided for one episode.
struct SemanticExtraction {
  /// statements (new), statement_updates (strengthened, closed), statement_sources (the
  /// episode added to strengthened ones) and semantic_progress (exactly one row: the episode,
  /// done or dropped, with the calls and tokens spent). Apply it as one transaction.
  WriteBatch batch;
  std::size_t added = 0;         ///< New statements.
  std::size_t strengthened = 0;  ///< Known statements the episode supports again.
  std::size_t closed = 0;        ///< Known statements a new one contradicted.
};

/// Extracts lasting statements from episodes with a chat model and reconciles them with known
/// ones (duplicate: strengthened; contradiction: the old one closed; else new). Thread-safe
/// when its clients are.
class SemanticExtractor {
 public:
  /// `chat` and `embedder` must not be null. `prompts` replaces compiled-in prompts by name
  /// (semantic_extract, semantic_predict, semantic_calibrate, semantic_reconcile); a replaced
  /// prompt lacking a placeholder is a ConfigError naming it. Calls are counted in `stats`
  /// (phases semantic_extract, semantic_predict, semantic_calibrate, semantic_reconcile).
  SemanticExtractor(std::shared_ptr<ChatClient> chat, std::shared_ptr<EmbeddingClient> embedder,
                    SemanticOptions options, const std::map<std::string, std::string>& prompts = {},
                    std::shared_ptr<LlmStats> stats = nullptr);
  ~SemanticExtractor();
  SemanticExtractor(const SemanticExtractor&) = delete;
  SemanticExtractor& operator=(const SemanticExtractor&) = delete;

  /// The statements `episode` adds to its owner's memory. `events` are the episode's raw
  /// events in time order (its messages, numbered for the model); `now` stamps recorded_at
  /// and updated_at. An answer invalid twice gives a batch with only the episode's progress
  /// row, `dropped`, naming the problem. Throws LlmError when a call fails for good (the
  /// caller records a retry), also when embedding the statements fails.
  SemanticExtraction extract(const Episode& episode, std::span<const RawEvent> events,
                             KnownStatements& known, Timestamp now) const;

  /// The options in force.
  const SemanticOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nemori
