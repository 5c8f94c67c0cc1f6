// LLM and embedding configuration: one struct, loaded from flags, environment, a TOML file and
// defaults, in this order of precedence (the first source that sets a key wins):
//
//   1. flags            dotted keys, e.g. {"llm.model", "gpt-4o-mini"} (the CLI maps its flags)
//   2. nemori's env     NEMORI_LLM_BASE_URL, NEMORI_LLM_MODEL, NEMORI_LLM_API_KEY,
//                       NEMORI_LLM_PROVIDER, NEMORI_EMBEDDING_BASE_URL, NEMORI_EMBEDDING_MODEL,
//                       NEMORI_EMBEDDING_API_KEY, NEMORI_EMBEDDING_DIMENSION
//   3. the original's   LLM_BASE_URL, LLM_API_KEY, EMBEDDING_BASE_URL, EMBEDDING_API_KEY
//      env names
//   4. the TOML file    tables [llm] and [embedding] ([prompts] names prompt files)
//   5. provider env     OPENAI_BASE_URL, OPENAI_API_KEY (ANTHROPIC_API_KEY for provider
//                       "anthropic"); generic names other tools set too, so an explicit file
//                       value beats them
//   6. defaults         the fields' initialisers below
//
// A chat client exists when llm.model is set, an embedder when embedding.model is set; with
// neither, nemori runs LLM-free. Errors: ConfigError whose message starts with the key
// ("llm.timeout_seconds: must be a positive number ...") and names the source of the value;
// API keys are never echoed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "nemori/llm/chat.h"
#include "nemori/llm/http_options.h"
#include "nemori/llm/stats.h"
#include "nemori/retrieval/embedding.h"

namespace nemori {

/// Transport settings of one endpoint (keys of both [llm] and [embedding]).
struct EndpointLimits {
  double timeout_seconds = 120;         ///< `timeout_seconds`: one attempt, end to end.
  double connect_timeout_seconds = 10;  ///< `connect_timeout_seconds`.
  int max_retries = 3;                  ///< `max_retries`: 0..10.
  int max_concurrency = 4;              ///< `max_concurrency`: 1..256 requests in flight.
  /// `token_budget`: refuse calls once this many tokens are counted (unset: no limit).
  std::optional<std::uint64_t> token_budget;
};

/// The chat model ([llm]).
struct ChatConfig {
  std::string provider =
      "openai";          ///< `provider`: "openai" (any compatible server) or "anthropic".
  std::string base_url;  ///< `base_url`; empty: the provider's official URL.
  std::string model;     ///< `model`; empty: no chat client.
  std::string api_key;   ///< `api_key`; empty: none sent.
  /// `reasoning_model`: send max_completion_tokens and no temperature; unset: by model name.
  std::optional<bool> reasoning_model;
  EndpointLimits limits;
};

/// The embedding model ([embedding]); always an OpenAI-compatible /embeddings endpoint.
struct EmbeddingConfig {
  std::string base_url;                  ///< `base_url`; empty: https://api.openai.com/v1.
  std::string model;                     ///< `model`; empty: no embedder.
  std::string api_key;                   ///< `api_key`.
  std::optional<std::size_t> dimension;  ///< `dimension`: requested and checked when set.
  std::size_t batch_size = 64;           ///< `batch_size`: 1..2048 texts per request.
  EndpointLimits limits;
};

/// Everything the llm layer needs to build its clients.
struct LlmConfig {
  ChatConfig chat;
  EmbeddingConfig embedding;
  /// [prompts]: the text of each prompt the file replaces, by name ("segmentation",
  /// "episode"). The file names a text file per prompt (a relative path is read from the
  /// config file's folder); unset prompts are the compiled-in prompts/*.txt.
  std::map<std::string, std::string> prompts;
  /// True when a chat model is configured.
  bool has_chat() const { return !chat.model.empty(); }
  /// True when an embedding model is configured.
  bool has_embedding() const { return !embedding.model.empty(); }
};

/// Where load_llm_config() reads from.
struct LlmConfigSources {
  /// Dotted keys to values as typed on a command line ("llm.max_retries" -> "5").
  std::map<std::string, std::string> flags;
  /// A TOML file; unset: none. A set path that cannot be read is an error.
  std::optional<std::filesystem::path> file;
  /// Reads one environment variable (nullopt when unset). Default: std::getenv. An empty
  /// value counts as unset.
  std::function<std::optional<std::string>(const std::string&)> getenv;
};

/// Builds the configuration from its sources and validates it. Throws ConfigError naming the
/// key (unknown keys in the file or flags, wrong types, out-of-range numbers, a non-http(s)
/// URL, an unknown provider, a missing key for api.openai.com or api.anthropic.com).
LlmConfig load_llm_config(const LlmConfigSources& sources);

/// The clients a configuration asks for; a null pointer means that part is not configured.
struct LlmClients {
  std::shared_ptr<ChatClient> chat;
  std::shared_ptr<EmbeddingClient> embedder;
  std::shared_ptr<LlmStats> stats;  ///< Shared by both clients (never null).
  /// Prompt texts replacing the compiled-in ones, by name (LlmConfig::prompts).
  std::map<std::string, std::string> prompts;
};

/// Builds the configured clients, recording into `stats` (a fresh LlmStats when null).
/// `base_http` supplies the seams (sleep, log, jitter seed); its limits are replaced by the
/// config's. Throws ConfigError.
LlmClients make_llm_clients(const LlmConfig& config, std::shared_ptr<LlmStats> stats = nullptr,
                            const HttpOptions& base_http = {});

}  // namespace nemori
