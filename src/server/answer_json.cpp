// How records and pages look in answers.
#include "nemori/core/json.h"
#include "nemori/core/statement.h"
#include "routes.h"

namespace nemori::server {

nlohmann::json episode_json(const Episode& episode) {
  nlohmann::json j = to_json(episode);
  j.erase("embedding_vector");
  j["has_embedding"] = episode.embedding_vector.has_value();
  return j;
}

nlohmann::json process_result_json(const ProcessResult& result) {
  return {{"raw_events", result.raw_events},
          {"episodes", result.episodes},
          {"semantic_episodes", result.semantic_episodes},
          {"statements_added", result.statements_added},
          {"merges", result.merges}};
}

nlohmann::json statement_json(const Statement& statement) {
  nlohmann::json j = to_json(statement);
  j.erase("embedding_vector");
  j["has_embedding"] = statement.embedding_vector.has_value();
  return j;
}

nlohmann::json page_json(std::string_view name, nlohmann::json items, std::size_t total_count,
                         bool has_more, std::size_t limit, std::size_t offset) {
  return {{std::string(name), std::move(items)},
          {"total_count", total_count},
          {"has_more", has_more},
          {"limit", limit},
          {"offset", offset}};
}

}  // namespace nemori::server
