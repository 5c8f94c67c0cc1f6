#include "nemori/episodes/llm_segmenter.h"

#include <algorithm>

#include "episodes/llm_json_call.h"
#include "nemori/core/error.h"
#include "nemori/episodes/llm_prompts.h"

namespace nemori {

namespace {

constexpr const char* kPhase = "segmentation";

// The answer's groups as message numbers (1-based), in the answer's order. Assumes
// segmentation_answer_problem() found nothing wrong.
std::vector<std::vector<std::size_t>> groups_of(const nlohmann::json& answer) {
  std::vector<std::vector<std::size_t>> groups;
  for (const auto& group : answer["episodes"]) {
    std::vector<std::size_t> indices;
    for (const auto& i : group["indices"]) indices.push_back(i.get<std::size_t>());
    groups.push_back(std::move(indices));
  }
  return groups;
}

}  // namespace

std::string segmentation_answer_problem(const nlohmann::json& answer, std::size_t count) {
  if (!answer.is_object() || !answer.contains("episodes") || !answer["episodes"].is_array())
    return "the answer has no \"episodes\" list";
  const auto& groups = answer["episodes"];
  if (groups.empty()) return "the \"episodes\" list is empty";
  std::vector<int> seen(count + 1, 0);
  std::vector<std::size_t> order;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const std::string name = "group " + std::to_string(g + 1);
    if (!groups[g].is_object() || !groups[g].contains("indices") ||
        !groups[g]["indices"].is_array())
      return name + " has no \"indices\" list";
    if (groups[g]["indices"].empty()) return name + " is empty";
    for (const auto& i : groups[g]["indices"]) {
      if (!i.is_number_integer()) return name + " holds " + i.dump() + ", not a message number";
      const auto n = i.get<long long>();
      if (n < 1 || static_cast<std::size_t>(n) > count) {
        return "message " + std::to_string(n) + " does not exist (the messages are numbered 1 to " +
               std::to_string(count) + ")";
      }
      if (++seen[static_cast<std::size_t>(n)] == 2)
        return "message " + std::to_string(n) + " is in two groups";
      order.push_back(static_cast<std::size_t>(n));
    }
  }
  for (std::size_t n = 1; n <= count; ++n) {
    if (seen[n] == 0) return "message " + std::to_string(n) + " is in no group";
  }
  for (std::size_t k = 0; k < order.size(); ++k) {
    if (order[k] != k + 1) {
      return "message " + std::to_string(order[k]) + " comes before message " +
             std::to_string(k + 1) +
             ": each group must be a run of consecutive messages, and the groups in the "
             "messages' order";
    }
  }
  return {};
}

LlmSegmenter::LlmSegmenter(std::shared_ptr<ChatClient> chat, std::unique_ptr<Segmenter> fallback,
                           LlmSegmenterOptions options)
    : chat_(std::move(chat)), fallback_(std::move(fallback)), options_(std::move(options)) {
  if (!chat_) throw ConfigError("LlmSegmenter: no chat client");
  if (!fallback_) throw ConfigError("LlmSegmenter: no fallback segmenter");
  if (options_.chunk_messages < 2)
    throw ConfigError("LlmSegmenter: chunk_messages must be at least 2");
  if (options_.prompt.empty()) options_.prompt = default_prompt(kPhase);
  require_placeholders(kPhase, options_.prompt, {"messages"});
}

std::vector<Segment> LlmSegmenter::segment(std::span<const Message> messages) const {
  return run(messages, false);
}

std::vector<Segment> LlmSegmenter::segment_stream(std::span<const Message> messages) const {
  return run(messages, true);
}

std::vector<Segment> LlmSegmenter::run(std::span<const Message> messages, bool open_end) const {
  std::vector<Segment> out;
  std::size_t start = 0;
  while (start < messages.size()) {
    const std::size_t end = std::min(messages.size(), start + options_.chunk_messages);
    const bool last = end == messages.size();
    std::vector<Segment> groups =
        segment_chunk(messages.subspan(start, end - start), open_end || !last);
    std::size_t next = end;
    if (!last) {
      if (groups.size() > 1) {
        // The chunk's last group may go on past it: it starts the next chunk.
        next = start + groups.back().begin;
        groups.pop_back();
      } else {
        groups.back().boundary = "max_messages";  // one group fills the chunk: close it
      }
    }
    for (const Segment& g : groups) out.push_back({start + g.begin, start + g.end, g.boundary});
    start = next;
  }
  return out;
}

std::vector<Segment> LlmSegmenter::segment_chunk(std::span<const Message> chunk,
                                                 bool open_end) const {
  if (chunk.size() == 1) return {{0, 1, "end_of_input"}};
  std::string lines;
  for (std::size_t i = 0; i < chunk.size(); ++i)
    lines += std::to_string(i + 1) + ". " + prompt_line(chunk[i]) + "\n";
  detail::JsonAsk ask;
  ask.phase = kPhase;
  ask.prompt = render_prompt(options_.prompt,
                             {{"count", std::to_string(chunk.size())}, {"messages", lines}});
  ask.temperature = options_.temperature;
  ask.stats = options_.stats.get();
  const std::size_t count = chunk.size();
  ask.problem_of = [count](const nlohmann::json& answer) {
    return segmentation_answer_problem(answer, count);
  };
  std::string why;
  const auto answer = detail::ask_for_json(*chat_, ask, why);
  if (!answer) {
    if (options_.stats) options_.stats->record_fallback(kPhase);
    return open_end ? fallback_->segment_stream(chunk) : fallback_->segment(chunk);
  }
  std::vector<Segment> segments;
  for (const auto& group : groups_of(*answer)) {
    segments.push_back({group.front() - 1, group.back(), "topic_shift"});
  }
  segments.back().boundary = "end_of_input";
  return segments;
}

}  // namespace nemori
