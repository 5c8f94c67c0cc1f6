// Small helpers shared by the wire-format code of the llm clients.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "nemori/llm/stats.h"

namespace nemori::wire {

/// The member `key` of `object`, or null when `object` is not an object or has no such key.
inline const nlohmann::json* find(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

/// usage.<prompt_key> and usage.<completion_key> when they are non-negative integers, else 0.
inline TokenUsage usage(const nlohmann::json& answer, const char* prompt_key,
                        const char* completion_key) {
  TokenUsage u;
  if (const auto* usage = find(answer, "usage")) {
    if (const auto* p = find(*usage, prompt_key); p != nullptr && p->is_number_unsigned()) {
      u.prompt_tokens = p->get<std::uint64_t>();
    }
    if (const auto* c = find(*usage, completion_key); c != nullptr && c->is_number_unsigned()) {
      u.completion_tokens = c->get<std::uint64_t>();
    }
  }
  return u;
}

/// `url` without trailing '/'; throws ConfigError naming `key` unless it is http(s)://host...
std::string check_base_url(const std::string& key, const std::string& url);

}  // namespace nemori::wire
