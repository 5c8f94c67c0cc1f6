// API keys of the REST server: bearer tokens, each with a scope.
//
// A scope is `admin` (every route, store-wide ones included), `*` (every owner's routes),
// `PREFIX*` (the routes of every owner whose id starts with PREFIX, e.g. `agent-7:*`), or an
// owner id (that owner's routes only). Keys are compared in constant time and never appear in
// an error message or a log line.
//
// Thread safety: a const ApiKeys may be used from any number of threads at once.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nemori {

/// What a key may reach.
struct KeyScope {
  /// `admin`, `*`, `PREFIX*` or an owner id, as written.
  std::string text;
  /// True for `admin`: store-wide routes and every owner.
  bool admin() const { return text == "admin"; }
  /// True when the scope reaches `owner_id`'s routes.
  bool covers(std::string_view owner_id) const;
};

/// The configured keys.
class ApiKeys {
 public:
  ApiKeys() = default;
  /// Parses `KEY=SCOPE` pairs separated by commas (white space around each part ignored), the
  /// form of NEMORI_API_KEYS. Throws ConfigError naming the pair by position (never the key)
  /// on a pair without `=`, an empty key or scope, a key shorter than 16 characters, or a key
  /// given twice. Empty text gives no keys.
  static ApiKeys parse(std::string_view text);
  /// Adds one key. Throws ConfigError as parse().
  void add(std::string_view key, std::string_view scope);
  /// True when no key is configured.
  bool empty() const { return keys_.empty(); }
  /// How many keys are configured.
  std::size_t size() const { return keys_.size(); }
  /// The scope of `presented`, or nullopt when it matches no key. Takes the same time whatever
  /// key is presented and whichever key (if any) it matches: SHA-256 digests of every key are
  /// compared, each in full.
  std::optional<KeyScope> scope_of(std::string_view presented) const;

 private:
  struct Entry {
    std::array<std::uint8_t, 32> digest;
    KeyScope scope;
  };
  std::vector<Entry> keys_;
};

}  // namespace nemori
