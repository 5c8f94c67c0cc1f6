#include "storage/postgres/pg_statement_rows.h"

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"

namespace nemori::pg {

const char* const kStatementInsertColumns =
    "statement_id, owner_id, category, subject, content, confidence, valid_from, valid_to, "
    "superseded_by, recorded_at, updated_at, metadata, embedding_vector, embedding_model, "
    "search_text";

const char* const kProgressInsertColumns =
    "episode_id, owner_id, state, attempts, version, detail, semantic_calls, semantic_tokens, "
    "merge_calls, merge_tokens, updated_at";

namespace {

std::optional<std::string> unless_empty(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return text;
}

// An unsigned 64-bit counter in a bigint column: the same 64 bits, read back by
// decode_progress() (values of 2^63 and more are stored negative; unsigned_counter() in SQL).
std::string counter(std::uint64_t n) { return std::to_string(static_cast<std::int64_t>(n)); }

[[noreturn]] void corrupt(const std::string& what, const std::exception& e) {
  throw StorageError("PostgreSQL holds a " + what + " nemori cannot read: " + e.what());
}

}  // namespace

RowValues statement_row(const Statement& s) {
  std::optional<std::string> embedding;
  if (s.embedding_vector) embedding = float_array_literal(*s.embedding_vector);
  std::optional<std::string> valid_to;
  if (s.valid_to) valid_to = format_timestamptz(*s.valid_to);
  return RowValues{s.statement_id,
                   s.owner_id,
                   std::string(to_string(s.category)),
                   s.subject,
                   s.content,
                   format_double(s.confidence),
                   format_timestamptz(s.valid_from),
                   valid_to,
                   unless_empty(s.superseded_by),
                   format_timestamptz(s.recorded_at),
                   format_timestamptz(s.updated_at),
                   s.metadata.dump(-1, ' ', false),
                   embedding,
                   unless_empty(s.embedding_model),
                   fold_case(s.content)};
}

std::string statement_select_list(const std::string& a, const std::string& sources) {
  return a + ".statement_id, " + a + ".owner_id, " + a + ".category, " + a + ".subject, " + a +
         ".content, " + a + ".confidence, " + epoch_micros(a + ".valid_from") + ", " +
         epoch_micros(a + ".valid_to") + ", " + a + ".superseded_by, " +
         epoch_micros(a + ".recorded_at") + ", " + epoch_micros(a + ".updated_at") + ", " + a +
         ".metadata, " + a + ".embedding_vector, " + a +
         ".embedding_model, coalesce((SELECT json_agg(x.episode_id ORDER BY x.seq) FROM " +
         sources + " x WHERE x.statement_id = " + a + ".statement_id), '[]')";
}

Statement decode_statement(const Result& r, int row) {
  Statement s;
  try {
    s.statement_id = r.str(row, 0);
    s.owner_id = r.str(row, 1);
    s.category = parse_statement_category(r.text(row, 2));
    s.subject = r.str(row, 3);
    s.content = r.str(row, 4);
    s.confidence = r.float8(row, 5);
    s.valid_from = from_micros(r.int64(row, 6));
    if (!r.is_null(row, 7)) s.valid_to = from_micros(r.int64(row, 7));
    if (!r.is_null(row, 8)) s.superseded_by = r.str(row, 8);
    s.recorded_at = from_micros(r.int64(row, 9));
    s.updated_at = from_micros(r.int64(row, 10));
    s.metadata = r.json(row, 11);
    if (!r.is_null(row, 12)) s.embedding_vector = parse_float_array(r.text(row, 12));
    if (!r.is_null(row, 13)) s.embedding_model = r.str(row, 13);
    s.source_episode_ids = r.json(row, 14).get<std::vector<std::string>>();
  } catch (const StorageError&) {
    throw;
  } catch (const std::exception& ex) {
    corrupt("statement \"" + s.statement_id + "\"", ex);
  }
  return s;
}

RowValues progress_row(const SemanticProgress& p) {
  return RowValues{p.episode_id,
                   p.owner_id,
                   std::string(to_string(p.state)),
                   std::to_string(p.attempts),
                   p.version,
                   p.detail,
                   counter(p.semantic_calls),
                   counter(p.semantic_tokens),
                   counter(p.merge_calls),
                   counter(p.merge_tokens),
                   format_timestamptz(p.updated_at)};
}

std::string unsigned_counter(const std::string& column) {
  return "(" + column + "::numeric + CASE WHEN " + column +
         " < 0 THEN 18446744073709551616 ELSE 0 END)";
}

std::string progress_select_list(const std::string& a) {
  return a + ".episode_id, " + a + ".owner_id, " + a + ".state, " + a + ".attempts, " + a +
         ".version, " + a + ".detail, " + a + ".semantic_calls, " + a + ".semantic_tokens, " + a +
         ".merge_calls, " + a + ".merge_tokens, " + epoch_micros(a + ".updated_at");
}

SemanticProgress decode_progress(const Result& r, int row) {
  SemanticProgress p;
  try {
    p.episode_id = r.str(row, 0);
    p.owner_id = r.str(row, 1);
    p.state = parse_semantic_state(r.text(row, 2));
    p.attempts = static_cast<int>(r.int64(row, 3));
    p.version = r.str(row, 4);
    p.detail = r.str(row, 5);
    p.semantic_calls = static_cast<std::uint64_t>(r.int64(row, 6));
    p.semantic_tokens = static_cast<std::uint64_t>(r.int64(row, 7));
    p.merge_calls = static_cast<std::uint64_t>(r.int64(row, 8));
    p.merge_tokens = static_cast<std::uint64_t>(r.int64(row, 9));
    p.updated_at = from_micros(r.int64(row, 10));
  } catch (const StorageError&) {
    throw;
  } catch (const std::exception& ex) {
    corrupt("semantic progress row of episode \"" + p.episode_id + "\"", ex);
  }
  return p;
}

}  // namespace nemori::pg
