#include "storage/memory/memory_statement_repository.h"

#include <algorithm>
#include <deque>
#include <set>
#include <unordered_set>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"
#include "storage/filter_eval.h"

namespace nemori::detail {

namespace {

// True when `s` is in `state` (as_of, when set, wins over state).
bool in_state(const Statement& s, StatementState state, const std::optional<Timestamp>& as_of) {
  if (as_of) return s.valid_at(*as_of);
  switch (state) {
    case StatementState::kCurrent:
      return s.current();
    case StatementState::kSuperseded:
      return !s.current();
    case StatementState::kAll:
      return true;
  }
  return true;
}

// The order of StatementQuery::Sort: the key, then statement_id, in the same direction.
bool statement_before(const Statement& a, const Statement& b, StatementQuery::Sort sort) {
  switch (sort) {
    case StatementQuery::Sort::kValidFromAsc:
      return std::tie(a.valid_from, a.statement_id) < std::tie(b.valid_from, b.statement_id);
    case StatementQuery::Sort::kValidFromDesc:
      return std::tie(a.valid_from, a.statement_id) > std::tie(b.valid_from, b.statement_id);
    case StatementQuery::Sort::kUpdatedDesc:
      return std::tie(a.updated_at, a.statement_id) > std::tie(b.updated_at, b.statement_id);
  }
  return false;
}

// True when the semantic pass still has to look at the episode.
bool pending(const MemoryTables& tables, const std::string& episode_id) {
  const SemanticProgress* p = tables.find_progress(episode_id);
  return p == nullptr || p->state == SemanticState::kPending || p->state == SemanticState::kRetry;
}

}  // namespace

std::optional<Statement> MemoryStatementRepository::get(const std::string& statement_id) {
  auto lock = store_.read();
  const StoredStatement* stored = store_.tables().find_statement(statement_id);
  if (stored == nullptr) return std::nullopt;
  return stored->statement;
}

std::vector<std::optional<Statement>> MemoryStatementRepository::get_batch(
    std::span<const std::string> ids) {
  auto lock = store_.read();
  std::vector<std::optional<Statement>> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) {
    const StoredStatement* stored = store_.tables().find_statement(id);
    out.push_back(stored == nullptr ? std::nullopt : std::optional<Statement>(stored->statement));
  }
  return out;
}

StatementSearchResult MemoryStatementRepository::search(const StatementQuery& query) {
  validate(query);
  const std::unordered_set<std::string> owners(query.owner_ids.begin(), query.owner_ids.end());
  const std::unordered_set<std::string> ids(query.statement_ids.begin(),
                                            query.statement_ids.end());
  const std::optional<std::string> needle =
      query.text_contains ? std::optional<std::string>(fold_case(*query.text_contains))
                          : std::nullopt;
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();

  std::vector<const Statement*> hits;
  std::unordered_set<std::string_view> seen;
  auto consider = [&](const std::string& id) {
    const StoredStatement* stored = tables.find_statement(id);
    if (stored == nullptr || !seen.insert(stored->statement.statement_id).second) return;
    const Statement& s = stored->statement;
    if (!ids.empty() && !ids.contains(s.statement_id)) return;
    if (!owners.empty() && !owners.contains(s.owner_id)) return;
    if (!in_state(s, query.state, query.as_of)) return;
    if (!query.categories.empty() &&
        std::find(query.categories.begin(), query.categories.end(), s.category) ==
            query.categories.end()) {
      return;
    }
    if (needle && stored->search_text.find(*needle) == std::string::npos) return;
    if (query.source_episode_id &&
        std::find(s.source_episode_ids.begin(), s.source_episode_ids.end(),
                  *query.source_episode_id) == s.source_episode_ids.end()) {
      return;
    }
    hits.push_back(&s);
  };
  // Start from the narrowest index the query allows.
  if (!query.statement_ids.empty()) {
    for (const std::string& id : query.statement_ids) consider(id);
  } else if (query.source_episode_id) {
    if (const auto* of_episode = tables.statements_of_episode(*query.source_episode_id)) {
      for (const std::string& id : *of_episode) consider(id);
    }
  } else if (!query.owner_ids.empty()) {
    for (const std::string& owner : owners) {
      if (const TimeIndex* index = tables.statements_of_owner(owner)) {
        for (const auto& key : *index) consider(key.second);
      }
    }
  } else {
    for (const auto& key : tables.statements_by_time()) consider(key.second);
  }

  const PageBounds page = page_bounds(hits.size(), query.offset, query.limit);
  std::partial_sort(hits.begin(), hits.begin() + static_cast<std::ptrdiff_t>(page.end), hits.end(),
                    [&](const Statement* a, const Statement* b) {
                      return statement_before(*a, *b, query.sort);
                    });
  StatementSearchResult result;
  result.statements.reserve(page.end - page.begin);
  for (std::size_t i = page.begin; i < page.end; ++i) result.statements.push_back(*hits[i]);
  result.total_count = hits.size();
  result.has_more = query.offset + result.statements.size() < result.total_count;
  return result;
}

std::vector<Statement> MemoryStatementRepository::history(const std::string& statement_id) {
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  std::vector<Statement> out;
  if (tables.find_statement(statement_id) == nullptr) return out;
  std::set<std::string> found{statement_id};
  std::deque<std::string> queue{statement_id};
  while (!queue.empty()) {
    const std::string id = std::move(queue.front());
    queue.pop_front();
    const StoredStatement* stored = tables.find_statement(id);
    if (stored == nullptr) continue;
    out.push_back(stored->statement);
    const std::string& closer = stored->statement.superseded_by;
    if (!closer.empty() && tables.find_statement(closer) != nullptr &&
        found.insert(closer).second) {
      queue.push_back(closer);
    }
    if (const auto* closed = tables.closed_by(id)) {
      for (const std::string& other : *closed) {
        if (found.insert(other).second) queue.push_back(other);
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const Statement& a, const Statement& b) {
    return statement_before(a, b, StatementQuery::Sort::kValidFromAsc);
  });
  return out;
}

bool MemoryStatementRepository::remove(const std::string& statement_id) {
  auto lock = store_.write();
  return store_.tables().erase_statement(statement_id).has_value();
}

std::size_t MemoryStatementRepository::count(const std::string& owner_id, StatementState state) {
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  const TimeIndex* index =
      owner_id.empty() ? &tables.statements_by_time() : tables.statements_of_owner(owner_id);
  if (index == nullptr) return 0;
  if (state == StatementState::kAll) return index->size();
  std::size_t n = 0;
  for (const auto& key : *index) {
    const StoredStatement* stored = tables.find_statement(key.second);
    if (stored != nullptr && in_state(stored->statement, state, std::nullopt)) ++n;
  }
  return n;
}

std::vector<StatementSource> MemoryStatementRepository::sources(const std::string& owner_id) {
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  const TimeIndex* index =
      owner_id.empty() ? &tables.statements_by_time() : tables.statements_of_owner(owner_id);
  std::vector<StatementSource> out;
  if (index == nullptr) return out;
  std::vector<const Statement*> statements;
  statements.reserve(index->size());
  for (const auto& key : *index) {
    if (const StoredStatement* stored = tables.find_statement(key.second))
      statements.push_back(&stored->statement);
  }
  std::sort(statements.begin(), statements.end(),
            [](const Statement* a, const Statement* b) { return a->statement_id < b->statement_id; });
  for (const Statement* s : statements) {
    std::vector<std::string> episodes = s->source_episode_ids;
    std::sort(episodes.begin(), episodes.end());
    for (std::string& episode : episodes) out.push_back({s->statement_id, std::move(episode)});
  }
  return out;
}

std::optional<SemanticProgress> MemoryStatementRepository::progress(
    const std::string& episode_id) {
  auto lock = store_.read();
  const SemanticProgress* p = store_.tables().find_progress(episode_id);
  if (p == nullptr) return std::nullopt;
  return *p;
}

std::vector<std::string> MemoryStatementRepository::pending_episodes(
    const std::string& owner_id, std::optional<std::size_t> limit) {
  if (owner_id.empty()) {
    throw ValidationError("owner_id", "is required (pending episodes are listed per owner)");
  }
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  std::vector<std::string> out;
  const TimeIndex* index = tables.episodes_of_owner(owner_id);
  if (index == nullptr) return out;
  for (const auto& key : *index) {
    if (limit && out.size() >= *limit) break;
    if (pending(tables, key.second)) out.push_back(key.second);
  }
  return out;
}

std::vector<std::string> MemoryStatementRepository::pending_owners() {
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  std::vector<std::string> out;
  for (const std::string& owner : tables.owners()) {
    const TimeIndex* index = tables.episodes_of_owner(owner);
    if (index == nullptr) continue;
    if (std::any_of(index->begin(), index->end(),
                    [&](const TimeKey& key) { return pending(tables, key.second); })) {
      out.push_back(owner);
    }
  }
  return out;
}

std::vector<SemanticProgress> MemoryStatementRepository::progress_rows(
    const std::string& owner_id) {
  auto lock = store_.read();
  const MemoryTables& tables = store_.tables();
  std::vector<SemanticProgress> out;
  if (owner_id.empty()) {
    out.reserve(tables.progress_rows().size());
    for (const auto& [id, row] : tables.progress_rows()) out.push_back(row);
    return out;
  }
  if (const auto* ids = tables.progress_of_owner(owner_id)) {
    for (const std::string& id : *ids) {
      if (const SemanticProgress* p = tables.find_progress(id)) out.push_back(*p);
    }
  }
  return out;
}

}  // namespace nemori::detail
