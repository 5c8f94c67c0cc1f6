// Request metrics in the Prometheus text format (version 0.0.4).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace nemori::server {

/// Request counts and latency histograms per route, method and status.
/// Thread safety: record() and render() may be called from any number of threads at once.
class RequestMetrics {
 public:
  /// Upper bounds (seconds) of the latency histogram's buckets.
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  /// Counts one request of `route` (the route template, e.g. /v1/owners/{owner}/search).
  void record(std::string_view route, std::string_view method, int status, double seconds);
  /// nemori_http_requests_total and nemori_http_request_duration_seconds, with HELP and TYPE.
  std::string render() const;

 private:
  struct Series {
    std::array<std::uint64_t, kBuckets.size()> buckets{};
    std::uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, Series> series_;
};

/// A label value escaped for the text format (backslash, double quote, line feed).
std::string prometheus_label(std::string_view value);

}  // namespace nemori::server
