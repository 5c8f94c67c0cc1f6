// `nemori facts`: an owner's statements (semantic memory): list, history, delete.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "command.h"
#include "nemori/core/error.h"
#include "nemori/core/statement.h"
#include "nemori/core/time.h"
#include "nemori/memory/memory_system.h"

namespace nemori::cli {

namespace {

// "2023-05-08" of a time.
std::string day(Timestamp t) { return format_iso8601(t).substr(0, 10); }

// One statement as a line: id8  category  conf  since  content.
void print_line(const Statement& s) {
  std::printf("%-8s  %-12s  %.2f  %s  %s%s\n", s.statement_id.substr(0, 8).c_str(),
              std::string(to_string(s.category)).c_str(), s.confidence, day(s.valid_from).c_str(),
              s.content.c_str(), s.current() ? "" : ("  (until " + day(*s.valid_to) + ")").c_str());
}

// The owner's statement whose id is `id` or starts with it (8 characters as printed).
std::optional<Statement> find_statement(MemorySystem& memory, const std::string& owner,
                                        const std::string& id) {
  if (auto s = memory.get_statement(owner, id)) return s;
  StatementQuery all;
  all.state = StatementState::kAll;
  std::optional<Statement> found;
  for (const Statement& s : memory.list_statements(owner, all).statements) {
    if (s.statement_id.rfind(id, 0) != 0) continue;
    if (found) throw ValidationError("id", "\"" + id + "\" names more than one statement");
    found = s;
  }
  return found;
}

}  // namespace

void register_facts(CLI::App& app) {
  struct Options {
    StorageOption storage;
    LlmOption llm;
    std::string owner, as_of, category, query, history, remove;
    std::size_t limit = 50;
    bool all = false, json = false, yes = false;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "facts", "List an owner's statements (semantic memory), their history, or delete one");
  add_storage_option(*cmd, o->storage);
  add_llm_options(*cmd, o->llm);
  cmd->add_option("--owner", o->owner, "Owner")->required()->check(owner_id_check());
  cmd->add_flag("--all", o->all, "Superseded statements too");
  cmd->add_option("--as-of", o->as_of, "Statements true at this date or time (ISO 8601)");
  cmd->add_option("--category", o->category,
                  "identity, preference, relationship, goal, belief, habit or fact");
  cmd->add_option("--query", o->query, "Only statements whose content holds this text");
  cmd->add_option("-n,--limit", o->limit, "How many (at least 1)")->check(at_least_one());
  cmd->add_flag("--json", o->json, "Print JSONL, one statement a line");
  cmd->add_option("--history", o->history, "Print the versions of this statement, oldest first");
  cmd->add_option("--delete", o->remove, "Delete this statement (reopens what it had closed)");
  cmd->add_flag("--yes", o->yes, "Do not ask before --delete");
  set_action(*cmd, [o]() -> int {
    auto memory = MemorySystem::open(memory_config(o->storage, o->llm));
    if (!o->history.empty()) {
      const auto s = find_statement(*memory, o->owner, o->history);
      if (!s) throw NotFoundError("statement \"" + o->history + "\" of " + o->owner + " not found");
      for (const Statement& v : memory->statement_history(o->owner, s->statement_id)) {
        if (o->json) {
          std::printf("%s\n", to_json(v).dump().c_str());
          continue;
        }
        std::printf("%s  %s … %s  %s%s\n", v.statement_id.substr(0, 8).c_str(),
                    day(v.valid_from).c_str(), v.valid_to ? day(*v.valid_to).c_str() : "now",
                    v.content.c_str(),
                    v.superseded_by.empty()
                        ? ""
                        : ("  (superseded by " + v.superseded_by.substr(0, 8) + ")").c_str());
      }
      return 0;
    }
    if (!o->remove.empty()) {
      const auto s = find_statement(*memory, o->owner, o->remove);
      if (!s) throw NotFoundError("statement \"" + o->remove + "\" of " + o->owner + " not found");
      if (!o->yes) {
        std::fprintf(stderr, "Delete \"%s\" of %s? [y/N] ", s->content.c_str(), o->owner.c_str());
        std::string answer;
        std::getline(std::cin, answer);
        if (answer != "y" && answer != "Y" && answer != "yes") {
          std::fprintf(stderr, "nemori: nothing deleted\n");
          return 1;
        }
      }
      const StatementDeletion d = memory->delete_statement(o->owner, s->statement_id);
      std::printf("deleted %s  %s\n", s->statement_id.substr(0, 8).c_str(), s->content.c_str());
      for (const Statement& r : d.reopened) {
        std::printf("reopened ");
        print_line(r);
      }
      return 0;
    }
    StatementQuery query;
    query.state = o->all ? StatementState::kAll : StatementState::kCurrent;
    if (!o->as_of.empty()) {
      std::string problem;
      const auto t = parse_iso8601(o->as_of, problem);
      if (!t) throw ValidationError("--as-of", problem);
      query.as_of = *t;
    }
    if (!o->category.empty()) query.categories = {parse_statement_category(o->category)};
    if (!o->query.empty()) query.text_contains = o->query;
    query.limit = o->limit;
    const StatementSearchResult found = memory->list_statements(o->owner, query);
    for (const Statement& s : found.statements) {
      if (o->json) {
        std::printf("%s\n", to_json(s).dump().c_str());
      } else {
        print_line(s);
      }
    }
    if (!o->json && found.statements.empty()) std::printf("(no statement)\n");
    if (!o->json && found.has_more)
      std::printf("... %zu more (--limit)\n", found.total_count - found.statements.size());
    return 0;
  });
}

}  // namespace nemori::cli
