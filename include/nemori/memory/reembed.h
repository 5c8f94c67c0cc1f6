// Re-embedding stored episodes with the configured embedding model (`nemori reembed`).
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "nemori/retrieval/embedding.h"
#include "nemori/storage/repository.h"

namespace nemori {

/// What reembed() works on and how it reports.
struct ReembedOptions {
  /// The owner to re-embed; empty: every owner of the store.
  std::string owner_id;
  /// Called after each batch with the episodes looked at so far and the total.
  std::function<void(std::size_t done, std::size_t total)> progress;
};

/// What reembed() did.
struct ReembedReport {
  std::size_t owners = 0;      ///< Owners looked at.
  std::size_t episodes = 0;    ///< Episodes looked at.
  std::size_t reembedded = 0;  ///< Episodes given a new vector.
  std::size_t up_to_date = 0;  ///< Episodes whose vector was of the embedder's model already.
};

/// Gives every episode of the owner (or of every owner) whose stored vector is missing, of
/// another model (or of an unknown one), or of another dimension a vector of `embedder`, in
/// requests of 64 texts, holding each owner's build lock (Storage::lock_owner) meanwhile.
/// Each episode is stored as soon as its batch is embedded, so an interrupted run loses at
/// most one batch and the next run finishes the job (episodes already done are skipped).
/// Throws LlmError (embedder) or StorageError; what was stored before stays stored.
ReembedReport reembed(Storage& storage, EmbeddingClient& embedder, const ReembedOptions& options);

}  // namespace nemori
