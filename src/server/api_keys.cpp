// API keys: parsing NEMORI_API_KEYS and constant-time lookup.
#include "nemori/server/api_keys.h"

#include <algorithm>

#include "nemori/core/error.h"
#include "nemori/core/sha256.h"
#include "nemori/core/utf8.h"

namespace nemori {

namespace {

constexpr std::size_t kMinKeyLength = 16;

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::array<std::uint8_t, 32> digest_of(std::string_view key) {
  Sha256 sha;
  sha.update(key);
  return sha.digest();
}

}  // namespace

bool KeyScope::covers(std::string_view owner_id) const {
  if (admin() || text == "*") return true;
  if (text.size() > 1 && text.back() == '*') {
    const std::string_view prefix(text.data(), text.size() - 1);
    return owner_id.substr(0, prefix.size()) == prefix;
  }
  return owner_id == text;
}

void ApiKeys::add(std::string_view key, std::string_view scope) {
  const std::string where = "API key " + std::to_string(keys_.size() + 1);
  if (key.empty()) throw ConfigError(where + ": the key is empty (the form is KEY=SCOPE)");
  if (key.size() < kMinKeyLength) {
    throw ConfigError(where + ": the key is shorter than " + std::to_string(kMinKeyLength) +
                      " characters (use a random one, e.g. `openssl rand -hex 24`)");
  }
  if (scope.empty()) {
    throw ConfigError(where + ": the scope is empty (admin, *, an owner id, or PREFIX*)");
  }
  if (!is_valid_text(key) || !is_valid_text(scope)) {
    throw ConfigError(where + ": not valid UTF-8 text");
  }
  const auto digest = digest_of(key);
  for (const auto& entry : keys_) {
    if (entry.digest == digest) throw ConfigError(where + ": the same key is given twice");
  }
  keys_.push_back({digest, KeyScope{std::string(scope)}});
}

ApiKeys ApiKeys::parse(std::string_view text) {
  ApiKeys keys;
  if (trim(text).empty()) return keys;
  std::size_t from = 0;
  for (;;) {
    const std::size_t comma = text.find(',', from);
    const std::string_view pair =
        trim(text.substr(from, comma == std::string_view::npos ? text.npos : comma - from));
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) {
      throw ConfigError("API key " + std::to_string(keys.size() + 1) +
                        ": expected KEY=SCOPE (pairs separated by commas)");
    }
    keys.add(trim(pair.substr(0, eq)), trim(pair.substr(eq + 1)));
    if (comma == std::string_view::npos) break;
    from = comma + 1;
  }
  return keys;
}

std::optional<KeyScope> ApiKeys::scope_of(std::string_view presented) const {
  const auto digest = digest_of(presented);
  const Entry* found = nullptr;
  for (const auto& entry : keys_) {
    std::uint8_t difference = 0;
    for (std::size_t i = 0; i < digest.size(); ++i) difference |= digest[i] ^ entry.digest[i];
    // Branch-free selection: every entry is compared in full whatever matched before.
    const bool same = difference == 0;
    found = same ? &entry : found;
  }
  if (found == nullptr) return std::nullopt;
  return found->scope;
}

}  // namespace nemori
