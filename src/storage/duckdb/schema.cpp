#include "storage/duckdb/schema.h"

#include "nemori/core/error.h"
#include "storage/duckdb/transaction.h"

namespace nemori::detail::duck {

namespace {

// Column notes:
// - timestamps are TIMESTAMP (UTC, microseconds); floats DOUBLE.
// - content, event_metadata and structured_data hold JSON text (VARCHAR: the text is produced
//   and checked by nemori, and DuckDB's JSON functions read VARCHAR alike).
// - search_text and *_folded hold fold_case() forms (storage/folding.h) for case-insensitive
//   matching with plain byte comparisons.
// - DuckDB foreign keys cannot cascade and forbid updating a referenced row, so links are
//   kept consistent by the repositories, in the same transaction as the change.
// - ART indexes serve point lookups and very selective filters; ranges over time rely on
//   DuckDB's per-row-group min/max zone maps.
const std::vector<Migration> kMigrations = {
    {1,
     "initial schema: raw_data, episodes, episode_raw_data",
     {
         R"(CREATE TABLE raw_data (
              data_id VARCHAR PRIMARY KEY,
              owner_id VARCHAR NOT NULL,
              data_type VARCHAR NOT NULL,
              content VARCHAR NOT NULL,
              source VARCHAR NOT NULL,
              "timestamp" TIMESTAMP NOT NULL,
              duration DOUBLE,
              timezone VARCHAR,
              "precision" VARCHAR NOT NULL,
              event_metadata VARCHAR NOT NULL,
              processed BOOLEAN NOT NULL,
              processing_version VARCHAR NOT NULL,
              created_at TIMESTAMP NOT NULL,
              search_text VARCHAR NOT NULL))",
         "CREATE INDEX ix_raw_data_owner_id ON raw_data (owner_id)",
         R"(CREATE TABLE episodes (
              episode_id VARCHAR PRIMARY KEY,
              owner_id VARCHAR NOT NULL,
              episode_type VARCHAR NOT NULL,
              "level" INTEGER NOT NULL,
              title VARCHAR NOT NULL,
              content VARCHAR NOT NULL,
              summary VARCHAR NOT NULL,
              "timestamp" TIMESTAMP NOT NULL,
              duration DOUBLE,
              timezone VARCHAR,
              "precision" VARCHAR NOT NULL,
              event_metadata VARCHAR NOT NULL,
              structured_data VARCHAR NOT NULL,
              search_keywords VARCHAR[] NOT NULL,
              embedding_vector FLOAT[],
              recall_count BIGINT NOT NULL,
              importance_score DOUBLE NOT NULL,
              last_accessed TIMESTAMP,
              created_at TIMESTAMP NOT NULL,
              search_text VARCHAR NOT NULL,
              keywords_folded VARCHAR[] NOT NULL,
              entities_folded VARCHAR[] NOT NULL,
              topics_folded VARCHAR[] NOT NULL))",
         "CREATE INDEX ix_episodes_owner_id ON episodes (owner_id)",
         R"(CREATE TABLE episode_raw_data (
              episode_id VARCHAR NOT NULL,
              raw_data_id VARCHAR NOT NULL,
              owner_id VARCHAR NOT NULL,
              created_at TIMESTAMP NOT NULL,
              PRIMARY KEY (episode_id, raw_data_id)))",
         "CREATE INDEX ix_episode_raw_data_raw_data_id ON episode_raw_data (raw_data_id)",
     }},
    {2,
     "episodes.embedding_model: the model that computed embedding_vector",
     {
         // NULL for vectors stored before (their model is unknown: `nemori reembed` sets it).
         "ALTER TABLE episodes ADD COLUMN embedding_model VARCHAR",
     }},
    {3,
     "semantic memory: statements, statement_sources, semantic_progress",
     {
         // metadata is JSON text; search_text is fold_case(content). Updates never change a
         // key: only superseded_by (a non-unique index) moves, on closing and reopening.
         R"(CREATE TABLE statements (
              statement_id VARCHAR PRIMARY KEY,
              owner_id VARCHAR NOT NULL,
              category VARCHAR NOT NULL,
              subject VARCHAR NOT NULL,
              content VARCHAR NOT NULL,
              confidence DOUBLE NOT NULL,
              valid_from TIMESTAMP NOT NULL,
              valid_to TIMESTAMP,
              superseded_by VARCHAR,
              recorded_at TIMESTAMP NOT NULL,
              updated_at TIMESTAMP NOT NULL,
              metadata VARCHAR NOT NULL,
              embedding_vector FLOAT[],
              embedding_model VARCHAR,
              search_text VARCHAR NOT NULL))",
         "CREATE INDEX ix_statements_owner_id ON statements (owner_id)",
         "CREATE INDEX ix_statements_superseded_by ON statements (superseded_by)",
         // added_at orders a statement's sources (the order they were added in).
         R"(CREATE TABLE statement_sources (
              statement_id VARCHAR NOT NULL,
              episode_id VARCHAR NOT NULL,
              owner_id VARCHAR NOT NULL,
              added_at TIMESTAMP NOT NULL,
              PRIMARY KEY (statement_id, episode_id)))",
         "CREATE INDEX ix_statement_sources_episode_id ON statement_sources (episode_id)",
         R"(CREATE TABLE semantic_progress (
              episode_id VARCHAR PRIMARY KEY,
              owner_id VARCHAR NOT NULL,
              state VARCHAR NOT NULL,
              attempts INTEGER NOT NULL,
              version VARCHAR NOT NULL,
              detail VARCHAR NOT NULL,
              semantic_calls BIGINT NOT NULL,
              semantic_tokens BIGINT NOT NULL,
              merge_calls BIGINT NOT NULL,
              merge_tokens BIGINT NOT NULL,
              updated_at TIMESTAMP NOT NULL))",
         "CREATE INDEX ix_semantic_progress_owner_id ON semantic_progress (owner_id)",
     }},
};

}  // namespace

std::span<const Migration> migrations() {
  return kMigrations;
}

int schema_version(Connection& connection) {
  Result exists = connection.execute(
      "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'");
  if (exists.single_int64() == 0) return 0;
  Result version =
      connection.execute("SELECT coalesce(max(version), 0)::BIGINT FROM schema_migrations");
  return static_cast<int>(version.single_int64());
}

int migrate(Connection& connection) {
  Transaction transaction(connection);
  connection.execute(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
      "name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)");
  const int current = schema_version(connection);
  const int newest = kMigrations.empty() ? 0 : kMigrations.back().version;
  if (current > newest) {
    throw StorageError("the DuckDB database has schema version " + std::to_string(current) +
                       ", newer than this build of nemori understands (" + std::to_string(newest) +
                       "); upgrade nemori to open it");
  }
  for (const Migration& migration : kMigrations) {
    if (migration.version <= current) continue;
    for (const std::string& statement : migration.statements) connection.execute(statement);
    connection.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                   {static_cast<std::int64_t>(migration.version), migration.name, now_utc()});
  }
  transaction.commit();
  return newest;
}

}  // namespace nemori::detail::duck
