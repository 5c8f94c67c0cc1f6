// Shared helpers of the semantic tests: the scripted server with its chat and embedding
// clients, messages and episodes, and an owner's memory kept in a RetrievalService (what the
// extractor's batches would leave in storage, applied by hand).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "llm/llm_test_support.h"
#include "nemori/core/message.h"
#include "nemori/llm/openai.h"
#include "nemori/retrieval/retrieval_service.h"
#include "nemori/semantic/indexed_known_statements.h"
#include "nemori/semantic/semantic_extractor.h"

namespace nemori::test {

/// One message "Speaker: text" at a time.
struct Said {
  std::string speaker;
  std::string text;
  Timestamp at;
};

/// The scripted server, the clients on it, and one owner's statements.
struct SemanticWorld {
  ScriptedLlmServer server;
  std::shared_ptr<LlmStats> stats = std::make_shared<LlmStats>();
  std::shared_ptr<Recorder> recorder = std::make_shared<Recorder>();
  std::shared_ptr<ChatClient> chat;
  std::shared_ptr<OpenAiEmbedder> embedder;
  RetrievalService retrieval;
  IndexedKnownStatements known{retrieval};
  /// What storage would hold after the batches applied so far, by id.
  std::map<std::string, Statement> stored;
  int next_message = 1;

  explicit SemanticWorld(int max_retries = 0) {
    chat = scripted_chat(server, recorder, stats, max_retries);
    OpenAiEmbeddingOptions e;
    e.base_url = server.openai_base_url();
    e.model = "scripted-embedding";
    e.http = fast_http(recorder, max_retries);
    embedder = std::make_shared<OpenAiEmbedder>(e, stats);
  }

  SemanticExtractor extractor(SemanticOptions options = {},
                              const std::map<std::string, std::string>& prompts = {}) {
    return SemanticExtractor(chat, embedder, options, prompts, stats);
  }

  /// Conversation raw events of owner "o", ids m1, m2, ... in the order made.
  std::vector<RawEvent> events(const std::vector<Said>& said) {
    std::vector<RawEvent> out;
    for (const Said& s : said) {
      Message m;
      m.speaker_id = s.speaker;
      m.content = s.text;
      m.timestamp = s.at;
      RawEvent e = to_raw_event(m, "o");
      e.data_id = "m" + std::to_string(next_message++);
      out.push_back(std::move(e));
    }
    return out;
  }

  /// An episode of owner "o" at `at` (no vector: related statements are found by BM25 over
  /// title and summary only).
  static Episode episode(const std::string& id, const std::string& title, Timestamp at,
                         const std::string& summary = "") {
    Episode e;
    e.episode_id = id;
    e.owner_id = "o";
    e.title = title;
    e.summary = summary;
    e.content = title;
    e.temporal_info.timestamp = at;
    return e;
  }

  /// Applies a batch as storage would (new statements, updates keeping their sources, new
  /// source rows) and indexes what changed.
  void apply(const SemanticExtraction& x) {
    std::vector<std::string> changed;
    for (const Statement& s : x.batch.statements) {
      EXPECT_FALSE(stored.contains(s.statement_id)) << s.statement_id;
      stored[s.statement_id] = s;
      changed.push_back(s.statement_id);
    }
    for (const Statement& s : x.batch.statement_updates) {
      EXPECT_TRUE(stored.contains(s.statement_id)) << s.statement_id;
      Statement updated = s;
      updated.source_episode_ids = stored[s.statement_id].source_episode_ids;
      stored[s.statement_id] = updated;
      changed.push_back(s.statement_id);
    }
    for (const StatementSource& row : x.batch.statement_sources) {
      stored[row.statement_id].source_episode_ids.push_back(row.episode_id);
      changed.push_back(row.statement_id);
    }
    std::vector<Statement> list;
    for (const auto& id : changed) list.push_back(stored[id]);
    retrieval.index_statements("o", list);
  }

  /// Statements stored, current ones only when `current`.
  std::vector<Statement> statements(bool current) const {
    std::vector<Statement> out;
    for (const auto& [id, s] : stored) {
      if (!current || s.current()) out.push_back(s);
    }
    return out;
  }

  /// The stored statement with this content (a test failure when there is none).
  Statement with_content(const std::string& content) const {
    for (const auto& [id, s] : stored) {
      if (s.content == content) return s;
    }
    ADD_FAILURE() << "no statement \"" << content << "\"";
    return {};
  }

  /// The first line ("Task: ...") of every chat request so far, in order.
  std::vector<std::string> chat_tasks() const {
    std::vector<std::string> out;
    for (const auto& r : server.requests()) {
      if (r.route != LlmRoute::kChatCompletions) continue;
      const std::string prompt = r.json["messages"][0]["content"].get<std::string>();
      out.push_back(prompt.substr(0, prompt.find('\n')));
    }
    return out;
  }

  /// The prompts (every message's text joined) of the chat requests, in order.
  std::vector<std::string> chat_prompts() const {
    std::vector<std::string> out;
    for (const auto& r : server.requests()) {
      if (r.route != LlmRoute::kChatCompletions) continue;
      std::string text;
      for (const auto& m : r.json["messages"]) text += m["content"].get<std::string>() + "\n";
      out.push_back(text);
    }
    return out;
  }

  /// Embedding requests so far.
  std::size_t embedding_requests() const {
    std::size_t n = 0;
    for (const auto& r : server.requests()) n += r.route == LlmRoute::kEmbeddings ? 1 : 0;
    return n;
  }

  /// Queues a chat answer.
  void answer(const std::string& text) {
    server.enqueue(LlmRoute::kChatCompletions, ScriptedReply::openai_chat(text));
  }
};

/// 2023-05-<day> at hh:mm UTC.
inline Timestamp may(unsigned day, unsigned hour = 13, unsigned minute = 56) {
  return make_timestamp(2023, 5, day, hour, minute);
}

}  // namespace nemori::test
