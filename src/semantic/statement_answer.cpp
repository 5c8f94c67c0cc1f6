#include "semantic/statement_answer.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "nemori/core/error.h"
#include "nemori/core/utf8.h"

namespace nemori::semantic_internal {

namespace {

std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t\r\n") - first + 1);
}

Timestamp time_of(const AnswerContext& context, std::size_t number) {
  return context.events[number - 1].temporal_info.timestamp;
}

Timestamp last_message_time(const AnswerContext& context) {
  Timestamp last{};
  for (const RawEvent& e : context.events) last = std::max(last, e.temporal_info.timestamp);
  return last;
}

bool absent(const nlohmann::json& item, const char* key) {
  const auto it = item.find(key);
  return it == item.end() || it->is_null();
}

// "" when the item is valid, else what is wrong with it (after "statement <n>: ").
std::string item_problem(const nlohmann::json& item, const AnswerContext& context) {
  if (!item.is_object()) return "is not an object";
  if (!item.contains("content") || !item["content"].is_string())
    return "has no \"content\" string";
  const std::string& content = item["content"].get_ref<const std::string&>();
  if (trimmed(content).empty()) return "content is empty";
  if (content.size() > kMaxStatementContentBytes)
    return "content has " + std::to_string(content.size()) + " bytes (at most " +
           std::to_string(kMaxStatementContentBytes) + ")";
  if (!is_valid_utf8(content)) return "content is not valid UTF-8";
  if (content.find('\0') != std::string::npos) return "content holds a NUL character";
  if (!item.contains("category") || !item["category"].is_string())
    return "has no \"category\" string";
  try {
    parse_statement_category(item["category"].get_ref<const std::string&>());
  } catch (const ValidationError&) {
    return "category \"" + item["category"].get<std::string>() +
           "\" is not one of identity, preference, relationship, goal, belief, habit, fact";
  }
  if (!absent(item, "subject") && !item["subject"].is_string()) return "subject is not a string";
  if (!absent(item, "confidence")) {
    const auto& c = item["confidence"];
    if (!c.is_number() || !std::isfinite(c.get<double>()) || c.get<double>() < 0 ||
        c.get<double>() > 1)
      return "confidence " + c.dump() + " is not a number from 0 to 1";
  }
  const std::size_t n = context.events.size();
  if (!item.contains("evidence") || !item["evidence"].is_array() || item["evidence"].empty())
    return "has no \"evidence\" list of message numbers";
  Timestamp earliest{};
  bool first = true;
  for (const auto& e : item["evidence"]) {
    if (!e.is_number_integer() || e.get<long long>() < 1 ||
        static_cast<unsigned long long>(e.get<long long>()) > n)
      return "evidence " + e.dump() + " is not a message number (1 to " + std::to_string(n) + ")";
    const Timestamp t = time_of(context, static_cast<std::size_t>(e.get<long long>()));
    if (first || t < earliest) earliest = t;
    first = false;
  }
  if (!absent(item, "valid_from")) {
    const auto& v = item["valid_from"];
    if (!v.is_string()) return "valid_from is not a string";
    const auto t = parse_iso8601(v.get_ref<const std::string&>());
    if (!t) return "valid_from \"" + v.get<std::string>() + "\" is not an ISO-8601 date";
    if (*t > last_message_time(context))
      return "valid_from \"" + v.get<std::string>() + "\" is after the last message (" +
             format_iso8601(last_message_time(context)) + ")";
  }
  if (!absent(item, "supersedes")) {
    const auto& s = item["supersedes"];
    const bool shown = s.is_string() && std::find(context.shown_ids.begin(), context.shown_ids.end(),
                                                  s.get<std::string>()) != context.shown_ids.end();
    if (!shown) {
      return "supersedes " + s.dump() + " is not " +
             (context.shown_ids.empty() ? std::string("null (no known statement was shown)")
                                        : "null or one of the S-ids shown (S1 to S" +
                                              std::to_string(context.shown_ids.size()) + ")");
    }
  }
  return {};
}

// The UTC day of a time, as days since the epoch.
std::int64_t day_of(Timestamp t) {
  constexpr std::int64_t kDay = 86400LL * 1000000LL;
  const std::int64_t us = to_micros(t);
  return us >= 0 ? us / kDay : (us - kDay + 1) / kDay;
}

}  // namespace

std::string statements_answer_problem(const nlohmann::json& answer, const AnswerContext& context) {
  if (!answer.is_object() || !answer.contains("statements") || !answer["statements"].is_array())
    return "the answer has no \"statements\" list";
  const auto& items = answer["statements"];
  const std::size_t count = std::min(items.size(), context.max_items);
  for (std::size_t i = 0; i < count; ++i) {
    if (std::string problem = item_problem(items[i], context); !problem.empty())
      return "statement " + std::to_string(i + 1) + ": " + problem;
  }
  return {};
}

std::vector<ProposedStatement> proposed_statements(const nlohmann::json& answer,
                                                   const AnswerContext& context) {
  std::vector<ProposedStatement> out;
  std::unordered_map<std::string, std::size_t> by_content;  // fold_case(content) -> index
  const auto& items = answer["statements"];
  const std::size_t count = std::min(items.size(), context.max_items);
  for (std::size_t i = 0; i < count; ++i) {
    const auto& item = items[i];
    ProposedStatement p;
    p.content = trimmed(item["content"].get<std::string>());
    p.category = parse_statement_category(item["category"].get<std::string>());
    if (!absent(item, "subject")) p.subject = trimmed(item["subject"].get<std::string>());
    p.confidence = absent(item, "confidence") ? context.default_confidence
                                              : item["confidence"].get<double>();
    for (const auto& e : item["evidence"]) p.evidence.push_back(e.get<std::size_t>());
    std::sort(p.evidence.begin(), p.evidence.end());
    p.evidence.erase(std::unique(p.evidence.begin(), p.evidence.end()), p.evidence.end());
    const Timestamp earliest = time_of(context, p.evidence.front());
    p.valid_from = earliest;
    if (!absent(item, "valid_from")) {
      const std::string& text = item["valid_from"].get_ref<const std::string&>();
      const Timestamp given = *parse_iso8601(text);
      const bool date_only = text.size() == 10;
      // A date alone on the cited message's day means that message's time (the model gave
      // the day; the message is more precise).
      p.valid_from = date_only && day_of(given) == day_of(earliest) ? earliest : given;
    }
    if (!absent(item, "supersedes")) {
      const auto it = std::find(context.shown_ids.begin(), context.shown_ids.end(),
                                item["supersedes"].get<std::string>());
      p.supersedes = static_cast<std::size_t>(it - context.shown_ids.begin());
    }
    const std::string key = fold_case(p.content);
    if (const auto seen = by_content.find(key); seen != by_content.end()) {
      ProposedStatement& first = out[seen->second];
      first.evidence.insert(first.evidence.end(), p.evidence.begin(), p.evidence.end());
      std::sort(first.evidence.begin(), first.evidence.end());
      first.evidence.erase(std::unique(first.evidence.begin(), first.evidence.end()),
                           first.evidence.end());
      if (!first.supersedes) first.supersedes = p.supersedes;
      continue;
    }
    by_content.emplace(key, out.size());
    out.push_back(std::move(p));
  }
  return out;
}

std::string decisions_answer_problem(const nlohmann::json& answer, std::size_t pairs) {
  if (!answer.is_object() || !answer.contains("decisions") || !answer["decisions"].is_array())
    return "the answer has no \"decisions\" list";
  std::vector<int> seen(pairs, 0);
  for (const auto& d : answer["decisions"]) {
    if (!d.is_object() || !d.contains("pair") || !d["pair"].is_string())
      return "a decision has no \"pair\" string";
    const std::string& pair = d["pair"].get_ref<const std::string&>();
    std::size_t index = 0;
    bool known = pair.size() > 1 && pair[0] == 'P';
    for (std::size_t i = 1; known && i < pair.size(); ++i) {
      known = pair[i] >= '0' && pair[i] <= '9' && i < 8;
      if (known) index = index * 10 + static_cast<std::size_t>(pair[i] - '0');
    }
    if (!known || index < 1 || index > pairs)
      return "pair \"" + pair + "\" is not one of P1 to P" + std::to_string(pairs);
    if (!d.contains("relation") || !d["relation"].is_string())
      return "the decision of " + pair + " has no \"relation\" string";
    const std::string relation = fold_case(d["relation"].get<std::string>());
    if (relation != "duplicate" && relation != "contradiction" && relation != "distinct")
      return "the relation of " + pair + " is \"" + d["relation"].get<std::string>() +
             "\", not duplicate, contradiction or distinct";
    if (++seen[index - 1] > 1) return pair + " is decided twice";
  }
  for (std::size_t i = 0; i < pairs; ++i) {
    if (seen[i] == 0) return "P" + std::to_string(i + 1) + " is not decided";
  }
  return {};
}

std::vector<PairRelation> pair_relations(const nlohmann::json& answer, std::size_t pairs) {
  std::vector<PairRelation> out(pairs, PairRelation::kDistinct);
  for (const auto& d : answer["decisions"]) {
    const std::size_t index = std::stoul(d["pair"].get<std::string>().substr(1)) - 1;
    const std::string relation = fold_case(d["relation"].get<std::string>());
    out[index] = relation == "duplicate"       ? PairRelation::kDuplicate
                 : relation == "contradiction" ? PairRelation::kContradiction
                                               : PairRelation::kDistinct;
  }
  return out;
}

}  // namespace nemori::semantic_internal
