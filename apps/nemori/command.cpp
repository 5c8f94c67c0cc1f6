#include "command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ostream>
#include <streambuf>
#include <system_error>
#include <vector>

#include "nemori/core/error.h"
#include "nemori/storage/config.h"

namespace nemori::cli {

std::string StorageOption::resolved() const {
  if (!url.empty()) return url;
  if (auto env = storage_url_from_env(); !env.empty()) return env;
  return "duckdb:///./nemori.duckdb";
}

void add_storage_option(CLI::App& command, StorageOption& option) {
  command.add_option("--storage", option.url,
                     "Storage URL: memory://, duckdb:///path/file.duckdb or postgresql://... "
                     "(default: $NEMORI_STORAGE_URL, then $POSTGRESQL_URL, then "
                     "duckdb:///./nemori.duckdb)");
}

LlmConfig LlmOption::load() const {
  LlmConfigSources sources;
  sources.flags = flags;
  std::string file = config_file;
  if (file.empty()) {
    if (const char* env = std::getenv("NEMORI_CONFIG"); env != nullptr) file = env;
  }
  if (!file.empty()) {
    if (!std::filesystem::is_regular_file(file)) {
      throw ConfigError((config_file.empty() ? "NEMORI_CONFIG" : "--config") +
                        std::string(": no such file: ") + file);
    }
    sources.file = file;
  }
  return load_llm_config(sources);
}

void add_llm_options(CLI::App& command, LlmOption& option) {
  command.add_option("--config", option.config_file,
                     "TOML file with [llm], [embedding] and [prompts] tables (default: "
                     "$NEMORI_CONFIG; docs/llm.md)");
  const auto flag = [&](const char* name, const char* key, const char* help) {
    command.add_option_function<std::string>(
        name, [&option, key](const std::string& value) { option.flags[key] = value; }, help);
  };
  flag("--llm-provider", "llm.provider",
       "Chat model provider: openai (any compatible) or anthropic");
  flag("--llm-base-url", "llm.base_url", "Chat endpoint, e.g. http://localhost:11434/v1");
  flag("--llm-model", "llm.model",
       "Chat model that segments and writes episodes (default: $NEMORI_LLM_MODEL; none: "
       "LLM-free)");
  flag("--embedding-base-url", "embedding.base_url", "Embedding endpoint (OpenAI-compatible)");
  flag("--embedding-model", "embedding.model",
       "Embedding model (default: $NEMORI_EMBEDDING_MODEL; none: BM25 only)");
  flag("--embedding-dimension", "embedding.dimension", "Embedding dimension to request");
}

void configure_llm(MemoryConfig& config, const LlmOption& llm) {
  config.llm = make_llm_clients(llm.load());
}

MemoryConfig memory_config(const StorageOption& storage, const LlmOption& llm) {
  MemoryConfig config;
  config.storage = parse_storage_url(storage.resolved());
  configure_llm(config, llm);
  return config;
}

nlohmann::json llm_models_json(const LlmConfig& config) {
  const auto chat = config.has_chat() ? nlohmann::json{{"model", config.chat.model},
                                                       {"provider", config.chat.provider},
                                                       {"base_url", config.chat.base_url}}
                                      : nlohmann::json(nullptr);
  return {
      {"mode", config.has_chat() || config.has_embedding() ? "llm" : "LLM-free"},
      {"segmentation", chat},
      {"episode", chat},
      {"embedding", config.has_embedding() ? nlohmann::json{{"model", config.embedding.model},
                                                            {"provider", "openai"},
                                                            {"base_url", config.embedding.base_url}}
                                           : nlohmann::json(nullptr)}};
}

void print_llm_models(const LlmConfig& config, int width) {
  if (!config.has_chat() && !config.has_embedding()) {
    std::printf("%-*s LLM-free (heuristic segmentation, extractive episodes, BM25 search)\n", width,
                "models");
    return;
  }
  const auto describe = [](const std::string& model, const std::string& provider,
                           const std::string& url) {
    return model + " (" + provider + ", " + mask_password(url) + ")";
  };
  const std::string chat =
      config.has_chat() ? describe(config.chat.model, config.chat.provider, config.chat.base_url)
                        : std::string("none (heuristic segmentation, extractive episodes)");
  std::printf("%-*s %s\n", width, "segmentation", chat.c_str());
  std::printf("%-*s %s\n", width, "episode writer", chat.c_str());
  std::printf("%-*s %s\n", width, "embedding",
              config.has_embedding()
                  ? describe(config.embedding.model, "openai", config.embedding.base_url).c_str()
                  : "none (BM25 search only)");
}

nlohmann::json llm_usage_json(const LlmStats& stats) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [phase, p] : stats.snapshot()) {
    out[phase] = {{"calls", p.calls},
                  {"retries", p.retries},
                  {"errors", p.errors},
                  {"invalid_answers", p.invalid_answers},
                  {"fallbacks", p.fallbacks},
                  {"prompt_tokens", p.prompt_tokens},
                  {"completion_tokens", p.completion_tokens},
                  {"wall_ms", p.wall_ms}};
  }
  return out;
}

std::vector<std::string> in_pipeline_order(std::vector<std::string> phases) {
  const auto rank = [](const std::string& phase) {
    return phase == "segmentation" ? 0 : phase == "episode" ? 1 : phase == "embedding" ? 2 : 3;
  };
  std::sort(phases.begin(), phases.end(), [&](const std::string& a, const std::string& b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
  });
  return phases;
}

void print_llm_usage(const LlmClients& llm) {
  if ((!llm.chat && !llm.embedder) || !llm.stats) return;
  const auto phases = llm.stats->snapshot();  // empty when nothing was called
  std::vector<std::string> names;
  for (const auto& [phase, p] : phases) names.push_back(phase);
  for (const std::string& phase : in_pipeline_order(names)) {
    const PhaseStats& p = phases.at(phase);
    std::printf(
        "llm %s: %llu calls, %llu tokens (%llu prompt + %llu completion), %llu retries, %llu "
        "errors, %llu invalid answers, %llu fallbacks\n",
        phase.c_str(), static_cast<unsigned long long>(p.calls),
        static_cast<unsigned long long>(p.prompt_tokens + p.completion_tokens),
        static_cast<unsigned long long>(p.prompt_tokens),
        static_cast<unsigned long long>(p.completion_tokens),
        static_cast<unsigned long long>(p.retries), static_cast<unsigned long long>(p.errors),
        static_cast<unsigned long long>(p.invalid_answers),
        static_cast<unsigned long long>(p.fallbacks));
  }
}

const CLI::Validator& at_least_one() {
  static const CLI::Validator check(
      [](std::string& value) -> std::string {
        std::size_t used = 0;
        unsigned long long n = 0;
        try {
          n = std::stoull(value, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != value.size() || value.find('-') != std::string::npos) {
          return "must be a whole number of at least 1 (got \"" + value + "\")";
        }
        if (n < 1) return "must be at least 1 (got " + value + ")";
        return {};
      },
      "N>=1");
  return check;
}

const CLI::Validator& owner_id_check() {
  static const CLI::Validator check(
      [](std::string& value) -> std::string {
        if (value.find_first_not_of(" \t\r\n\v\f") == std::string::npos) {
          return "an owner id must not be empty or only white space (got \"" + value + "\")";
        }
        return {};
      },
      "OWNER");
  return check;
}

CLI::Validator one_of(std::vector<std::string> valid) {
  std::string names;
  for (const auto& v : valid) names += (names.empty() ? "" : ", ") + v;
  return CLI::Validator(
      [valid = std::move(valid), names](std::string& value) -> std::string {
        for (const auto& v : valid) {
          if (v == value) return {};
        }
        return "unknown value \"" + value + "\" (valid: " + names + ")";
      },
      "{" + names + "}");
}

bool is_ephemeral(const std::string& url) {
  return url.rfind("memory:", 0) == 0;
}

void note_if_ephemeral(const std::string& url, const std::string& what) {
  if (!is_ephemeral(url)) return;
  std::fprintf(stderr,
               "nemori: note: %s went into memory://, which ends with this command: nothing "
               "was kept (use --storage duckdb:///path/file.duckdb or postgresql://... to keep "
               "it)\n",
               what.c_str());
}

Action& chosen_action() {
  static Action action;
  return action;
}

void set_action(CLI::App& command, Action action) {
  command.callback([action = std::move(action)] { chosen_action() = action; });
}

bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

int embedding_model_required(const std::string& what) {
  std::fprintf(stderr,
               "nemori: usage error: %s needs an embedding model (set NEMORI_EMBEDDING_MODEL and "
               "NEMORI_EMBEDDING_BASE_URL, or pass --embedding-model and --embedding-base-url; "
               "docs/llm.md)\n",
               what.c_str());
  return 2;
}

void show_progress(const std::string& label, std::size_t done, std::size_t total) {
  if (!stderr_is_terminal()) return;
  constexpr int kWidth = 30;
  const double share = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(share * kWidth);
  std::fprintf(stderr, "\r%s [%.*s%*s] %zu/%zu", label.c_str(), filled,
               "##############################", kWidth - filled, "", done, total);
  if (done >= total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

namespace {

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// A stream buffer writing to a file descriptor, keeping the first write error (errno) so that
// a full disk or a closed pipe is reported as such.
class FdWriteBuf : public std::streambuf {
 public:
  explicit FdWriteBuf(int fd) : fd_(fd), buffer_(1 << 16) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  int error() const { return error_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    if (error_ != 0) return false;
    const char* p = pbase();
    while (p < pptr()) {
      const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      p += n;
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return true;
  }

  int fd_;
  std::vector<char> buffer_;
  int error_ = 0;
};

// Closes a descriptor on scope exit unless released.
struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Runs `write` into `fd`, flushes, and throws StorageError naming `path` on any write error.
void write_to_fd(int fd, const std::string& path, const std::function<void(std::ostream&)>& write) {
  FdWriteBuf buffer(fd);
  std::ostream out(&buffer);
  write(out);
  out.flush();
  if (!out || buffer.error() != 0) {
    throw StorageError(path + ": write failed: " +
                       (buffer.error() != 0 ? errno_text(buffer.error()) : "stream error"));
  }
}

// fsync, retried on EINTR; throws StorageError naming `what`.
void sync_fd(int fd, const std::string& what) {
  while (::fsync(fd) != 0) {
    if (errno == EINTR) continue;
    throw StorageError(what + ": fsync failed: " + errno_text(errno));
  }
}

// Writes through to a FIFO or character device (a pipe, /dev/stdout, a terminal, /dev/null,
// /dev/full): there is nothing to replace atomically, and replacing it would be wrong.
void write_through(const std::string& path, const std::function<void(std::ostream&)>& write) {
  FdCloser fd{::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY)};
  if (fd.fd < 0) throw ValidationError(path + ": cannot write: " + errno_text(errno));
  write_to_fd(fd.fd, path, write);
  // Devices and pipes mostly cannot be synced (EINVAL); one that can, is.
  if (::fsync(fd.fd) != 0 && errno != EINVAL && errno != ENOTSUP && errno != EROFS) {
    throw StorageError(path + ": fsync failed: " + errno_text(errno));
  }
  const int fd_to_close = fd.fd;
  fd.fd = -1;
  if (::close(fd_to_close) != 0) throw StorageError(path + ": close failed: " + errno_text(errno));
}

}  // namespace

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  namespace fs = std::filesystem;
  if (path.empty()) throw ValidationError("output path: must not be empty");
  struct stat st {};
  mode_t mode = 0666;
  bool exists = false;
  if (::stat(path.c_str(), &st) == 0) {  // follows symbolic links
    exists = true;
    if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
      write_through(path, write);
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      const char* kind = S_ISDIR(st.st_mode)    ? "a directory"
                         : S_ISBLK(st.st_mode)  ? "a block device"
                         : S_ISSOCK(st.st_mode) ? "a socket"
                                                : "not a regular file";
      throw ValidationError(path + ": is " + std::string(kind) +
                            "; refusing to write over it (give a file path, or a FIFO or "
                            "character device such as /dev/stdout to write through)");
    }
    mode = st.st_mode & 07777;
  } else if (errno != ENOENT) {
    throw ValidationError(path + ": cannot write: " + errno_text(errno));
  }
  // A symbolic link is followed: its target (a regular file, or none yet) is what gets
  // replaced, and the link stays a link.
  fs::path resolved(path);
  std::error_code ec;
  for (int hops = 0; fs::is_symlink(resolved, ec); ++hops) {
    if (hops == 40) throw ValidationError(path + ": too many levels of symbolic links");
    const fs::path next = fs::read_symlink(resolved, ec);
    if (ec) throw ValidationError(path + ": cannot read the symbolic link: " + ec.message());
    resolved = next.is_absolute() ? next : resolved.parent_path() / next;
  }
  const std::string target = resolved.string();
  // A new file next to the target, filled, synced, then renamed over it; then the directory
  // is synced so that the rename itself survives a crash.
  const fs::path target_path(target);
  const fs::path dir = target_path.has_parent_path() ? target_path.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target_path.filename().string() + ".partial-XXXXXX")).string();
  FdCloser fd{::mkstemp(tmp.data())};
  if (fd.fd < 0) throw ValidationError(path + ": cannot write: " + errno_text(errno));
  try {
    // mkstemp creates 0600; give the file the mode the old one had (or the usual 0666 - umask).
    if (!exists) {
      const mode_t mask = ::umask(0);
      ::umask(mask);
      mode = 0666 & ~mask;
    }
    if (::fchmod(fd.fd, mode) != 0)
      throw StorageError(path + ": cannot set the file mode: " + errno_text(errno));
    write_to_fd(fd.fd, path, write);
    sync_fd(fd.fd, path);
    const int fd_to_close = fd.fd;
    fd.fd = -1;
    if (::close(fd_to_close) != 0)
      throw StorageError(path + ": close failed: " + errno_text(errno));
    if (::rename(tmp.c_str(), target.c_str()) != 0)
      throw StorageError(path + ": cannot replace the file: " + errno_text(errno));
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
  FdCloser dir_fd{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir_fd.fd < 0) {
    throw StorageError(
        path + ": written, but its directory cannot be opened to sync it: " + errno_text(errno));
  }
  sync_fd(dir_fd.fd, dir.string() + " (the directory of " + path + ")");
}

}  // namespace nemori::cli
