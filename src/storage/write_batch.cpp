#include "storage/write_batch.h"

#include <algorithm>
#include <set>
#include <unordered_set>
#include <utility>

#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/utf8.h"
#include "storage/record_validation.h"

namespace nemori::detail {

namespace {

std::string item(std::string_view step, std::size_t index) {
  return std::string(step) + "[" + std::to_string(index) + "]";
}

std::string quoted(const std::string& text) {
  return "\"" + text + "\"";
}

// Rethrows a ValidationError of one item with the item named in front.
template <typename Check>
void check_item(const std::string& where, Check check) {
  try {
    check();
  } catch (const ValidationError& e) {
    throw ValidationError(where + ": " + e.what() + " (nothing was written)");
  }
}

// Throws DuplicateError when two items of one step share an id.
template <typename Record, typename IdOf>
void reject_repeats(const std::vector<Record>& records, IdOf id_of, std::string_view step,
                    std::string_view key) {
  std::unordered_map<std::string_view, std::size_t> first_seen;
  first_seen.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto [it, inserted] = first_seen.emplace(id_of(records[i]), i);
    if (!inserted) {
      throw DuplicateError(item(step, i) + ": " + std::string(key) + " " +
                           quoted(std::string(it->first)) + " appears twice in the batch (also " +
                           item(step, it->second) + "); nothing was written");
    }
  }
}

std::string statement_item(std::string_view step, std::size_t index, const std::string& id) {
  return item(step, index) + " (statement_id " + quoted(id) + ")";
}

std::string episode_item(std::string_view step, std::size_t index, const std::string& id) {
  return item(step, index) + " (episode_id " + quoted(id) + ")";
}

// The checks of the semantic steps that need no lookup (part of validate_write_batch).
void validate_semantic_steps(const WriteBatch& batch) {
  for (std::size_t i = 0; i < batch.source_moves.size(); ++i) {
    const SourceMove& move = batch.source_moves[i];
    if (move.from_episode_id.empty() || move.to_episode_id.empty()) {
      throw ValidationError(item("source_moves", i) +
                            ": from_episode_id and to_episode_id must both be non-empty");
    }
    if (move.from_episode_id == move.to_episode_id) {
      throw ValidationError(item("source_moves", i) + ": moves episode " +
                            quoted(move.from_episode_id) + " onto itself");
    }
  }
  for (std::size_t i = 0; i < batch.delete_episodes.size(); ++i) {
    if (batch.delete_episodes[i].empty()) {
      throw ValidationError(item("delete_episodes", i) + ": the id must be non-empty");
    }
  }
  reject_repeats(
      batch.delete_episodes, [](const std::string& id) -> std::string_view { return id; },
      "delete_episodes", "episode_id");
  for (std::size_t i = 0; i < batch.statements.size(); ++i) {
    const Statement& statement = batch.statements[i];
    const std::string where = statement_item("statements", i, statement.statement_id);
    check_item(where, [&] { validate(statement); });
    if (statement.source_episode_ids.empty()) {
      throw ValidationError(where +
                            ": source_episode_ids: a statement needs at least one episode "
                            "supporting it (nothing was written)");
    }
    std::unordered_map<std::string_view, std::size_t> seen;
    for (std::size_t k = 0; k < statement.source_episode_ids.size(); ++k) {
      const std::string& episode = statement.source_episode_ids[k];
      const std::string field = "source_episode_ids[" + std::to_string(k) + "]";
      check_item(where, [&] { validate_id(episode, field); });
      const auto [it, inserted] = seen.emplace(episode, k);
      if (!inserted) {
        throw ValidationError(where + ": " + field + ": episode " + quoted(episode) +
                              " is named twice (also source_episode_ids[" +
                              std::to_string(it->second) + "]; nothing was written)");
      }
    }
  }
  reject_repeats(
      batch.statements, [](const Statement& s) -> std::string_view { return s.statement_id; },
      "statements", "statement_id");
  for (std::size_t i = 0; i < batch.statement_updates.size(); ++i) {
    const Statement& statement = batch.statement_updates[i];
    check_item(statement_item("statement_updates", i, statement.statement_id),
               [&] { validate(statement); });
  }
  reject_repeats(
      batch.statement_updates,
      [](const Statement& s) -> std::string_view { return s.statement_id; }, "statement_updates",
      "statement_id");
  for (std::size_t i = 0; i < batch.statement_sources.size(); ++i) {
    const StatementSource& source = batch.statement_sources[i];
    if (source.statement_id.empty() || source.episode_id.empty()) {
      throw ValidationError(item("statement_sources", i) +
                            ": statement_id and episode_id must both be non-empty");
    }
  }
  for (std::size_t i = 0; i < batch.semantic_progress.size(); ++i) {
    const SemanticProgress& progress = batch.semantic_progress[i];
    check_item(episode_item("semantic_progress", i, progress.episode_id),
               [&] { validate(progress); });
  }
  reject_repeats(
      batch.semantic_progress,
      [](const SemanticProgress& p) -> std::string_view { return p.episode_id; },
      "semantic_progress", "episode_id");
}

// The fields a statement update may not change, with their names.
std::string unchangeable_field(const Statement& stored, const Statement& update) {
  if (update.owner_id != stored.owner_id) return "owner_id";
  if (update.category != stored.category) return "category";
  if (update.subject != stored.subject) return "subject";
  if (update.content != stored.content) return "content";
  if (update.valid_from != stored.valid_from) return "valid_from";
  if (update.recorded_at != stored.recorded_at) return "recorded_at";
  return "";
}

}  // namespace

bool same_raw_data(const RawEvent& a, const RawEvent& b) {
  return a.data_id == b.data_id && a.owner_id == b.owner_id && a.data_type == b.data_type &&
         a.content == b.content && a.source == b.source && a.temporal_info == b.temporal_info &&
         a.metadata == b.metadata;
}

ValidationError cross_owner_link(const std::string& episode_id, const std::string& episode_owner,
                                 const std::string& raw_data_id, const std::string& raw_owner) {
  return ValidationError("episode " + quoted(episode_id) + " of owner " + quoted(episode_owner) +
                         " cannot link raw event " + quoted(raw_data_id) + " of owner " +
                         quoted(raw_owner) + " (links never cross owners; nothing was linked)");
}

bool empty_batch(const WriteBatch& batch) {
  return batch.delete_owners.empty() && batch.raw_events.empty() && batch.episodes.empty() &&
         batch.links.empty() && batch.processed_ids.empty() && batch.source_moves.empty() &&
         batch.delete_episodes.empty() && batch.statements.empty() &&
         batch.statement_updates.empty() && batch.statement_sources.empty() &&
         batch.semantic_progress.empty();
}

void validate_write_batch(const WriteBatch& batch, std::size_t max_content_bytes) {
  for (std::size_t i = 0; i < batch.delete_owners.size(); ++i) {
    if (batch.delete_owners[i].empty()) {
      throw ValidationError(item("delete_owners", i) +
                            ": owner_id is required (an empty owner never means every owner)");
    }
  }
  for (std::size_t i = 0; i < batch.raw_events.size(); ++i) {
    const RawEvent& event = batch.raw_events[i];
    check_item(item("raw_events", i) + " (data_id " + quoted(event.data_id) + ")",
               [&] { validate_for_storage(event, max_content_bytes); });
  }
  reject_repeats(
      batch.raw_events, [](const RawEvent& e) -> std::string_view { return e.data_id; },
      "raw_events", "data_id");
  for (std::size_t i = 0; i < batch.episodes.size(); ++i) {
    const Episode& episode = batch.episodes[i];
    check_item(item("episodes", i) + " (episode_id " + quoted(episode.episode_id) + ")",
               [&] { validate_for_storage(episode); });
  }
  reject_repeats(
      batch.episodes, [](const Episode& e) -> std::string_view { return e.episode_id; }, "episodes",
      "episode_id");
  for (std::size_t i = 0; i < batch.links.size(); ++i) {
    const EpisodeLink& link = batch.links[i];
    if (link.episode_id.empty() || link.raw_data_id.empty()) {
      throw ValidationError(item("links", i) +
                            ": episode_id and raw_data_id must both be non-empty");
    }
  }
  for (std::size_t i = 0; i < batch.processed_ids.size(); ++i) {
    if (batch.processed_ids[i].empty()) {
      throw ValidationError(item("processed_ids", i) + ": the id must be non-empty");
    }
  }
  if (!batch.processed_ids.empty()) validate_text(batch.processed_version, "processed_version");
  validate_semantic_steps(batch);
}

WriteBatchIds ids_named_by(const WriteBatch& batch) {
  WriteBatchIds ids;
  std::unordered_set<std::string_view> raw_seen, episode_seen;
  auto add = [](std::vector<std::string>& out, std::unordered_set<std::string_view>& seen,
                const std::string& id) {
    if (seen.insert(id).second) out.push_back(id);
  };
  for (const RawEvent& e : batch.raw_events) add(ids.raw, raw_seen, e.data_id);
  for (const EpisodeLink& l : batch.links) add(ids.raw, raw_seen, l.raw_data_id);
  for (const std::string& id : batch.processed_ids) add(ids.raw, raw_seen, id);
  for (const Episode& e : batch.episodes) add(ids.episodes, episode_seen, e.episode_id);
  for (const EpisodeLink& l : batch.links) add(ids.episodes, episode_seen, l.episode_id);
  std::unordered_set<std::string_view> source_seen, statement_seen;
  for (const SourceMove& m : batch.source_moves) {
    add(ids.episodes, episode_seen, m.from_episode_id);
    add(ids.episodes, episode_seen, m.to_episode_id);
    add(ids.source_episodes, source_seen, m.from_episode_id);
    add(ids.source_episodes, source_seen, m.to_episode_id);
  }
  for (const std::string& id : batch.delete_episodes) {
    add(ids.episodes, episode_seen, id);
    add(ids.source_episodes, source_seen, id);
  }
  for (const std::vector<Statement>* step : {&batch.statements, &batch.statement_updates}) {
    for (const Statement& s : *step) {
      add(ids.statements, statement_seen, s.statement_id);
      if (!s.superseded_by.empty()) add(ids.statements, statement_seen, s.superseded_by);
    }
  }
  for (const Statement& s : batch.statements) {
    for (const std::string& id : s.source_episode_ids) add(ids.episodes, episode_seen, id);
  }
  for (const StatementSource& source : batch.statement_sources) {
    add(ids.statements, statement_seen, source.statement_id);
    add(ids.episodes, episode_seen, source.episode_id);
  }
  for (const SemanticProgress& p : batch.semantic_progress)
    add(ids.episodes, episode_seen, p.episode_id);
  return ids;
}

std::vector<EpisodeLink> unique_links(const WriteBatch& batch) {
  std::vector<EpisodeLink> out;
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const EpisodeLink& link : batch.links) {
    if (seen.emplace(link.episode_id, link.raw_data_id).second) out.push_back(link);
  }
  return out;
}

namespace {

// The owner of `id` in `owners`, or nullptr.
const std::string_view* owner_in(
    const std::unordered_map<std::string_view, std::string_view>& owners, const std::string& id) {
  const auto it = owners.find(id);
  return it == owners.end() ? nullptr : &it->second;
}

// The part of check_write_batch for source_moves and the steps after it. `episode_owner` holds
// the episodes once processed_ids has run (stored, not of a deleted owner, or added).
void check_semantic_steps(const WriteBatch& batch, const StoredRecords& stored,
                          const std::unordered_set<std::string_view>& deleted_owners,
                          std::unordered_map<std::string_view, std::string_view> episode_owner) {
  for (std::size_t i = 0; i < batch.source_moves.size(); ++i) {
    const SourceMove& move = batch.source_moves[i];
    const std::string where = item("source_moves", i);
    const auto* from = owner_in(episode_owner, move.from_episode_id);
    if (from == nullptr) {
      throw NotFoundError(where + ": episode " + quoted(move.from_episode_id) +
                          " does not exist (nothing was written)");
    }
    const auto* to = owner_in(episode_owner, move.to_episode_id);
    if (to == nullptr) {
      throw NotFoundError(where + ": episode " + quoted(move.to_episode_id) +
                          " does not exist (nothing was written)");
    }
    if (*from != *to) {
      throw ValidationError(where + ": episode " + quoted(move.from_episode_id) + " of owner " +
                            quoted(std::string(*from)) + " cannot pass its statements to episode " +
                            quoted(move.to_episode_id) + " of owner " + quoted(std::string(*to)) +
                            " (sources never cross owners; nothing was written)");
    }
  }
  for (std::size_t i = 0; i < batch.delete_episodes.size(); ++i) {
    if (!episode_owner.contains(batch.delete_episodes[i])) {
      throw NotFoundError(episode_item("delete_episodes", i, batch.delete_episodes[i]) +
                          ": episode " + quoted(batch.delete_episodes[i]) +
                          " does not exist (nothing was written)");
    }
  }

  // Which stored statements the moves and deletions leave without a source: replay both on
  // the source rows of the statements they touch.
  std::unordered_set<std::string_view> removed_statements;
  if (!batch.source_moves.empty() || !batch.delete_episodes.empty()) {
    const std::unordered_set<std::string_view> gone(batch.delete_episodes.begin(),
                                                    batch.delete_episodes.end());
    for (const auto& [statement_id, episodes] : stored.statement_sources) {
      std::set<std::string_view> support(episodes.begin(), episodes.end());
      for (const SourceMove& move : batch.source_moves) {
        if (support.erase(move.from_episode_id) > 0) support.insert(move.to_episode_id);
      }
      std::erase_if(support, [&](std::string_view e) { return gone.contains(e); });
      if (support.empty()) removed_statements.insert(statement_id);
    }
  }
  for (const std::string& id : batch.delete_episodes) episode_owner.erase(id);

  // Owner of each statement once the batch's statements are stored.
  std::unordered_map<std::string_view, std::string_view> statement_owner;
  for (const auto& [id, owner] : stored.statement_owner) {
    if (!deleted_owners.contains(owner) && !removed_statements.contains(id))
      statement_owner.emplace(id, owner);
  }
  const auto removed_note = [&](const std::string& id) {
    return removed_statements.contains(id)
               ? " (this batch's source_moves and delete_episodes leave it without a source, "
                 "so it is removed)"
               : "";
  };
  for (std::size_t i = 0; i < batch.statements.size(); ++i) {
    const Statement& statement = batch.statements[i];
    if (statement_owner.contains(statement.statement_id)) {
      throw DuplicateError(statement_item("statements", i, statement.statement_id) +
                           ": statement " + quoted(statement.statement_id) +
                           " already exists; nothing was written (use statement_updates to "
                           "change it)");
    }
  }
  for (const Statement& statement : batch.statements)
    statement_owner[statement.statement_id] = statement.owner_id;

  // A statement `s` of `where` names `id` as a supporting episode.
  const auto check_source_episode = [&](const std::string& where, const std::string& owner,
                                        const std::string& episode_id,
                                        const std::string& statement_id) {
    const auto* episode = owner_in(episode_owner, episode_id);
    if (episode == nullptr) {
      throw NotFoundError(where + ": episode " + quoted(episode_id) + " does not exist" +
                          (std::find(batch.delete_episodes.begin(), batch.delete_episodes.end(),
                                     episode_id) != batch.delete_episodes.end()
                               ? " (this batch deletes it)"
                               : "") +
                          "; store it before naming it as a source (nothing was written)");
    }
    if (*episode != owner) {
      throw ValidationError(where + ": statement " + quoted(statement_id) + " of owner " +
                            quoted(owner) + " cannot be supported by episode " +
                            quoted(episode_id) + " of owner " + quoted(std::string(*episode)) +
                            " (sources never cross owners; nothing was written)");
    }
  };
  // A statement of `where` names `closer` as the statement that closed it.
  const auto check_closer = [&](const std::string& where, const Statement& statement) {
    if (statement.superseded_by.empty()) return;
    const auto* closer = owner_in(statement_owner, statement.superseded_by);
    if (closer == nullptr) {
      throw NotFoundError(where + ": superseded_by: statement " +
                          quoted(statement.superseded_by) + " does not exist" +
                          removed_note(statement.superseded_by) + " (nothing was written)");
    }
    if (*closer != statement.owner_id) {
      throw ValidationError(where + ": superseded_by: statement " +
                            quoted(statement.superseded_by) + " belongs to owner " +
                            quoted(std::string(*closer)) + ", not " + quoted(statement.owner_id) +
                            " (statements never cross owners; nothing was written)");
    }
  };
  for (std::size_t i = 0; i < batch.statements.size(); ++i) {
    const Statement& statement = batch.statements[i];
    const std::string where = statement_item("statements", i, statement.statement_id);
    for (std::size_t k = 0; k < statement.source_episode_ids.size(); ++k) {
      check_source_episode(where + ": source_episode_ids[" + std::to_string(k) + "]",
                           statement.owner_id, statement.source_episode_ids[k],
                           statement.statement_id);
    }
    check_closer(where, statement);
  }

  for (std::size_t i = 0; i < batch.statement_updates.size(); ++i) {
    const Statement& update = batch.statement_updates[i];
    const std::string where = statement_item("statement_updates", i, update.statement_id);
    const auto found = stored.statements.find(update.statement_id);
    const bool in_store = found != stored.statements.end() &&
                          !deleted_owners.contains(found->second.owner_id) &&
                          !removed_statements.contains(update.statement_id);
    if (!in_store) {
      const bool new_here = std::any_of(
          batch.statements.begin(), batch.statements.end(),
          [&](const Statement& s) { return s.statement_id == update.statement_id; });
      throw NotFoundError(
          where + ": statement " + quoted(update.statement_id) + " does not exist" +
          removed_note(update.statement_id) +
          (new_here ? " before this batch (a new statement is stored as given in statements)"
                    : "") +
          "; nothing was written");
    }
    const std::string field = unchangeable_field(found->second, update);
    if (!field.empty()) {
      throw ValidationError(where + ": " + field +
                            " cannot change; store a new statement and close this one (nothing "
                            "was written)");
    }
    check_closer(where, update);
  }

  for (std::size_t i = 0; i < batch.statement_sources.size(); ++i) {
    const StatementSource& source = batch.statement_sources[i];
    const std::string where = statement_item("statement_sources", i, source.statement_id);
    const auto* owner = owner_in(statement_owner, source.statement_id);
    if (owner == nullptr) {
      throw NotFoundError(where + ": statement " + quoted(source.statement_id) +
                          " does not exist" + removed_note(source.statement_id) +
                          " (nothing was written)");
    }
    check_source_episode(where, std::string(*owner), source.episode_id, source.statement_id);
  }

  for (std::size_t i = 0; i < batch.semantic_progress.size(); ++i) {
    const SemanticProgress& progress = batch.semantic_progress[i];
    const std::string where = episode_item("semantic_progress", i, progress.episode_id);
    const auto* episode = owner_in(episode_owner, progress.episode_id);
    if (episode == nullptr) {
      throw NotFoundError(where + ": episode " + quoted(progress.episode_id) +
                          " does not exist (nothing was written)");
    }
    if (*episode != progress.owner_id) {
      throw ValidationError(where + ": the row names owner " + quoted(progress.owner_id) +
                            " but episode " + quoted(progress.episode_id) + " belongs to owner " +
                            quoted(std::string(*episode)) + " (nothing was written)");
    }
  }
}

}  // namespace

std::vector<bool> check_write_batch(const WriteBatch& batch, const StoredRecords& stored) {
  const std::unordered_set<std::string_view> deleted(batch.delete_owners.begin(),
                                                     batch.delete_owners.end());
  // Owner of each id once the batch has run: stored (and not deleted), or added by the batch.
  std::unordered_map<std::string_view, std::string_view> raw_owner, episode_owner;
  for (const auto& [id, owner] : stored.raw_owner) {
    if (!deleted.contains(owner)) raw_owner.emplace(id, owner);
  }
  for (const auto& [id, owner] : stored.episode_owner) {
    if (!deleted.contains(owner)) episode_owner.emplace(id, owner);
  }

  std::vector<bool> store(batch.raw_events.size(), true);
  for (std::size_t i = 0; i < batch.raw_events.size(); ++i) {
    const RawEvent& event = batch.raw_events[i];
    const auto found = raw_owner.find(event.data_id);
    if (found == raw_owner.end()) continue;
    if (batch.skip_identical_raw_events) {
      const auto full = stored.raw.find(event.data_id);
      if (full != stored.raw.end() && same_raw_data(full->second, event)) {
        store[i] = false;
        continue;
      }
      throw DuplicateError(item("raw_events", i) + ": raw event " + quoted(event.data_id) +
                           " is already stored with different data (owner " +
                           quoted(std::string(found->second)) +
                           "); nothing was written (use update() to change it)");
    }
    throw DuplicateError(item("raw_events", i) + ": raw event " + quoted(event.data_id) +
                         " already exists; nothing was written (use update() to change it)");
  }
  for (std::size_t i = 0; i < batch.episodes.size(); ++i) {
    const Episode& episode = batch.episodes[i];
    if (episode_owner.contains(episode.episode_id)) {
      throw DuplicateError(item("episodes", i) + ": episode " + quoted(episode.episode_id) +
                           " already exists; nothing was written (use update() to change it)");
    }
  }
  for (const RawEvent& event : batch.raw_events) raw_owner[event.data_id] = event.owner_id;
  for (const Episode& episode : batch.episodes)
    episode_owner[episode.episode_id] = episode.owner_id;

  for (std::size_t i = 0; i < batch.links.size(); ++i) {
    const EpisodeLink& link = batch.links[i];
    const auto episode = episode_owner.find(link.episode_id);
    if (episode == episode_owner.end()) {
      throw NotFoundError(item("links", i) + ": episode " + quoted(link.episode_id) +
                          " does not exist; store it before linking (nothing was written)");
    }
    const auto raw = raw_owner.find(link.raw_data_id);
    if (raw == raw_owner.end()) {
      throw NotFoundError(item("links", i) + ": raw event " + quoted(link.raw_data_id) +
                          " does not exist; store it before linking (nothing was written)");
    }
    if (episode->second != raw->second) {
      throw ValidationError(item("links", i) + ": " +
                            cross_owner_link(link.episode_id, std::string(episode->second),
                                             link.raw_data_id, std::string(raw->second))
                                .what());
    }
  }
  for (std::size_t i = 0; i < batch.processed_ids.size(); ++i) {
    if (!raw_owner.contains(batch.processed_ids[i])) {
      throw NotFoundError(item("processed_ids", i) + ": raw event " +
                          quoted(batch.processed_ids[i]) + " does not exist (nothing was written)");
    }
  }
  check_semantic_steps(batch, stored, deleted, episode_owner);
  return store;
}

}  // namespace nemori::detail
