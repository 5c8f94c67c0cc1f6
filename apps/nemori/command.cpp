#include "command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

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

void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write) {
  const std::string tmp = path + ".partial";
  try {
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw ValidationError(path + ": cannot write");
      write(out);
      out.flush();
      if (!out) throw StorageError(path + ": write failed (disk full?)");
    }
    std::filesystem::rename(tmp, path);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
}

}  // namespace nemori::cli
