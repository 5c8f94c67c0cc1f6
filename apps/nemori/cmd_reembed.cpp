// nemori reembed: gives stored episodes vectors of the configured embedding model.
#include <cstdio>
#include <memory>

#include "command.h"
#include "nemori/memory/reembed.h"
#include "nemori/storage/factory.h"

namespace nemori::cli {

void register_reembed(CLI::App& app) {
  struct Options {
    StorageOption storage;
    LlmOption llm;
    std::string owner;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "reembed",
      "Re-embed stored episodes with the configured embedding model (after changing it); "
      "resumable: run it again after an interruption");
  add_storage_option(*cmd, o->storage);
  add_llm_options(*cmd, o->llm);
  cmd->add_option("--owner", o->owner, "Only this owner (default: every owner)")
      ->check(owner_id_check());
  set_action(*cmd, [o]() -> int {
    const MemoryConfig config = memory_config(o->storage, o->llm);
    if (!config.llm.embedder) return embedding_model_required("reembed");
    auto storage = open_storage(config.storage);
    ReembedOptions options;
    options.owner_id = o->owner;
    options.progress = [](std::size_t done, std::size_t total) {
      if (stderr_is_terminal()) {
        show_progress("episodes", done, total);
      } else {
        std::fprintf(stderr, "reembed: %zu/%zu episodes\n", done, total);
      }
    };
    const ReembedReport r = reembed(*storage, *config.llm.embedder, options);
    std::printf("re-embedded %zu of %zu episodes of %zu owners with %s (%zu were up to date)\n",
                r.reembedded, r.episodes, r.owners, config.llm.embedder->model().c_str(),
                r.up_to_date);
    return 0;
  });
}

}  // namespace nemori::cli
