#include "scripted_llm_server.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "deterministic_tasks.h"
#include "nemori/retrieval/hashing_test_embedder.h"

namespace nemori::testing {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '\'' ||
        (static_cast<unsigned char>(c) & 0x80)) {
      word += c;
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(word);
  return out;
}

int count_words(const std::string& text) {
  return static_cast<int>(words_of(text).size());
}

nlohmann::json openai_usage(int prompt, int completion) {
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion}};
}

std::string first_words(const std::string& text, std::size_t n) {
  auto words = words_of(text);
  std::string out;
  for (std::size_t i = 0; i < std::min(n, words.size()); ++i) out += (i ? " " : "") + words[i];
  return out;
}

// Deterministic segmentation: numbered lines grouped by date, at most `max` per group.
nlohmann::json segment(const std::string& prompt, std::size_t max) {
  static const std::regex numbered(R"(^\s*\[?(\d+)[\].):]?\s+(.*)$)");
  static const std::regex date(R"(\d{4}-\d{2}-\d{2})");
  nlohmann::json episodes = nlohmann::json::array();
  nlohmann::json group = nlohmann::json::array();
  std::string group_date;
  std::string topic;
  std::istringstream lines(prompt);
  std::string line;
  auto flush = [&] {
    if (!group.empty()) episodes.push_back({{"indices", group}, {"topic", topic}});
    group = nlohmann::json::array();
  };
  while (std::getline(lines, line)) {
    std::smatch m;
    if (!std::regex_match(line, m, numbered)) continue;
    const int index = std::stoi(m[1].str());
    std::smatch d;
    const std::string rest = m[2].str();
    const std::string day = std::regex_search(rest, d, date) ? d.str() : group_date;
    if (!group.empty() && (day != group_date || group.size() >= max)) flush();
    if (group.empty()) {
      static const std::regex stamp_prefix(
          R"(^\s*(\[[^\]]*\]\s*)?(\d{4}-\d{2}-\d{2}[T ]?[\d:.+Z-]*\s*)?)");
      topic = first_words(std::regex_replace(rest, stamp_prefix, ""), 6);
    }
    group_date = day;
    group.push_back(index);
  }
  flush();
  return {{"episodes", episodes}};
}

// Deterministic episode: narrative from "Speaker: text" lines.
nlohmann::json episode(const std::string& prompt) {
  static const std::regex said(
      R"(^\s*(?:\[?\d+[\].):]?\s+)?(?:\[[^\]]*\]\s*)?(?:\d{4}-\d{2}-\d{2}[T ][\d:.+Z-]*\s*)?([A-Z][\w .'-]{0,40}?):\s+(.+)$)");
  static const std::regex stamp(
      R"(\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?)");
  std::smatch s;
  const std::string timestamp = std::regex_search(prompt, s, stamp) ? s.str() : "";
  std::vector<std::pair<std::string, std::string>> turns;
  std::istringstream lines(prompt);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_match(line, m, said)) turns.emplace_back(m[1].str(), m[2].str());
  }
  std::string content = timestamp.empty() ? "" : "On " + timestamp.substr(0, 10) + ", ";
  std::set<std::string> entity_set;
  std::vector<std::string> entities;
  std::vector<std::string> keywords;
  std::set<std::string> keyword_set;
  auto add_entity = [&](const std::string& e) {
    if (entity_set.insert(e).second) entities.push_back(e);
  };
  for (std::size_t i = 0; i < turns.size(); ++i) {
    const auto& [speaker, text] = turns[i];
    content += (i ? " " : "") + speaker + " said \"" + text + "\".";
    add_entity(speaker);
    const auto words = words_of(text);
    for (std::size_t w = 0; w < words.size(); ++w) {
      const std::string& word = words[w];
      if (w > 0 && std::isupper(static_cast<unsigned char>(word[0])) && word.size() > 1)
        add_entity(word);
      const std::string lw = lower(word);
      if (lw.size() >= 5 && keywords.size() < 10 && keyword_set.insert(lw).second)
        keywords.push_back(lw);
    }
  }
  if (turns.empty()) content += first_words(prompt, 40);
  std::string title = turns.empty() ? first_words(prompt, 8) : first_words(turns.front().second, 8);
  if (title.empty() && !turns.empty()) title = turns.front().first + " wrote";  // e.g. ";)"
  // The first 200 bytes, cut back to a whole UTF-8 character (a cut emoji is not JSON text).
  std::size_t cut = std::min<std::size_t>(content.size(), 200);
  while (cut < content.size() && cut > 0 &&
         (static_cast<unsigned char>(content[cut]) & 0xC0) == 0x80)
    --cut;
  const std::string summary = content.substr(0, cut);
  nlohmann::json topics = nlohmann::json::array();
  for (std::size_t i = 0; i < std::min<std::size_t>(3, keywords.size()); ++i)
    topics.push_back(keywords[i]);
  return {{"title", title},         {"content", content},   {"summary", summary},
          {"timestamp", timestamp}, {"entities", entities}, {"topics", topics},
          {"keywords", keywords}};
}

std::string prompt_of(const nlohmann::json& request) {
  std::string prompt;
  if (request.contains("system") && request["system"].is_string())
    prompt += request["system"].get<std::string>() + "\n";
  if (!request.contains("messages") || !request["messages"].is_array()) return prompt;
  for (const auto& m : request["messages"]) {
    if (!m.is_object() || !m.contains("content")) continue;
    const auto& c = m["content"];
    if (c.is_string()) {
      prompt += c.get<std::string>() + "\n";
    } else if (c.is_array()) {
      for (const auto& block : c) {
        if (block.is_object() && block.contains("text") && block["text"].is_string()) {
          prompt += block["text"].get<std::string>() + "\n";
        }
      }
    }
  }
  return prompt;
}

// The task a prompt names: "judge" when it holds a gold and a generated answer, else the
// <name> of a first line "Task: <name>.", else nullopt (segmentation or episode).
std::optional<std::string> task_of(const std::string& prompt) {
  if (prompt.find("Gold answer:") != std::string::npos &&
      prompt.find("Generated answer:") != std::string::npos)
    return "judge";
  constexpr std::string_view kPrefix = "Task: ";
  if (prompt.compare(0, kPrefix.size(), kPrefix) != 0) return std::nullopt;
  const std::size_t end = prompt.find_first_of(".\n", kPrefix.size());
  return prompt.substr(kPrefix.size(), end == std::string::npos ? std::string::npos
                                                                 : end - kPrefix.size());
}

}  // namespace

// ---- ScriptedReply ------------------------------------------------------------------------

ScriptedReply ScriptedReply::openai_chat(const std::string& text, int prompt_tokens,
                                         int completion_tokens) {
  nlohmann::json body = {{"id", "chatcmpl-scripted"},
                         {"object", "chat.completion"},
                         {"created", 1700000000},
                         {"model", "scripted"},
                         {"choices",
                          {{{"index", 0},
                            {"message", {{"role", "assistant"}, {"content", text}}},
                            {"finish_reason", "stop"}}}},
                         {"usage", openai_usage(prompt_tokens, completion_tokens)}};
  return raw(200, body.dump());
}

ScriptedReply ScriptedReply::openai_embeddings(const std::vector<std::vector<float>>& vectors,
                                               int prompt_tokens, bool reversed) {
  nlohmann::json data = nlohmann::json::array();
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    const std::size_t at = reversed ? vectors.size() - 1 - i : i;
    data.push_back({{"object", "embedding"}, {"index", at}, {"embedding", vectors[at]}});
  }
  nlohmann::json body = {
      {"object", "list"},
      {"data", data},
      {"model", "scripted-embedding"},
      {"usage", {{"prompt_tokens", prompt_tokens}, {"total_tokens", prompt_tokens}}}};
  return raw(200, body.dump());
}

ScriptedReply ScriptedReply::openai_error(int status, const std::string& message,
                                          const std::string& type, const std::string& code) {
  nlohmann::json error = {{"message", message},
                          {"type", type},
                          {"param", nullptr},
                          {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}};
  return raw(status, nlohmann::json{{"error", error}}.dump());
}

ScriptedReply ScriptedReply::anthropic_text(const std::string& text, int input_tokens,
                                            int output_tokens) {
  nlohmann::json body = {
      {"id", "msg_scripted"},
      {"type", "message"},
      {"role", "assistant"},
      {"model", "scripted"},
      {"content", {{{"type", "text"}, {"text", text}}}},
      {"stop_reason", "end_turn"},
      {"stop_sequence", nullptr},
      {"usage", {{"input_tokens", input_tokens}, {"output_tokens", output_tokens}}}};
  return raw(200, body.dump());
}

ScriptedReply ScriptedReply::anthropic_error(int status, const std::string& type,
                                             const std::string& message) {
  return raw(
      status,
      nlohmann::json{{"type", "error"}, {"error", {{"type", type}, {"message", message}}}}.dump());
}

ScriptedReply ScriptedReply::raw(int status, const std::string& body) {
  ScriptedReply r;
  r.status = status;
  r.body = body;
  return r;
}

ScriptedReply ScriptedReply::with_retry_after(int seconds) const {
  ScriptedReply r = *this;
  r.headers["Retry-After"] = std::to_string(seconds);
  return r;
}

ScriptedReply ScriptedReply::with_delay(std::chrono::milliseconds d) const {
  ScriptedReply r = *this;
  r.delay = d;
  return r;
}

ScriptedReply ScriptedReply::truncated() const {
  ScriptedReply r = *this;
  r.fault = WireFault::kTruncatedBody;
  return r;
}

std::string RecordedRequest::header(const std::string& lower_case_name) const {
  auto it = headers.find(lower_case_name);
  return it == headers.end() ? "" : it->second;
}

// ---- the server ---------------------------------------------------------------------------

struct ScriptedLlmServer::Impl {
  httplib::Server server;
  std::thread thread;
  mutable std::mutex mutex;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::map<LlmRoute, std::deque<ScriptedReply>> queues;
  std::vector<RecordedRequest> requests;
  std::size_t active = 0;
  std::size_t peak = 0;
  std::map<std::size_t, std::unique_ptr<HashingTestEmbedder>> embedders;
};

ScriptedLlmServer::ScriptedLlmServer() : ScriptedLlmServer(Options{}) {}

ScriptedLlmServer::ScriptedLlmServer(Options options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>()) {
  Impl& impl = *impl_;
  const std::size_t threads = options_.threads;
  impl.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // Answers leave at once: without it, Nagle's algorithm and the client's delayed ACK hold
  // each kept-alive answer for ~40 ms on loopback (measured: 43 ms per embedding request).
  impl.server.set_tcp_nodelay(true);

  auto handle = [this](LlmRoute route, const httplib::Request& req, httplib::Response& res) {
    Impl& im = *impl_;
    std::optional<ScriptedReply> reply;
    {
      std::lock_guard lock(im.mutex);
      RecordedRequest r{
          route, req.path, {}, req.body, nlohmann::json::parse(req.body, nullptr, false)};
      if (r.json.is_discarded()) r.json = nullptr;
      r.remote_port = req.remote_port;
      for (const auto& [name, value] : req.headers) r.headers[lower(name)] = value;
      im.requests.push_back(std::move(r));
      im.peak = std::max(im.peak, ++im.active);
      auto& queue = im.queues[route];
      if (!queue.empty()) {
        reply = std::move(queue.front());
        queue.pop_front();
      }
    }
    if (!reply) reply = model_answer(route, req.body);
    if (reply->delay.count() > 0) {
      std::unique_lock lock(im.mutex);
      im.stop_cv.wait_for(lock, reply->delay, [&] { return im.stopping; });
    }
    res.status = reply->status;
    for (const auto& [name, value] : reply->headers) res.set_header(name, value);
    if (reply->fault == WireFault::kTruncatedBody) {
      auto body = std::make_shared<std::string>(reply->body);
      res.set_content_provider(body->size(), reply->content_type,
                               [body](std::size_t, std::size_t, httplib::DataSink& sink) {
                                 sink.write(body->data(), body->size() / 2);
                                 return false;  // closes the connection mid-body
                               });
    } else {
      res.set_content(reply->body, reply->content_type.c_str());
    }
    std::lock_guard lock(im.mutex);
    --im.active;
  };
  impl.server.Post("/v1/chat/completions",
                   [handle](const httplib::Request& q, httplib::Response& s) {
                     handle(LlmRoute::kChatCompletions, q, s);
                   });
  impl.server.Post("/v1/embeddings", [handle](const httplib::Request& q, httplib::Response& s) {
    handle(LlmRoute::kEmbeddings, q, s);
  });
  impl.server.Post("/v1/messages", [handle](const httplib::Request& q, httplib::Response& s) {
    handle(LlmRoute::kMessages, q, s);
  });

  port_ = options_.port == 0
              ? impl.server.bind_to_any_port(options_.host)
              : (impl.server.bind_to_port(options_.host, options_.port) ? options_.port : -1);
  if (port_ <= 0) throw std::runtime_error("scripted LLM server: cannot bind " + options_.host);
  impl.thread = std::thread([&impl] { impl.server.listen_after_bind(); });
  // stop() only ends a server that already runs its accept loop: wait for it.
  while (!impl.server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

ScriptedLlmServer::~ScriptedLlmServer() {
  stop();
}

void ScriptedLlmServer::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->stop_cv.notify_all();
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::string ScriptedLlmServer::openai_base_url() const {
  return "http://" + options_.host + ":" + std::to_string(port_) + "/v1";
}

std::string ScriptedLlmServer::anthropic_base_url() const {
  return "http://" + options_.host + ":" + std::to_string(port_);
}

void ScriptedLlmServer::enqueue(LlmRoute route, ScriptedReply reply) {
  std::lock_guard lock(impl_->mutex);
  impl_->queues[route].push_back(std::move(reply));
}

std::size_t ScriptedLlmServer::pending(LlmRoute route) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->queues.find(route);
  return it == impl_->queues.end() ? 0 : it->second.size();
}

std::vector<RecordedRequest> ScriptedLlmServer::requests() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->requests;
}

std::size_t ScriptedLlmServer::peak_concurrency() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->peak;
}

// The text with each word of Options::embedding_synonyms replaced by its concept.
std::string ScriptedLlmServer::with_synonyms(const std::string& text) const {
  std::string out, word;
  const auto flush = [&] {
    if (word.empty()) return;
    const auto it = options_.embedding_synonyms.find(lower(word));
    out += it == options_.embedding_synonyms.end() ? word : it->second;
    word.clear();
  };
  for (char c : text) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += c;
    } else {
      flush();
      out += c;
    }
  }
  flush();
  return out;
}

ScriptedReply ScriptedLlmServer::model_answer(LlmRoute route, const std::string& body) {
  const auto request = nlohmann::json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    return route == LlmRoute::kMessages
               ? ScriptedReply::anthropic_error(400, "invalid_request_error",
                                                "the body is not a JSON object")
               : ScriptedReply::openai_error(400,
                                             "We could not parse the JSON body of your request.",
                                             "invalid_request_error");
  }
  if (route == LlmRoute::kEmbeddings) {
    std::vector<std::string> inputs;
    const auto input = request.value("input", nlohmann::json());
    if (input.is_string()) {
      inputs.push_back(input.get<std::string>());
    } else if (input.is_array() && !input.empty() &&
               std::all_of(input.begin(), input.end(),
                           [](const auto& v) { return v.is_string(); })) {
      inputs = input.get<std::vector<std::string>>();
    } else {
      return ScriptedReply::openai_error(
          400, "'input' must be a string or a non-empty array of strings", "invalid_request_error");
    }
    std::size_t dim = options_.embedding_dimension;
    if (request.contains("dimensions") && request["dimensions"].is_number_unsigned()) {
      dim = request["dimensions"].get<std::size_t>();
    }
    if (dim == 0)
      return ScriptedReply::openai_error(400, "'dimensions' must be at least 1",
                                         "invalid_request_error");
    HashingTestEmbedder* embedder = nullptr;
    {
      std::lock_guard lock(impl_->mutex);
      auto& slot = impl_->embedders[dim];
      if (!slot) slot = std::make_unique<HashingTestEmbedder>(dim);
      embedder = slot.get();
    }
    int tokens = 0;
    for (auto& text : inputs) {
      tokens += count_words(text);
      if (!options_.embedding_synonyms.empty()) text = with_synonyms(text);
    }
    return ScriptedReply::openai_embeddings(embedder->embed(inputs), tokens);
  }
  const std::string prompt = prompt_of(request);
  std::string text;
  if (const auto task = task_of(prompt)) {
    std::optional<std::string> answer = semantic_task_answer(*task, prompt);
    if (!answer) answer = merge_task_answer(*task, prompt);
    if (!answer) answer = eval_task_answer(*task, prompt);
    if (!answer) {
      return route == LlmRoute::kMessages
                 ? ScriptedReply::anthropic_error(400, "invalid_request_error",
                                                  "unknown task \"" + *task + "\"")
                 : ScriptedReply::openai_error(400, "unknown task \"" + *task + "\"",
                                               "invalid_request_error");
    }
    text = *answer;
  } else {
    text = (lower(prompt).find("segment") != std::string::npos
                ? segment(prompt, std::max<std::size_t>(1, options_.segment_size))
                : episode(prompt))
               .dump();
  }
  return route == LlmRoute::kMessages
             ? ScriptedReply::anthropic_text(text, count_words(prompt), count_words(text))
             : ScriptedReply::openai_chat(text, count_words(prompt), count_words(text));
}

}  // namespace nemori::testing
