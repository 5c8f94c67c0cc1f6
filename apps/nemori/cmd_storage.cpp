// Storage operations: stats, health, export, import, migrate.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "command.h"
#include "nemori/core/error.h"
#include "nemori/core/json.h"
#include "nemori/memory/memory_system.h"
#include "nemori/storage/dump.h"
#include "nemori/storage/factory.h"
#include "nemori/storage/stats_json.h"

namespace nemori::cli {

namespace {

// "12 raw events, 4 episodes, 12 links", then the semantic memory's rows when there are any.
std::string dump_counts_text(const DumpCounts& c) {
  std::string text = std::to_string(c.raw_events) + " raw events, " +
                     std::to_string(c.episodes) + " episodes, " + std::to_string(c.links) +
                     " links";
  if (c.statements > 0 || c.semantic_progress > 0) {
    text += ", " + std::to_string(c.statements) + " statements (" +
            std::to_string(c.statement_sources) + " sources), " +
            std::to_string(c.semantic_progress) + " semantic progress rows";
  }
  return text;
}

DumpProgress progress_for(const std::string& label) {
  return [label](std::size_t done, std::size_t total) { show_progress(label, done, total); };
}

}  // namespace

void register_storage_commands(CLI::App& app) {
  {
    auto storage = std::make_shared<StorageOption>();
    auto llm = std::make_shared<LlmOption>();
    auto json_out = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand(
        "stats", "Show what a store holds (counts, sizes, time span) and which models build it");
    add_storage_option(*cmd, *storage);
    add_llm_options(*cmd, *llm);
    cmd->add_flag("--json", *json_out, "Print JSON");
    set_action(*cmd, [storage, llm, json_out]() -> int {
      const LlmConfig models = llm->load();
      MemorySystem memory(open_storage(storage->resolved()), memory_config(*storage, *llm));
      Storage* store = &memory.storage();
      const StorageStats stats = store->stats();
      const SemanticStatus modes = memory.semantic_status();
      auto j = to_json(stats);
      j["semantic_memory"] = modes.semantic;
      j["episode_merging"] = modes.merging;
      const auto pending = pending_by_owner(*store);  // raw events in no episode, per owner
      j["pending"] = pending;
      j["llm"] = llm_models_json(models);
      // Who wrote the stored episodes: under a model, "extractive" ones are its fallbacks.
      nlohmann::json writers = nlohmann::json::object();
      for (const char* writer : {"llm", "extractive"}) {
        EpisodeQuery query;
        query.metadata = {{"generator", writer}};
        query.limit = 0;
        writers[writer] = store->episodes().search(query).total_count;
      }
      j["episodes_by_writer"] = writers;
      if (*json_out) {
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
      }
      std::printf("backend          %s\n", j["backend"].get<std::string>().c_str());
      std::printf("owners           %zu\n", j["owners"].get<std::size_t>());
      std::printf("raw events       %zu (%zu processed)\n", j["total_raw_data"].get<std::size_t>(),
                  j["processed_raw_data"].get<std::size_t>());
      std::size_t pending_total = 0;
      for (const auto& [owner, n] : pending) pending_total += n;
      std::printf("pending          %zu raw events in no episode yet%s\n", pending_total,
                  pending_total > 0 ? " ('nemori flush' builds them)" : "");
      for (const auto& [owner, n] : pending) std::printf("  %-14s %zu\n", owner.c_str(), n);
      std::printf("episodes         %zu (%zu written by a model, %zu extractive)\n",
                  j["total_episodes"].get<std::size_t>(), writers["llm"].get<std::size_t>(),
                  writers["extractive"].get<std::size_t>());
      std::printf("links            %zu\n", j["total_links"].get<std::size_t>());
      std::printf("statements       %zu current, %zu superseded\n", stats.statements_current,
                  stats.statements_superseded);
      std::printf("merges           %zu\n", stats.merged_episodes);
      const auto usage = [&](const char* key) {
        const auto it = stats.semantic_usage.find(key);
        return it == stats.semantic_usage.end() ? std::uint64_t{0} : it->second;
      };
      std::printf("semantic usage   %llu calls, %llu tokens; merge %llu calls, %llu tokens\n",
                  static_cast<unsigned long long>(usage("semantic_calls")),
                  static_cast<unsigned long long>(usage("semantic_tokens")),
                  static_cast<unsigned long long>(usage("merge_calls")),
                  static_cast<unsigned long long>(usage("merge_tokens")));
      std::printf("semantic memory  %s\n", modes.semantic.c_str());
      std::printf("episode merging  %s\n", modes.merging.c_str());
      std::printf("storage size     %.1f KiB\n", j["storage_size_bytes"].get<double>() / 1024.0);
      std::printf("time span        %s .. %s\n", j["oldest_data"].dump().c_str(),
                  j["newest_data"].dump().c_str());
      print_llm_models(models, 16);
      return 0;
    });
  }
  {
    auto storage = std::make_shared<StorageOption>();
    auto llm = std::make_shared<LlmOption>();
    auto* cmd = app.add_subcommand(
        "health",
        "Check that the store answers and the model configuration is valid; exit 1 when not");
    add_storage_option(*cmd, *storage);
    add_llm_options(*cmd, *llm);
    set_action(*cmd, [storage, llm]() -> int {
      const LlmConfig models = llm->load();
      MemorySystem memory(open_storage(storage->resolved()), memory_config(*storage, *llm));
      Storage* store = &memory.storage();
      const HealthStatus h = store->health();
      if (h.healthy) {
        std::printf("healthy (%s, %.2f ms)\n", store->backend().c_str(), h.latency_ms);
        print_llm_models(models, 14);
        const SemanticStatus modes = memory.semantic_status();
        std::printf("semantic memory  %s\nepisode merging  %s\n", modes.semantic.c_str(),
                    modes.merging.c_str());
        return 0;
      }
      std::fprintf(stderr, "nemori: error: unhealthy (%s): %s\n", store->backend().c_str(),
                   h.reason.c_str());
      return 1;
    });
  }
  {
    auto storage = std::make_shared<StorageOption>();
    auto* cmd = app.add_subcommand(
        "repair",
        "Rebuild a store's indexes from its tables and check them (a DuckDB file whose indexes "
        "'health' reports as damaged)");
    add_storage_option(*cmd, *storage);
    set_action(*cmd, [storage]() -> int {
      auto store = open_storage(storage->resolved());
      const IntegrityReport report = store->repair();
      if (report.rebuilt.empty()) {
        std::printf("nothing to rebuild on %s (its server maintains its indexes)\n",
                    store->backend().c_str());
      } else {
        std::string names;
        for (const std::string& name : report.rebuilt) names += (names.empty() ? "" : ", ") + name;
        std::printf("rebuilt %zu indexes from the tables: %s\n", report.rebuilt.size(),
                    names.c_str());
      }
      for (const std::string& line : report.checked) std::printf("checked %s\n", line.c_str());
      if (!report.consistent()) {
        for (const std::string& problem : report.problems) {
          std::fprintf(stderr, "nemori: error: still damaged: %s\n", problem.c_str());
        }
        return 1;
      }
      std::printf("every index agrees with its table\n");
      return 0;
    });
  }
  {
    auto storage = std::make_shared<StorageOption>();
    auto output = std::make_shared<std::string>("-");
    auto owner = std::make_shared<std::string>();
    auto* cmd = app.add_subcommand(
        "export", "Write a portable JSONL dump (raw events, episodes, links) of a store");
    add_storage_option(*cmd, *storage);
    cmd->add_option("-o,--output", *output, "Output file ('-' = standard output)");
    cmd->add_option("--owner", *owner, "Only this owner");
    set_action(*cmd, [storage, output, owner]() -> int {
      auto store = open_storage(storage->resolved());
      DumpCounts counts;
      if (*output == "-") {
        counts = write_dump(*store, std::cout, *owner);
        std::cout.flush();
      } else {
        write_file_atomically(*output, [&](std::ostream& out) {
          counts = write_dump(*store, out, *owner, progress_for("export"));
        });
      }
      std::fprintf(stderr, "exported %s\n", dump_counts_text(counts).c_str());
      return 0;
    });
  }
  {
    auto storage = std::make_shared<StorageOption>();
    auto input = std::make_shared<std::string>();
    auto replace = std::make_shared<bool>(false);
    auto no_verify = std::make_shared<bool>(false);
    auto batch = std::make_shared<std::size_t>(1000);
    auto* cmd = app.add_subcommand("import", "Restore a JSONL dump written by 'nemori export'");
    add_storage_option(*cmd, *storage);
    cmd->add_option("file", *input, "Dump file ('-' = standard input)")->required();
    cmd->add_flag("--replace", *replace,
                  "Replace everything in the store (in the same transaction as the import)");
    cmd->add_flag("--no-verify", *no_verify,
                  "Skip the checksums (also reads version 1 dumps, which have none)");
    cmd->add_option("--batch-size", *batch, "Accepted for compatibility (one transaction)")
        ->check(at_least_one());
    set_action(*cmd, [storage, input, replace, no_verify, batch]() -> int {
      auto store = open_storage(storage->resolved());
      if (!*replace) {
        if (const auto owners = store->list_owners(); !owners.empty()) {
          throw ValidationError("import: the target store is not empty (" +
                                std::to_string(owners.size()) +
                                (owners.size() == 1 ? " owner" : " owners") +
                                "); import into an empty store, or pass --replace to replace "
                                "its data in the same transaction");
        }
      }
      DumpCounts counts;
      if (*input == "-") {
        counts = restore_dump(*store, std::cin, *replace, *batch, {}, !*no_verify);
      } else {
        std::ifstream in(*input, std::ios::binary);
        if (!in) throw ValidationError(*input + ": cannot read: no such file");
        counts = restore_dump(*store, in, *replace, *batch, progress_for("import"), !*no_verify);
      }
      std::fprintf(stderr, "imported %s\n", dump_counts_text(counts).c_str());
      note_if_ephemeral(storage->resolved(), "the import");
      return 0;
    });
  }
  {
    auto from = std::make_shared<std::string>();
    auto to = std::make_shared<std::string>();
    auto batch = std::make_shared<std::size_t>(1000);
    auto* cmd = app.add_subcommand("migrate",
                                   "Copy a whole store into another backend and verify the counts");
    cmd->add_option("--from", *from, "Source storage URL")->required();
    cmd->add_option("--to", *to, "Target storage URL (must be empty)")->required();
    cmd->add_option("--batch-size", *batch, "Records per transaction")->check(at_least_one());
    set_action(*cmd, [from, to, batch]() -> int {
      auto source = open_storage(*from);
      auto target = open_storage(*to);
      const DumpCounts counts = copy_storage(*source, *target, *batch, progress_for("migrate"));
      std::printf("migrated %s from %s to %s; counts verified\n", dump_counts_text(counts).c_str(),
                  mask_password(*from).c_str(), mask_password(*to).c_str());
      note_if_ephemeral(*to, "the copy");
      return 0;
    });
  }
}

}  // namespace nemori::cli
