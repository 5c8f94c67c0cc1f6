#include "storage/duckdb/semantic_rows.h"

#include <array>
#include <cstdint>
#include <span>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"
#include "storage/duckdb/rows.h"

namespace nemori::detail::duck {

namespace {

// Column positions in the appender and, but for search_text, in the SELECT list.
namespace statement_col {
enum : idx_t {
  kStatementId,
  kOwnerId,
  kCategory,
  kSubject,
  kContent,
  kConfidence,
  kValidFrom,
  kValidTo,
  kSupersededBy,
  kRecordedAt,
  kUpdatedAt,
  kMetadata,
  kEmbedding,
  kEmbeddingModel,
  kSearchText,
};
}  // namespace statement_col

namespace progress_col {
enum : idx_t {
  kEpisodeId,
  kOwnerId,
  kState,
  kAttempts,
  kVersion,
  kDetail,
  kSemanticCalls,
  kSemanticTokens,
  kMergeCalls,
  kMergeTokens,
  kUpdatedAt,
};
}  // namespace progress_col

constexpr std::array<std::string_view, 15> kStatementInsert = {
    "statement_id", "owner_id",   "category",         "subject",         "content",
    "confidence",   "valid_from", "valid_to",         "superseded_by",   "recorded_at",
    "updated_at",   "metadata",   "embedding_vector", "embedding_model", "search_text"};
static_assert(kStatementInsert.size() == statement_col::kSearchText + 1);

constexpr std::array<std::string_view, 11> kProgressSelect = {
    "episode_id",     "owner_id",        "state",       "attempts",     "version",   "detail",
    "semantic_calls", "semantic_tokens", "merge_calls", "merge_tokens", "updated_at"};
static_assert(kProgressSelect.size() == progress_col::kUpdatedAt + 1);

// A stored enum value read back; a name this build does not know means the file was altered.
template <typename Parse>
auto parse_stored_name(Parse parse, std::string_view text, std::string_view what,
                       std::string_view id) {
  try {
    return parse(text);
  } catch (const ValidationError& error) {
    throw StorageError("stored " + std::string(what) + " of \"" + std::string(id) +
                       "\" cannot be read (" + error.what() + "); the database may be damaged");
  }
}

}  // namespace

std::string statement_columns(std::string_view alias) {
  return column_list(std::span(kStatementInsert).first(statement_col::kSearchText), alias);
}

EncodedStatement encode(const nemori::Statement& statement) {
  return EncodedStatement{&statement, statement.metadata.dump(), fold_case(statement.content)};
}

Appender statement_appender(Connection& connection) {
  return Appender(connection, "statements", kStatementInsert);
}

void append_row(Appender& appender, const EncodedStatement& encoded) {
  using namespace statement_col;
  const nemori::Statement& s = *encoded.statement;
  appender.text(kStatementId, s.statement_id);
  appender.text(kOwnerId, s.owner_id);
  appender.text(kCategory, to_string(s.category));
  appender.text(kSubject, s.subject);
  appender.text(kContent, s.content);
  appender.float64(kConfidence, s.confidence);
  appender.timestamp(kValidFrom, s.valid_from);
  if (s.valid_to) {
    appender.timestamp(kValidTo, *s.valid_to);
  } else {
    appender.null(kValidTo);
  }
  if (s.superseded_by.empty()) {
    appender.null(kSupersededBy);
  } else {
    appender.text(kSupersededBy, s.superseded_by);
  }
  appender.timestamp(kRecordedAt, s.recorded_at);
  appender.timestamp(kUpdatedAt, s.updated_at);
  appender.text(kMetadata, encoded.metadata);
  if (s.embedding_vector) {
    appender.float_list(kEmbedding, *s.embedding_vector);
  } else {
    appender.null(kEmbedding);
  }
  if (s.embedding_model.empty()) {
    appender.null(kEmbeddingModel);
  } else {
    appender.text(kEmbeddingModel, s.embedding_model);
  }
  appender.text(kSearchText, encoded.search_text);
  appender.end_row();
}

nemori::Statement decode_statement(const Chunk& chunk, idx_t row) {
  using namespace statement_col;
  nemori::Statement s;
  s.statement_id = chunk.text(kStatementId, row);
  s.owner_id = chunk.text(kOwnerId, row);
  s.category = parse_stored_name(parse_statement_category, chunk.text(kCategory, row), "category",
                                 s.statement_id);
  s.subject = chunk.text(kSubject, row);
  s.content = chunk.text(kContent, row);
  s.confidence = chunk.float64(kConfidence, row);
  s.valid_from = chunk.timestamp(kValidFrom, row);
  s.valid_to = chunk.optional_timestamp(kValidTo, row);
  s.superseded_by = chunk.optional_text(kSupersededBy, row).value_or("");
  s.recorded_at = chunk.timestamp(kRecordedAt, row);
  s.updated_at = chunk.timestamp(kUpdatedAt, row);
  s.metadata = parse_stored_json(chunk.text(kMetadata, row), "metadata", s.statement_id);
  s.embedding_vector = chunk.float_list(kEmbedding, row);
  s.embedding_model = chunk.optional_text(kEmbeddingModel, row).value_or("");
  return s;
}

Appender progress_appender(Connection& connection) {
  return Appender(connection, "semantic_progress", kProgressSelect);
}

void append_row(Appender& appender, const SemanticProgress& p) {
  using namespace progress_col;
  appender.text(kEpisodeId, p.episode_id);
  appender.text(kOwnerId, p.owner_id);
  appender.text(kState, to_string(p.state));
  appender.int32(kAttempts, p.attempts);
  appender.text(kVersion, p.version);
  appender.text(kDetail, p.detail);
  appender.int64(kSemanticCalls, static_cast<std::int64_t>(p.semantic_calls));
  appender.int64(kSemanticTokens, static_cast<std::int64_t>(p.semantic_tokens));
  appender.int64(kMergeCalls, static_cast<std::int64_t>(p.merge_calls));
  appender.int64(kMergeTokens, static_cast<std::int64_t>(p.merge_tokens));
  appender.timestamp(kUpdatedAt, p.updated_at);
  appender.end_row();
}

std::string progress_columns() {
  return column_list(kProgressSelect);
}

SemanticProgress decode_progress(const Chunk& chunk, idx_t row) {
  using namespace progress_col;
  SemanticProgress p;
  p.episode_id = chunk.text(kEpisodeId, row);
  p.owner_id = chunk.text(kOwnerId, row);
  p.state = parse_stored_name(parse_semantic_state, chunk.text(kState, row), "state", p.episode_id);
  p.attempts = chunk.int32(kAttempts, row);
  p.version = chunk.text(kVersion, row);
  p.detail = chunk.text(kDetail, row);
  // Counters are stored as BIGINT bit for bit (a value above 2^63 reads back unchanged).
  p.semantic_calls = static_cast<std::uint64_t>(chunk.int64(kSemanticCalls, row));
  p.semantic_tokens = static_cast<std::uint64_t>(chunk.int64(kSemanticTokens, row));
  p.merge_calls = static_cast<std::uint64_t>(chunk.int64(kMergeCalls, row));
  p.merge_tokens = static_cast<std::uint64_t>(chunk.int64(kMergeTokens, row));
  p.updated_at = chunk.timestamp(kUpdatedAt, row);
  return p;
}

}  // namespace nemori::detail::duck
