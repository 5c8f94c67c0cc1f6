#include "nemori/episodes/episode_merger.h"

#include <algorithm>
#include <cmath>

#include "episodes/llm_json_call.h"
#include "nemori/core/error.h"
#include "nemori/core/id.h"
#include "nemori/episodes/llm_episode_generator.h"
#include "nemori/episodes/llm_prompts.h"

namespace nemori {

namespace {

constexpr const char* kPhase = "merge";
constexpr std::size_t kMaxListItems = 30;  // entities, topics, keywords... kept per episode

std::string trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// The end of an episode in time: its timestamp plus its duration, when known.
Timestamp end_of(const Episode& e) {
  const double seconds = e.temporal_info.duration.value_or(0.0);
  if (!(seconds > 0) || !std::isfinite(seconds)) return e.temporal_info.timestamp;
  return e.temporal_info.timestamp +
         std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::duration<double>(seconds));
}

// True when `a` comes first in time (ties: by id).
bool older_than(const Episode& a, const Episode& b) {
  if (a.temporal_info.timestamp != b.temporal_info.timestamp)
    return a.temporal_info.timestamp < b.temporal_info.timestamp;
  return a.episode_id < b.episode_id;
}

// `a` followed by the items of `b` it lacks, at most `limit` (limit 0: no limit).
template <typename T>
std::vector<T> united(const std::vector<T>& a, const std::vector<T>& b, std::size_t limit) {
  std::vector<T> out;
  for (const auto* list : {&a, &b}) {
    for (const T& item : *list) {
      if (limit > 0 && out.size() == limit) return out;
      if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
    }
  }
  return out;
}

// One episode as the prompt shows it. Each field is one line, so the lines read back alone.
std::string prompt_block(const Episode& e) {
  const auto one_line = [](std::string s) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    std::replace(s.begin(), s.end(), '\r', ' ');
    return s;
  };
  return "Title: " + one_line(e.title) + "\nTime: " + format_iso8601(e.temporal_info.timestamp) +
         " (" + prompt_time(e.temporal_info.timestamp) + ")\nSummary: " + one_line(e.summary) +
         "\nContent: " + one_line(e.content);
}

// A chat client that counts the calls and tokens made through it, and whether one failed.
class CountingChat : public ChatClient {
 public:
  explicit CountingChat(ChatClient& inner) : inner_(inner) {}
  ChatResponse complete(const ChatRequest& request) override {
    ++calls;
    try {
      ChatResponse response = inner_.complete(request);
      tokens += response.usage.total();
      return response;
    } catch (const LlmError&) {
      failed = true;
      throw;
    }
  }
  std::string model() const override { return inner_.model(); }
  std::uint64_t calls = 0;
  std::uint64_t tokens = 0;
  bool failed = false;

 private:
  ChatClient& inner_;
};

}  // namespace

double cosine_similarity(std::span<const float> a, std::span<const float> b) {
  if (a.size() != b.size() || a.empty()) return 0;
  double dot = 0, na = 0, nb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na == 0 || nb == 0) return 0;
  return dot / (std::sqrt(na) * std::sqrt(nb));
}

std::vector<MergeCandidate> select_merge_candidates(const Episode& episode,
                                                    std::span<const Episode> nearby,
                                                    const EpisodeMergerOptions& options) {
  std::vector<MergeCandidate> out;
  if (!episode.embedding_vector || episode.embedding_vector->empty()) return out;
  const std::size_t words = word_count(episode);
  for (const Episode& c : nearby) {
    if (c.episode_id == episode.episode_id || c.owner_id != episode.owner_id) continue;
    if (!c.embedding_vector || c.embedding_vector->size() != episode.embedding_vector->size())
      continue;
    const auto apart = episode.temporal_info.timestamp > c.temporal_info.timestamp
                           ? episode.temporal_info.timestamp - c.temporal_info.timestamp
                           : c.temporal_info.timestamp - episode.temporal_info.timestamp;
    if (apart > options.window) continue;
    if (words + word_count(c) > options.max_merged_words) continue;
    const double cosine = cosine_similarity(*episode.embedding_vector, *c.embedding_vector);
    if (cosine < options.similarity_threshold) continue;
    out.push_back({c, cosine});
  }
  std::sort(out.begin(), out.end(), [](const MergeCandidate& a, const MergeCandidate& b) {
    return a.cosine != b.cosine ? a.cosine > b.cosine
                                : a.episode.episode_id < b.episode.episode_id;
  });
  if (out.size() > options.candidates) out.resize(options.candidates);
  return out;
}

std::string merge_answer_problem(const nlohmann::json& answer, const Episode& older,
                                 const Episode& newer) {
  if (!answer.is_object()) return "the answer is not one JSON object";
  if (!answer.contains("decision") || !answer["decision"].is_string())
    return "\"decision\" is missing or not a string";
  const std::string decision = answer["decision"].get<std::string>();
  if (decision == "keep") return {};
  if (decision != "merge")
    return "\"decision\" is \"" + decision + "\", not \"keep\" or \"merge\"";
  if (std::string problem = episode_answer_problem(answer); !problem.empty()) return problem;
  if (answer.contains("timestamp") && answer["timestamp"].is_string() &&
      !trimmed(answer["timestamp"].get<std::string>()).empty()) {
    const Timestamp t = *parse_iso8601(trimmed(answer["timestamp"].get<std::string>()));
    if (t < older.temporal_info.timestamp || t > end_of(newer)) {
      return "\"timestamp\" " + answer["timestamp"].get<std::string>() + " is not between " +
             format_iso8601(older.temporal_info.timestamp) + " and " +
             format_iso8601(end_of(newer));
    }
  }
  return {};
}

Episode merged_episode(const Episode& a, const Episode& b, const nlohmann::json& answer,
                       Timestamp now) {
  const Episode& older = older_than(a, b) ? a : b;
  const Episode& newer = older_than(a, b) ? b : a;
  const auto text = [&](const char* key) {
    return answer.contains(key) && answer[key].is_string() ? trimmed(answer[key].get<std::string>())
                                                           : std::string();
  };
  Episode m;
  const auto [first_id, second_id] = std::minmax(a.episode_id, b.episode_id);
  m.episode_id = derived_id("merge\n" + older.owner_id + "\n" + first_id + "\n" + second_id);
  m.owner_id = older.owner_id;
  m.episode_type = older.episode_type == newer.episode_type ? older.episode_type
                                                            : EpisodeType::kMixed;
  m.level = older.level;
  m.title = text("title");
  m.content = text("content");
  m.summary = text("summary");
  m.temporal_info = older.temporal_info;
  if (const std::string stamp = text("timestamp"); !stamp.empty()) {
    if (const auto t = parse_iso8601(stamp)) m.temporal_info.timestamp = *t;
  }
  const Timestamp end = std::max(end_of(older), end_of(newer));
  m.temporal_info.duration =
      std::chrono::duration<double>(end - m.temporal_info.timestamp).count();

  EpisodeMetadata& md = m.metadata;
  const EpisodeMetadata& o = older.metadata;
  const EpisodeMetadata& n = newer.metadata;
  md.source_data_ids = united(o.source_data_ids, n.source_data_ids, 0);
  md.source_types = united(o.source_types, n.source_types, 0);
  md.processing_timestamp = now;
  md.processing_version = "merge-1";
  md.entities = united(o.entities, n.entities, kMaxListItems);
  md.topics = united(o.topics, n.topics, kMaxListItems);
  md.emotions = united(o.emotions, n.emotions, kMaxListItems);
  md.key_points = united(o.key_points, n.key_points, kMaxListItems);
  md.time_references = united(o.time_references, n.time_references, kMaxListItems);
  md.related_episode_ids = united(o.related_episode_ids, n.related_episode_ids, kMaxListItems);
  std::erase_if(md.related_episode_ids,
                [&](const std::string& id) { return id == a.episode_id || id == b.episode_id; });
  md.duration_seconds = m.temporal_info.duration;
  md.confidence_score = std::min(o.confidence_score, n.confidence_score);
  md.completeness_score = std::max(o.completeness_score, n.completeness_score);
  md.relevance_score = std::max(o.relevance_score, n.relevance_score);
  md.custom_fields = o.custom_fields.is_object() ? o.custom_fields : nlohmann::json::object();
  nlohmann::json merged_from = nlohmann::json::array({b.episode_id, a.episode_id});
  for (const Episode* e : {&a, &b}) {
    const nlohmann::json& cf = e->metadata.custom_fields;
    if (cf.is_object() && cf.contains("merged_from") && cf["merged_from"].is_array()) {
      for (const auto& id : cf["merged_from"]) merged_from.push_back(id);
    }
  }
  md.custom_fields["merged_from"] = std::move(merged_from);
  md.custom_fields["generator"] = "merge";

  m.search_keywords = united(older.search_keywords, newer.search_keywords, kMaxListItems);
  m.recall_count = a.recall_count + b.recall_count;
  m.importance_score = std::max(a.importance_score, b.importance_score);
  m.last_accessed = std::max(a.last_accessed, b.last_accessed);  // nullopt sorts first
  finalize(m);
  return m;
}

EpisodeMerger::EpisodeMerger(std::shared_ptr<ChatClient> chat, EpisodeMergerOptions options)
    : chat_(std::move(chat)), options_(std::move(options)) {
  if (!chat_) throw ConfigError("EpisodeMerger: no chat client");
  if (options_.prompt.empty()) options_.prompt = default_prompt(kPhase);
  require_placeholders(kPhase, options_.prompt, {"episode_a", "episode_b"});
}

MergeOutcome EpisodeMerger::merge(const Episode& episode,
                                  std::span<const MergeCandidate> candidates,
                                  Timestamp now) const {
  MergeOutcome outcome;
  CountingChat chat(*chat_);
  for (const MergeCandidate& candidate : candidates) {
    const Episode& older = older_than(episode, candidate.episode) ? episode : candidate.episode;
    const Episode& newer = older_than(episode, candidate.episode) ? candidate.episode : episode;
    detail::JsonAsk ask;
    ask.phase = kPhase;
    ask.prompt = render_prompt(options_.prompt, {{"episode_a", prompt_block(older)},
                                                 {"episode_b", prompt_block(newer)}});
    ask.temperature = 0.0;
    ask.stats = options_.stats.get();
    ask.problem_of = [&](const nlohmann::json& answer) {
      return merge_answer_problem(answer, older, newer);
    };
    std::string why;
    const auto answer = detail::ask_for_json(chat, ask, why);
    outcome.calls = chat.calls;
    outcome.tokens = chat.tokens;
    if (!answer) {
      ++outcome.fallbacks;
      outcome.problem = why;
      if (options_.stats) options_.stats->record_fallback(kPhase);
      if (chat.failed) break;
      continue;
    }
    if ((*answer)["decision"] == "keep") continue;
    outcome.merged = merged_episode(episode, candidate.episode, *answer, now);
    outcome.partner_id = candidate.episode.episode_id;
    break;
  }
  return outcome;
}

}  // namespace nemori
