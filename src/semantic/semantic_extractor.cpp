#include "nemori/semantic/semantic_extractor.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "episodes/llm_json_call.h"
#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/core/message.h"
#include "nemori/episodes/llm_prompts.h"
#include "nemori/llm/llm_error.h"
#include "nemori/retrieval/document.h"
#include "nemori/retrieval/episode_embedding.h"
#include "semantic/statement_answer.h"
#include "semantic/usage_counting_chat.h"

namespace nemori {

using semantic_internal::AnswerContext;
using semantic_internal::PairRelation;
using semantic_internal::ProposedStatement;
using semantic_internal::UsageCountingChat;

namespace {

constexpr const char* kExtract = "semantic_extract";
constexpr const char* kPredict = "semantic_predict";
constexpr const char* kCalibrate = "semantic_calibrate";
constexpr const char* kReconcile = "semantic_reconcile";
constexpr std::size_t kPredictionWords = 400;
constexpr double kMaxConfidence = 0.99;

// The date part of a time: "2023-05-08".
std::string date_of(Timestamp t) { return format_iso8601(t).substr(0, 10); }

// One message as the model sees it: "3. [2023-05-08 13:58 UTC, Monday] Caroline: ...".
std::string numbered_line(std::size_t number, const RawEvent& event) {
  std::string line;
  try {
    line = prompt_line(message_from_raw_event(event));
  } catch (const ValidationError&) {  // not a chat message: its text, on one line
    Document d = document_from_raw_event(event);
    std::string text = d.title.empty() ? d.content : d.title + ": " + d.content;
    std::replace(text.begin(), text.end(), '\n', ' ');
    line = "[" + date_of(event.temporal_info.timestamp) + "] " + text;
  }
  return std::to_string(number) + ". " + line;
}

// At most `limit` words of `text`.
std::string first_words(const std::string& text, std::size_t limit) {
  std::string out;
  std::size_t words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (!space && !in_word && ++words > limit) break;
    in_word = !space;
    out += c;
  }
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  return out;
}

double cosine(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0;
}

double cosine_of(const std::vector<float>& vector, const Statement& s) {
  return s.embedding_vector ? cosine(vector, *s.embedding_vector) : 0;
}

// What reconciliation decided for one new statement.
struct Decision {
  enum Kind { kNew, kDuplicate, kContradiction } kind = kNew;
  // The other statement: a known one (id) or one earlier in this batch (index).
  std::string known_id;
  std::optional<std::size_t> batch_index;
  // Candidates in the ambiguous band, best first, for the reconcile call.
  struct Candidate {
    std::string known_id;
    std::optional<std::size_t> batch_index;
  };
  std::vector<Candidate> band;
};

}  // namespace

struct SemanticExtractor::Impl {
  std::shared_ptr<ChatClient> chat;
  std::shared_ptr<EmbeddingClient> embedder;
  SemanticOptions options;
  std::shared_ptr<LlmStats> stats;
  std::string extract_prompt, predict_prompt, calibrate_prompt, reconcile_prompt;

  // The prediction (text mode), asked again once when empty; nullopt with `why` when empty
  // twice. Throws the LlmError of a failed call.
  std::optional<std::string> predict(UsageCountingChat& counting, const std::string& prompt,
                                     std::string& why) const {
    ChatRequest request;
    request.messages.push_back({"user", prompt});
    request.format = ResponseFormat::kText;
    request.temperature = 0.0;
    request.phase = kPredict;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const ChatResponse response = counting.complete(request);
      const std::string text = first_words(response.text, kPredictionWords);
      if (text.find_first_not_of(" \t\r\n") != std::string::npos) return text;
      why = "the prediction is empty";
      if (stats) stats->record_invalid_answer(kPredict);
      request.messages.push_back({"assistant", response.text});
      request.messages.push_back(
          {"user", "That answer is empty. Write the account of the conversation, and nothing else."});
    }
    return std::nullopt;
  }

  // One JSON answer; nullopt with `why` when invalid twice. Throws the LlmError of a failed
  // call unless `failure_is_invalid` (then it is an answer of nullopt too).
  std::optional<nlohmann::json> ask(UsageCountingChat& counting, const char* phase,
                                    std::string prompt,
                                    std::function<std::string(const nlohmann::json&)> problem_of,
                                    std::string& why, bool failure_is_invalid = false) const {
    detail::JsonAsk ask;
    ask.phase = phase;
    ask.prompt = std::move(prompt);
    ask.temperature = 0.0;
    ask.problem_of = std::move(problem_of);
    ask.stats = stats.get();
    auto answer = detail::ask_for_json(counting, ask, why);
    if (!answer) {
      if (failure_is_invalid) {
        counting.clear_failure();
      } else {
        counting.rethrow_failure();
      }
    }
    return answer;
  }

  SemanticExtraction extract(const Episode& episode, std::span<const RawEvent> events,
                             KnownStatements& known, Timestamp now) const;
  void reconcile(const Episode& episode, std::span<const RawEvent> events,
                 std::vector<ProposedStatement>& proposed, std::vector<std::vector<float>>& vectors,
                 const std::vector<Statement>& shown, bool calibrated, KnownStatements& known,
                 UsageCountingChat& counting, Timestamp now, SemanticExtraction& out) const;
};

SemanticExtraction SemanticExtractor::Impl::extract(const Episode& episode,
                                                    std::span<const RawEvent> events,
                                                    KnownStatements& known, Timestamp now) const {
  if (episode.owner_id.empty()) throw ValidationError("owner_id", "is required");
  if (episode.episode_id.empty()) throw ValidationError("episode_id", "is required");
  UsageCountingChat counting(*chat);
  SemanticExtraction out;
  SemanticProgress progress;
  progress.episode_id = episode.episode_id;
  progress.owner_id = episode.owner_id;
  progress.version = options.version;
  progress.updated_at = now;
  const auto finish = [&](SemanticState state, std::string detail) {
    progress.state = state;
    progress.detail = std::move(detail);
    progress.semantic_calls = counting.calls();
    progress.semantic_tokens = counting.tokens();
    out.batch.semantic_progress.push_back(progress);
    return std::move(out);
  };
  if (events.empty()) return finish(SemanticState::kDone, "no messages");

  // 1. The messages, numbered.
  std::string messages;
  for (std::size_t i = 0; i < events.size(); ++i) {
    messages += numbered_line(i + 1, events[i]) + "\n";
  }
  if (!messages.empty()) messages.pop_back();
  const std::string start_time = prompt_time(episode.temporal_info.timestamp);

  // 2. Related current statements, shown as S1..Sm.
  std::span<const float> episode_vector;
  if (episode.embedding_vector) episode_vector = *episode.embedding_vector;
  std::vector<Statement> shown;
  for (Statement& s : known.related(episode.owner_id, episode.title + "\n" + episode.summary,
                                    episode_vector, options.related_limit,
                                    options.related_floor)) {
    if (s.current() && s.owner_id == episode.owner_id) shown.push_back(std::move(s));
  }
  AnswerContext context;
  context.events = events;
  context.max_items = options.max_per_episode;
  context.default_confidence = options.default_confidence;
  std::string statement_lines;
  for (std::size_t i = 0; i < shown.size(); ++i) {
    context.shown_ids.push_back("S" + std::to_string(i + 1));
    statement_lines += context.shown_ids.back() + " [since " + date_of(shown[i].valid_from) +
                       "] " + shown[i].content + "\n";
  }
  if (!statement_lines.empty()) statement_lines.pop_back();
  const auto problem_of = [&context](const nlohmann::json& answer) {
    return semantic_internal::statements_answer_problem(answer, context);
  };

  // 3-6. Cold start: extract; otherwise predict, then calibrate.
  std::string why;
  std::optional<nlohmann::json> answer;
  const bool calibrated = !shown.empty();
  if (!calibrated) {
    answer = ask(counting, kExtract,
                 render_prompt(extract_prompt, {{"title", episode.title},
                                                {"start_time", start_time},
                                                {"messages", messages}}),
                 problem_of, why);
    if (!answer) {
      if (stats) stats->record_fallback(kExtract);
      return finish(SemanticState::kDropped, std::string(kExtract) + ": " + why);
    }
  } else {
    const auto prediction =
        predict(counting,
                render_prompt(predict_prompt, {{"title", episode.title},
                                               {"start_time", start_time},
                                               {"statements", statement_lines}}),
                why);
    if (!prediction) {
      if (stats) stats->record_fallback(kPredict);
      return finish(SemanticState::kDropped, std::string(kPredict) + ": " + why);
    }
    answer = ask(counting, kCalibrate,
                 render_prompt(calibrate_prompt, {{"messages", messages},
                                                  {"prediction", *prediction},
                                                  {"statements", statement_lines},
                                                  {"start_time", start_time}}),
                 problem_of, why);
    if (!answer) {
      if (stats) stats->record_fallback(kCalibrate);
      return finish(SemanticState::kDropped, std::string(kCalibrate) + ": " + why);
    }
  }
  std::vector<ProposedStatement> proposed = semantic_internal::proposed_statements(*answer, context);

  // 7. One embedding request for the new statements' content.
  std::vector<std::vector<float>> vectors;
  if (!proposed.empty()) {
    std::vector<std::string> texts;
    texts.reserve(proposed.size());
    for (const ProposedStatement& p : proposed) texts.push_back(p.content);
    vectors = embed_in_batches(*embedder, texts);
  }

  // 8. Reconcile, building the batch.
  reconcile(episode, events, proposed, vectors, shown, calibrated, known, counting, now, out);
  return finish(SemanticState::kDone, "");
}

void SemanticExtractor::Impl::reconcile(const Episode& episode, std::span<const RawEvent> events,
                                        std::vector<ProposedStatement>& proposed,
                                        std::vector<std::vector<float>>& vectors,
                                        const std::vector<Statement>& shown, bool calibrated,
                                        KnownStatements& known, UsageCountingChat& counting,
                                        Timestamp now, SemanticExtraction& out) const {
  const std::string& owner = episode.owner_id;
  // Known statements seen so far (shown or nearest), by id: the base of updates.
  std::unordered_map<std::string, Statement> known_by_id;
  for (const Statement& s : shown) known_by_id.emplace(s.statement_id, s);
  std::unordered_set<std::string> closed_known;  // closed by a statement of this batch

  // The new statements as they would be stored.
  std::vector<Statement> fresh(proposed.size());
  for (std::size_t i = 0; i < proposed.size(); ++i) {
    const ProposedStatement& p = proposed[i];
    Statement& s = fresh[i];
    s.statement_id = derived_id("statement\n" + owner + "\n" + episode.episode_id + "\n" + p.content);
    s.owner_id = owner;
    s.category = p.category;
    s.subject = p.subject;
    s.content = p.content;
    s.confidence = p.confidence;
    s.valid_from = p.valid_from;
    s.recorded_at = now;
    s.updated_at = now;
    s.source_episode_ids = {episode.episode_id};
    s.embedding_vector = vectors[i];
    s.embedding_model = embedder->model();
    nlohmann::json evidence = nlohmann::json::array();
    for (std::size_t n : p.evidence) evidence.push_back(events[n - 1].data_id);
    s.metadata = {{"evidence", evidence}, {"extraction", calibrated ? "calibrate" : "direct"}};
  }

  // Pass 1: what each new statement is, in answer order.
  std::vector<Decision> decisions(proposed.size());
  for (std::size_t i = 0; i < proposed.size(); ++i) {
    Decision& d = decisions[i];
    const std::vector<float>& v = vectors[i];
    if (proposed[i].supersedes) {
      const Statement& target = shown[*proposed[i].supersedes];
      if (cosine_of(v, target) < options.duplicate_threshold &&
          !closed_known.contains(target.statement_id)) {
        d.kind = Decision::kContradiction;
        d.known_id = target.statement_id;
        closed_known.insert(target.statement_id);
        continue;
      }
    }
    struct Candidate {
      double sim;
      std::string known_id;
      std::optional<std::size_t> batch_index;
    };
    std::vector<Candidate> candidates;
    for (RelatedStatement& r : known.nearest(owner, v, options.reconcile_candidates)) {
      if (!r.statement.current() || closed_known.contains(r.statement.statement_id)) continue;
      candidates.push_back({r.cosine, r.statement.statement_id, std::nullopt});
      known_by_id.try_emplace(r.statement.statement_id, std::move(r.statement));
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (decisions[j].kind == Decision::kDuplicate) continue;  // not stored
      candidates.push_back({cosine(v, vectors[j]), "", j});
    }
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const Candidate& a, const Candidate& b) { return a.sim > b.sim; });
    if (candidates.size() > options.reconcile_candidates)
      candidates.resize(options.reconcile_candidates);
    if (!candidates.empty() && candidates.front().sim >= options.duplicate_threshold) {
      d.kind = Decision::kDuplicate;
      d.known_id = candidates.front().known_id;
      d.batch_index = candidates.front().batch_index;
      continue;
    }
    for (const Candidate& c : candidates) {
      if (c.sim >= options.ambiguous_threshold && c.sim < options.duplicate_threshold)
        d.band.push_back({c.known_id, c.batch_index});
    }
  }

  // The one reconcile call of the episode, for every pair in the ambiguous band.
  struct Pair {
    std::size_t statement;
    Decision::Candidate candidate;
  };
  std::vector<Pair> pairs;
  for (std::size_t i = 0; i < decisions.size(); ++i) {
    for (const auto& c : decisions[i].band) pairs.push_back({i, c});
  }
  if (!pairs.empty()) {
    std::string lines;
    for (std::size_t k = 0; k < pairs.size(); ++k) {
      const Statement& other = pairs[k].candidate.batch_index
                                   ? fresh[*pairs[k].candidate.batch_index]
                                   : known_by_id.at(pairs[k].candidate.known_id);
      const Statement& mine = fresh[pairs[k].statement];
      lines += "P" + std::to_string(k + 1) + ": new \"" + mine.content + "\" (from " +
               date_of(mine.valid_from) + ") / known \"" + other.content + "\" (since " +
               date_of(other.valid_from) + ")\n";
    }
    lines.pop_back();
    std::string why;
    const std::size_t count = pairs.size();
    const auto answer = ask(
        counting, kReconcile, render_prompt(reconcile_prompt, {{"pairs", lines}}),
        [count](const nlohmann::json& a) {
          return semantic_internal::decisions_answer_problem(a, count);
        },
        why, /*failure_is_invalid=*/true);
    if (!answer) {
      if (stats) stats->record_fallback(kReconcile);  // all stay distinct: new
    } else {
      const auto relations = semantic_internal::pair_relations(*answer, count);
      std::vector<bool> decided(decisions.size(), false);
      for (std::size_t k = 0; k < count; ++k) {
        Decision& d = decisions[pairs[k].statement];
        if (decided[pairs[k].statement] || relations[k] == PairRelation::kDistinct) continue;
        const auto& c = pairs[k].candidate;
        if (relations[k] == PairRelation::kContradiction && !c.batch_index &&
            closed_known.contains(c.known_id))
          continue;  // closed already by another statement of this episode
        d.kind = relations[k] == PairRelation::kDuplicate ? Decision::kDuplicate
                                                          : Decision::kContradiction;
        d.known_id = c.known_id;
        d.batch_index = c.batch_index;
        if (d.kind == Decision::kContradiction && !c.batch_index) closed_known.insert(c.known_id);
        decided[pairs[k].statement] = true;
      }
    }
  }

  // Pass 2: apply, in answer order.
  std::vector<bool> stored(fresh.size(), false);
  std::unordered_map<std::string, Statement> updates;  // known statements changed
  std::vector<std::string> update_order;
  std::unordered_set<std::string> strengthened;
  const auto known_copy = [&](const std::string& id) -> Statement& {
    auto it = updates.find(id);
    if (it == updates.end()) {
      it = updates.emplace(id, known_by_id.at(id)).first;
      update_order.push_back(id);
    }
    return it->second;
  };
  // A batch statement not stored (a duplicate) stands for what it duplicated.
  const auto resolve = [&](Decision target) {
    while (target.batch_index && !stored[*target.batch_index] &&
           decisions[*target.batch_index].kind == Decision::kDuplicate) {
      target = decisions[*target.batch_index];
    }
    return target;
  };
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    Statement& c = fresh[i];
    Decision d = decisions[i];
    if (d.kind == Decision::kDuplicate) {
      const Decision target = resolve(d);
      decisions[i] = {Decision::kDuplicate, target.known_id, target.batch_index, {}};
      Statement& other = target.batch_index ? fresh[*target.batch_index] : known_copy(target.known_id);
      other.confidence =
          std::min(kMaxConfidence, 1 - (1 - other.confidence) * (1 - c.confidence));
      other.updated_at = now;
      if (!target.batch_index) strengthened.insert(target.known_id);
      continue;
    }
    if (d.kind == Decision::kContradiction) {
      const Decision target = resolve(d);  // an unstored duplicate stands for what it repeats
      d.known_id = target.known_id;
      d.batch_index = target.batch_index;
      const Statement& seen = d.batch_index ? fresh[*d.batch_index] : known_by_id.at(d.known_id);
      if (c.valid_from >= seen.valid_from) {
        Statement& old = d.batch_index ? fresh[*d.batch_index] : known_copy(d.known_id);
        old.valid_to = c.valid_from;
        old.superseded_by = c.statement_id;
        old.updated_at = now;
        if (!d.batch_index) ++out.closed;
      } else {  // older news, learnt late: stored closed, the known one stays current
        c.valid_to = seen.valid_from;
        c.superseded_by = seen.statement_id;
      }
    }
    stored[i] = true;
  }

  for (std::size_t i = 0; i < fresh.size(); ++i) {
    if (!stored[i]) continue;
    out.batch.statements.push_back(std::move(fresh[i]));
  }
  for (const std::string& id : update_order) {
    out.batch.statement_updates.push_back(std::move(updates.at(id)));
  }
  for (const std::string& id : strengthened) {
    const Statement& s = known_by_id.at(id);
    if (std::find(s.source_episode_ids.begin(), s.source_episode_ids.end(), episode.episode_id) ==
        s.source_episode_ids.end())
      out.batch.statement_sources.push_back({id, episode.episode_id});
  }
  std::sort(out.batch.statement_sources.begin(), out.batch.statement_sources.end(),
            [](const StatementSource& a, const StatementSource& b) {
              return a.statement_id < b.statement_id;
            });
  out.added = out.batch.statements.size();
  out.strengthened = strengthened.size();
}

SemanticExtractor::SemanticExtractor(std::shared_ptr<ChatClient> chat,
                                     std::shared_ptr<EmbeddingClient> embedder,
                                     SemanticOptions options,
                                     const std::map<std::string, std::string>& prompts,
                                     std::shared_ptr<LlmStats> stats)
    : impl_(std::make_unique<Impl>()) {
  if (!chat) throw ConfigError("SemanticExtractor: no chat client");
  if (!embedder) throw ConfigError("SemanticExtractor: no embedding client");
  if (!(options.duplicate_threshold >= options.ambiguous_threshold))
    throw ConfigError("semantic.duplicate_threshold must not be below semantic.ambiguous_threshold");
  if (!(options.default_confidence >= 0 && options.default_confidence <= 1))
    throw ConfigError("semantic.default_confidence must be within 0..1");
  impl_->chat = std::move(chat);
  impl_->embedder = std::move(embedder);
  impl_->options = std::move(options);
  impl_->stats = std::move(stats);
  impl_->extract_prompt = prompt_text(kExtract, prompts);
  impl_->predict_prompt = prompt_text(kPredict, prompts);
  impl_->calibrate_prompt = prompt_text(kCalibrate, prompts);
  impl_->reconcile_prompt = prompt_text(kReconcile, prompts);
  require_placeholders(kExtract, impl_->extract_prompt, {"title", "start_time", "messages"});
  require_placeholders(kPredict, impl_->predict_prompt, {"title", "start_time", "statements"});
  require_placeholders(kCalibrate, impl_->calibrate_prompt,
                       {"messages", "prediction", "statements", "start_time"});
  require_placeholders(kReconcile, impl_->reconcile_prompt, {"pairs"});
}

SemanticExtractor::~SemanticExtractor() = default;

SemanticExtraction SemanticExtractor::extract(const Episode& episode,
                                              std::span<const RawEvent> events,
                                              KnownStatements& known, Timestamp now) const {
  return impl_->extract(episode, events, known, now);
}

const SemanticOptions& SemanticExtractor::options() const { return impl_->options; }

}  // namespace nemori
