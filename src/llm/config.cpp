#include "nemori/llm/config.h"

#include <toml++/toml.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <vector>

#include "llm/wire.h"
#include "nemori/core/error.h"
#include "nemori/llm/anthropic.h"
#include "nemori/llm/openai.h"

namespace nemori {

namespace {

enum class Type { kString, kNumber, kInt, kBool };

struct KeySpec {
  const char* key;  // "llm.model"
  Type type;
  bool secret;
  std::vector<const char*> nemori_env;    // tier 2
  std::vector<const char*> original_env;  // tier 3
};

const std::vector<KeySpec>& key_specs() {
  static const std::vector<KeySpec> specs = {
      {"llm.provider", Type::kString, false, {"NEMORI_LLM_PROVIDER"}, {}},
      {"llm.base_url", Type::kString, false, {"NEMORI_LLM_BASE_URL"}, {"LLM_BASE_URL"}},
      {"llm.model", Type::kString, false, {"NEMORI_LLM_MODEL"}, {}},
      {"llm.api_key", Type::kString, true, {"NEMORI_LLM_API_KEY"}, {"LLM_API_KEY"}},
      {"llm.reasoning_model", Type::kBool, false, {}, {}},
      {"llm.timeout_seconds", Type::kNumber, false, {}, {}},
      {"llm.connect_timeout_seconds", Type::kNumber, false, {}, {}},
      {"llm.max_retries", Type::kInt, false, {}, {}},
      {"llm.max_concurrency", Type::kInt, false, {}, {}},
      {"llm.token_budget", Type::kInt, false, {}, {}},
      {"embedding.base_url",
       Type::kString,
       false,
       {"NEMORI_EMBEDDING_BASE_URL"},
       {"EMBEDDING_BASE_URL"}},
      {"embedding.model", Type::kString, false, {"NEMORI_EMBEDDING_MODEL"}, {}},
      {"embedding.api_key",
       Type::kString,
       true,
       {"NEMORI_EMBEDDING_API_KEY"},
       {"EMBEDDING_API_KEY"}},
      {"embedding.dimension", Type::kInt, false, {"NEMORI_EMBEDDING_DIMENSION"}, {}},
      {"embedding.batch_size", Type::kInt, false, {}, {}},
      {"embedding.timeout_seconds", Type::kNumber, false, {}, {}},
      {"embedding.connect_timeout_seconds", Type::kNumber, false, {}, {}},
      {"embedding.max_retries", Type::kInt, false, {}, {}},
      {"embedding.max_concurrency", Type::kInt, false, {}, {}},
      {"embedding.token_budget", Type::kInt, false, {}, {}},
  };
  return specs;
}

const KeySpec* spec_of(const std::string& key) {
  for (const auto& s : key_specs()) {
    if (key == s.key) return &s;
  }
  return nullptr;
}

// One value with where it came from, for messages.
struct Raw {
  std::string text;
  std::string source;
};

class Resolver {
 public:
  explicit Resolver(const LlmConfigSources& sources) : sources_(sources) {
    getenv_ = sources.getenv ? sources.getenv
                             : [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
    };
    for (const auto& [key, value] : sources.flags) {
      if (spec_of(key) == nullptr) throw ConfigError(key + ": unknown key (flag)");
    }
    if (sources.file) load_file(*sources.file);
  }

  // The highest-precedence value of `key`, tiers 1-5.
  std::optional<Raw> get(const std::string& key,
                         const std::vector<const char*>& provider_env = {}) const {
    const KeySpec& spec = *spec_of(key);
    if (auto it = sources_.flags.find(key); it != sources_.flags.end()) {
      return Raw{it->second, "flag " + key};
    }
    for (const auto* list : {&spec.nemori_env, &spec.original_env}) {
      for (const char* name : *list) {
        if (auto v = env(name)) return Raw{*v, std::string("environment variable ") + name};
      }
    }
    if (auto it = file_values_.find(key); it != file_values_.end()) return it->second;
    for (const char* name : provider_env) {
      if (auto v = env(name)) return Raw{*v, std::string("environment variable ") + name};
    }
    return std::nullopt;
  }

  std::optional<std::string> env(const std::string& name) const {
    auto v = getenv_(name);
    if (v && v->empty()) return std::nullopt;
    return v;
  }

 private:
  void load_file(const std::filesystem::path& path) {
    const std::string where = "config file " + path.string();
    toml::table root;
    try {
      root = toml::parse_file(path.string());
    } catch (const toml::parse_error& e) {
      std::ostringstream msg;
      msg << where << ": line " << e.source().begin.line << ": " << e.description();
      throw ConfigError(msg.str());
    }
    for (const auto& [table_key, node] : root) {
      const std::string table(table_key.str());
      if (table == "prompts") {
        load_prompts(node, path, where);
        continue;
      }
      if (table != "llm" && table != "embedding") {
        // Other tables belong to other parts of nemori's configuration.
        continue;
      }
      const auto* t = node.as_table();
      if (t == nullptr)
        throw ConfigError(table + ": must be a table ([" + table + "]) (" + where + ")");
      for (const auto& [k, v] : *t) {
        const std::string key = table + "." + std::string(k.str());
        const KeySpec* spec = spec_of(key);
        if (spec == nullptr) throw ConfigError(key + ": unknown key (" + where + ")");
        std::string text;
        if (auto s = v.value<std::string>(); s && v.is_string()) {
          text = *s;
        } else if (spec->type == Type::kString) {
          throw ConfigError(key + ": must be a string (" + where + ")");
        } else if (v.is_integer()) {
          text = std::to_string(*v.value<std::int64_t>());
        } else if (v.is_floating_point()) {
          std::ostringstream out;
          out.precision(17);
          out << *v.value<double>();
          text = out.str();
        } else if (v.is_boolean()) {
          text = *v.value<bool>() ? "true" : "false";
        } else {
          throw ConfigError(key + ": must be a " +
                            (spec->type == Type::kBool ? "boolean" : "number") + " (" + where +
                            ")");
        }
        file_values_[key] = Raw{text, where};
      }
    }
  }

  // [prompts]: name = "file"; each file is read now, so a missing one fails at start.
  void load_prompts(const toml::node& node, const std::filesystem::path& config_path,
                    const std::string& where) {
    const auto* t = node.as_table();
    if (t == nullptr) throw ConfigError("prompts: must be a table ([prompts]) (" + where + ")");
    for (const auto& [k, v] : *t) {
      const std::string name(k.str());
      const std::string key = "prompts." + name;
      if (name != "segmentation" && name != "episode")
        throw ConfigError(key + ": unknown prompt (there are: episode, segmentation) (" + where +
                          ")");
      const auto file = v.value<std::string>();
      if (!v.is_string() || !file || file->empty())
        throw ConfigError(key + ": must be the path of a text file (" + where + ")");
      std::filesystem::path prompt_path(*file);
      if (prompt_path.is_relative()) prompt_path = config_path.parent_path() / prompt_path;
      std::ifstream in(prompt_path, std::ios::binary);
      if (!in || std::filesystem::is_directory(prompt_path)) {
        throw ConfigError(key + ": cannot read " + prompt_path.string() + " (" + where + ")");
      }
      prompts_[name].assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
  }

 public:
  /// The prompt texts the file named.
  const std::map<std::string, std::string>& prompts() const { return prompts_; }

 private:
  std::map<std::string, std::string> prompts_;
  const LlmConfigSources& sources_;
  std::function<std::optional<std::string>(const std::string&)> getenv_;
  std::map<std::string, Raw> file_values_;
};

[[noreturn]] void invalid(const std::string& key, const Raw& raw, const std::string& reason) {
  const KeySpec* spec = spec_of(key);
  std::string got = spec != nullptr && spec->secret ? "" : ", got \"" + raw.text + "\"";
  throw ConfigError(key + ": " + reason + " (" + raw.source + got + ")");
}

double parse_positive(const std::string& key, const Raw& raw) {
  double value = 0;
  std::size_t used = 0;
  try {
    value = std::stod(raw.text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != raw.text.size() || !std::isfinite(value) || value <= 0) {
    invalid(key, raw, "must be a positive number");
  }
  return value;
}

long long parse_int(const std::string& key, const Raw& raw, long long lo, long long hi) {
  long long value = 0;
  std::size_t used = 0;
  try {
    value = std::stoll(raw.text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != raw.text.size() || value < lo || value > hi) {
    invalid(key, raw,
            "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi));
  }
  return value;
}

bool parse_bool(const std::string& key, const Raw& raw) {
  if (raw.text == "true" || raw.text == "1" || raw.text == "yes") return true;
  if (raw.text == "false" || raw.text == "0" || raw.text == "no") return false;
  invalid(key, raw, "must be true or false");
}

EndpointLimits load_limits(const Resolver& r, const std::string& table) {
  EndpointLimits limits;
  const std::string t = table + ".";
  if (auto v = r.get(t + "timeout_seconds"))
    limits.timeout_seconds = parse_positive(t + "timeout_seconds", *v);
  if (auto v = r.get(t + "connect_timeout_seconds")) {
    limits.connect_timeout_seconds = parse_positive(t + "connect_timeout_seconds", *v);
  }
  if (auto v = r.get(t + "max_retries"))
    limits.max_retries = static_cast<int>(parse_int(t + "max_retries", *v, 0, 10));
  if (auto v = r.get(t + "max_concurrency")) {
    limits.max_concurrency = static_cast<int>(parse_int(t + "max_concurrency", *v, 1, 256));
  }
  if (auto v = r.get(t + "token_budget")) {
    limits.token_budget =
        static_cast<std::uint64_t>(parse_int(t + "token_budget", *v, 1, INT64_MAX));
  }
  return limits;
}

std::string checked_url(const std::string& key, const Raw& raw) {
  try {
    return wire::check_base_url(key, raw.text);
  } catch (const ConfigError&) {
    invalid(key, raw, "must be an http:// or https:// URL, e.g. https://api.openai.com/v1");
  }
}

bool is_official(const std::string& url, const char* host) {
  return url.rfind(std::string("https://") + host, 0) == 0;
}

HttpOptions http_for(const EndpointLimits& limits, const HttpOptions& base) {
  HttpOptions http = base;
  http.total_timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil(limits.timeout_seconds * 1000)));
  http.connect_timeout = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil(limits.connect_timeout_seconds * 1000)));
  http.max_retries = limits.max_retries;
  http.max_concurrency = static_cast<std::size_t>(limits.max_concurrency);
  http.token_budget = limits.token_budget;
  return http;
}

}  // namespace

LlmConfig load_llm_config(const LlmConfigSources& sources) {
  Resolver r(sources);
  LlmConfig config;
  config.prompts = r.prompts();

  ChatConfig& chat = config.chat;
  if (auto v = r.get("llm.provider")) {
    if (v->text != "openai" && v->text != "anthropic")
      invalid("llm.provider", *v, "must be \"openai\" or \"anthropic\"");
    chat.provider = v->text;
  }
  const bool anthropic = chat.provider == "anthropic";
  if (auto v = r.get("llm.model")) chat.model = v->text;
  if (auto v = r.get("llm.base_url", anthropic ? std::vector<const char*>{}
                                               : std::vector<const char*>{"OPENAI_BASE_URL"})) {
    chat.base_url = checked_url("llm.base_url", *v);
  } else {
    chat.base_url = anthropic ? "https://api.anthropic.com" : "https://api.openai.com/v1";
  }
  if (auto v = r.get("llm.api_key", {anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY"}))
    chat.api_key = v->text;
  if (auto v = r.get("llm.reasoning_model"))
    chat.reasoning_model = parse_bool("llm.reasoning_model", *v);
  chat.limits = load_limits(r, "llm");
  if (config.has_chat() && chat.api_key.empty() &&
      (is_official(chat.base_url, "api.openai.com") ||
       is_official(chat.base_url, "api.anthropic.com"))) {
    throw ConfigError(std::string("llm.api_key: required by ") + chat.base_url +
                      "; set NEMORI_LLM_API_KEY or " +
                      (anthropic ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY") +
                      ", or point llm.base_url at a local server");
  }

  EmbeddingConfig& emb = config.embedding;
  if (auto v = r.get("embedding.model")) emb.model = v->text;
  if (auto v = r.get("embedding.base_url", {"OPENAI_BASE_URL"})) {
    emb.base_url = checked_url("embedding.base_url", *v);
  } else {
    emb.base_url = "https://api.openai.com/v1";
  }
  if (auto v = r.get("embedding.api_key", {"OPENAI_API_KEY"})) emb.api_key = v->text;
  if (auto v = r.get("embedding.dimension")) {
    emb.dimension = static_cast<std::size_t>(parse_int("embedding.dimension", *v, 1, 65536));
  }
  if (auto v = r.get("embedding.batch_size")) {
    emb.batch_size = static_cast<std::size_t>(parse_int("embedding.batch_size", *v, 1, 2048));
  }
  emb.limits = load_limits(r, "embedding");
  if (config.has_embedding() && emb.api_key.empty() &&
      is_official(emb.base_url, "api.openai.com")) {
    throw ConfigError(
        "embedding.api_key: required by " + emb.base_url +
        "; set NEMORI_EMBEDDING_API_KEY or OPENAI_API_KEY, or point embedding.base_url at a "
        "local server");
  }
  return config;
}

LlmClients make_llm_clients(const LlmConfig& config, std::shared_ptr<LlmStats> stats,
                            const HttpOptions& base_http) {
  LlmClients clients;
  clients.stats = stats ? std::move(stats) : std::make_shared<LlmStats>();
  clients.prompts = config.prompts;
  if (config.has_chat()) {
    if (config.chat.provider == "anthropic") {
      AnthropicChatOptions o;
      o.base_url = config.chat.base_url;
      o.model = config.chat.model;
      o.api_key = config.chat.api_key;
      o.http = http_for(config.chat.limits, base_http);
      clients.chat = std::make_shared<AnthropicChatClient>(std::move(o), clients.stats);
    } else {
      OpenAiChatOptions o;
      o.base_url = config.chat.base_url;
      o.model = config.chat.model;
      o.api_key = config.chat.api_key;
      o.reasoning_model = config.chat.reasoning_model;
      o.http = http_for(config.chat.limits, base_http);
      clients.chat = std::make_shared<OpenAiChatClient>(std::move(o), clients.stats);
    }
  }
  if (config.has_embedding()) {
    OpenAiEmbeddingOptions o;
    o.base_url = config.embedding.base_url;
    o.model = config.embedding.model;
    o.api_key = config.embedding.api_key;
    o.dimension = config.embedding.dimension;
    o.batch_size = config.embedding.batch_size;
    o.http = http_for(config.embedding.limits, base_http);
    clients.embedder = std::make_shared<OpenAiEmbedder>(std::move(o), clients.stats);
  }
  return clients;
}

}  // namespace nemori
