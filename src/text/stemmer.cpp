#include "nemori/text/stemmer.h"

#include <libstemmer.h>

#include <memory>
#include <mutex>
#include <unordered_map>

#include "nemori/core/error.h"

namespace nemori {

namespace {

constexpr std::size_t kMaxWordBytes = 64;
constexpr std::size_t kCacheEntries = 1 << 16;  // per thread and language; cleared when full

// Languages handed out so far; a Stemmer stores its index into this list.
std::mutex g_languages_mutex;
std::vector<std::string>& registered_languages() {
  static std::vector<std::string> languages;
  return languages;
}

std::size_t register_language(const std::string& language) {
  std::lock_guard lock(g_languages_mutex);
  auto& languages = registered_languages();
  for (std::size_t i = 0; i < languages.size(); ++i) {
    if (languages[i] == language) return i;
  }
  languages.push_back(language);
  return languages.size() - 1;
}

std::string language_name(std::size_t slot) {
  std::lock_guard lock(g_languages_mutex);
  return registered_languages()[slot];
}

struct SbDeleter {
  void operator()(sb_stemmer* s) const { sb_stemmer_delete(s); }
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept {
    return std::hash<std::string_view>{}(s);
  }
};

// One thread's stemmer for one language, with a cache of recent words.
struct ThreadStemmer {
  std::unique_ptr<sb_stemmer, SbDeleter> stemmer;
  std::unordered_map<std::string, std::string, StringHash, std::equal_to<>> cache;
};

ThreadStemmer& thread_stemmer(std::size_t slot) {
  thread_local std::vector<std::unique_ptr<ThreadStemmer>> table;
  if (slot >= table.size()) table.resize(slot + 1);
  auto& entry = table[slot];
  if (!entry) {
    entry = std::make_unique<ThreadStemmer>();
    entry->stemmer.reset(sb_stemmer_new(language_name(slot).c_str(), nullptr));
    if (!entry->stemmer) throw std::bad_alloc();  // the language was checked on construction
    entry->cache.reserve(1024);
  }
  return *entry;
}

}  // namespace

Stemmer::Stemmer(std::string_view language) : language_(language) {
  std::unique_ptr<sb_stemmer, SbDeleter> probe(sb_stemmer_new(language_.c_str(), nullptr));
  if (!probe) {
    std::string list;
    for (const auto& l : languages()) list += (list.empty() ? "" : ", ") + l;
    throw ConfigError("stemmer language '" + language_ + "' is not available; use one of: " + list);
  }
  slot_ = register_language(language_);
}

std::string Stemmer::stem(std::string_view word) const {
  std::string out(word);
  stem_in_place(out);
  return out;
}

void Stemmer::stem_in_place(std::string& word) const {
  if (word.empty() || word.size() > kMaxWordBytes) return;
  ThreadStemmer& ts = thread_stemmer(slot_);
  if (auto it = ts.cache.find(std::string_view(word)); it != ts.cache.end()) {
    word = it->second;
    return;
  }
  const sb_symbol* stemmed =
      sb_stemmer_stem(ts.stemmer.get(), reinterpret_cast<const sb_symbol*>(word.data()),
                      static_cast<int>(word.size()));
  if (stemmed == nullptr) return;  // out of memory inside libstemmer: keep the word
  std::string result(reinterpret_cast<const char*>(stemmed),
                     static_cast<std::size_t>(sb_stemmer_length(ts.stemmer.get())));
  if (ts.cache.size() >= kCacheEntries) ts.cache.clear();
  ts.cache.emplace(word, result);
  word = std::move(result);
}

std::vector<std::string> Stemmer::languages() {
  std::vector<std::string> out;
  for (const char** l = sb_stemmer_list(); *l != nullptr; ++l) out.emplace_back(*l);
  return out;
}

}  // namespace nemori
