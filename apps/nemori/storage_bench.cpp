#include "storage_bench.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

#include "nemori/core/error.h"
#include "nemori/core/message.h"
#include "nemori/core/time.h"
#include "nemori/core/utf8.h"
#include "nemori/storage/config.h"
#include "nemori/storage/factory.h"
#include "nemori/storage/query.h"
#include "nemori/storage/repository.h"

#ifdef NEMORI_HAVE_DUCKDB
#include <duckdb.h>
#endif
#ifdef NEMORI_HAVE_POSTGRES
#include "nemori/storage/postgres_tools.h"
#endif

extern char** environ;

namespace nemori::bench {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: every record is a pure function of (seed, kind, index).

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A small splitmix64 generator.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  Rng(std::uint64_t seed, std::uint64_t kind, std::uint64_t index)
      : state_(mix(mix(seed ^ (kind * 0x632be59bd9b4e019ull)) ^ index)) {}
  std::uint64_t next() { return mix(state_++); }
  // Uniform in [0, n); n > 0.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  // Uniform in [lo, hi].
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

constexpr std::uint64_t kRawKind = 1;
constexpr std::uint64_t kEpisodeKind = 2;
constexpr std::uint64_t kRawIdKind = 3;
constexpr std::uint64_t kEpisodeIdKind = 4;

// Records are 30 seconds apart, starting on 2023-01-01.
constexpr std::int64_t kBaseMicros = 1672531200LL * 1000000;
constexpr std::int64_t kStepMicros = 30LL * 1000000;

constexpr const char* kWords[] = {
    "the",      "morning",   "garden",    "coffee",   "weekend",  "project",   "meeting",
    "family",   "dinner",    "school",    "music",    "painting", "running",   "trip",
    "mountain", "beach",     "book",      "movie",    "friend",   "sister",    "brother",
    "office",   "deadline",  "recipe",    "kitchen",  "puppy",    "concert",   "guitar",
    "piano",    "camping",   "hiking",    "river",    "city",     "train",     "airport",
    "birthday", "party",     "gift",      "letter",   "photo",    "camera",    "workshop",
    "class",    "teacher",   "student",   "exam",     "library",  "museum",    "gallery",
    "support",  "group",     "volunteer", "shelter",  "charity",  "race",      "marathon",
    "yoga",     "doctor",    "hospital",  "recovery", "garden",   "flowers",   "tomatoes",
    "harvest",  "market",    "bakery",    "bread",    "cake",     "chocolate", "tea",
    "rain",     "snow",      "summer",    "winter",   "autumn",   "spring",    "holiday",
    "vacation", "hotel",     "island",    "lake",     "forest",   "bicycle",   "car",
    "repair",   "apartment", "house",     "move",     "neighbor", "community", "festival",
    "parade",   "dance",     "theater",   "poetry",   "novel",    "story",     "journal",
    "career",   "interview", "promotion", "startup",  "software", "laptop",    "phone",
    "message",  "call",      "video",     "podcast",  "news",     "election",  "science",
    "space",    "telescope", "stars",     "ocean",    "boat",     "fishing",   "sunset",
    "sunrise",  "breakfast", "lunch",     "picnic",   "barbecue", "soccer",    "tennis",
    "swimming", "pool",      "gym",       "training", "coach",    "team",      "game",
    "victory",  "loss",      "lesson",    "adoption", "parents",  "kids",      "school",
    "homework", "sculpture", "pottery",   "clay",     "canvas",   "sketch",    "colors",
    "memory",   "plans",     "future",    "dream",    "hope",     "worry",     "relief",
    "news",     "surprise",  "visit",     "grandma",  "cousin",   "wedding",   "anniversary",
    "ceremony", "speech",    "award",     "prize",    "journey"};

constexpr const char* kGlue[] = {"and",    "with", "about", "after", "before", "during",
                                 "for",    "to",   "from",  "at",    "was",    "is",
                                 "really", "very", "quite", "so",    "we",     "I",
                                 "my",     "our",  "their", "just",  "then",   "also"};

constexpr const char* kNames[] = {
    "Caroline", "Melanie", "Jon",    "Gina",    "John",    "Maria",  "Joanna",  "Nate",   "Tim",
    "Audrey",   "Andrew",  "James",  "Deborah", "Jolene",  "Evan",   "Sam",     "Calvin", "Dave",
    "Lucas",    "Emma",    "Olivia", "Liam",    "Noah",    "Ava",    "Sophia",  "Mia",    "Ethan",
    "Harper",   "Mason",   "Ella",   "Logan",   "Aria",    "Paris",  "Tokyo",   "Berlin", "Madrid",
    "Lisbon",   "Boston",  "Denver", "Chicago", "Seattle", "Austin", "Toronto", "Sydney", "Dublin",
    "Oslo",     "Prague",  "Vienna", "Rome",    "Athens",  "Cairo",  "Nairobi", "Lima",   "Quito",
    "Hanoi",    "Seoul",   "Kyoto",  "Porto",   "Bergen",  "Krakow"};

constexpr const char* kTopics[] = {
    "family",    "work",         "health",    "travel",        "art",        "music",
    "sports",    "food",         "friends",   "pets",          "education",  "career",
    "identity",  "nature",       "books",     "movies",        "money",      "home",
    "community", "volunteering", "fitness",   "holidays",      "technology", "science",
    "religion",  "politics",     "parenting", "relationships", "gardening",  "cooking"};

constexpr const char* kEmotions[] = {"happy",   "proud", "excited",  "calm",    "anxious",
                                     "hopeful", "sad",   "grateful", "curious", "relieved"};

std::string words(Rng& rng, std::size_t n) {
  std::string out;
  out.reserve(n * 8);
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ' ';
    if (rng.below(3) == 0) {
      out += kGlue[rng.below(std::size(kGlue))];
    } else {
      out += kWords[rng.below(std::size(kWords))];
    }
  }
  return out;
}

// A UUIDv7-shaped id: 48 bits of Unix milliseconds, then 74 random bits.
std::string uuid7_like(std::int64_t micros, Rng& rng) {
  const std::uint64_t ms = static_cast<std::uint64_t>(micros / 1000);
  const std::uint64_t a = rng.next();
  const std::uint64_t b = rng.next();
  char text[37];
  std::snprintf(text, sizeof text, "%08llx-%04llx-7%03llx-%04llx-%012llx",
                static_cast<unsigned long long>((ms >> 16) & 0xffffffffull),
                static_cast<unsigned long long>(ms & 0xffffull),
                static_cast<unsigned long long>(a & 0xfffull),
                static_cast<unsigned long long>(0x8000ull | ((a >> 12) & 0x3fffull)),
                static_cast<unsigned long long>(b & 0xffffffffffffull));
  return text;
}

Timestamp record_time(std::size_t index) {
  return from_micros(kBaseMicros + static_cast<std::int64_t>(index) * kStepMicros);
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Nearest-rank percentile of sorted values.
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(p * static_cast<double>(sorted.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return sorted[std::min(index, sorted.size() - 1)];
}

double current_rss_mb() {
  std::ifstream statm("/proc/self/statm");
  long long pages_total = 0;
  long long pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) /
         (1024.0 * 1024.0);
}

double peak_rss_mb() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

std::string utc_now_text() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC, the form both DuckDB TIMESTAMP and PostgreSQL
// timestamptz (with TimeZone=UTC) read from CSV.
std::string sql_timestamp(Timestamp t) {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<microseconds> hms{t - day};
  char text[48];
  int n = std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d",
                        static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                        static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                        static_cast<int>(hms.minutes().count()),
                        static_cast<int>(hms.seconds().count()));
  if (hms.subseconds().count() != 0 && n > 0) {
    std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), ".%06lld",
                  static_cast<long long>(hms.subseconds().count()));
  }
  return text;
}

// Appends one CSV field, always quoted (so an empty string is never read as NULL).
void csv_text(std::string& out, const std::string& value) {
  out += '"';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string sql_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  return out + "'";
}

// Columns of the reference CSV, in file order. The names are those of nemori's raw_data table
// (DuckDB calls the metadata column event_metadata, PostgreSQL metadata).
std::string csv_columns(const std::string& metadata_column) {
  return "data_id, owner_id, data_type, content, source, \"timestamp\", duration, timezone, "
         "\"precision\", " +
         metadata_column + ", processed, processing_version, search_text, created_at";
}

// Writes the raw events 0..rows-1 as CSV (no header), the values as nemori stores them.
void write_reference_csv(const StorageBenchOptions& o, const fs::path& file) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  if (!out) throw StorageError(file.string() + ": cannot write the reference CSV");
  const std::string created_at = sql_timestamp(now_utc());
  std::string buffer;
  for (std::size_t i = 0; i < o.rows; ++i) {
    const RawEvent e = synthetic_raw_event(o.seed, i, o.owners);
    csv_text(buffer, e.data_id);
    buffer += ',';
    csv_text(buffer, e.owner_id);
    buffer += ',';
    csv_text(buffer, std::string(to_string(e.data_type)));
    buffer += ',';
    csv_text(buffer, e.content.dump());
    buffer += ',';
    csv_text(buffer, e.source);
    buffer += ',';
    buffer += sql_timestamp(e.temporal_info.timestamp);
    buffer += ',';
    if (e.temporal_info.duration) buffer += std::to_string(*e.temporal_info.duration);
    buffer += ',';
    if (e.temporal_info.timezone) csv_text(buffer, *e.temporal_info.timezone);
    buffer += ',';
    csv_text(buffer, e.temporal_info.precision);
    buffer += ',';
    csv_text(buffer, e.metadata.dump());
    buffer += ',';
    buffer += e.processed ? "true" : "false";
    buffer += ',';
    csv_text(buffer, e.processing_version);
    buffer += ',';
    csv_text(buffer, fold_case(searchable_text(e)));
    buffer += ',';
    buffer += created_at;
    buffer += '\n';
    if (buffer.size() > (4u << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
    if (o.progress && (i + 1) % 10000 == 0) o.progress("reference CSV", i + 1, o.rows);
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  if (o.progress) o.progress("reference CSV", o.rows, o.rows);
  out.flush();
  if (!out) throw StorageError(file.string() + ": write failed (disk full?)");
}

// ---------------------------------------------------------------------------------------------
// psql as a subprocess.

// The URL without its password, and the (percent-decoded) password, so that the password
// reaches psql through PGPASSWORD rather than its command line.
std::pair<std::string, std::string> split_password(const std::string& url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {url, ""};
  const std::size_t start = scheme_end + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", start), url.size());
  const std::size_t at = url.rfind('@', authority_end);
  if (at == std::string::npos || at < start) return {url, ""};
  const std::size_t colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return {url, ""};
  const std::string encoded = url.substr(colon + 1, at - colon - 1);
  std::string password;
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    const auto hex = [](char c) {
      return c >= '0' && c <= '9'   ? c - '0'
             : c >= 'a' && c <= 'f' ? c - 'a' + 10
             : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                    : -1;
    };
    if (encoded[i] == '%' && i + 2 < encoded.size() && hex(encoded[i + 1]) >= 0 &&
        hex(encoded[i + 2]) >= 0) {
      password += static_cast<char>(hex(encoded[i + 1]) * 16 + hex(encoded[i + 2]));
      i += 2;
    } else {
      password += encoded[i];
    }
  }
  return {url.substr(0, colon) + url.substr(at), password};
}

std::string read_text_file(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct PsqlOutcome {
  double seconds = 0;
  std::string out;
};

// Runs `psql -c command` against `url`; throws StorageError with psql's stderr on failure.
PsqlOutcome run_psql(const std::string& url, const std::string& command, const fs::path& work) {
#ifdef NEMORI_HAVE_POSTGRES
  const std::string psql = find_pg_tool("psql").string();
#else
  const std::string psql = "psql";
#endif
  const auto [conninfo, password] = split_password(url);
  std::vector<std::string> args = {psql, "-X",     "-v", "ON_ERROR_STOP=1",
                                   "-d", conninfo, "-c", command};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "PGPASSWORD=", 11) == 0 || std::strncmp(*e, "PGTZ=", 5) == 0) continue;
    env.emplace_back(*e);
  }
  if (!password.empty()) env.push_back("PGPASSWORD=" + password);
  env.emplace_back("PGTZ=UTC");
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  const fs::path out_file = work / "psql.out";
  const fs::path err_file = work / "psql.err";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = 0;
  const auto start = Clock::now();
  const int rc = ::posix_spawn(&pid, psql.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    throw StorageError("cannot run " + psql + ": " + std::strerror(rc) +
                       " (install the PostgreSQL client, e.g. apt-get install postgresql-client)");
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  PsqlOutcome outcome;
  outcome.seconds = seconds_since(start);
  outcome.out = read_text_file(out_file);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string errors = mask_password(read_text_file(err_file));
    while (!errors.empty() && (errors.back() == '\n' || errors.back() == ' ')) errors.pop_back();
    throw StorageError("psql failed: " + errors);
  }
  return outcome;
}

// ---------------------------------------------------------------------------------------------
// The plan of one run: where each backend's files and schemas go.

struct Plan {
  fs::path work;                // temporary directory (CSV, DuckDB files, psql output)
  fs::path csv;                 // reference CSV (empty when no reference is needed)
  std::string duckdb_path;      // nemori's DuckDB file
  std::string duckdb_ref_path;  // the reference DuckDB file
  std::string pg_schema;        // nemori's PostgreSQL schema
  std::string pg_ref_schema;    // the reference table's schema
};

StorageConfig config_for(const StorageBenchOptions& o, const Plan& plan, const std::string& backend,
                         bool reference_side) {
  StorageConfig config;
  if (backend == "memory") {
    config.backend = "memory";
  } else if (backend == "duckdb") {
    config.backend = "duckdb";
    config.path = reference_side ? plan.duckdb_ref_path : plan.duckdb_path;
  } else {
    config = parse_storage_url(o.postgres_url);
    config.schema = reference_side ? plan.pg_ref_schema : plan.pg_schema;
    config.pool_size = std::max<std::size_t>(config.pool_size, o.clients + 2);
  }
  config.batch_size = o.batch_size;
  return config;
}

// ---------------------------------------------------------------------------------------------
// Storing.

// Stores records 0..rows-1 in batches of `make(i)`, timing only `store(batch)`. Returns the
// total seconds and the rows/s of the batches that hold the last tenth of the rows.
template <typename Record, typename Make, typename Store>
std::pair<double, double> store_all(const StorageBenchOptions& o, const std::string& label,
                                    Make make, Store store) {
  std::vector<Record> batch;
  batch.reserve(o.batch_size);
  double spent = 0;
  double tail_spent = 0;
  std::size_t tail_rows = 0;
  const std::size_t tail_start = o.rows - o.rows / 10;
  for (std::size_t begin = 0; begin < o.rows; begin += o.batch_size) {
    const std::size_t end = std::min(o.rows, begin + o.batch_size);
    batch.clear();
    for (std::size_t i = begin; i < end; ++i) batch.push_back(make(i));
    const auto start = Clock::now();
    store(batch);
    const double seconds = seconds_since(start);
    spent += seconds;
    if (end > tail_start) {
      tail_spent += seconds;
      tail_rows += end - begin;
    }
    if (o.progress) o.progress(label, end, o.rows);
  }
  return {spent, tail_spent > 0 ? static_cast<double>(tail_rows) / tail_spent : 0};
}

void store_raw(const StorageBenchOptions& o, Storage& storage, BackendBenchResult& r) {
  const auto [spent, tail] = store_all<RawEvent>(
      o, r.backend + " raw events",
      [&](std::size_t i) { return synthetic_raw_event(o.seed, i, o.owners); },
      [&](const std::vector<RawEvent>& batch) { storage.raw_data().store_batch(batch); });
  r.raw_store_s = spent;
  r.raw_rows_per_s = spent > 0 ? static_cast<double>(o.rows) / spent : 0;
  r.raw_tail_rows_per_s = tail;
}

void store_episodes(const StorageBenchOptions& o, Storage& storage, BackendBenchResult& r) {
  const auto [spent, tail] = store_all<Episode>(
      o, r.backend + " episodes",
      [&](std::size_t i) { return synthetic_episode(o.seed, i, o.owners); },
      [&](const std::vector<Episode>& batch) { storage.episodes().store_batch(batch); });
  r.episode_store_s = spent;
  r.episode_rows_per_s = spent > 0 ? static_cast<double>(o.rows) / spent : 0;
  r.episode_tail_rows_per_s = tail;
}

// ---------------------------------------------------------------------------------------------
// Queries.

// Picks targets for queries: owners, and existing records of an owner.
class Targets {
 public:
  explicit Targets(const StorageBenchOptions& o) : o_(o), owners_(std::min(o.owners, o.rows)) {}

  std::size_t owner_index(Rng& rng) const { return rng.below(owners_); }
  std::string owner(Rng& rng) const { return synthetic_owner(owner_index(rng), o_.owners); }
  // A record index of owner `owner`.
  std::size_t index_of_owner(Rng& rng, std::size_t owner) const {
    const std::size_t per_owner = (o_.rows - owner + o_.owners - 1) / o_.owners;
    return owner + o_.owners * rng.below(std::max<std::size_t>(per_owner, 1));
  }
  std::size_t index(Rng& rng) const { return rng.below(o_.rows); }
  std::string raw_id(Rng& rng) const { return synthetic_raw_id(o_.seed, index(rng)); }
  std::string episode_id(Rng& rng) const { return synthetic_episode_id(o_.seed, index(rng)); }
  std::string word(Rng& rng) const { return kWords[rng.below(std::size(kWords))]; }
  std::string name(Rng& rng) const { return kNames[rng.below(std::size(kNames))]; }
  std::string topic(Rng& rng) const { return kTopics[rng.below(std::size(kTopics))]; }

 private:
  const StorageBenchOptions& o_;
  std::size_t owners_;
};

struct QueryKind {
  std::string name;
  std::function<void(Rng&)> run;
};

std::vector<QueryKind> query_kinds(const StorageBenchOptions& o, Storage& s, const Targets& t) {
  RawDataRepository& raw = s.raw_data();
  EpisodeRepository& eps = s.episodes();
  std::vector<QueryKind> kinds;
  kinds.push_back({"raw get", [&raw, &t](Rng& rng) {
                     if (!raw.get(t.raw_id(rng))) throw StorageError("raw get: missing event");
                   }});
  kinds.push_back({"raw get_batch 100", [&raw, &t](Rng& rng) {
                     std::vector<std::string> ids;
                     for (int i = 0; i < 100; ++i) ids.push_back(t.raw_id(rng));
                     raw.get_batch(ids);
                   }});
  kinds.push_back({"raw content_contains (owner, 20)", [&raw, &t](Rng& rng) {
                     RawDataQuery q;
                     q.owner_ids = {t.owner(rng)};
                     q.content_contains = t.word(rng);
                     q.limit = 20;
                     raw.search(q);
                   }});
  kinds.push_back({"raw count (owner)", [&raw, &t](Rng& rng) { raw.count(t.owner(rng)); }});
  kinds.push_back({"episode get", [&eps, &t](Rng& rng) {
                     if (!eps.get(t.episode_id(rng))) throw StorageError("get: missing episode");
                   }});
  kinds.push_back({"episode get_batch 100", [&eps, &t](Rng& rng) {
                     std::vector<std::string> ids;
                     for (int i = 0; i < 100; ++i) ids.push_back(t.episode_id(rng));
                     eps.get_batch(ids);
                   }});
  kinds.push_back(
      {"by_owner newest 20", [&eps, &t](Rng& rng) { eps.by_owner(t.owner(rng), 20, 0); }});
  kinds.push_back({"by_time_range (owner, 1 day)", [&eps, &t, &o](Rng& rng) {
                     const std::size_t owner = t.owner_index(rng);
                     const Timestamp from = record_time(t.index_of_owner(rng, owner));
                     TimeRange range{from, from + std::chrono::hours(24)};
                     eps.by_time_range(synthetic_owner(owner, o.owners), range, 50);
                   }});
  kinds.push_back({"text_search (owner, 20)", [&eps, &t](Rng& rng) {
                     EpisodeQuery q;
                     q.owner_ids = {t.owner(rng)};
                     q.text_search = t.word(rng);
                     q.limit = 20;
                     eps.search(q);
                   }});
  kinds.push_back({"entities filter (owner, 20)", [&eps, &t](Rng& rng) {
                     EpisodeQuery q;
                     q.owner_ids = {t.owner(rng)};
                     q.entities = {t.name(rng)};
                     q.limit = 20;
                     eps.search(q);
                   }});
  kinds.push_back({"keywords filter (owner, 20)", [&eps, &t](Rng& rng) {
                     EpisodeQuery q;
                     q.owner_ids = {t.owner(rng)};
                     q.keywords = {t.word(rng), t.word(rng)};
                     q.limit = 20;
                     eps.search(q);
                   }});
  kinds.push_back({"combined filters, page 2", [&eps, &t, &o](Rng& rng) {
                     const std::size_t owner = t.owner_index(rng);
                     const Timestamp from = record_time(t.index_of_owner(rng, owner));
                     EpisodeQuery q;
                     q.owner_ids = {synthetic_owner(owner, o.owners)};
                     q.time_range = TimeRange{from, from + std::chrono::hours(24 * 30)};
                     q.topics = {t.topic(rng), t.topic(rng)};
                     q.min_importance = 0.3;
                     q.sort_by = SortBy::kImportance;
                     q.limit = 20;
                     q.offset = 20;
                     eps.search(q);
                   }});
  kinds.push_back({"episode count (all)", [&eps](Rng&) { eps.count(""); }});
  kinds.push_back({"mark_accessed", [&eps, &t](Rng& rng) {
                     if (!eps.mark_accessed(t.episode_id(rng), now_utc())) {
                       throw StorageError("mark_accessed: missing episode");
                     }
                   }});
  return kinds;
}

void run_queries(const StorageBenchOptions& o, Storage& storage, BackendBenchResult& r) {
  const Targets targets(o);
  std::vector<QueryKind> kinds = query_kinds(o, storage, targets);
  std::size_t kind_index = 0;
  for (QueryKind& kind : kinds) {
    Rng rng(o.seed, 100 + kind_index, 0);
    for (int i = 0; i < 2; ++i) kind.run(rng);  // warm-up, not timed
    std::vector<double> samples;
    samples.reserve(o.queries);
    double total = 0;
    for (std::size_t i = 0; i < o.queries; ++i) {
      const auto start = Clock::now();
      kind.run(rng);
      const double seconds = seconds_since(start);
      samples.push_back(seconds * 1000.0);
      total += seconds;
      if (total > o.query_seconds_cap && samples.size() >= 5) break;
    }
    std::sort(samples.begin(), samples.end());
    QueryLatency q;
    q.name = kind.name;
    q.runs = samples.size();
    q.p50_ms = percentile(samples, 0.50);
    q.p99_ms = percentile(samples, 0.99);
    q.mean_ms = total * 1000.0 / static_cast<double>(std::max<std::size_t>(samples.size(), 1));
    r.queries.push_back(q);
    ++kind_index;
    if (o.progress) o.progress(r.backend + " queries", kind_index, kinds.size());
  }
}

// Threads sharing one Storage, each looping over: episode get, raw get, newest 20 of an
// owner, keyword search of an owner.
ConcurrencyResult run_concurrency(const StorageBenchOptions& o, Storage& storage) {
  const Targets t(o);
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(o.clients);
  std::vector<std::string> errors(o.clients);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (std::size_t c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      Rng rng(o.seed, 1000 + c, 0);
      std::vector<double>& mine = latencies[c];
      try {
        for (std::size_t op = 0; !stop.load(std::memory_order_relaxed); ++op) {
          const auto begin = Clock::now();
          switch (op % 4) {
            case 0:
              storage.episodes().get(t.episode_id(rng));
              break;
            case 1:
              storage.raw_data().get(t.raw_id(rng));
              break;
            case 2:
              storage.episodes().by_owner(t.owner(rng), 20, 0);
              break;
            default: {
              EpisodeQuery q;
              q.owner_ids = {t.owner(rng)};
              q.keywords = {t.word(rng)};
              q.limit = 20;
              storage.episodes().search(q);
            }
          }
          mine.push_back(seconds_since(begin) * 1000.0);
        }
      } catch (const std::exception& e) {
        errors[c] = e.what();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(o.concurrency_seconds));
  stop = true;
  for (std::thread& thread : threads) thread.join();
  ConcurrencyResult result;
  result.seconds = seconds_since(start);
  for (const std::string& e : errors) {
    if (!e.empty()) throw StorageError("concurrent clients: " + e);
  }
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  result.clients = o.clients;
  result.ops = all.size();
  result.ops_per_s = static_cast<double>(all.size()) / result.seconds;
  result.p50_ms = percentile(all, 0.50);
  result.p99_ms = percentile(all, 0.99);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reference bulk loads.

#ifdef NEMORI_HAVE_DUCKDB
// COPY of the reference CSV into a fresh DuckDB file whose tables nemori created (so the
// schema, keys and indexes are identical). Returns the seconds of the COPY statement.
double duckdb_reference(const StorageBenchOptions& o, const Plan& plan) {
  open_storage(config_for(o, plan, "duckdb", true))->close();
  duckdb_database db = nullptr;
  duckdb_connection con = nullptr;
  if (duckdb_open(plan.duckdb_ref_path.c_str(), &db) == DuckDBError) {
    throw StorageError("reference: cannot open DuckDB file " + plan.duckdb_ref_path);
  }
  struct Closer {
    duckdb_database* db;
    duckdb_connection* con;
    ~Closer() {
      if (*con != nullptr) duckdb_disconnect(con);
      duckdb_close(db);
    }
  } closer{&db, &con};
  if (duckdb_connect(db, &con) == DuckDBError)
    throw StorageError("reference: DuckDB connect failed");
  const auto query = [&](const std::string& sql) {
    duckdb_result result;
    const auto state = duckdb_query(con, sql.c_str(), &result);
    std::string error = state == DuckDBError ? std::string(duckdb_result_error(&result)) : "";
    std::int64_t value = 0;
    if (state != DuckDBError && duckdb_row_count(&result) > 0 && duckdb_column_count(&result) > 0) {
      value = duckdb_value_int64(&result, 0, 0);
    }
    duckdb_destroy_result(&result);
    if (state == DuckDBError) throw StorageError("reference: DuckDB: " + error);
    return value;
  };
  const std::string copy = "COPY raw_data (" + csv_columns("event_metadata") + ") FROM " +
                           sql_quote(plan.csv.string()) +
                           " (FORMAT csv, HEADER false, DELIMITER ',', QUOTE '\"', ESCAPE '\"')";
  const auto start = Clock::now();
  query(copy);
  const double seconds = seconds_since(start);
  const std::int64_t loaded = query("SELECT count(*) FROM raw_data");
  if (loaded != static_cast<std::int64_t>(o.rows)) {
    throw StorageError("reference: DuckDB COPY loaded " + std::to_string(loaded) +
                       " rows, expected " + std::to_string(o.rows));
  }
  return seconds;
}
#endif

// psql \copy of the reference CSV into a fresh schema whose tables nemori created.
double postgres_reference(const StorageBenchOptions& o, const Plan& plan) {
  const StorageConfig config = config_for(o, plan, "postgresql", true);
  open_storage(config)->close();
  const std::string command = "\\copy \"" + plan.pg_ref_schema + "\".raw_data (" +
                              csv_columns("metadata") + ") FROM " + sql_quote(plan.csv.string()) +
                              " WITH (FORMAT csv)";
  const PsqlOutcome outcome = run_psql(config.url, command, plan.work);
  if (outcome.out.find("COPY " + std::to_string(o.rows)) == std::string::npos) {
    throw StorageError("reference: psql \\copy reported \"" + outcome.out + "\", expected COPY " +
                       std::to_string(o.rows));
  }
  return outcome.seconds;
}

// ---------------------------------------------------------------------------------------------
// One backend, start to end.

void write_all(int fd, const std::string& text) {
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    written += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string text;
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

// Why a child process ended without a result.
std::string child_failure(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "the benchmark process was killed by signal " + std::to_string(sig) +
           (sig == SIGKILL ? " (out of memory? try fewer --rows)" : "");
  }
  return "the benchmark process failed without a result (exit status " +
         std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")";
}

// Runs `work` in a child process and returns its text; a child that throws makes this throw
// StorageError with the same message. The child's memory does not count in this process's
// ru_maxrss.
std::string run_in_child(const std::function<std::string()>& work) {
  int fds[2];
  if (::pipe(fds) != 0) throw StorageError(std::string("pipe failed: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw StorageError(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    ::close(fds[0]);
    int code = 0;
    try {
      write_all(fds[1], "+" + work());
    } catch (const std::exception& e) {
      write_all(fds[1], std::string("-") + e.what());
    } catch (...) {
      code = 1;
    }
    ::close(fds[1]);
    std::fflush(stderr);
    ::_exit(code);
  }
  ::close(fds[1]);
  const std::string text = read_all(fds[0]);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (text.empty() || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw StorageError(child_failure(status));
  }
  if (text[0] == '-') throw StorageError(text.substr(1));
  return text.substr(1);
}

// The engine's own bulk load of the same raw events, into `r.reference*`. Runs in a child
// process when isolating, so that its memory is not counted as the backend's.
void measure_reference(const StorageBenchOptions& o, const Plan& plan, BackendBenchResult& r) {
  std::function<double()> load;
#ifdef NEMORI_HAVE_DUCKDB
  if (r.backend == "duckdb") {
    r.reference = "DuckDB COPY";
    load = [&] { return duckdb_reference(o, plan); };
  }
#endif
  if (r.backend == "postgresql") {
    r.reference = "psql \\copy";
    load = [&] { return postgres_reference(o, plan); };
  }
  if (!load) return;
  if (o.log) o.log(r.backend + ": reference: " + r.reference + " of the same rows");
  if (o.isolate) {
    r.reference_s = std::stod(run_in_child([&] {
      char text[64];
      std::snprintf(text, sizeof text, "%.9f", load());
      return std::string(text);
    }));
  } else {
    r.reference_s = load();
  }
  if (r.reference_s > 0) r.reference_rows_per_s = static_cast<double>(o.rows) / r.reference_s;
}

BackendBenchResult run_backend(const StorageBenchOptions& o, const Plan& plan,
                               const std::string& backend) {
  BackendBenchResult r;
  r.backend = backend;
  r.rows = o.rows;
  r.batch_size = o.batch_size;
  r.baseline_rss_mb = current_rss_mb();
  if (backend == "postgresql") {
    r.note = "memory: client process only (the server's memory is not counted)";
  } else if (backend == "duckdb") {
    r.note = "memory: includes DuckDB's buffer pool";
  }
  try {
    const auto note = [&](const std::string& text) {
      if (o.log) o.log(backend + ": " + text);
    };
    // The reference runs right before nemori's own store, so that both see the same machine
    // load as far as possible.
    if (o.reference && !plan.csv.empty()) measure_reference(o, plan, r);
    note("storing " + std::to_string(o.rows) + " raw events and episodes");
    auto storage = open_storage(config_for(o, plan, backend, false));
    store_raw(o, *storage, r);
    if (r.reference_rows_per_s > 0) r.ratio = r.raw_rows_per_s / r.reference_rows_per_s;
    store_episodes(o, *storage, r);
    const std::size_t raws = storage->raw_data().count("");
    const std::size_t episodes = storage->episodes().count("");
    if (raws != o.rows || episodes != o.rows) {
      throw StorageError("stored " + std::to_string(raws) + " raw events and " +
                         std::to_string(episodes) + " episodes, expected " +
                         std::to_string(o.rows) + " each");
    }
    note("running queries");
    run_queries(o, *storage, r);
    if (o.clients > 0) {
      note("running " + std::to_string(o.clients) + " concurrent clients");
      r.concurrency = run_concurrency(o, *storage);
    }
    r.peak_rss_mb = peak_rss_mb();
    storage->close();
  } catch (const std::exception& e) {
    r.error = e.what();
    if (r.peak_rss_mb == 0) r.peak_rss_mb = peak_rss_mb();
  }
  return r;
}

// ---------------------------------------------------------------------------------------------
// JSON of results (also the format a child process reports in).

nlohmann::json result_json(const BackendBenchResult& r) {
  nlohmann::json queries = nlohmann::json::array();
  for (const QueryLatency& q : r.queries) {
    queries.push_back({{"name", q.name},
                       {"runs", q.runs},
                       {"p50_ms", q.p50_ms},
                       {"p99_ms", q.p99_ms},
                       {"mean_ms", q.mean_ms}});
  }
  nlohmann::json j = {{"backend", r.backend},
                      {"rows", r.rows},
                      {"batch_size", r.batch_size},
                      {"raw_store_s", r.raw_store_s},
                      {"raw_rows_per_s", r.raw_rows_per_s},
                      {"raw_tail_rows_per_s", r.raw_tail_rows_per_s},
                      {"episode_store_s", r.episode_store_s},
                      {"episode_rows_per_s", r.episode_rows_per_s},
                      {"episode_tail_rows_per_s", r.episode_tail_rows_per_s},
                      {"reference", r.reference},
                      {"reference_s", r.reference_s},
                      {"reference_rows_per_s", r.reference_rows_per_s},
                      {"ratio", r.ratio},
                      {"queries", queries},
                      {"concurrency", nullptr},
                      {"baseline_rss_mb", r.baseline_rss_mb},
                      {"peak_rss_mb", r.peak_rss_mb},
                      {"isolated", r.isolated},
                      {"note", r.note},
                      {"error", r.error}};
  if (r.concurrency) {
    const ConcurrencyResult& c = *r.concurrency;
    j["concurrency"] = {{"clients", c.clients},     {"seconds", c.seconds}, {"ops", c.ops},
                        {"ops_per_s", c.ops_per_s}, {"p50_ms", c.p50_ms},   {"p99_ms", c.p99_ms}};
  }
  return j;
}

BackendBenchResult result_from_json(const nlohmann::json& j) {
  BackendBenchResult r;
  r.backend = j.at("backend").get<std::string>();
  r.rows = j.at("rows").get<std::size_t>();
  r.batch_size = j.at("batch_size").get<std::size_t>();
  r.raw_store_s = j.at("raw_store_s").get<double>();
  r.raw_rows_per_s = j.at("raw_rows_per_s").get<double>();
  r.raw_tail_rows_per_s = j.at("raw_tail_rows_per_s").get<double>();
  r.episode_store_s = j.at("episode_store_s").get<double>();
  r.episode_rows_per_s = j.at("episode_rows_per_s").get<double>();
  r.episode_tail_rows_per_s = j.at("episode_tail_rows_per_s").get<double>();
  r.reference = j.at("reference").get<std::string>();
  r.reference_s = j.at("reference_s").get<double>();
  r.reference_rows_per_s = j.at("reference_rows_per_s").get<double>();
  r.ratio = j.at("ratio").get<double>();
  for (const auto& q : j.at("queries")) {
    r.queries.push_back({q.at("name").get<std::string>(), q.at("runs").get<std::size_t>(),
                         q.at("p50_ms").get<double>(), q.at("p99_ms").get<double>(),
                         q.at("mean_ms").get<double>()});
  }
  if (const auto& c = j.at("concurrency"); !c.is_null()) {
    r.concurrency =
        ConcurrencyResult{c.at("clients").get<std::size_t>(), c.at("seconds").get<double>(),
                          c.at("ops").get<std::size_t>(),     c.at("ops_per_s").get<double>(),
                          c.at("p50_ms").get<double>(),       c.at("p99_ms").get<double>()};
  }
  r.baseline_rss_mb = j.at("baseline_rss_mb").get<double>();
  r.peak_rss_mb = j.at("peak_rss_mb").get<double>();
  r.isolated = j.at("isolated").get<bool>();
  r.note = j.at("note").get<std::string>();
  r.error = j.at("error").get<std::string>();
  return r;
}

// Runs one backend in a child process (so ru_maxrss is this backend's own) and reads its
// result back as JSON.
BackendBenchResult run_backend_isolated(const StorageBenchOptions& o, const Plan& plan,
                                        const std::string& backend) {
  try {
    const std::string text = run_in_child([&] {
      BackendBenchResult r = run_backend(o, plan, backend);
      r.isolated = true;
      return result_json(r).dump();
    });
    return result_from_json(nlohmann::json::parse(text));
  } catch (const std::exception& e) {
    BackendBenchResult r;
    r.backend = backend;
    r.rows = o.rows;
    r.batch_size = o.batch_size;
    r.isolated = true;
    r.error = e.what();
    return r;
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting.

std::string thousands(double value) {
  const long long n = std::llround(value);
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  const std::size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  out += digits.substr(0, first);
  for (std::size_t i = first; i < digits.size(); i += 3) {
    out += ',';  // not "," + ...: GCC 12 -Wrestrict false positive at -O3
    out.append(digits, i, 3);
  }
  if (n < 0) out.insert(out.begin(), '-');
  return out;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string ms(double value) {
  if (value < 1) return fixed(value, 3);
  if (value < 10) return fixed(value, 2);
  if (value < 100) return fixed(value, 1);
  return fixed(value, 0);
}

using Table = std::vector<std::vector<std::string>>;  // first row = header

std::string render(const Table& table, bool markdown) {
  std::vector<std::size_t> width;
  for (const auto& row : table) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  std::string out;
  const auto line = [&](const std::vector<std::string>& row) {
    if (markdown) out += "|";
    for (std::size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < row.size() ? row[c] : "";
      const std::string pad(width[c] - cell.size(), ' ');
      if (markdown) {
        out += " " + (c == 0 ? cell + pad : pad + cell) + " |";
      } else {
        out += (c == 0 ? cell + pad : pad + cell) + (c + 1 < width.size() ? "  " : "");
      }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += "\n";
  };
  for (std::size_t i = 0; i < table.size(); ++i) {
    line(table[i]);
    if (i == 0 && markdown) {
      out += "|";
      for (std::size_t c = 0; c < width.size(); ++c) {
        out += c == 0 ? " " + std::string(std::max<std::size_t>(width[c], 3), '-') + " |"
                      : " " + std::string(std::max<std::size_t>(width[c], 3) - 1, '-') + ": |";
      }
      out += "\n";
    }
  }
  return out;
}

Table store_table(const StorageBenchReport& report) {
  Table t = {{"backend", "N", "raw events rows/s", "last 10%", "engine bulk load rows/s", "ratio",
              "episodes rows/s", "last 10%", "peak RSS MB", "RSS growth MB"}};
  for (const BackendBenchResult& r : report.results) {
    if (!r.error.empty()) {
      t.push_back({r.backend, thousands(static_cast<double>(r.rows)), "failed (see below)"});
      continue;
    }
    t.push_back(
        {r.backend, thousands(static_cast<double>(r.rows)), thousands(r.raw_rows_per_s),
         thousands(r.raw_tail_rows_per_s),
         r.reference.empty() ? "-" : thousands(r.reference_rows_per_s) + " (" + r.reference + ")",
         r.reference.empty() ? "-" : fixed(r.ratio, 2), thousands(r.episode_rows_per_s),
         thousands(r.episode_tail_rows_per_s), thousands(r.peak_rss_mb),
         thousands(r.peak_rss_mb - r.baseline_rss_mb)});
  }
  return t;
}

Table query_table(const StorageBenchReport& report) {
  Table t = {{"query (p50 / p99 ms)"}};
  std::vector<const BackendBenchResult*> ok;
  for (const BackendBenchResult& r : report.results) {
    if (r.error.empty() && !r.queries.empty()) {
      ok.push_back(&r);
      t[0].push_back(r.backend);
    }
  }
  if (ok.empty()) return {};
  for (std::size_t q = 0; q < ok.front()->queries.size(); ++q) {
    std::vector<std::string> row = {ok.front()->queries[q].name};
    for (const BackendBenchResult* r : ok) {
      if (q >= r->queries.size()) {
        row.push_back("-");
        continue;
      }
      const QueryLatency& l = r->queries[q];
      std::string cell = ms(l.p50_ms) + " / " + ms(l.p99_ms);
      if (l.runs < report.options.queries) cell += " (" + std::to_string(l.runs) + " runs)";
      row.push_back(cell);
    }
    t.push_back(row);
  }
  return t;
}

Table concurrency_table(const StorageBenchReport& report) {
  Table t = {{"backend", "clients", "ops/s", "p50 ms", "p99 ms"}};
  for (const BackendBenchResult& r : report.results) {
    if (!r.error.empty() || !r.concurrency) continue;
    const ConcurrencyResult& c = *r.concurrency;
    t.push_back(
        {r.backend, std::to_string(c.clients), thousands(c.ops_per_s), ms(c.p50_ms), ms(c.p99_ms)});
  }
  return t.size() > 1 ? t : Table{};
}

std::string header_line(const StorageBenchReport& report) {
  char text[256];
  std::snprintf(text, sizeof text,
                "%s, %u CPUs, %.0f GB RAM; N = %zu raw events + %zu episodes over %zu owners, "
                "batch %zu, %zu runs per query",
                report.date.c_str(), report.cpus, report.memory_gb, report.options.rows,
                report.options.rows, report.options.owners, report.options.batch_size,
                report.options.queries);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Options.

void check_options(const StorageBenchOptions& o) {
  if (o.backends.empty()) throw ConfigError("--backends: no backend to measure");
  if (o.rows == 0) throw ConfigError("--rows: must be at least 1");
  if (o.batch_size == 0) throw ConfigError("--batch-size: must be at least 1");
  if (o.queries == 0) throw ConfigError("--queries: must be at least 1");
  if (o.owners == 0) throw ConfigError("--owners: must be at least 1");
  for (const std::string& b : o.backends) {
    if (b != "memory" && b != "duckdb" && b != "postgresql") {
      throw ConfigError("--backends: unknown backend \"" + b +
                        "\" (valid: memory, duckdb, postgresql)");
    }
    const auto supported = supported_backends();
    if (std::find(supported.begin(), supported.end(), b) == supported.end()) {
      throw UnsupportedBackendError("--backends: \"" + b + "\" is not supported by this build");
    }
    if (b == "postgresql" && o.postgres_url.empty()) {
      throw ConfigError(
          "--backends: postgresql needs a server: pass --postgres-url or set "
          "NEMORI_TEST_POSTGRES_URL (scripts/pg-test-server.sh start DIR starts one)");
    }
  }
  if (!o.postgres_url.empty() &&
      std::find(o.backends.begin(), o.backends.end(), "postgresql") != o.backends.end()) {
    if (parse_storage_url(o.postgres_url).backend != "postgresql") {
      throw ConfigError("--postgres-url: not a PostgreSQL URL: " + mask_password(o.postgres_url));
    }
  }
  if (!o.duckdb_path.empty() && fs::exists(o.duckdb_path)) {
    throw ConfigError("--duckdb-path: " + o.duckdb_path +
                      " exists already; give a path that does not exist yet");
  }
}

// Removes the temporary directory and drops the PostgreSQL schemas on every exit path.
class Cleanup {
 public:
  Cleanup(const StorageBenchOptions& o, Plan& plan) : o_(o), plan_(plan) {}
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  ~Cleanup() {
    if (const std::string problem = drop_schemas(); !problem.empty()) {
      std::fprintf(stderr, "nemori: warning: %s\n", problem.c_str());
    }
    std::error_code ignored;
    if (!plan_.work.empty()) fs::remove_all(plan_.work, ignored);
  }
  bool uses_postgres = false;

  // Drops both PostgreSQL schemas; returns why that failed (empty on success).
  std::string drop_schemas() {
    if (!uses_postgres) return "";
    uses_postgres = false;
    try {
      const StorageConfig config = parse_storage_url(o_.postgres_url);
      run_psql(config.url,
               "DROP SCHEMA IF EXISTS \"" + plan_.pg_schema +
                   "\" CASCADE; DROP SCHEMA IF EXISTS \"" + plan_.pg_ref_schema + "\" CASCADE",
               plan_.work);
      return "";
    } catch (const std::exception& e) {
      return "the benchmark schemas " + plan_.pg_schema + " and " + plan_.pg_ref_schema +
             " may remain (drop them with DROP SCHEMA ... CASCADE): " + e.what();
    }
  }

 private:
  const StorageBenchOptions& o_;
  Plan& plan_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Synthetic data.

std::string synthetic_raw_id(std::uint64_t seed, std::size_t index) {
  Rng rng(seed, kRawIdKind, index);
  return uuid7_like(to_micros(record_time(index)), rng);
}

std::string synthetic_episode_id(std::uint64_t seed, std::size_t index) {
  Rng rng(seed, kEpisodeIdKind, index);
  return uuid7_like(to_micros(record_time(index)), rng);
}

std::string synthetic_owner(std::size_t index, std::size_t owners) {
  char text[32];
  std::snprintf(text, sizeof text, "bench-user-%03zu", index % std::max<std::size_t>(owners, 1));
  return text;
}

RawEvent synthetic_raw_event(std::uint64_t seed, std::size_t index, std::size_t owners) {
  Rng rng(seed, kRawKind, index);
  const std::string owner = synthetic_owner(index, owners);
  const std::size_t turn_of_owner = index / std::max<std::size_t>(owners, 1);
  const std::size_t session = turn_of_owner / 40 + 1;
  const std::size_t turn = turn_of_owner % 40 + 1;
  Message m;
  const bool from_user = turn % 2 == 1;
  m.speaker_id = from_user ? owner : "assistant";
  if (from_user)
    m.user_name = kNames[(index % std::max<std::size_t>(owners, 1)) % std::size(kNames)];
  m.role = from_user ? MessageRole::kUser : MessageRole::kAssistant;
  std::string text = words(rng, rng.between(20, 60));
  text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  m.content = text + (rng.below(4) == 0 ? "?" : ".");
  // Up to 20 s of jitter keeps records in time order (they are 30 s apart).
  m.timestamp = record_time(index) + std::chrono::seconds(rng.below(20));
  m.external_id = "D" + std::to_string(session) + ":" + std::to_string(turn);
  RawEvent e = to_raw_event(m, owner, "chat");
  e.data_id = synthetic_raw_id(seed, index);
  e.metadata = {{"session", session}, {"channel", rng.below(3) == 0 ? "mobile" : "web"}};
  return e;
}

Episode synthetic_episode(std::uint64_t seed, std::size_t index, std::size_t owners) {
  Rng rng(seed, kEpisodeKind, index);
  Episode e;
  e.episode_id = synthetic_episode_id(seed, index);
  e.owner_id = synthetic_owner(index, owners);
  e.episode_type = EpisodeType::kConversational;
  e.level = EpisodeLevel::kAtomic;
  auto& m = e.metadata;
  for (std::size_t i = 0, n = rng.between(2, 4); i < n; ++i) {
    const std::string name = kNames[rng.below(std::size(kNames))];
    if (std::find(m.entities.begin(), m.entities.end(), name) == m.entities.end()) {
      m.entities.push_back(name);
    }
  }
  for (std::size_t i = 0, n = rng.between(1, 3); i < n; ++i) {
    const std::string topic = kTopics[rng.below(std::size(kTopics))];
    if (std::find(m.topics.begin(), m.topics.end(), topic) == m.topics.end()) {
      m.topics.push_back(topic);
    }
  }
  const std::string& who = m.entities[0];
  e.title = who + " talks about " + m.topics[0] + " and " + kWords[rng.below(std::size(kWords))];
  const Timestamp when = record_time(index);
  e.content = "On " + format_iso8601(when).substr(0, 10) + " " + who + " told the user about " +
              m.topics[0] + ": " + words(rng, rng.between(60, 150)) + ". " + m.entities.back() +
              " " + words(rng, rng.between(10, 30)) + ".";
  e.summary = who + " shared news about " + m.topics[0] + ".";
  e.temporal_info.timestamp = when;
  e.temporal_info.duration = static_cast<double>(rng.between(60, 3600));
  m.source_data_ids = {synthetic_raw_id(seed, index)};
  m.source_types = {DataType::kConversation};
  m.processing_timestamp = when + std::chrono::hours(1);
  m.emotions = {kEmotions[rng.below(std::size(kEmotions))]};
  m.key_points = {words(rng, 8), words(rng, 8)};
  m.duration_seconds = e.temporal_info.duration;
  m.confidence_score = 0.5 + rng.unit() / 2;
  m.custom_fields = {{"session", index / std::max<std::size_t>(owners, 1) / 40 + 1}};
  for (std::size_t i = 0, n = rng.between(3, 6); i < n; ++i) {
    e.search_keywords.push_back(kWords[rng.below(std::size(kWords))]);
  }
  e.recall_count = static_cast<std::int64_t>(rng.below(6));
  e.importance_score = std::round(rng.unit() * 1000) / 1000;
  return e;
}

// ---------------------------------------------------------------------------------------------
// Report.

bool StorageBenchReport::ok() const {
  return std::all_of(results.begin(), results.end(),
                     [](const BackendBenchResult& r) { return r.error.empty(); });
}

nlohmann::json StorageBenchReport::to_json() const {
  nlohmann::json results_json = nlohmann::json::array();
  for (const BackendBenchResult& r : results) results_json.push_back(result_json(r));
  return {{"date", date},
          {"machine", {{"cpus", cpus}, {"memory_gb", memory_gb}}},
          {"options",
           {{"backends", options.backends},
            {"rows", options.rows},
            {"batch_size", options.batch_size},
            {"queries", options.queries},
            {"owners", options.owners},
            {"seed", options.seed},
            {"clients", options.clients},
            {"concurrency_seconds", options.concurrency_seconds},
            {"reference", options.reference},
            {"isolate", options.isolate}}},
          {"results", results_json}};
}

std::string StorageBenchReport::to_text() const {
  std::string out = "nemori bench storage: " + header_line(*this) + "\n\n";
  out += render(store_table(*this), false);
  if (const Table t = query_table(*this); !t.empty()) out += "\n" + render(t, false);
  if (const Table t = concurrency_table(*this); !t.empty()) {
    out += "\nconcurrent clients (mixed get / newest 20 / keyword search)\n" + render(t, false);
  }
  for (const BackendBenchResult& r : results) {
    if (r.error.empty() && !r.note.empty()) out += "\n" + r.backend + " " + r.note;
    if (!r.error.empty()) out += "\n" + r.backend + " failed: " + r.error;
  }
  return out + "\n";
}

std::string StorageBenchReport::to_markdown() const {
  std::string out = "Measured " + header_line(*this) + ".\n\n";
  out += render(store_table(*this), true);
  out +=
      "\nratio = nemori batch store rows/s / the engine's own bulk load of the same rows "
      "(from a CSV, into an identical table); \"last 10%\" = rows/s over the last tenth of the "
      "rows, when the tables are almost full.\n";
  for (const BackendBenchResult& r : results) {
    if (!r.error.empty()) out += "\n- " + r.backend + " failed: " + r.error + "\n";
  }
  if (const Table t = query_table(*this); !t.empty()) out += "\n" + render(t, true);
  if (const Table t = concurrency_table(*this); !t.empty()) {
    out += "\nConcurrent clients (mixed episode get, raw get, newest 20, keyword search):\n\n" +
           render(t, true);
  }
  return out;
}

StorageBenchReport run_storage_bench(const StorageBenchOptions& options) {
  check_options(options);
  StorageBenchReport report;
  report.date = utc_now_text();
  report.cpus = std::thread::hardware_concurrency();
  report.memory_gb = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) *
                     static_cast<double>(::sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0 * 1024.0);
  report.options = options;

  Plan plan;
  Cleanup cleanup(options, plan);
  {
    std::string pattern = (fs::temp_directory_path() / "nemori-bench.XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw StorageError("cannot create a temporary directory: " +
                         std::string(std::strerror(errno)));
    }
    plan.work = pattern;
  }
  const std::string tag = "bench_" + std::to_string(::getpid());
  plan.pg_schema = tag;
  plan.pg_ref_schema = tag + "_ref";
  plan.duckdb_path =
      options.duckdb_path.empty() ? (plan.work / "nemori.duckdb").string() : options.duckdb_path;
  plan.duckdb_ref_path = (plan.work / "reference.duckdb").string();
  const auto uses = [&](const char* b) {
    return std::find(options.backends.begin(), options.backends.end(), b) != options.backends.end();
  };
  cleanup.uses_postgres = uses("postgresql");
  if (options.reference && (uses("duckdb") || uses("postgresql"))) {
    plan.csv = plan.work / "raw_data.csv";
    if (options.log)
      options.log("writing the reference CSV of " + std::to_string(options.rows) + " rows");
    write_reference_csv(options, plan.csv);
  }
  for (const std::string& backend : options.backends) {
    report.results.push_back(options.isolate ? run_backend_isolated(options, plan, backend)
                                             : run_backend(options, plan, backend));
  }
  if (const std::string problem = cleanup.drop_schemas(); !problem.empty()) {
    for (BackendBenchResult& r : report.results) {
      if (r.backend != "postgresql") continue;
      if (r.error.empty()) {
        std::fprintf(stderr, "nemori: warning: %s\n", problem.c_str());
      } else if (r.error.find("cannot reach") == std::string::npos) {
        r.error += "; " + problem;
      }
    }
  }
  return report;
}

}  // namespace nemori::bench
