// The statement, source and progress part of MemoryTables (memory_tables.h).
#include <algorithm>

#include "nemori/core/utf8.h"
#include "storage/memory/memory_tables.h"

namespace nemori::detail {

namespace {

// Approximate size of a statement's JSON text, for stats: fixed keys and timestamps plus the
// variable parts (the metadata counted by its compact text, vectors at 12 bytes a value).
std::uint64_t json_bytes(const Statement& s) {
  constexpr std::uint64_t kFixed = 320;  // keys, punctuation, four timestamps, numbers
  std::uint64_t size = kFixed + s.statement_id.size() + s.owner_id.size() + s.subject.size() +
                       s.content.size() + s.superseded_by.size() + s.embedding_model.size() +
                       s.metadata.dump().size();
  if (s.embedding_vector) size += 12 * s.embedding_vector->size();
  for (const std::string& id : s.source_episode_ids) size += id.size() + 3;
  return size;
}

StoredStatement make_stored(const Statement& statement) {
  return StoredStatement{statement, fold_case(statement.content), json_bytes(statement)};
}

void add_to_set(std::unordered_map<std::string, std::set<std::string>>& index,
                const std::string& key, const std::string& value) {
  index[key].insert(value);
}

void remove_from_set(std::unordered_map<std::string, std::set<std::string>>& index,
                     const std::string& key, const std::string& value) {
  const auto it = index.find(key);
  if (it == index.end()) return;
  it->second.erase(value);
  if (it->second.empty()) index.erase(it);
}

}  // namespace

const StoredStatement* MemoryTables::find_statement(const std::string& statement_id) const {
  const auto it = statements_.find(statement_id);
  return it == statements_.end() ? nullptr : &it->second;
}

void MemoryTables::index_statement(const StoredStatement& stored) {
  const Statement& s = stored.statement;
  const TimeKey key{s.valid_from, s.statement_id};
  statements_by_time_.insert(key);
  statements_by_owner_[s.owner_id].insert(key);
  if (!s.superseded_by.empty()) add_to_set(closed_by_, s.superseded_by, s.statement_id);
  statement_bytes_ += stored.json_bytes;
}

void MemoryTables::unindex_statement(const StoredStatement& stored) {
  const Statement& s = stored.statement;
  const TimeKey key{s.valid_from, s.statement_id};
  statements_by_time_.erase(key);
  if (const auto it = statements_by_owner_.find(s.owner_id); it != statements_by_owner_.end()) {
    it->second.erase(key);
    if (it->second.empty()) statements_by_owner_.erase(it);
  }
  if (!s.superseded_by.empty()) remove_from_set(closed_by_, s.superseded_by, s.statement_id);
  statement_bytes_ -= stored.json_bytes;
}

void MemoryTables::insert_statement(const Statement& statement) {
  auto [it, inserted] = statements_.emplace(statement.statement_id, make_stored(statement));
  if (!inserted) return;
  index_statement(it->second);
  for (const std::string& episode : statement.source_episode_ids) {
    add_to_set(statements_of_episode_, episode, statement.statement_id);
    ++source_count_;
  }
}

void MemoryTables::replace_statement(const Statement& statement) {
  const auto it = statements_.find(statement.statement_id);
  if (it == statements_.end()) return;
  Statement updated = statement;
  updated.source_episode_ids = it->second.statement.source_episode_ids;
  unindex_statement(it->second);
  it->second = make_stored(updated);
  index_statement(it->second);
}

bool MemoryTables::add_statement_source(const std::string& statement_id,
                                        const std::string& episode_id) {
  const auto it = statements_.find(statement_id);
  if (it == statements_.end()) return false;
  std::vector<std::string>& sources = it->second.statement.source_episode_ids;
  if (std::find(sources.begin(), sources.end(), episode_id) != sources.end()) return false;
  sources.push_back(episode_id);
  add_to_set(statements_of_episode_, episode_id, statement_id);
  ++source_count_;
  statement_bytes_ += episode_id.size() + 3;
  it->second.json_bytes += episode_id.size() + 3;
  return true;
}

void MemoryTables::move_statement_sources(const std::string& from_episode_id,
                                          const std::string& to_episode_id) {
  const auto moving = statements_of_episode_.find(from_episode_id);
  if (moving == statements_of_episode_.end()) return;
  const std::set<std::string> statement_ids = std::move(moving->second);
  statements_of_episode_.erase(moving);
  for (const std::string& id : statement_ids) {
    const auto it = statements_.find(id);
    if (it == statements_.end()) continue;
    std::vector<std::string>& sources = it->second.statement.source_episode_ids;
    const bool has_to = std::find(sources.begin(), sources.end(), to_episode_id) != sources.end();
    const auto from = std::find(sources.begin(), sources.end(), from_episode_id);
    if (from == sources.end()) continue;
    if (has_to) {
      sources.erase(from);
      --source_count_;
    } else {
      *from = to_episode_id;
      add_to_set(statements_of_episode_, to_episode_id, id);
    }
  }
}

std::optional<std::size_t> MemoryTables::erase_statement(const std::string& statement_id) {
  const auto it = statements_.find(statement_id);
  if (it == statements_.end()) return std::nullopt;
  for (const std::string& episode : it->second.statement.source_episode_ids) {
    remove_from_set(statements_of_episode_, episode, statement_id);
    --source_count_;
  }
  unindex_statement(it->second);
  statements_.erase(it);
  // Reopen what it closed: the only evidence that those stopped being true is gone.
  std::size_t reopened = 0;
  const auto closed = closed_by_.find(statement_id);
  if (closed != closed_by_.end()) {
    const std::set<std::string> ids = closed->second;
    for (const std::string& id : ids) {
      const auto target = statements_.find(id);
      if (target == statements_.end()) continue;
      Statement open = target->second.statement;
      open.valid_to.reset();
      open.superseded_by.clear();
      replace_statement(open);
      ++reopened;
    }
    closed_by_.erase(statement_id);
  }
  return reopened;
}

std::vector<std::string> MemoryTables::erase_sources_of(const std::string& episode_id) {
  const auto it = statements_of_episode_.find(episode_id);
  if (it == statements_of_episode_.end()) return {};
  std::vector<std::string> touched(it->second.begin(), it->second.end());
  statements_of_episode_.erase(it);
  for (const std::string& id : touched) {
    const auto s = statements_.find(id);
    if (s == statements_.end()) continue;
    std::vector<std::string>& sources = s->second.statement.source_episode_ids;
    const auto before = sources.size();
    std::erase(sources, episode_id);
    source_count_ -= before - sources.size();
  }
  return touched;
}

const TimeIndex* MemoryTables::statements_of_owner(const std::string& owner_id) const {
  const auto it = statements_by_owner_.find(owner_id);
  return it == statements_by_owner_.end() ? nullptr : &it->second;
}

const std::set<std::string>* MemoryTables::statements_of_episode(
    const std::string& episode_id) const {
  const auto it = statements_of_episode_.find(episode_id);
  return it == statements_of_episode_.end() ? nullptr : &it->second;
}

const std::set<std::string>* MemoryTables::closed_by(const std::string& statement_id) const {
  const auto it = closed_by_.find(statement_id);
  return it == closed_by_.end() ? nullptr : &it->second;
}

// ---- semantic progress ----

const SemanticProgress* MemoryTables::find_progress(const std::string& episode_id) const {
  const auto it = progress_.find(episode_id);
  return it == progress_.end() ? nullptr : &it->second;
}

void MemoryTables::upsert_progress(const SemanticProgress& progress) {
  const auto it = progress_.find(progress.episode_id);
  if (it != progress_.end() && it->second.owner_id != progress.owner_id) {
    erase_progress(progress.episode_id);
  }
  progress_[progress.episode_id] = progress;
  progress_by_owner_[progress.owner_id].insert(progress.episode_id);
}

void MemoryTables::erase_progress(const std::string& episode_id) {
  const auto it = progress_.find(episode_id);
  if (it == progress_.end()) return;
  const auto owner = progress_by_owner_.find(it->second.owner_id);
  if (owner != progress_by_owner_.end()) {
    owner->second.erase(episode_id);
    if (owner->second.empty()) progress_by_owner_.erase(owner);
  }
  progress_.erase(it);
}

const std::set<std::string>* MemoryTables::progress_of_owner(const std::string& owner_id) const {
  const auto it = progress_by_owner_.find(owner_id);
  return it == progress_by_owner_.end() ? nullptr : &it->second;
}

}  // namespace nemori::detail
