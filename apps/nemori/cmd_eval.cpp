// `nemori eval locomo FILE`: retrieval quality on LoCoMo, without an LLM; with --answer,
// question answering judged by a model (J), token F1 and BLEU-1.
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "command.h"
#include "nemori/core/error.h"
#include "nemori/core/input_formats.h"
#include "nemori/core/sha256.h"
#include "nemori/eval/locomo_answer.h"
#include "nemori/eval/locomo_eval.h"

namespace nemori::cli {

namespace {

// The models of an evaluation and what they cost: calls and tokens per phase, in all and per
// 1,000 messages ingested.
nlohmann::json llm_report(const LlmConfig& models, const LlmClients& clients,
                          std::size_t messages) {
  nlohmann::json j = llm_models_json(models);
  if (!clients.stats || (!clients.chat && !clients.embedder)) return j;
  j["usage"] = llm_usage_json(*clients.stats);
  const double per = messages == 0 ? 0.0 : 1000.0 / static_cast<double>(messages);
  nlohmann::json per_1000 = nlohmann::json::object();
  double tokens = 0;
  for (const auto& [phase, p] : clients.stats->snapshot()) {
    const double t = static_cast<double>(p.prompt_tokens + p.completion_tokens);
    per_1000[phase] = {{"calls", static_cast<double>(p.calls) * per}, {"tokens", t * per}};
    tokens += t;
  }
  j["per_1000_messages"] = per_1000;
  j["tokens_per_1000_messages"] = tokens * per;
  return j;
}

// The text form of llm_report(), under the recall table; nothing in the LLM-free mode.
void print_llm_report(const nlohmann::json& llm) {
  if (!llm.contains("usage")) return;
  const auto name = [&](const char* phase) {
    return llm[phase].is_null() ? std::string("none") : llm[phase]["model"].get<std::string>();
  };
  std::printf("\nmodels: segmentation %s, episodes %s, embedding %s\n",
              name("segmentation").c_str(), name("episode").c_str(), name("embedding").c_str());
  std::printf("%-14s %10s %12s %14s %16s %9s %9s\n", "llm phase", "calls", "tokens",
              "calls/1k msgs", "tokens/1k msgs", "invalid", "fallbacks");
  std::vector<std::string> phases;
  for (const auto& [phase, u] : llm["usage"].items()) phases.push_back(phase);
  for (const std::string& phase : in_pipeline_order(phases)) {
    const auto& u = llm["usage"][phase];
    const auto& per = llm["per_1000_messages"][phase];
    std::printf("%-14s %10llu %12llu %14.1f %16.0f %9llu %9llu\n", phase.c_str(),
                u["calls"].get<unsigned long long>(),
                u["prompt_tokens"].get<unsigned long long>() +
                    u["completion_tokens"].get<unsigned long long>(),
                per["calls"].get<double>(), per["tokens"].get<double>(),
                u["invalid_answers"].get<unsigned long long>(),
                u["fallbacks"].get<unsigned long long>());
  }
  std::printf("tokens per 1,000 messages: %.0f\n", llm["tokens_per_1000_messages"].get<double>());
}

// The flags of --answer (docs/design/semantic-memory.md §5).
struct AnswerFlags {
  bool answer = false;
  std::size_t budget = 2000;
  std::size_t statements = 20;
  std::size_t raw_top = 2;
  std::string judge_model = "gpt-4o-mini";
  std::string judge_base_url;
  std::size_t judge_runs = 1;
  std::int64_t seed = 0;
  std::string answers;
};

nlohmann::json endpoint_json(const std::string& provider, const std::string& base_url,
                             const std::string& model) {
  if (model.empty()) return nullptr;
  return {{"provider", provider}, {"base_url", base_url}, {"model", model}};
}

// `eval locomo --answer`: every setting, then the run's results (the design's JSON output).
int run_answer_eval(const std::string& file, std::vector<LocomoConversation> conversations,
                    const LlmConfig& models, LocomoEvalOptions& eval, const AnswerFlags& flags,
                    bool json) {
  if (!eval.memory.llm.chat) {
    std::fprintf(stderr,
                 "nemori: usage error: --answer needs a chat model to answer with (set "
                 "--llm-model or NEMORI_LLM_MODEL)\n");
    return 2;
  }
  LocomoAnswerOptions options;
  options.memory = eval.memory;
  options.mode = eval.mode;
  options.context = eval.context;
  options.budget_words = flags.budget;
  options.statements = flags.statements;
  options.raw_top = flags.raw_top;
  options.judge_runs = flags.judge_runs;
  options.seed = flags.seed;
  options.progress = eval.progress;
  LlmConfig judge_config;
  judge_config.chat = models.chat;
  judge_config.chat.model = flags.judge_model;
  if (!flags.judge_base_url.empty()) judge_config.chat.base_url = flags.judge_base_url;
  options.judge = make_llm_clients(judge_config, eval.memory.llm.stats).chat;
  const LocomoAnswerReport report = run_locomo_answer(conversations, options);

  if (!flags.answers.empty()) {
    write_file_atomically(flags.answers, [&](std::ostream& out) {
      for (const auto& o : report.outcomes) out << o.to_json().dump() << "\n";
    });
  }
  const ContextScoringOptions context = eval.context.value_or(default_context_scoring());
  const auto& sem = options.memory.semantic;
  const auto& merging = options.memory.merging;
  const std::string mode = eval.mode == SearchMode::kHybrid   ? "hybrid"
                           : eval.mode == SearchMode::kVector ? "vector"
                                                              : "bm25";
  nlohmann::json settings = {
      {"data",
       {{"file", std::filesystem::path(file).filename().string()},
        {"sha256", sha256_hex(read_text_file(file))},
        {"conversations", conversations.size()},
        {"categories", options.categories}}},
      {"seed", flags.seed},
      {"nemori", {{"version", NEMORI_VERSION}, {"git", nullptr}}},
      {"models",
       {{"memory", endpoint_json(models.chat.provider, models.chat.base_url, models.chat.model)},
        {"embedding", endpoint_json("openai", models.embedding.base_url, models.embedding.model)},
        {"answer", {{"model", models.chat.model}, {"temperature", 0}}},
        {"judge",
         {{"model", flags.judge_model},
          {"base_url", judge_config.chat.base_url},
          {"temperature", 0},
          {"runs", flags.judge_runs}}}}},
      {"prompts", prompt_hashes(models.prompts)},
      {"retrieval",
       {{"mode", mode},
        {"budget_words", flags.budget},
        {"statement_share", options.statement_share},
        {"statements", flags.statements},
        {"raw_top", flags.raw_top},
        {"context",
         {{"neighbour_weight", context.neighbour_weight},
          {"sitting_weight", context.sitting_weight},
          {"sitting_hours", static_cast<double>(context.sitting_window.count()) / 3600.0}}}}},
      {"semantic",
       {{"enabled", sem.enabled},
        {"related_limit", sem.related_limit},
        {"related_floor", sem.related_floor},
        {"duplicate_threshold", sem.duplicate_threshold},
        {"ambiguous_threshold", sem.ambiguous_threshold}}},
      {"merging",
       {{"enabled", merging.enabled},
        {"similarity_threshold", merging.similarity_threshold},
        {"window_minutes", merging.window.count()}}}};
  const bool scripted = report.answer_model_reported == "scripted";
  constexpr const char* kNote = "deterministic scripted model: proves the plumbing, not the quality";
  if (json) {
    nlohmann::json j = {{"benchmark", "locomo"}, {"mode", "answer"}};
    if (scripted) j["note"] = kNote;
    j["settings"] = settings;
    j.update(report.to_json());
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    if (scripted) std::printf("note: %s\n", kNote);
    std::printf("models: answer %s, judge %s (%zu run(s)); budget %zu words, seed %lld\n",
                models.chat.model.c_str(), flags.judge_model.c_str(), flags.judge_runs,
                flags.budget, static_cast<long long>(flags.seed));
    std::printf("%s", report.to_text().c_str());
  }
  return 0;
}

}  // namespace

void register_eval(CLI::App& app) {
  auto* eval = app.add_subcommand("eval", "Evaluate retrieval quality");
  eval->require_subcommand(1);
  struct Options {
    std::string file;
    std::string unit = "episodes";
    std::string mode;
    std::size_t neighbours = 0;
    std::size_t conversations = 0;
    std::size_t min_messages = 0, max_messages = 0;
    double topic_threshold = -1;
    double k1 = -1, b = -1, title_weight = -1, summary_weight = -1, keyword_weight = -1;
    bool message_evidence = false;
    bool no_stemming = false, no_stop_words = false, cut_after_questions = false;
    std::string misses;
    std::string rankings;
    double neighbour_weight = -1, sitting_weight = -1, sitting_hours = -1;
    bool json = false;
    bool incremental = false;
    LlmOption llm;
    AnswerFlags answer;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = eval->add_subcommand(
      "locomo",
      "Ingest every LoCoMo conversation (one owner each), build episodes, ask every question of "
      "categories 1-4 and print evidence recall at 500/1000/2000/4000 words and at k=5/10/20");
  cmd->add_option("file", o->file, "LoCoMo JSON file (e.g. ../shared/data/locomo7.json)")
      ->required();
  cmd->add_option("--unit", o->unit,
                  "episodes (default) or messages (baseline: raw messages only)");
  cmd->add_option("--mode", o->mode,
                  "bm25, vector or hybrid (default: hybrid with an embedding model, else bm25)");
  cmd->add_option("--neighbours", o->neighbours, "Add N time neighbours around each episode hit");
  cmd->add_option("--conversations", o->conversations, "Only the first N conversations");
  cmd->add_option("--min-messages", o->min_messages, "Segmenter: fewest messages per episode");
  cmd->add_option("--max-messages", o->max_messages, "Segmenter: most messages per episode");
  cmd->add_option("--topic-threshold", o->topic_threshold,
                  "Segmenter: cut when window overlap falls below this (0 disables)");
  cmd->add_option("--k1", o->k1, "BM25 k1 (default 1.2)");
  cmd->add_option("--b", o->b, "BM25 b (default 0.75)");
  cmd->add_option("--title-weight", o->title_weight, "BM25 weight of episode titles");
  cmd->add_option("--summary-weight", o->summary_weight, "BM25 weight of episode summaries");
  cmd->add_option("--keyword-weight", o->keyword_weight, "BM25 weight of keywords and entities");
  cmd->add_flag("--message-evidence", o->message_evidence,
                "Fuse each episode's rank with the rank of its best raw message");
  cmd->add_option("--neighbour-weight", o->neighbour_weight,
                  "Context scoring: share of the time neighbours' scores (default 0.3; 0 = off)");
  cmd->add_option("--sitting-weight", o->sitting_weight,
                  "Context scoring: share of the sitting's best score (default 0.3; 0 = off)");
  cmd->add_option("--sitting-hours", o->sitting_hours,
                  "Context scoring: half-width of a sitting in hours (default 6)");
  cmd->add_flag("--cut-after-questions", o->cut_after_questions,
                "Segmenter: allow a cut between a question and its reply");
  cmd->add_flag("--no-stemming", o->no_stemming, "Tokenizer: no Snowball stemming");
  cmd->add_flag("--no-stop-words", o->no_stop_words, "Tokenizer: keep stop words");
  cmd->add_option("--misses", o->misses,
                  "Write every question not fully answered within 1000 words to this JSONL file, "
                  "with the rank of each evidence message");
  cmd->add_option("--rankings", o->rankings,
                  "Write every question's ranked units (id, score, words, time, dialog ids) to "
                  "this JSONL file");
  cmd->add_flag("--incremental", o->incremental,
                "Feed each conversation message by message through add_messages, background "
                "workers building episodes meanwhile, then flush (as an agent adds)");
  cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_flag("--answer", o->answer.answer,
                "Answer every question with the chat model from a context within --budget, "
                "judge it with --judge-model (J) and score token F1 and BLEU-1");
  cmd->add_option("--budget", o->answer.budget,
                  "--answer: words of context per question (default 2000)")
      ->check(at_least_one());
  cmd->add_option("--statements", o->answer.statements,
                  "--answer: statements per question at most (default 20; 0 = none)");
  cmd->add_option("--raw-top", o->answer.raw_top,
                  "--answer: add the original messages of this many top episodes (default 2)");
  cmd->add_option("--judge-model", o->answer.judge_model,
                  "--answer: the judge model (default gpt-4o-mini)");
  cmd->add_option("--judge-base-url", o->answer.judge_base_url,
                  "--answer: the judge's endpoint (default: the chat model's)");
  cmd->add_option("--judge-runs", o->answer.judge_runs,
                  "--answer: judge calls per question; J is their mean (default 1)")
      ->check(at_least_one());
  cmd->add_option("--seed", o->answer.seed, "--answer: sampling seed of the answers (default 0)");
  cmd->add_option("--answers", o->answer.answers,
                  "--answer: write one JSON line per question (answer, labels, F1, BLEU-1, "
                  "latencies) to this file");
  add_llm_options(*cmd, o->llm);
  set_action(*cmd, [o]() -> int {
    auto conversations = load_locomo(o->file);
    if (o->conversations > 0 && o->conversations < conversations.size()) {
      conversations.resize(o->conversations);
    }
    LocomoEvalOptions options;
    options.memory.storage.backend = "memory";
    const LlmConfig models = o->llm.load();
    options.memory.llm = make_llm_clients(models);
    if (o->unit == "episodes")
      options.unit = EvalUnit::kEpisodes;
    else if (o->unit == "messages")
      options.unit = EvalUnit::kMessages;
    else
      throw ValidationError("--unit",
                            "unknown value \"" + o->unit + "\" (valid: episodes, messages)");
    if (!o->mode.empty() && o->mode != "bm25" && !options.memory.llm.embedder)
      return embedding_model_required("--mode " + o->mode);
    if (o->mode.empty())
      options.mode = options.memory.llm.embedder ? SearchMode::kHybrid : SearchMode::kBm25;
    else if (o->mode == "bm25")
      options.mode = SearchMode::kBm25;
    else if (o->mode == "vector")
      options.mode = SearchMode::kVector;
    else if (o->mode == "hybrid")
      options.mode = SearchMode::kHybrid;
    else
      throw ValidationError("--mode",
                            "unknown value \"" + o->mode + "\" (valid: bm25, vector, hybrid)");
    options.neighbours = o->neighbours;
    options.message_evidence = o->message_evidence;
    if (o->neighbour_weight >= 0 || o->sitting_weight >= 0 || o->sitting_hours >= 0) {
      ContextScoringOptions context = default_context_scoring();
      if (o->neighbour_weight >= 0) context.neighbour_weight = o->neighbour_weight;
      if (o->sitting_weight >= 0) context.sitting_weight = o->sitting_weight;
      if (o->sitting_hours >= 0)
        context.sitting_window = std::chrono::seconds(std::llround(o->sitting_hours * 3600));
      options.context = context;
    }
    options.memory.retrieval.tokenizer.stem = !o->no_stemming;
    options.memory.retrieval.tokenizer.remove_stop_words = !o->no_stop_words;
    auto& bm25 = options.memory.retrieval.bm25;
    if (o->k1 >= 0) bm25.k1 = o->k1;
    if (o->b >= 0) bm25.b = o->b;
    if (o->title_weight >= 0) bm25.weights.title = o->title_weight;
    if (o->summary_weight >= 0) bm25.weights.summary = o->summary_weight;
    if (o->keyword_weight >= 0) bm25.weights.keywords = bm25.weights.entities = o->keyword_weight;
    auto& seg = options.memory.segmentation;
    seg.keep_question_with_reply = !o->cut_after_questions;
    if (o->min_messages > 0) seg.min_messages = o->min_messages;
    if (o->max_messages > 0) seg.max_messages = o->max_messages;
    if (o->topic_threshold >= 0) seg.topic_shift_threshold = o->topic_threshold;
    options.progress = [](std::size_t done, std::size_t total) {
      show_progress("conversations", done, total);
    };
    options.keep_rankings = !o->rankings.empty();
    options.incremental = o->incremental;
    if (o->answer.answer) {
      if (options.unit != EvalUnit::kEpisodes)
        throw ValidationError("--unit", "--answer answers from episodes only");
      return run_answer_eval(o->file, std::move(conversations), models, options, o->answer,
                             o->json);
    }
    const auto report = run_locomo_eval(conversations, options);
    if (!o->rankings.empty()) {
      write_file_atomically(o->rankings, [&](std::ostream& out) {
        for (const auto& q : report.outcomes) {
          nlohmann::json units = nlohmann::json::array();
          for (const auto& u : q.ranking) {
            units.push_back({{"id", u.id},
                             {"score", u.score},
                             {"words", u.words},
                             {"time", u.time},
                             {"dialog_ids", u.dialog_ids}});
          }
          out << nlohmann::json{{"conversation", q.conversation},
                                {"category", locomo_category_name(q.category)},
                                {"question", q.question},
                                {"evidence", q.evidence},
                                {"ranking", units}}
                     .dump()
              << "\n";
        }
      });
    }
    if (!o->misses.empty()) {
      write_file_atomically(o->misses, [&](std::ostream& out) {
        for (const auto& q : report.outcomes) {
          if (q.recall_at_1000w >= 1.0) continue;
          out << nlohmann::json{{"conversation", q.conversation},
                                {"category", locomo_category_name(q.category)},
                                {"question", q.question},
                                {"evidence", q.evidence},
                                {"evidence_ranks", q.evidence_ranks},
                                {"recall_at_1000w", q.recall_at_1000w}}
                     .dump()
              << "\n";
        }
      });
    }
    const nlohmann::json llm = llm_report(models, options.memory.llm, report.messages);
    if (o->json) {
      nlohmann::json j = report.to_json();
      j["llm"] = llm;
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("%s", report.to_text().c_str());
      print_llm_report(llm);
    }
    return 0;
  });
}

}  // namespace nemori::cli
