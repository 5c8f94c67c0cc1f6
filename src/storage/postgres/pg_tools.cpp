// pg_backup / pg_restore: run pg_dump and pg_restore as child processes.
#include <fcntl.h>
#include <libpq-fe.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/storage/postgres_tools.h"
#include "storage/postgres/pg_client.h"
#include "storage/postgres/pg_schema.h"

extern char** environ;

namespace nemori {

namespace fs = std::filesystem;

namespace {

// A libpq URL split into a conninfo string without the password, and the password.
struct Target {
  std::string conninfo;
  std::string password;
  std::string description;  // user@host:port/db, for messages
};

std::string conninfo_value(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

Target target_of(const StorageConfig& config) {
  if (config.backend != "postgresql") {
    throw ConfigError("backend: pg_backup and pg_restore need a postgresql config, not \"" +
                      config.backend + "\" (use the portable dump for other backends)");
  }
  if (config.url.empty()) throw ConfigError("url: a PostgreSQL connection URL is required");
  pg::validate_schema_name(config.schema.empty() ? "public" : config.schema);
  const std::string url = pg::normalize_url(config.url);
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(url.c_str(), &err);
  if (opts == nullptr) {
    std::string why = err != nullptr ? err : "cannot parse it";
    if (err != nullptr) PQfreemem(err);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    throw ConfigError("url: invalid PostgreSQL connection URL " + mask_password(config.url) + ": " +
                      why);
  }
  Target t;
  std::string user, host, port, db;
  for (PQconninfoOption* o = opts; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    const std::string key = o->keyword;
    const std::string value = o->val;
    if (key == "password") {
      t.password = value;
      continue;
    }
    if (key == "user") user = value;
    if (key == "host" || key == "hostaddr") host = host.empty() ? value : host;
    if (key == "port") port = value;
    if (key == "dbname") db = value;
    t.conninfo += (t.conninfo.empty() ? "" : " ") + key + "=" + conninfo_value(value);
  }
  PQconninfoFree(opts);
  t.description = (user.empty() ? "" : user + "@") + (host.empty() ? "localhost" : host) +
                  (port.empty() ? "" : ":" + port) + "/" + db;
  return t;
}

bool executable(const fs::path& p) {
  return ::access(p.c_str(), X_OK) == 0;
}

// Major version of a /usr/lib/postgresql/<N> directory, or -1.
int version_of(const fs::path& dir) {
  const std::string name = dir.filename().string();
  if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) return -1;
  return std::atoi(name.c_str());
}

struct Outcome {
  int status = 0;
  std::string errors;
};

// Runs `argv` with the caller's environment plus PGPASSWORD (when set); collects stderr.
Outcome run(const std::vector<std::string>& argv, const std::string& password) {
  std::vector<std::string> env_storage;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (!password.empty() && std::strncmp(*e, "PGPASSWORD=", 11) == 0) continue;
    env_storage.emplace_back(*e);
  }
  if (!password.empty()) env_storage.push_back("PGPASSWORD=" + password);
  std::vector<char*> envp;
  for (auto& s : env_storage) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> args_p;
  for (auto& s : args) args_p.push_back(s.data());
  args_p.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw StorageError(std::string("cannot create a pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, args_p[0], &actions, nullptr, args_p.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[1]);
  if (rc != 0) {
    ::close(pipe_fds[0]);
    throw StorageError("cannot run " + argv[0] + ": " + std::strerror(rc));
  }
  Outcome out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(pipe_fds[0], buf, sizeof buf);
    if (n > 0) {
      if (out.errors.size() < (1u << 20)) out.errors.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(pipe_fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

// Tool output with passwords masked where they appear as passwords, trailing blanks removed.
std::string scrubbed(std::string_view text) {
  std::string out = mask_password(text);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

}  // namespace

fs::path find_pg_tool(std::string_view name) {
  if (const char* dir = std::getenv("NEMORI_PG_BIN"); dir != nullptr && *dir != '\0') {
    const fs::path p = fs::path(dir) / name;
    if (executable(p)) return p;
  }
  if (const char* path = std::getenv("PATH"); path != nullptr) {
    std::string_view rest(path);
    while (!rest.empty()) {
      const auto colon = rest.find(':');
      const std::string dir(rest.substr(0, colon));
      if (!dir.empty() && executable(fs::path(dir) / name)) return fs::path(dir) / name;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  std::error_code ec;
  std::vector<fs::path> versions;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    if (version_of(entry.path()) >= 0) versions.push_back(entry.path());
  }
  std::sort(versions.begin(), versions.end(),
            [](const fs::path& a, const fs::path& b) { return version_of(a) > version_of(b); });
  for (const fs::path& v : versions) {
    if (executable(v / "bin" / name)) return v / "bin" / name;
  }
  throw StorageError(std::string(name) +
                     " not found: install the PostgreSQL client tools (Debian: postgresql-client) "
                     "or set NEMORI_PG_BIN to the directory holding them");
}

void pg_backup(const StorageConfig& config, const fs::path& file) {
  const Target t = target_of(config);
  const std::string schema = config.schema.empty() ? "public" : config.schema;
  const fs::path tool = find_pg_tool("pg_dump");
  // Double quotes keep the pattern's case (pg_dump folds unquoted patterns to lower case).
  const Outcome out =
      run({tool.string(), "--format=custom", "--no-owner", "--no-privileges",
           "--schema=\"" + schema + "\"", "--file=" + file.string(), "--dbname=" + t.conninfo},
          t.password);
  if (out.status != 0) {
    throw StorageError("pg_dump failed (exit status " + std::to_string(out.status) +
                       ") backing up schema " + schema + " of " + t.description + " to " +
                       file.string() + ": " + scrubbed(out.errors));
  }
}

void pg_restore(const StorageConfig& config, const fs::path& file) {
  const Target t = target_of(config);
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    throw ConfigError("pg_restore: " + file.string() + " is not a readable backup file");
  }
  const fs::path tool = find_pg_tool("pg_restore");
  const Outcome out =
      run({tool.string(), "--single-transaction", "--exit-on-error", "--clean", "--if-exists",
           "--no-owner", "--no-privileges", "--dbname=" + t.conninfo, file.string()},
          t.password);
  if (out.status != 0) {
    throw StorageError("pg_restore failed (exit status " + std::to_string(out.status) +
                       ") restoring " + file.string() + " into " + t.description +
                       "; nothing was restored (single transaction): " + scrubbed(out.errors));
  }
}

}  // namespace nemori
