// A fresh store per benchmark run: a temporary DuckDB file, or a schema of its own on the
// PostgreSQL test server (NEMORI_TEST_POSTGRES_URL), removed by cleanup().
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "nemori/storage/config.h"

namespace nemori::bench {

struct Store {
  StorageConfig config;
  std::filesystem::path file;
  std::string drop;
  void cleanup() const {
    if (!file.empty()) {
      std::filesystem::remove(file);
      std::filesystem::remove(file.string() + ".wal");
    }
    if (!drop.empty() && std::system(drop.c_str()) != 0)
      std::fprintf(stderr, "%s failed\n", drop.c_str());
  }
};

/// A fresh store of `backend` ("memory", "duckdb", "postgresql") named after `program` and
/// `tag`; nullopt when PostgreSQL is asked for and NEMORI_TEST_POSTGRES_URL is not set.
inline std::optional<Store> make_store(const std::string& backend, const std::string& program,
                                       const std::string& tag) {
  Store s;
  s.config.backend = backend;
  const std::string name = program + "_" + std::to_string(::getpid()) + "_" + tag;
  if (backend == "duckdb") {
    s.file = std::filesystem::temp_directory_path() / ("nemori_" + name + ".duckdb");
    std::filesystem::remove(s.file);
    s.config.path = s.file.string();
  } else if (backend == "postgresql") {
    const char* url = std::getenv("NEMORI_TEST_POSTGRES_URL");
    if (url == nullptr || *url == '\0') return std::nullopt;
    s.config.url = url;
    s.config.schema = name;
    s.drop = "psql -q '" + std::string(url) + "' -c 'DROP SCHEMA IF EXISTS " + s.config.schema +
             " CASCADE' >/dev/null 2>&1";
  }
  return s;
}

}  // namespace nemori::bench
