#include "nemori/eval/locomo_answer.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "nemori/core/error.h"
#include "nemori/core/sha256.h"
#include "nemori/core/time.h"
#include "nemori/core/words.h"
#include "nemori/episodes/llm_prompts.h"
#include "nemori/eval/answer_metrics.h"
#include "nemori/eval/locomo_eval.h"
#include "nemori/llm/llm_error.h"

namespace nemori {

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kJudgeSystem =
    "You are an expert grader that determines if answers to questions match a gold standard "
    "answer.";

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

std::string trim(std::string_view s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  const auto end = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(begin, end + 1 - begin));
}

// The text on one line: line breaks become spaces.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

std::string utc_format(Timestamp t, const char* format) {
  const std::time_t seconds = static_cast<std::time_t>(
      std::chrono::floor<std::chrono::seconds>(t).time_since_epoch().count());
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char text[64];
  return std::string(text, std::strftime(text, sizeof text, format, &parts));
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// `after` minus `before`, phase by phase (phases without calls in between are left out).
std::map<std::string, PhaseStats> usage_between(const std::map<std::string, PhaseStats>& before,
                                                const std::map<std::string, PhaseStats>& after) {
  std::map<std::string, PhaseStats> out;
  for (const auto& [phase, a] : after) {
    PhaseStats b;
    if (auto it = before.find(phase); it != before.end()) b = it->second;
    PhaseStats d;
    d.calls = a.calls - b.calls;
    d.retries = a.retries - b.retries;
    d.errors = a.errors - b.errors;
    d.prompt_tokens = a.prompt_tokens - b.prompt_tokens;
    d.completion_tokens = a.completion_tokens - b.completion_tokens;
    d.invalid_answers = a.invalid_answers - b.invalid_answers;
    d.fallbacks = a.fallbacks - b.fallbacks;
    d.wall_ms = a.wall_ms - b.wall_ms;
    if (d.calls > 0 || d.retries > 0 || d.invalid_answers > 0 || d.fallbacks > 0) out[phase] = d;
  }
  return out;
}

void add_usage(std::map<std::string, PhaseStats>& sum,
               const std::map<std::string, PhaseStats>& add) {
  for (const auto& [phase, a] : add) {
    PhaseStats& s = sum[phase];
    s.calls += a.calls;
    s.retries += a.retries;
    s.errors += a.errors;
    s.prompt_tokens += a.prompt_tokens;
    s.completion_tokens += a.completion_tokens;
    s.invalid_answers += a.invalid_answers;
    s.fallbacks += a.fallbacks;
    s.wall_ms += a.wall_ms;
  }
}

nlohmann::json usage_json(const std::map<std::string, PhaseStats>& usage) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [phase, p] : usage) {
    out[phase] = {{"calls", p.calls},
                  {"retries", p.retries},
                  {"errors", p.errors},
                  {"prompt_tokens", p.prompt_tokens},
                  {"completion_tokens", p.completion_tokens},
                  {"wall_ms", p.wall_ms},
                  {"invalid_answers", p.invalid_answers},
                  {"fallbacks", p.fallbacks}};
  }
  return out;
}

// The judge's label in an answer: "CORRECT" or "WRONG" (the "label" member, trimmed and
// upper-cased, of the answer's JSON object, or of the first {...} in it), else "".
std::string judge_label(const std::string& text) {
  auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded()) {
    const auto open = text.find('{');
    const auto close = text.rfind('}');
    if (open != std::string::npos && close != std::string::npos && close > open)
      parsed = nlohmann::json::parse(text.substr(open, close - open + 1), nullptr, false);
  }
  if (parsed.is_discarded() || !parsed.is_object()) return "";
  const auto it = parsed.find("label");
  if (it == parsed.end() || !it->is_string()) return "";
  std::string label = trim(it->get<std::string>());
  for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return label == "CORRECT" || label == "WRONG" ? label : "";
}

// Episodes of the owner that are merges of others.
std::size_t merged_episodes(MemorySystem& memory, const std::string& owner) {
  std::size_t merged = 0;
  for (const auto& e : memory.list_episodes(owner, 1000000, 0)) {
    if (e.metadata.custom_fields.is_object() && e.metadata.custom_fields.contains("merged_from"))
      ++merged;
  }
  return merged;
}

// Statements of the owner in `state`; 0 on a backend without statements.
std::size_t statement_count(MemorySystem& memory, const std::string& owner, StatementState state) {
  try {
    return memory.storage().statements().count(owner, state);
  } catch (const UnsupportedBackendError&) {
    return 0;
  }
}

struct Judged {
  std::string label;  // CORRECT, WRONG or INVALID
  double ms = 0;
};

Judged judge_once(ChatClient& judge, LlmStats* stats, const std::string& prompt) {
  ChatRequest request;
  request.messages = {{"system", kJudgeSystem}, {"user", prompt}};
  request.format = ResponseFormat::kJsonObject;
  request.temperature = 0.0;
  request.phase = "judge";
  Judged judged{"INVALID", 0};
  const auto t0 = Clock::now();
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string label;
    try {
      label = judge_label(judge.complete(request).text);
    } catch (const LlmCallError&) {
      label.clear();  // counted as an error by the client
    }
    if (!label.empty()) {
      judged.label = label;
      break;
    }
    if (stats != nullptr) stats->record_invalid_answer("judge");
  }
  judged.ms = ms_since(t0);
  return judged;
}

}  // namespace

nlohmann::json prompt_hashes(const std::map<std::string, std::string>& overrides) {
  nlohmann::json out = nlohmann::json::object();
  for (const char* name :
       {"segmentation", "episode", "semantic_extract", "semantic_predict", "semantic_calibrate",
        "semantic_reconcile", "merge", "locomo_answer", "locomo_judge"}) {
    try {
      out[name] = sha256_hex(prompt_text(name, overrides));
    } catch (const ConfigError&) {
      out[name] = nullptr;  // not in this build
    }
  }
  return out;
}

AnswerContext build_answer_context(MemorySystem& memory, const std::string& owner_id,
                                   const std::string& question, const LocomoAnswerOptions& options,
                                   double* search_ms) {
  const std::size_t statement_budget = static_cast<std::size_t>(
      std::floor(static_cast<double>(options.budget_words) * options.statement_share));
  MemorySearchRequest request;
  request.owner_id = owner_id;
  request.query = question;
  request.limit = 50;
  request.mode = options.mode;
  request.word_budget = options.budget_words;
  if (options.context) request.context = *options.context;
  request.statement_limit = options.statements;
  request.statement_word_budget = statement_budget;
  const auto t0 = Clock::now();
  const MemorySearchResponse found = memory.search(request);
  if (search_ms != nullptr) *search_ms = ms_since(t0);

  AnswerContext context;
  std::size_t used = 0;
  for (const StatementHit& hit : found.statements) {
    if (!hit.current || context.statements >= options.statements) continue;
    if (used + hit.words > statement_budget) break;
    used += hit.words;
    ++context.statements;
    context.semantic += "- [since " + utc_format(hit.statement.valid_from, "%Y-%m-%d") + "] " +
                        one_line(hit.statement.content) + "\n";
  }
  std::vector<const MemoryHit*> episodes;
  for (const MemoryHit& hit : found.hits) {
    if (used + hit.words > options.budget_words) break;
    used += hit.words;
    episodes.push_back(&hit);
  }
  // The original messages of the top episodes, each episode's all or none, while they fit.
  std::vector<std::string> messages_of(episodes.size());
  for (std::size_t i = 0; i < episodes.size() && i < options.raw_top; ++i) {
    const auto& ids = episodes[i]->raw_event_ids;
    std::string lines;
    std::size_t words = 0, count = 0;
    for (const auto& event : memory.storage().raw_data().get_batch(ids)) {
      if (!event) continue;
      const Message m = message_of(*event);
      words += count_words(m.content);
      ++count;
      lines += "    \u2022 [" +
               (m.timestamp ? utc_format(*m.timestamp, "%Y-%m-%d %H:%M UTC")
                            : std::string("time unknown")) +
               "] " + m.speaker_label() + ": " + one_line(m.content) + "\n";
    }
    if (count == 0 || used + words > options.budget_words) continue;
    used += words;
    context.original_messages += count;
    messages_of[i] = "    Original messages:\n" + lines;
  }
  for (std::size_t i = 0; i < episodes.size(); ++i) {
    const Episode& e = episodes[i]->episode;
    context.episodic += "- [" + utc_format(e.temporal_info.timestamp, "%Y-%m-%d %H:%M UTC") + "] " +
                        one_line(e.title) + ": " + one_line(e.content) + "\n" + messages_of[i];
  }
  context.episodes = episodes.size();
  context.words = used;
  return context;
}

LocomoAnswerReport run_locomo_answer(const std::vector<LocomoConversation>& conversations,
                                     const LocomoAnswerOptions& options) {
  if (!options.memory.llm.chat)
    throw ConfigError("llm.model: eval locomo --answer needs a chat model to answer with");
  if (!options.judge) throw ConfigError("judge: eval locomo --answer needs a judge model");
  if (options.judge_runs == 0) throw ValidationError("judge_runs", "must be at least 1");
  if (options.statement_share < 0 || options.statement_share > 1)
    throw ValidationError("statement_share", "must be within 0..1");
  const auto& overrides = options.memory.llm.prompts;
  const std::string answer_template = options.answer_prompt.empty()
                                          ? prompt_text("locomo_answer", overrides)
                                          : options.answer_prompt;
  const std::string judge_template =
      options.judge_prompt.empty() ? prompt_text("locomo_judge", overrides) : options.judge_prompt;
  require_placeholders("locomo_answer", answer_template, {"episodic", "semantic", "question"});
  require_placeholders("locomo_judge", judge_template,
                       {"question", "gold_answer", "generated_answer"});

  LocomoAnswerReport report;
  report.judge_runs = options.judge_runs;
  LlmStats* stats = options.memory.llm.stats.get();
  const auto snapshot = [&] {
    return stats != nullptr ? stats->snapshot() : std::map<std::string, PhaseStats>{};
  };
  const auto start_usage = snapshot();
  auto memory = MemorySystem::open(options.memory);
  ChatClient& answerer = *options.memory.llm.chat;
  for (std::size_t c = 0; c < conversations.size(); ++c) {
    const auto& conv = conversations[c];
    const std::string& owner = conv.sample_id;
    memory->delete_owner(owner);
    const auto messages = conv.messages();
    const auto before = snapshot();
    const auto t0 = Clock::now();
    memory->add_messages(owner, messages, "locomo");
    memory->flush(owner);
    report.ingest_seconds += ms_since(t0) / 1000.0;
    add_usage(report.ingest_usage, usage_between(before, snapshot()));
    report.messages += messages.size();
    report.episodes += memory->storage().episodes().count(owner);
    report.merges += merged_episodes(*memory, owner);
    report.statements_current += statement_count(*memory, owner, StatementState::kCurrent);
    report.statements_superseded += statement_count(*memory, owner, StatementState::kSuperseded);
    ++report.conversations;

    for (const auto& q : conv.questions) {
      if (q.category == 5 || std::find(options.categories.begin(), options.categories.end(),
                                       q.category) == options.categories.end())
        continue;
      AnswerOutcome out;
      out.conversation = conv.sample_id;
      out.question = q.question;
      out.gold = q.answer;
      out.category = q.category;
      out.context = build_answer_context(*memory, owner, q.question, options, &out.search_ms);

      ChatRequest request;
      request.messages = {
          {"user",
           render_prompt(
               answer_template,
               {{"episodic", out.context.episodic.empty() ? "(none)" : trim(out.context.episodic)},
                {"semantic", out.context.semantic.empty() ? "(none)" : trim(out.context.semantic)},
                {"question", q.question}})}};
      request.temperature = 0.0;
      request.seed = options.seed;
      request.phase = "answer";
      const auto a0 = Clock::now();
      try {
        const ChatResponse response = answerer.complete(request);
        out.answer = trim(response.text);
        out.answer_prompt_tokens = response.usage.prompt_tokens;
        if (report.answer_model_reported.empty()) report.answer_model_reported = response.model;
      } catch (const LlmCallError&) {
        out.answer_error = true;  // scored as an empty answer
      }
      out.answer_ms = ms_since(a0);

      const std::string judge_prompt = render_prompt(
          judge_template,
          {{"question", q.question}, {"gold_answer", q.answer}, {"generated_answer", out.answer}});
      for (std::size_t run = 0; run < options.judge_runs; ++run) {
        const Judged judged = judge_once(*options.judge, stats, judge_prompt);
        out.judge_labels.push_back(judged.label);
        out.judge_ms.push_back(judged.ms);
      }
      out.f1 = token_f1(out.answer, q.answer);
      out.bleu1 = bleu1(out.answer, q.answer);
      report.outcomes.push_back(std::move(out));
    }
    memory->delete_owner(owner);
    if (options.progress) options.progress(c + 1, conversations.size());
  }
  // What asking cost: everything since the start less what ingesting cost.
  report.query_usage = usage_between(report.ingest_usage, usage_between(start_usage, snapshot()));
  return report;
}

nlohmann::json AnswerOutcome::to_json() const {
  return {{"conversation", conversation},
          {"question", question},
          {"gold", gold},
          {"category", category},
          {"context_words", context.words},
          {"context",
           {{"statements", context.statements},
            {"episodes", context.episodes},
            {"original_messages", context.original_messages}}},
          {"answer", answer},
          {"answer_error", answer_error},
          {"judge_labels", judge_labels},
          {"f1", f1},
          {"bleu1", bleu1},
          {"latency_ms", {{"search", search_ms}, {"answer", answer_ms}, {"judge", judge_ms}}}};
}

nlohmann::json LocomoAnswerReport::results() const {
  std::vector<std::string> buckets = {"overall"};
  for (int category : {1, 2, 3, 4}) {
    const bool seen = std::any_of(outcomes.begin(), outcomes.end(),
                                  [&](const AnswerOutcome& o) { return o.category == category; });
    if (seen) buckets.push_back(locomo_category_name(category));
  }
  for (const auto& o : outcomes) {
    const std::string name = locomo_category_name(o.category);
    if (std::find(buckets.begin(), buckets.end(), name) == buckets.end()) buckets.push_back(name);
  }
  nlohmann::json out = nlohmann::json::object();
  for (const auto& bucket : buckets) {
    std::vector<const AnswerOutcome*> in;
    for (const auto& o : outcomes) {
      if (bucket == "overall" || locomo_category_name(o.category) == bucket) in.push_back(&o);
    }
    const double n = static_cast<double>(in.size());
    double f1 = 0, bleu = 0, words = 0, tokens = 0;
    std::size_t invalid = 0, errors = 0;
    std::vector<double> run_accuracy(judge_runs, 0.0);
    for (const auto* o : in) {
      f1 += o->f1;
      bleu += o->bleu1;
      words += static_cast<double>(o->context.words);
      tokens += static_cast<double>(o->answer_prompt_tokens);
      errors += o->answer_error ? 1 : 0;
      for (std::size_t r = 0; r < o->judge_labels.size() && r < judge_runs; ++r) {
        if (o->judge_labels[r] == "CORRECT") run_accuracy[r] += 1;
        if (o->judge_labels[r] == "INVALID") ++invalid;
      }
    }
    double j = 0, j_var = 0;
    for (double& a : run_accuracy) {
      a = n == 0 ? 0 : a / n;
      j += a;
    }
    j /= static_cast<double>(judge_runs);
    for (double a : run_accuracy) j_var += (a - j) * (a - j);
    j_var /= static_cast<double>(judge_runs);  // population deviation over runs, as numpy's std
    const auto mean = [&](double sum) { return n == 0 ? 0.0 : sum / n; };
    out[bucket] = {{"questions", in.size()},
                   {"j", j},
                   {"j_std", std::sqrt(j_var)},
                   {"j_runs", run_accuracy},
                   {"f1", mean(f1)},
                   {"bleu1", mean(bleu)},
                   {"context_words", mean(words)},
                   {"answer_prompt_tokens", mean(tokens)},
                   {"judge_invalid", invalid},
                   {"answer_errors", errors}};
  }
  return out;
}

nlohmann::json LocomoAnswerReport::to_json() const {
  const auto count_calls = [&](std::string_view prefix) {
    double calls = 0;
    for (const auto& [phase, p] : ingest_usage) {
      if (phase.rfind(prefix, 0) == 0) calls += static_cast<double>(p.calls);
    }
    return episodes == 0 ? 0.0 : calls / static_cast<double>(episodes);
  };
  std::vector<double> search, answer, judge;
  for (const auto& o : outcomes) {
    search.push_back(o.search_ms);
    answer.push_back(o.answer_ms);
    judge.insert(judge.end(), o.judge_ms.begin(), o.judge_ms.end());
  }
  const auto latency = [](const std::vector<double>& v) {
    return nlohmann::json{{"p50", percentile(v, 0.50)}, {"p95", percentile(v, 0.95)}};
  };
  return {
      {"results", results()},
      {"ingest",
       {{"conversations", conversations},
        {"messages", messages},
        {"episodes", episodes},
        {"merges", merges},
        {"statements_current", statements_current},
        {"statements_superseded", statements_superseded},
        {"seconds", ingest_seconds},
        {"per_episode",
         {{"semantic_calls", count_calls("semantic")}, {"merge_calls", count_calls("merge")}}}}},
      {"usage", {{"ingest", usage_json(ingest_usage)}, {"query", usage_json(query_usage)}}},
      {"latency_ms",
       {{"search", latency(search)}, {"answer", latency(answer)}, {"judge", latency(judge)}}}};
}

std::string LocomoAnswerReport::to_text() const {
  const nlohmann::json r = results();
  const nlohmann::json j = to_json();
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "%zu conversations, %zu messages, %zu episodes, %zu merges, statements %zu current "
                "and %zu superseded; %zu questions, judged %zu time(s) each\n",
                conversations, messages, episodes, merges, statements_current,
                statements_superseded, outcomes.size(), judge_runs);
  out += line;
  std::snprintf(line, sizeof line, "%-12s %5s %7s %7s %7s %7s %9s %8s\n", "category", "n", "J",
                "J std", "F1", "BLEU-1", "ctx words", "invalid");
  out += line;
  for (const char* bucket : {"multi-hop", "temporal", "open-domain", "single-hop", "overall"}) {
    if (!r.contains(bucket)) continue;
    const auto& b = r[bucket];
    std::snprintf(line, sizeof line, "%-12s %5zu %7.3f %7.3f %7.3f %7.3f %9.0f %8zu\n", bucket,
                  b["questions"].get<std::size_t>(), b["j"].get<double>(), b["j_std"].get<double>(),
                  b["f1"].get<double>(), b["bleu1"].get<double>(), b["context_words"].get<double>(),
                  b["judge_invalid"].get<std::size_t>());
    out += line;
  }
  std::snprintf(line, sizeof line, "%-8s %-20s %8s %12s %10s %8s\n", "usage", "phase", "calls",
                "tokens", "wall s", "invalid");
  out += line;
  for (const char* stage : {"ingest", "query"}) {
    for (const auto& [phase, p] : (std::string(stage) == "ingest" ? ingest_usage : query_usage)) {
      std::snprintf(line, sizeof line, "%-8s %-20s %8llu %12llu %10.1f %8llu\n", stage,
                    phase.c_str(), static_cast<unsigned long long>(p.calls),
                    static_cast<unsigned long long>(p.prompt_tokens + p.completion_tokens),
                    p.wall_ms / 1000.0, static_cast<unsigned long long>(p.invalid_answers));
      out += line;
    }
  }
  const auto& l = j["latency_ms"];
  std::snprintf(line, sizeof line,
                "ingest %.1f s; latency p50/p95 ms: search %.2f/%.2f, answer %.1f/%.1f, judge "
                "%.1f/%.1f\n",
                ingest_seconds, l["search"]["p50"].get<double>(), l["search"]["p95"].get<double>(),
                l["answer"]["p50"].get<double>(), l["answer"]["p95"].get<double>(),
                l["judge"]["p50"].get<double>(), l["judge"]["p95"].get<double>());
  out += line;
  return out;
}

}  // namespace nemori
