// Liveness, readiness, Prometheus metrics and the OpenAPI document.
#include <numeric>
#include <sstream>

#include "api_error.h"
#include "routes.h"

namespace nemori::server {

namespace {

// Gauges read at scrape time: pending messages, resident owners, LLM calls and tokens.
std::string engine_metrics(MemorySystem& memory, const LlmStats* llm) {
  std::ostringstream out;
  const auto pending = pending_by_owner(memory.storage());
  std::size_t total = 0;
  for (const auto& [owner, n] : pending) total += n;
  out << "# HELP nemori_pending_messages Raw events stored but not yet built into episodes.\n"
         "# TYPE nemori_pending_messages gauge\n"
      << "nemori_pending_messages " << total << "\n"
      << "# HELP nemori_owners_pending Owners with pending raw events.\n"
         "# TYPE nemori_owners_pending gauge\n"
      << "nemori_owners_pending " << pending.size() << "\n";
  if (llm == nullptr) return out.str();
  out << "# HELP nemori_llm_calls_total LLM and embedding calls, by phase.\n"
         "# TYPE nemori_llm_calls_total counter\n";
  const auto phases = llm->snapshot();
  for (const auto& [phase, s] : phases) {
    out << "nemori_llm_calls_total{phase=\"" << prometheus_label(phase) << "\"} " << s.calls
        << "\n";
  }
  out << "# HELP nemori_llm_errors_total LLM calls that failed, by phase.\n"
         "# TYPE nemori_llm_errors_total counter\n";
  for (const auto& [phase, s] : phases) {
    out << "nemori_llm_errors_total{phase=\"" << prometheus_label(phase) << "\"} " << s.errors
        << "\n";
  }
  out << "# HELP nemori_llm_tokens_total Tokens reported by the provider, by phase and kind.\n"
         "# TYPE nemori_llm_tokens_total counter\n";
  for (const auto& [phase, s] : phases) {
    const std::string label = prometheus_label(phase);
    out << "nemori_llm_tokens_total{phase=\"" << label << "\",kind=\"prompt\"} " << s.prompt_tokens
        << "\n"
        << "nemori_llm_tokens_total{phase=\"" << label << "\",kind=\"completion\"} "
        << s.completion_tokens << "\n";
  }
  return out.str();
}

}  // namespace

void add_health_routes(Router& router, MemorySystem& memory, const RequestMetrics& metrics,
                       std::shared_ptr<const LlmStats> llm_stats) {
  router.add("GET", "/healthz", Access::kPublic, [](Call&) {
    return Reply(200, {{"status", "ok"}});
  });
  router.add("GET", "/readyz", Access::kPublic, [&memory](Call&) {
    const HealthStatus health = memory.storage().health();
    if (!health.healthy) {
      throw ApiError(503, "storage_unavailable", "", "storage does not answer: " + health.reason);
    }
    return Reply(200, {{"status", "ready"}, {"storage_latency_ms", health.latency_ms}});
  });
  router.add("GET", "/metrics", Access::kAdmin, [&memory, &metrics, llm_stats](Call&) {
    return Reply::text_of(metrics.render() + engine_metrics(memory, llm_stats.get()),
                          "text/plain; version=0.0.4");
  });
  router.add("GET", "/v1/openapi.json", Access::kPublic, [](Call&) {
    return Reply::text_of(std::string(openapi_document()), "application/json");
  });
}

}  // namespace nemori::server
