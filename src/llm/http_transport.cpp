#include "llm/http_transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <thread>

#include "nemori/core/error.h"

namespace nemori {

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

struct HeaderSink {
  std::optional<double> retry_after_seconds;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  const std::size_t n = size * count;
  std::string_view line(data, n);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (std::size_t i = 0; i < kName.size() && match; ++i) {
      match = std::tolower(static_cast<unsigned char>(line[i])) == kName[i];
    }
    if (match) {
      std::string value(line.substr(kName.size()));
      value.erase(0, value.find_first_not_of(" \t"));
      double seconds = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
      // Only the delta-seconds form; an HTTP-date falls back to the backoff.
      if (ec == std::errc() && seconds >= 0 && std::isfinite(seconds)) {
        static_cast<HeaderSink*>(user)->retry_after_seconds = seconds;
      }
      (void)end;
    }
  }
  return n;
}

bool retryable_status(long status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

// The provider's own error message: OpenAI and Anthropic both put it at error.message; some
// servers send {"error": "text"} or {"detail": ...}.
std::string provider_message(const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_object()) {
    if (auto e = parsed.find("error"); e != parsed.end()) {
      if (e->is_string()) return e->get<std::string>();
      if (e->is_object()) {
        std::string message = e->value("message", std::string());
        std::string type = e->contains("code") && (*e)["code"].is_string()
                               ? (*e)["code"].get<std::string>()
                               : e->value("type", std::string());
        if (!type.empty()) message += (message.empty() ? "" : " ") + ("(" + type + ")");
        if (!message.empty()) return message;
      }
    }
    if (auto d = parsed.find("detail"); d != parsed.end()) {
      return d->is_string() ? d->get<std::string>() : d->dump();
    }
  }
  std::string text = body.substr(0, 200);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text.empty() ? "(empty body)" : text;
}

}  // namespace

std::string redact_url(const std::string& url) {
  std::string out = url;
  if (auto q = out.find_first_of("?#"); q != std::string::npos) out.erase(q);
  const auto scheme = out.find("://");
  const std::size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto path = out.find('/', host_start);
  const auto at = out.rfind('@', path == std::string::npos ? out.size() : path);
  if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
  return out;
}

std::string redact(std::string text, const std::string& secret) {
  if (secret.empty()) return text;
  for (auto pos = text.find(secret); pos != std::string::npos; pos = text.find(secret, pos)) {
    text.replace(pos, secret.size(), "[redacted]");
  }
  return text;
}

struct HttpTransport::Attempt {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
  std::optional<double> retry_after_seconds;
};

HttpTransport::HttpTransport(HttpOptions options, std::shared_ptr<LlmStats> stats)
    : options_(std::move(options)), stats_(std::move(stats)) {
  if (options_.max_concurrency == 0) throw ConfigError("max_concurrency: must be at least 1");
  if (options_.connect_timeout.count() <= 0 || options_.total_timeout.count() <= 0) {
    throw ConfigError("timeout: must be a positive number");
  }
  if (options_.max_retries < 0) throw ConfigError("max_retries: must be 0 or more");
  if (!stats_) stats_ = std::make_shared<LlmStats>();
  if (!options_.sleep)
    options_.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  rng_.seed(options_.jitter_seed != 0 ? options_.jitter_seed : std::random_device{}());
  global_init();
}

HttpTransport::~HttpTransport() {
  for (void* handle : idle_) curl_easy_cleanup(static_cast<CURL*>(handle));
}

void* HttpTransport::acquire() {
  std::unique_lock lock(pool_mutex_);
  pool_cv_.wait(lock, [&] { return in_use_ < options_.max_concurrency; });
  ++in_use_;
  if (!idle_.empty()) {
    void* handle = idle_.back();
    idle_.pop_back();
    return handle;
  }
  lock.unlock();
  CURL* handle = curl_easy_init();
  if (handle == nullptr) {
    release(nullptr);
    throw LlmCallError(LlmFailure::kConnection, 0, 0, "libcurl could not create a handle");
  }
  return handle;
}

void HttpTransport::release(void* handle) {
  {
    std::lock_guard lock(pool_mutex_);
    if (handle != nullptr) idle_.push_back(handle);
    --in_use_;
  }
  pool_cv_.notify_one();
}

std::chrono::milliseconds HttpTransport::backoff(int retry) {
  const double base = static_cast<double>(options_.initial_backoff.count()) *
                      std::pow(2.0, static_cast<double>(retry - 1));
  const double capped = std::min(base, static_cast<double>(options_.max_backoff.count()));
  double factor = 1.0;
  {
    std::lock_guard lock(rng_mutex_);
    factor = std::uniform_real_distribution<double>(0.5, 1.0)(rng_);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(capped * factor));
}

void HttpTransport::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

HttpTransport::Attempt HttpTransport::attempt_once(const JsonPost& post) {
  Attempt result;
  HeaderSink headers;
  CURL* curl = static_cast<CURL*>(acquire());
  curl_slist* list = nullptr;
  list = curl_slist_append(list, "Content-Type: application/json");
  list = curl_slist_append(list, "Accept: application/json");
  list = curl_slist_append(list, "Expect:");
  for (const auto& h : post.headers) list = curl_slist_append(list, h.c_str());
  curl_easy_reset(curl);  // keeps the connection cache
  curl_easy_setopt(curl, CURLOPT_URL, post.url.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post.body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(post.body.size()));
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &headers);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "nemori/" NEMORI_VERSION);
  result.code = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &result.status);
  curl_slist_free_all(list);
  release(curl);
  result.retry_after_seconds = headers.retry_after_seconds;
  return result;
}

nlohmann::json HttpTransport::post_json(const JsonPost& post) {
  const std::string where = "POST " + redact_url(post.url);
  // The call's wall time, retries and backoff included, counted however it ends.
  struct WallTime {
    LlmStats& stats;
    const std::string& phase;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~WallTime() {
      stats.record_wall_time(phase, std::chrono::duration<double, std::milli>(
                                        std::chrono::steady_clock::now() - start)
                                        .count());
    }
  } wall_time{*stats_, post.phase};
  auto fail = [&](LlmFailure failure, long status, int attempts, const std::string& what) {
    stats_->record_error(post.phase);
    std::string message = redact(where + ": " + what, post.secret);
    if (attempts > 1) message += " (after " + std::to_string(attempts) + " attempts)";
    log(message);
    return LlmCallError(failure, static_cast<int>(status), attempts, message);
  };
  if (options_.token_budget && stats_->total_tokens() >= *options_.token_budget) {
    throw fail(LlmFailure::kBudgetExceeded, 0, 0,
               "token budget of " + std::to_string(*options_.token_budget) + " tokens is spent (" +
                   std::to_string(stats_->total_tokens()) +
                   " used); raise token_budget or unset it");
  }
  for (int attempt = 1;; ++attempt) {
    Attempt a = attempt_once(post);
    LlmFailure failure = LlmFailure::kHttpStatus;
    std::string what;
    bool retryable = false;
    if (a.code != CURLE_OK) {
      failure = a.code == CURLE_OPERATION_TIMEDOUT ? LlmFailure::kTimeout : LlmFailure::kConnection;
      what = a.code == CURLE_OPERATION_TIMEDOUT
                 ? "no answer within " + std::to_string(options_.total_timeout.count()) + " ms"
                 : std::string(curl_easy_strerror(a.code));
      if (a.code == CURLE_PARTIAL_FILE) what = "the answer was cut short (" + what + ")";
      retryable = true;
    } else if (a.status >= 200 && a.status < 300) {
      auto parsed = nlohmann::json::parse(a.body, nullptr, false);
      if (parsed.is_discarded()) {
        throw fail(LlmFailure::kMalformedResponse, a.status, attempt,
                   "HTTP " + std::to_string(a.status) + " with a body that is not JSON (" +
                       std::to_string(a.body.size()) + " bytes)");
      }
      return parsed;
    } else {
      what = "HTTP " + std::to_string(a.status) + ": " + provider_message(a.body);
      retryable = retryable_status(a.status);
    }
    if (!retryable || attempt > options_.max_retries) {
      throw fail(failure, a.status, attempt, what);
    }
    std::chrono::milliseconds delay = backoff(attempt);
    if (a.retry_after_seconds && (a.status == 429 || a.status == 503)) {
      delay = std::chrono::milliseconds(
          static_cast<std::int64_t>(std::ceil(*a.retry_after_seconds * 1000)));
      if (delay > options_.max_retry_after) {
        throw fail(failure, a.status, attempt,
                   what + "; Retry-After asks for " + std::to_string(delay.count()) +
                       " ms, more than max_retry_after");
      }
    }
    stats_->record_retry(post.phase);
    log(redact(where + ": " + what + "; retry " + std::to_string(attempt) + " of " +
                   std::to_string(options_.max_retries) + " in " + std::to_string(delay.count()) +
                   " ms",
               post.secret));
    options_.sleep(delay);
  }
}

void HttpTransport::fail_shape(const JsonPost& post, const std::string& what) {
  stats_->record_error(post.phase);
  std::string message = redact(
      "POST " + redact_url(post.url) + ": answer of an unexpected shape: " + what, post.secret);
  log(message);
  throw LlmCallError(LlmFailure::kMalformedResponse, 200, 1, message);
}

}  // namespace nemori
