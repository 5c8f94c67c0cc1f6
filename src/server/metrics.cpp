// Prometheus text format of the request metrics.
#include "metrics.h"

#include <sstream>

namespace nemori::server {

std::string prometheus_label(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void RequestMetrics::record(std::string_view route, std::string_view method, int status,
                            double seconds) {
  std::lock_guard lock(mutex_);
  auto& s = series_[{std::string(route), std::string(method), status}];
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++s.buckets[i];
  }
  ++s.count;
  s.sum += seconds;
}

std::string RequestMetrics::render() const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out.precision(9);
  out << "# HELP nemori_http_requests_total HTTP requests answered, by route, method and status.\n"
         "# TYPE nemori_http_requests_total counter\n";
  for (const auto& [key, s] : series_) {
    const auto& [route, method, status] = key;
    out << "nemori_http_requests_total{route=\"" << prometheus_label(route) << "\",method=\""
        << prometheus_label(method) << "\",status=\"" << status << "\"} " << s.count << "\n";
  }
  out << "# HELP nemori_http_request_duration_seconds Time from routing to the answer.\n"
         "# TYPE nemori_http_request_duration_seconds histogram\n";
  for (const auto& [key, s] : series_) {
    const auto& [route, method, status] = key;
    const std::string labels = "route=\"" + prometheus_label(route) + "\",method=\"" +
                               prometheus_label(method) + "\",status=\"" + std::to_string(status) +
                               "\"";
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out << "nemori_http_request_duration_seconds_bucket{" << labels << ",le=\"" << kBuckets[i]
          << "\"} " << s.buckets[i] << "\n";
    }
    out << "nemori_http_request_duration_seconds_bucket{" << labels << ",le=\"+Inf\"} " << s.count
        << "\n";
    out << "nemori_http_request_duration_seconds_sum{" << labels << "} " << s.sum << "\n";
    out << "nemori_http_request_duration_seconds_count{" << labels << "} " << s.count << "\n";
  }
  return out.str();
}

}  // namespace nemori::server
