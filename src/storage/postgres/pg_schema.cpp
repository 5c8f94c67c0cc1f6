#include "storage/postgres/pg_schema.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "nemori/core/error.h"

namespace nemori::pg {

namespace {

// First key of the two-key advisory locks ("nemo"); the second is hashtext(schema).
constexpr int kMigrationLock = 0x6e656d6f;
constexpr int kPartitionLock = 0x6e656d70;

std::string substitute(std::string sql, const std::string& schema) {
  const std::string marker = "{S}";
  for (auto pos = sql.find(marker); pos != std::string::npos;
       pos = sql.find(marker, pos + schema.size())) {
    sql.replace(pos, marker.size(), schema);
  }
  return sql;
}

// Columns of raw_data shared by both layouts. `search_text` is fold_case of the searchable
// text, computed by nemori (storage/folding.h) so that every backend folds alike.
constexpr const char* kRawColumns = R"(
  data_id text COLLATE "C" NOT NULL,
  owner_id text COLLATE "C" NOT NULL,
  data_type text NOT NULL,
  content jsonb NOT NULL,
  source text COLLATE "C" NOT NULL DEFAULT '',
  "timestamp" timestamptz NOT NULL,
  duration double precision,
  timezone text,
  precision text NOT NULL DEFAULT 'second',
  metadata jsonb NOT NULL DEFAULT '{}',
  processed boolean NOT NULL DEFAULT false,
  processing_version text NOT NULL DEFAULT '1.0',
  search_text text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now())";

constexpr const char* kPlainRaw = R"(
CREATE TABLE {S}.raw_data (%COLUMNS%,
  CONSTRAINT raw_data_pkey PRIMARY KEY (data_id)
);
)";

constexpr const char* kPartitionedRaw = R"(
CREATE TABLE {S}.raw_data_keys (
  data_id text COLLATE "C" NOT NULL,
  owner_id text COLLATE "C" NOT NULL,
  "timestamp" timestamptz NOT NULL,
  CONSTRAINT raw_data_keys_pkey PRIMARY KEY (data_id)
);
CREATE INDEX raw_data_keys_owner_time_idx ON {S}.raw_data_keys (owner_id, "timestamp");
CREATE INDEX raw_data_keys_time_idx ON {S}.raw_data_keys ("timestamp");
CREATE TABLE {S}.raw_data (%COLUMNS%,
  CONSTRAINT raw_data_pkey PRIMARY KEY (data_id, "timestamp"),
  CONSTRAINT raw_data_key_fkey FOREIGN KEY (data_id)
    REFERENCES {S}.raw_data_keys (data_id) ON DELETE CASCADE
) PARTITION BY RANGE ("timestamp");
)";

constexpr const char* kCoreTables = R"(
CREATE INDEX raw_data_owner_time_idx ON {S}.raw_data (owner_id, "timestamp", data_id);
CREATE INDEX raw_data_time_idx ON {S}.raw_data ("timestamp", data_id);
CREATE INDEX raw_data_unprocessed_idx ON {S}.raw_data (owner_id, "timestamp", data_id)
  WHERE NOT processed;
CREATE INDEX raw_data_source_idx ON {S}.raw_data (source);
CREATE INDEX raw_data_metadata_gin ON {S}.raw_data USING gin (metadata jsonb_path_ops);

CREATE TABLE {S}.episodes (
  episode_id text COLLATE "C" NOT NULL,
  owner_id text COLLATE "C" NOT NULL,
  episode_type text NOT NULL,
  level integer NOT NULL,
  title text NOT NULL DEFAULT '',
  content text NOT NULL DEFAULT '',
  summary text NOT NULL DEFAULT '',
  "timestamp" timestamptz NOT NULL,
  duration double precision,
  timezone text,
  precision text NOT NULL DEFAULT 'second',
  metadata jsonb NOT NULL DEFAULT '{}',
  structured_data jsonb NOT NULL DEFAULT '{}',
  search_keywords text[] NOT NULL DEFAULT '{}',
  embedding_vector real[],
  recall_count bigint NOT NULL DEFAULT 0,
  importance_score double precision NOT NULL DEFAULT 0,
  last_accessed timestamptz,
  search_text text NOT NULL DEFAULT '',
  keywords_folded text[] NOT NULL DEFAULT '{}',
  entities_folded text[] NOT NULL DEFAULT '{}',
  topics_folded text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT episodes_pkey PRIMARY KEY (episode_id)
);
CREATE INDEX episodes_owner_time_idx ON {S}.episodes (owner_id, "timestamp", episode_id);
CREATE INDEX episodes_time_idx ON {S}.episodes ("timestamp", episode_id);
CREATE INDEX episodes_owner_relevance_idx
  ON {S}.episodes (owner_id, importance_score, recall_count, "timestamp", episode_id);
CREATE INDEX episodes_keywords_gin ON {S}.episodes USING gin (keywords_folded);
CREATE INDEX episodes_entities_gin ON {S}.episodes USING gin (entities_folded);
CREATE INDEX episodes_topics_gin ON {S}.episodes USING gin (topics_folded);
CREATE INDEX episodes_custom_fields_gin
  ON {S}.episodes USING gin ((metadata -> 'custom_fields') jsonb_path_ops);

CREATE TABLE {S}.episode_raw_data (
  episode_id text COLLATE "C" NOT NULL
    REFERENCES {S}.episodes (episode_id) ON DELETE CASCADE,
  raw_data_id text COLLATE "C" NOT NULL
    REFERENCES {S}.%RAWKEYS% (data_id) ON DELETE CASCADE,
  owner_id text COLLATE "C" NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT episode_raw_data_pkey PRIMARY KEY (episode_id, raw_data_id)
);
CREATE INDEX episode_raw_data_raw_idx ON {S}.episode_raw_data (raw_data_id);
CREATE INDEX episode_raw_data_owner_idx ON {S}.episode_raw_data (owner_id, episode_id);
)";

// Full-text search over episodes: title (weight A), summary (B) and content (C), English
// stemming. Inputs are cut so that a huge episode never exceeds the 1 MB tsvector limit.
constexpr const char* kFullText = R"(
ALTER TABLE {S}.episodes ADD COLUMN fts tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, left(title, 10000)), 'A') ||
  setweight(to_tsvector('english'::regconfig, left(summary, 20000)), 'B') ||
  setweight(to_tsvector('english'::regconfig, left(content, 100000)), 'C')
) STORED;
CREATE INDEX episodes_fts_gin ON {S}.episodes USING gin (fts);
)";

// NULL for vectors stored before (their model is unknown: `nemori reembed` sets it). The
// vector stays a real[] beside the row: PostgreSQL moves it out of line (TOAST) once the row
// outgrows 2 kB, so reads that do not select it do not read it.
constexpr const char* kEmbeddingModel = R"(
ALTER TABLE {S}.episodes ADD COLUMN embedding_model text;
)";

// Semantic memory (docs/design/semantic-memory.md §1.2). Statements are removed with their
// last supporting episode by the repository (the cascade from episodes only removes source and
// progress rows). `seq` orders a statement's sources in the order they were added (added_at is
// the same for every row of one transaction); a source moved by a merge keeps its place.
constexpr const char* kSemanticMemory = R"(
CREATE TABLE {S}.statements (
  statement_id text COLLATE "C" NOT NULL,
  owner_id text COLLATE "C" NOT NULL,
  category text NOT NULL CHECK (category IN
    ('identity', 'preference', 'relationship', 'goal', 'belief', 'habit', 'fact')),
  subject text NOT NULL DEFAULT '',
  content text NOT NULL,
  confidence double precision NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz,
  superseded_by text COLLATE "C"
    REFERENCES {S}.statements (statement_id) ON DELETE SET NULL,
  recorded_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  metadata jsonb NOT NULL DEFAULT '{}',
  embedding_vector real[],
  embedding_model text,
  search_text text NOT NULL DEFAULT '',
  CONSTRAINT statements_pkey PRIMARY KEY (statement_id),
  CONSTRAINT statements_validity CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
CREATE INDEX statements_owner_current_idx ON {S}.statements (owner_id, valid_from, statement_id)
  WHERE valid_to IS NULL;
CREATE INDEX statements_owner_time_idx ON {S}.statements (owner_id, valid_from, statement_id);
CREATE INDEX statements_owner_updated_idx ON {S}.statements (owner_id, updated_at);
CREATE INDEX statements_superseded_by_idx ON {S}.statements (superseded_by);
CREATE TABLE {S}.statement_sources (
  statement_id text COLLATE "C" NOT NULL
    REFERENCES {S}.statements (statement_id) ON DELETE CASCADE,
  episode_id text COLLATE "C" NOT NULL
    REFERENCES {S}.episodes (episode_id) ON DELETE CASCADE,
  owner_id text COLLATE "C" NOT NULL,
  added_at timestamptz NOT NULL DEFAULT now(),
  seq bigint GENERATED BY DEFAULT AS IDENTITY,
  CONSTRAINT statement_sources_pkey PRIMARY KEY (statement_id, episode_id)
);
CREATE INDEX statement_sources_episode_idx ON {S}.statement_sources (episode_id);
CREATE INDEX statement_sources_owner_idx ON {S}.statement_sources (owner_id, statement_id);
CREATE TABLE {S}.semantic_progress (
  episode_id text COLLATE "C" NOT NULL
    REFERENCES {S}.episodes (episode_id) ON DELETE CASCADE,
  owner_id text COLLATE "C" NOT NULL,
  state text NOT NULL CHECK (state IN ('pending', 'done', 'retry', 'failed', 'dropped', 'skipped')),
  attempts integer NOT NULL DEFAULT 0,
  version text NOT NULL,
  detail text NOT NULL DEFAULT '',
  semantic_calls bigint NOT NULL DEFAULT 0,
  semantic_tokens bigint NOT NULL DEFAULT 0,
  merge_calls bigint NOT NULL DEFAULT 0,
  merge_tokens bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT semantic_progress_pkey PRIMARY KEY (episode_id)
);
CREATE INDEX semantic_progress_owner_state_idx ON {S}.semantic_progress (owner_id, state);
)";

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

}  // namespace

void validate_schema_name(const std::string& schema) {
  auto bad = [&](const std::string& why) {
    throw ConfigError("schema: \"" + schema + "\" " + why +
                      " (use 1..63 letters, digits and underscores, not starting with a digit)");
  };
  if (schema.empty() || schema.size() > 63) bad("has a bad length");
  if (schema[0] >= '0' && schema[0] <= '9') bad("starts with a digit");
  for (char c : schema) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) bad("contains a character other than a letter, digit or underscore");
  }
  if (schema.size() >= 3 && (schema.substr(0, 3) == "pg_" || schema.substr(0, 3) == "PG_")) {
    bad("is reserved (pg_ prefix)");
  }
}

std::vector<Migration> migrations(const std::string& schema, bool partitioned) {
  std::string raw = partitioned ? kPartitionedRaw : kPlainRaw;
  raw = replace_all(raw, "%COLUMNS%", kRawColumns);
  std::string core =
      replace_all(kCoreTables, "%RAWKEYS%", partitioned ? "raw_data_keys" : "raw_data");
  return {
      Migration{1, partitioned ? "core tables (raw_data partitioned by month)" : "core tables",
                substitute(raw + core, schema)},
      Migration{2, "full-text search on episodes", substitute(kFullText, schema)},
      Migration{3, "episodes.embedding_model: the model that computed embedding_vector",
                substitute(kEmbeddingModel, schema)},
      Migration{4, "semantic memory: statements, statement_sources, semantic_progress",
                substitute(kSemanticMemory, schema)},
  };
}

SchemaInfo migrate(Connection& conn, const std::string& schema, bool partition_by_month) {
  validate_schema_name(schema);
  const std::string q = quote_ident(schema);
  SchemaInfo info;
  conn.operation = "migrating schema " + schema;
  Transaction tx(conn);
  conn.exec("SELECT pg_advisory_xact_lock($1::int, hashtext($2))",
            Params().add(kMigrationLock).add(schema));
  const bool exists =
      conn.exec("SELECT 1 FROM pg_namespace WHERE nspname = $1", Params().add(schema)).rows() > 0;
  if (!exists) conn.exec_simple("CREATE SCHEMA " + q);
  conn.exec_simple("CREATE TABLE IF NOT EXISTS " + q +
                   ".schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
                   "applied_at timestamptz NOT NULL DEFAULT now())");
  std::set<int> applied;
  {
    Result rows = conn.exec("SELECT version FROM " + q + ".schema_migrations");
    for (int i = 0; i < rows.rows(); ++i) applied.insert(static_cast<int>(rows.int64(i, 0)));
  }
  // The layout of raw_data is fixed when the tables are created; later opens follow it.
  bool partitioned = partition_by_month;
  if (applied.count(1) > 0) {
    Result kind = conn.exec(
        "SELECT c.relkind::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = 'raw_data'",
        Params().add(schema));
    partitioned = kind.rows() > 0 && kind.text(0, 0) == "p";
  }
  const std::vector<Migration> all = migrations(q, partitioned);
  const int known = all.back().version;
  if (!applied.empty() && *applied.rbegin() > known) {
    throw StorageError("PostgreSQL schema " + schema + " is at version " +
                       std::to_string(*applied.rbegin()) + ", newer than this nemori (" +
                       std::to_string(known) + "); upgrade nemori");
  }
  for (const Migration& m : all) {
    if (applied.count(m.version) > 0) continue;
    conn.exec_simple(m.sql);
    conn.exec("INSERT INTO " + q + ".schema_migrations (version, name) VALUES ($1, $2)",
              Params().add(m.version).add(m.name));
    ++info.applied_now;
  }
  tx.commit();
  info.version = known;
  info.partitioned = partitioned;
  return info;
}

MonthPartition month_partition(Timestamp t) {
  using namespace std::chrono;
  const year_month_day ymd{floor<days>(t)};
  const int y = static_cast<int>(ymd.year());
  const unsigned m = static_cast<unsigned>(ymd.month());
  const year_month first = ymd.year() / ymd.month();
  const year_month next = first + months(1);
  MonthPartition p;
  char name[64];
  std::snprintf(name, sizeof name, "raw_data_y%s%04dm%02u", y < 0 ? "n" : "", y < 0 ? -y : y, m);
  p.name = name;
  p.from = format_timestamptz(sys_days(first / 1));
  p.to = format_timestamptz(sys_days(next / 1));
  p.key = static_cast<long long>(y) * 12 + m;
  return p;
}

void ensure_partitions(Connection& conn, const std::string& schema,
                       const std::vector<MonthPartition>& months) {
  if (months.empty()) return;
  const std::string q = quote_ident(schema);
  Transaction tx(conn);
  conn.exec("SELECT pg_advisory_xact_lock($1::int, hashtext($2))",
            Params().add(kPartitionLock).add(schema));
  for (const MonthPartition& p : months) {
    // Names and bounds are generated here from numbers, never from user input.
    conn.exec_simple("CREATE TABLE IF NOT EXISTS " + q + "." + quote_ident(p.name) +
                     " PARTITION OF " + q + ".raw_data FOR VALUES FROM ('" + p.from + "') TO ('" +
                     p.to + "')");
  }
  tx.commit();
}

}  // namespace nemori::pg
