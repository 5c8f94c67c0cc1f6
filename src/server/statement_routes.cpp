// Statement routes (semantic memory): list with paging and filters, get one, its history,
// delete one (reopening what it closed).
#include <string>
#include <vector>

#include "api_error.h"
#include "nemori/core/statement.h"
#include "nemori/core/time.h"
#include "request_decoding.h"
#include "routes.h"

namespace nemori::server {

namespace {

// The owner's statement named by the path, or a 404 (also for another owner's id).
Statement owned_statement(MemorySystem& memory, const Call& call) {
  auto statement = memory.get_statement(call.owner, call.path.at(0));
  if (!statement) throw not_found("statement_id", "statement not found");
  return std::move(*statement);
}

nlohmann::json statements_json(const std::vector<Statement>& statements) {
  nlohmann::json out = nlohmann::json::array();
  for (const Statement& s : statements) out.push_back(statement_json(s));
  return out;
}

Reply list_statements(MemorySystem& memory, Call& call) {
  const QueryParams& params = call.params();
  StatementQuery query;
  query.limit = size_param(params, "limit", 50, 1, call.limits.max_page_limit);
  query.offset = size_param(params, "offset", 0, 0, call.limits.max_offset);
  if (const auto state = param(params, "state")) {
    if (*state == "current")
      query.state = StatementState::kCurrent;
    else if (*state == "superseded")
      query.state = StatementState::kSuperseded;
    else if (*state == "all")
      query.state = StatementState::kAll;
    else
      throw bad_request("state",
                        "unknown value \"" + *state + "\" (valid: current, superseded, all)");
  }
  if (const auto as_of = param(params, "as_of")) {
    std::string problem;
    const auto t = parse_iso8601(*as_of, problem);
    if (!t) throw bad_request("as_of", problem);
    query.as_of = *t;
  }
  query.categories =
      enum_list_param<StatementCategory>(params, "category", parse_statement_category);
  if (const auto q = param(params, "q"); q && !q->empty()) query.text_contains = *q;
  const StatementSearchResult found = memory.list_statements(call.owner, query);
  return {200, page_json("statements", statements_json(found.statements), found.total_count,
                         found.has_more, *query.limit, query.offset)};
}

Reply get_statement(MemorySystem& memory, Call& call) {
  return {200, statement_json(owned_statement(memory, call))};
}

Reply statement_history(MemorySystem& memory, Call& call) {
  const Statement statement = owned_statement(memory, call);
  return {200,
          {{"statement_id", statement.statement_id},
           {"history", statements_json(memory.statement_history(call.owner,
                                                                 statement.statement_id))}}};
}

Reply delete_statement(MemorySystem& memory, Call& call) {
  const Statement statement = owned_statement(memory, call);
  const StatementDeletion deleted = memory.delete_statement(call.owner, statement.statement_id);
  if (!deleted.deleted) throw not_found("statement_id", "statement not found");
  return {200, {{"deleted", statement.statement_id},
                {"reopened", statements_json(deleted.reopened)}}};
}

}  // namespace

void add_statement_routes(Router& router, MemorySystem& memory) {
  router.add("GET", "/v1/owners/{owner}/statements", Access::kOwner,
             with_memory(memory, list_statements));
  router.add("GET", "/v1/owners/{owner}/statements/{id}", Access::kOwner,
             with_memory(memory, get_statement));
  router.add("GET", "/v1/owners/{owner}/statements/{id}/history", Access::kOwner,
             with_memory(memory, statement_history));
  router.add("DELETE", "/v1/owners/{owner}/statements/{id}", Access::kOwner,
             with_memory(memory, delete_statement));
}

}  // namespace nemori::server
