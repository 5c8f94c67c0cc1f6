#include "memory/background_builder.h"

#include <algorithm>
#include <cstdio>
#include <exception>

namespace nemori::detail {

BackgroundBuilder::BackgroundBuilder(const BackgroundBuildOptions& options, BuildFn build,
                                     PendingFn pending)
    : options_(options), build_(std::move(build)), pending_(std::move(pending)) {
  if (!options_.clock) options_.clock = std::make_shared<SteadyTimeSource>();
  const std::size_t n = std::max<std::size_t>(1, options_.workers);
  workers_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this, i] { run(i == 0); });
}

BackgroundBuilder::~BackgroundBuilder() {
  stop();
}

void BackgroundBuilder::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  changed_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

void BackgroundBuilder::added(const std::string& owner_id, std::size_t count) {
  if (count == 0) return;
  {
    std::lock_guard lock(mutex_);
    OwnerState& s = owners_[owner_id];
    s.added += count;
    s.unbuilt = true;
    s.last_add = options_.clock->now();
  }
  wake_.notify_one();
}

void BackgroundBuilder::build_started(const std::string& owner_id) {
  std::lock_guard lock(mutex_);
  OwnerState& s = owners_[owner_id];
  s.added = 0;
  s.unbuilt = false;
}

void BackgroundBuilder::build_ended(const std::string& owner_id, std::size_t left_open,
                                    bool failed) {
  std::lock_guard lock(mutex_);
  OwnerState& s = owners_[owner_id];
  if (failed) {
    s.unbuilt = true;
    s.last_add = options_.clock->now();  // retry after another idle period, not in a loop
  } else if (left_open > 0) {
    s.unbuilt = true;  // the open segment waits for more, or for the idle timer
  }
}

void BackgroundBuilder::forget(const std::string& owner_id) {
  std::lock_guard lock(mutex_);
  auto it = owners_.find(owner_id);
  if (it != owners_.end() && !it->second.running) owners_.erase(it);
}

void BackgroundBuilder::settle() {
  std::unique_lock lock(mutex_);
  wake_.notify_all();
  changed_.wait(lock, [this] {
    if (stop_) return true;
    if (!scanned_ || running_ > 0) return false;
    NewestSegment newest;
    TimeSource::duration wait;
    return next_due(newest, wait).empty();
  });
}

std::string BackgroundBuilder::next_due(NewestSegment& newest, TimeSource::duration& wait) {
  const TimeSource::time_point now = options_.clock->now();
  const auto idle = std::chrono::duration_cast<TimeSource::duration>(options_.idle_after);
  wait = std::chrono::hours(1);
  std::string idle_owner;
  for (const auto& [owner, s] : owners_) {
    if (s.running) continue;
    if (options_.after_messages > 0 && s.added >= options_.after_messages) {
      newest = NewestSegment::kKeepOpen;
      return owner;
    }
    if (!s.unbuilt) continue;
    const TimeSource::duration quiet = now - s.last_add;
    if (quiet >= idle) {
      if (idle_owner.empty()) idle_owner = owner;
    } else {
      wait = std::min(wait, idle - quiet);
    }
  }
  newest = NewestSegment::kClose;
  return idle_owner;
}

void BackgroundBuilder::report(const std::string& owner_id, const std::string& error) {
  if (options_.on_error) {
    try {
      options_.on_error(owner_id, error);
    } catch (...) {
      // A failing error handler must not take a worker down.
    }
  } else {
    std::fprintf(stderr, "nemori: background building of owner \"%s\" failed: %s\n",
                 owner_id.c_str(), error.c_str());
  }
}

void BackgroundBuilder::run(bool first) {
  if (first) {
    std::map<std::string, std::size_t> pending;
    try {
      pending = pending_();
    } catch (const std::exception& e) {
      report("", std::string("reading the owners with pending messages: ") + e.what());
    }
    {
      std::lock_guard lock(mutex_);
      const TimeSource::time_point now = options_.clock->now();
      for (const auto& [owner, n] : pending) {
        OwnerState& s = owners_[owner];
        s.added += n;
        s.unbuilt = true;
        s.last_add = now;
      }
      scanned_ = true;
    }
    wake_.notify_all();
    changed_.notify_all();
  }
  std::unique_lock lock(mutex_);
  while (!stop_) {
    NewestSegment newest;
    TimeSource::duration wait;
    const std::string owner = next_due(newest, wait);
    if (owner.empty()) {
      changed_.notify_all();  // settle() may be waiting for "nothing due"
      wake_.wait_for(lock, wait);
      continue;
    }
    owners_[owner].running = true;
    ++running_;
    lock.unlock();
    std::string error;
    try {
      build_(owner, newest);
    } catch (const std::exception& e) {
      error = e.what();  // build_ended(failed) was recorded by the build
    } catch (...) {
      error = "unknown error";
    }
    if (!error.empty()) report(owner, error);
    lock.lock();
    owners_[owner].running = false;
    --running_;
    changed_.notify_all();
  }
}

}  // namespace nemori::detail
