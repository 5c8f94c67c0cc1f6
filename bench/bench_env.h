// Settings of the benchmark programs, read from the environment.
#pragma once

#include <cstddef>
#include <cstdlib>

namespace nemori::bench {

/// The unsigned number in environment variable `name`, or `fallback` when it is unset or empty.
inline std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return static_cast<std::size_t>(std::strtoull(v, nullptr, 10));
}

}  // namespace nemori::bench
