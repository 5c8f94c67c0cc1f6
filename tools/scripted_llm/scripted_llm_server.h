// A real HTTP server on loopback that speaks the OpenAI chat-completions and embeddings and the
// Anthropic Messages wire formats, for tests and for pointing `nemori` at without a network.
//
// Routes: POST /v1/chat/completions, POST /v1/embeddings (OpenAI shapes, `usage`, OpenAI
// error bodies) and POST /v1/messages (Anthropic shape and error body). Each route answers from
// its own queue of scripted replies (status, headers, body, delay, faults), first in first out;
// when that queue is empty it answers as the deterministic model described in
// docs/llm.md#the-scripted-server:
// - embeddings: feature hashing of the input's words (HashingTestEmbedder) into `dimensions`
//   (from the request, else Options::embedding_dimension) floats, L2-normalised, so texts
//   sharing words are close (and words mapped to one concept by Options::embedding_synonyms);
//   identical on every run.
// - chat, when the prompt contains "segment": the prompt's numbered message lines ("1. ...",
//   "[1] ...", "1) ...") are grouped in order; a group ends when the date (YYYY-MM-DD) of the
//   next line differs or after Options::segment_size lines. Answer:
//   {"episodes":[{"indices":[1,2,...],"topic":"<first words>"}, ...]}.
// - chat, otherwise: an episode built from the "Speaker: text" lines of the prompt:
//   {"title","content","summary","timestamp","entities","topics","keywords"}, where content is
//   "On <first date>, A said \"...\". B said \"...\"." and entities are capitalised words.
// Usage reports words of the prompt and of the answer as tokens.
//
// Every request is recorded (headers with lower-case names, body) for tests to inspect.
// Thread safety: every member may be called from any thread while the server runs.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace nemori::testing {

/// The three routes.
enum class LlmRoute { kChatCompletions, kEmbeddings, kMessages };

/// How a scripted reply misbehaves on the wire.
enum class WireFault {
  kNone,
  kTruncatedBody,  ///< Content-Length announces the whole body; half is sent, then the
                   ///< connection is closed.
};

/// One scripted answer.
struct ScriptedReply {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string content_type = "application/json";
  /// Waits this long before answering (cut short when the server stops).
  std::chrono::milliseconds delay{0};
  WireFault fault = WireFault::kNone;

  /// A chat completion whose choices[0].message.content is `text`.
  static ScriptedReply openai_chat(const std::string& text, int prompt_tokens = 11,
                                   int completion_tokens = 7);
  /// An embeddings answer with these vectors; `reversed` lists data[] in reverse index order.
  static ScriptedReply openai_embeddings(const std::vector<std::vector<float>>& vectors,
                                         int prompt_tokens = 5, bool reversed = false);
  /// An OpenAI error body {"error":{"message","type","param","code"}} with this status.
  static ScriptedReply openai_error(int status, const std::string& message, const std::string& type,
                                    const std::string& code = "");
  /// An Anthropic message with one text content block.
  static ScriptedReply anthropic_text(const std::string& text, int input_tokens = 13,
                                      int output_tokens = 9);
  /// An Anthropic error body {"type":"error","error":{"type","message"}} with this status.
  static ScriptedReply anthropic_error(int status, const std::string& type,
                                       const std::string& message);
  /// Any status and body, sent as is.
  static ScriptedReply raw(int status, const std::string& body);
  /// Returns a copy with a Retry-After header of `seconds`.
  ScriptedReply with_retry_after(int seconds) const;
  /// Returns a copy that waits `d` first.
  ScriptedReply with_delay(std::chrono::milliseconds d) const;
  /// Returns a copy whose body is cut short on the wire.
  ScriptedReply truncated() const;
};

/// One request the server received.
struct RecordedRequest {
  LlmRoute route;
  std::string path;
  std::map<std::string, std::string> headers;  ///< Lower-case names.
  std::string body;
  nlohmann::json json;  ///< The body parsed; null when it is not JSON.
  int remote_port = 0;  ///< The client's port: requests on one kept-alive connection share it.
  /// The header's value, "" when absent.
  std::string header(const std::string& lower_case_name) const;
};

/// The server. Listens from construction to destruction (or stop()).
class ScriptedLlmServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;  ///< 0: any free port (see port()).
    std::size_t embedding_dimension = 256;
    std::size_t segment_size = 10;  ///< Deterministic segmentation: lines per group at most.
    std::size_t threads = 32;       ///< Worker threads (each keep-alive connection holds one).
    /// Deterministic embeddings: each word found here (ASCII letters and digits, looked up in
    /// lower case) is embedded as its value instead, so texts that share no word can be made
    /// close ({"croissant": "pastry", "pastries": "pastry"}). Empty: words as they are.
    std::map<std::string, std::string> embedding_synonyms;
  };

  /// Binds and starts listening. Throws std::runtime_error when the address cannot be bound.
  ScriptedLlmServer();
  explicit ScriptedLlmServer(Options options);
  ~ScriptedLlmServer();
  ScriptedLlmServer(const ScriptedLlmServer&) = delete;
  ScriptedLlmServer& operator=(const ScriptedLlmServer&) = delete;

  /// The bound port.
  int port() const { return port_; }
  /// "http://127.0.0.1:<port>/v1": the base URL of an OpenAI-compatible client.
  std::string openai_base_url() const;
  /// "http://127.0.0.1:<port>": the base URL of an Anthropic client.
  std::string anthropic_base_url() const;

  /// Queues a reply for the next request on `route`.
  void enqueue(LlmRoute route, ScriptedReply reply);
  /// Replies still queued on `route`.
  std::size_t pending(LlmRoute route) const;
  /// Every request so far, in arrival order.
  std::vector<RecordedRequest> requests() const;
  /// The most requests that were being handled at the same moment.
  std::size_t peak_concurrency() const;
  /// Stops listening and wakes delayed replies. Idempotent.
  void stop();

 private:
  struct Impl;
  ScriptedReply model_answer(LlmRoute route, const std::string& body);
  std::string with_synonyms(const std::string& text) const;
  Options options_;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace nemori::testing
