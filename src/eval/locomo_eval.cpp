#include "nemori/eval/locomo_eval.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <unordered_map>

#include "nemori/core/time.h"
#include "nemori/core/words.h"
#include "nemori/storage/config.h"
#include "nemori/storage/factory.h"

namespace nemori {

std::string locomo_category_name(int category) {
  switch (category) {
    case 1:
      return "multi-hop";
    case 2:
      return "temporal";
    case 3:
      return "open-domain";
    case 4:
      return "single-hop";
    case 5:
      return "adversarial";
  }
  return "category-" + std::to_string(category);
}

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

LocomoEvalReport run_locomo_eval(const std::vector<LocomoConversation>& conversations,
                                 const LocomoEvalOptions& options) {
  LocomoEvalReport report;
  report.unit = options.unit == EvalUnit::kEpisodes ? "episodes" : "messages";
  report.incremental = options.incremental;
  MemoryConfig memory_config = options.memory;
  if (options.incremental && options.unit == EvalUnit::kEpisodes &&
      memory_config.building.workers == 0) {
    memory_config.building.workers = 2;
  }
  auto memory = MemorySystem::open(memory_config);
  std::vector<double> latencies;
  double episode_words = 0;
  for (std::size_t c = 0; c < conversations.size(); ++c) {
    const auto& conv = conversations[c];
    const std::string owner = conv.sample_id;
    memory->delete_owner(owner);
    const auto messages = conv.messages();
    const auto t0 = Clock::now();
    std::vector<std::string> ids;
    if (options.incremental) {
      ids.reserve(messages.size());
      for (const auto& m : messages)
        ids.push_back(memory->add_messages(owner, std::span(&m, 1), "locomo").at(0));
    } else {
      ids = memory->add_messages(owner, messages, "locomo");
    }
    if (options.unit == EvalUnit::kEpisodes) {
      memory->flush(owner);  // what the workers have not built yet, open segment included
      report.episodes += memory->storage().episodes().count(owner);
    }
    report.ingest_seconds += ms_since(t0) / 1000.0;
    report.messages += messages.size();
    ++report.conversations;
    // Raw event id -> dialog id and message words, to score what the rankers return.
    std::unordered_map<std::string, std::string> dialog_of;
    std::unordered_map<std::string, std::size_t> words_of;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      dialog_of[ids[i]] = messages[i].external_id.value_or("");
      words_of[ids[i]] = count_words(messages[i].content);
    }
    if (options.unit == EvalUnit::kEpisodes) {
      for (const auto& e : memory->list_episodes(owner, 1000000, 0)) episode_words += word_count(e);
    }
    for (const auto& q : conv.questions) {
      if (std::find(options.categories.begin(), options.categories.end(), q.category) ==
          options.categories.end()) {
        continue;
      }
      const auto evidence = normalise_evidence(q.evidence);
      std::vector<RankedUnit> ranked;
      std::vector<RankedUnitReport> report_units;
      const auto s0 = Clock::now();
      if (options.unit == EvalUnit::kEpisodes) {
        MemorySearchRequest request;
        request.owner_id = owner;
        request.query = q.question;
        request.limit = options.depth;
        request.mode = options.mode;
        request.neighbours = options.neighbours;
        request.message_evidence = options.message_evidence;
        if (options.context) request.context = *options.context;
        const auto response = memory->search(request);
        latencies.push_back(ms_since(s0));
        for (const auto& hit : response.hits) {
          RankedUnit unit;
          unit.words = hit.words;
          for (const auto& id : hit.raw_event_ids) {
            if (auto it = dialog_of.find(id); it != dialog_of.end())
              unit.dialog_ids.push_back(it->second);
          }
          if (options.keep_rankings) {
            report_units.push_back({hit.episode.episode_id, hit.score,
                                    format_iso8601(hit.episode.temporal_info.timestamp), unit.words,
                                    unit.dialog_ids});
          }
          ranked.push_back(std::move(unit));
        }
      } else {
        const auto hits = memory->search_messages(owner, q.question, options.depth);
        latencies.push_back(ms_since(s0));
        for (const auto& hit : hits) {
          ranked.push_back({{dialog_of[hit.event.data_id]}, words_of[hit.event.data_id]});
          if (options.keep_rankings) {
            report_units.push_back({hit.event.data_id, hit.score,
                                    format_iso8601(hit.event.temporal_info.timestamp),
                                    ranked.back().words, ranked.back().dialog_ids});
          }
        }
      }
      ++report.questions;
      QuestionOutcome outcome;
      outcome.conversation = conv.sample_id;
      outcome.question = q.question;
      outcome.category = q.category;
      outcome.evidence = evidence;
      for (const auto& id : evidence) {
        std::size_t rank = 0;
        for (std::size_t r = 0; r < ranked.size() && rank == 0; ++r) {
          const auto& ids = ranked[r].dialog_ids;
          if (std::find(ids.begin(), ids.end(), id) != ids.end()) rank = r + 1;
        }
        outcome.evidence_ranks.push_back(rank);
      }
      outcome.recall_at_1000w = recall_at_budget(ranked, evidence, 1000);
      outcome.ranking = std::move(report_units);
      report.outcomes.push_back(std::move(outcome));
      const std::string category = locomo_category_name(q.category);
      for (const std::string& bucket : {std::string("overall"), category}) {
        for (std::size_t b : options.budgets) {
          report.table.add(bucket, "recall@" + std::to_string(b) + "w",
                           recall_at_budget(ranked, evidence, b));
        }
        for (std::size_t k : options.ks) {
          report.table.add(bucket, "recall@k" + std::to_string(k),
                           recall_at_k(ranked, evidence, k));
        }
      }
    }
    memory->delete_owner(owner);
    if (options.progress) options.progress(c + 1, conversations.size());
  }
  report.mean_episode_words =
      report.episodes == 0 ? 0 : episode_words / static_cast<double>(report.episodes);
  report.search_p50_ms = percentile(latencies, 0.50);
  report.search_p99_ms = percentile(latencies, 0.99);
  return report;
}

nlohmann::json LocomoEvalReport::to_json() const {
  nlohmann::json buckets = nlohmann::json::object();
  for (const auto& bucket : table.buckets()) {
    nlohmann::json metrics = nlohmann::json::object();
    for (const char* m : {"recall@500w", "recall@1000w", "recall@2000w", "recall@4000w",
                          "recall@k5", "recall@k10", "recall@k20"}) {
      if (table.count(bucket, m) > 0) metrics[m] = table.mean(bucket, m);
    }
    metrics["questions"] = table.count(bucket, "recall@k5");
    buckets[bucket] = metrics;
  }
  return {{"unit", unit},
          {"incremental", incremental},
          {"conversations", conversations},
          {"messages", messages},
          {"episodes", episodes},
          {"questions", questions},
          {"mean_episode_words", mean_episode_words},
          {"ingest_seconds", ingest_seconds},
          {"search_p50_ms", search_p50_ms},
          {"search_p99_ms", search_p99_ms},
          {"recall", buckets}};
}

std::string LocomoEvalReport::to_text() const {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line,
                "unit: %s%s; %zu conversations, %zu messages, %zu episodes (%.0f words each), %zu "
                "questions\n",
                unit.c_str(), incremental ? " (fed message by message)" : "", conversations,
                messages, episodes, mean_episode_words, questions);
  out += line;
  std::snprintf(line, sizeof line, "%-12s %5s %7s %7s %7s %7s %7s %7s %7s\n", "category", "n",
                "@500w", "@1000w", "@2000w", "@4000w", "@k5", "@k10", "@k20");
  out += line;
  std::vector<std::string> order = {"multi-hop", "temporal", "open-domain", "single-hop",
                                    "overall"};
  for (const auto& bucket : order) {
    if (table.count(bucket, "recall@k5") == 0) continue;
    std::snprintf(line, sizeof line, "%-12s %5zu %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f %7.3f\n",
                  bucket.c_str(), table.count(bucket, "recall@k5"),
                  table.mean(bucket, "recall@500w"), table.mean(bucket, "recall@1000w"),
                  table.mean(bucket, "recall@2000w"), table.mean(bucket, "recall@4000w"),
                  table.mean(bucket, "recall@k5"), table.mean(bucket, "recall@k10"),
                  table.mean(bucket, "recall@k20"));
    out += line;
  }
  std::snprintf(line, sizeof line,
                "ingest: %.2f s in all; search latency p50 %.3f ms, p99 %.3f ms\n", ingest_seconds,
                search_p50_ms, search_p99_ms);
  out += line;
  return out;
}

}  // namespace nemori
