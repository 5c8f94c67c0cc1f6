// Shared pieces of the `nemori` command: how subcommands register and report.
#pragma once

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "nemori/llm/config.h"
#include "nemori/memory/memory_system.h"

namespace nemori::cli {

/// Options every storage-touching subcommand shares.
struct StorageOption {
  std::string url;  ///< --storage; empty = env NEMORI_STORAGE_URL / POSTGRESQL_URL, else DuckDB.
  /// The URL to open: the flag, else the environment, else duckdb:///./nemori.duckdb.
  std::string resolved() const;
};

/// Adds `--storage URL` to a subcommand.
void add_storage_option(CLI::App& command, StorageOption& option);

/// The language and embedding model options of every subcommand that opens a MemorySystem.
/// Nothing set (no flag, no NEMORI_LLM_* / NEMORI_EMBEDDING_* / LLM_* / EMBEDDING_* variable, no
/// model in a config file) is the LLM-free mode.
struct LlmOption {
  /// --config FILE: a TOML file with [llm], [embedding] and [prompts] tables; empty: the
  /// environment variable NEMORI_CONFIG, else none.
  std::string config_file;
  /// Dotted keys set by flags (--llm-model -> "llm.model"); they beat every other source.
  std::map<std::string, std::string> flags;
  /// The configuration from flags, environment and file (load_llm_config). Throws ConfigError
  /// naming the key.
  LlmConfig load() const;
};

/// Adds --config, --llm-provider, --llm-base-url, --llm-model, --embedding-base-url,
/// --embedding-model and --embedding-dimension to a subcommand. API keys come only from the
/// environment or the file (a flag would show in the process list).
void add_llm_options(CLI::App& command, LlmOption& option);

/// Fills `config.llm` with the clients `llm` configures (null when not configured: LLM-free) and
/// the prompts the config file names. Throws ConfigError naming the key.
void configure_llm(MemoryConfig& config, const LlmOption& llm);

/// The MemoryConfig of a command: the store of `storage`, then configure_llm().
MemoryConfig memory_config(const StorageOption& storage, const LlmOption& llm);

/// Which model does what under `config`, as JSON: {"mode": "llm" or "LLM-free",
/// "segmentation", "episode", "embedding": {"model", "provider", "base_url"} or null}.
nlohmann::json llm_models_json(const LlmConfig& config);

/// Prints which model does what ("LLM-free (heuristic segmentation, extractive episodes, BM25
/// search)" when none), one "label  value" line each, labels padded to `width`.
void print_llm_models(const LlmConfig& config, int width);

/// What the models did so far, per phase: {"segmentation": {"calls", "retries", "errors",
/// "invalid_answers", "fallbacks", "prompt_tokens", "completion_tokens", "wall_ms"}, ...}.
nlohmann::json llm_usage_json(const LlmStats& stats);

/// Phase names in the pipeline's order: segmentation, episode, embedding, then any other in
/// name order.
std::vector<std::string> in_pipeline_order(std::vector<std::string> phases);

/// Prints one line per phase of what the models of `llm` did in this run ("llm segmentation:
/// 3 calls, 5210 tokens ..."); nothing when no model is configured or none was called (the
/// LLM-free output stays as it was).
void print_llm_usage(const LlmClients& llm);

/// A check for a count option (-k, --batch-size...): a whole number of at least 1. Fails with
/// "--limit: must be at least 1 (got 0)", a usage error.
const CLI::Validator& at_least_one();

/// A check for an owner id: not empty and not only white space.
const CLI::Validator& owner_id_check();

/// A check that the value is one of `valid`: "--mode: unknown value "x" (valid: a, b)".
CLI::Validator one_of(std::vector<std::string> valid);

/// True when `url` names a store that ends with the process (memory://).
bool is_ephemeral(const std::string& url);

/// Prints on stderr that a memory:// store kept nothing of what `what` wrote, and how to keep
/// it; does nothing for any other URL.
void note_if_ephemeral(const std::string& url, const std::string& what);

/// A subcommand's action: returns the process exit code (0 ok, 1 runtime error).
using Action = std::function<int()>;

/// Registers the callback that runs when the subcommand was chosen; errors thrown from it are
/// printed by main as one line on stderr with exit code 1.
void set_action(CLI::App& command, Action action);

/// The action of the subcommand that was parsed (set by set_action), or null.
Action& chosen_action();

/// True when stderr is a terminal (progress is shown only then).
bool stderr_is_terminal();

/// Prints "nemori: usage error: WHAT needs an embedding model (set NEMORI_EMBEDDING_MODEL ...)"
/// on stderr and returns 2, the exit code of a usage error (--mode vector or hybrid, reembed).
int embedding_model_required(const std::string& what);

/// Draws "label [#####     ] done/total" on stderr when it is a terminal; silent otherwise.
void show_progress(const std::string& label, std::size_t done, std::size_t total);

/// Writes a file whole or not at all: `write` fills a new file next to PATH, which is synced,
/// renamed over PATH, and then the directory is synced. A symbolic link is followed (its target
/// is replaced; the link stays). A FIFO or character device (a pipe, /dev/stdout, /dev/null) is
/// written through, not replaced; a directory, block device or socket is refused. Throws
/// ValidationError when PATH cannot be written at all, StorageError when writing or syncing
/// fails (a full disk: nothing replaced PATH).
void write_file_atomically(const std::string& path,
                           const std::function<void(std::ostream&)>& write);

// Registration of each group of subcommands (one file each).
void register_validate(CLI::App& app);
void register_storage_commands(CLI::App& app);
void register_memory_commands(CLI::App& app);
void register_facts(CLI::App& app);
void register_eval(CLI::App& app);
void register_bench(CLI::App& app);
void register_serve(CLI::App& app);
void register_mcp(CLI::App& app);
void register_reembed(CLI::App& app);

}  // namespace nemori::cli
