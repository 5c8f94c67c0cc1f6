// The scheduler of MemorySystem's background episode building: which owner is due, and the
// worker threads that build it.
//
// An owner is due when `after_messages` messages arrived since it was last built (size
// trigger: the build keeps the newest segment open) or when it has unbuilt messages and
// nothing was added for `idle_after` by the clock (idle trigger: the build closes everything).
// One owner is built by one worker at a time; different owners in parallel.
//
// Concurrency: every method may be called from any thread. The state is one mutex-guarded map
// of owners; workers wait on a condition variable with a timeout set by the nearest idle
// deadline. Storage stays the truth: this state only decides *when* to look; losing it (a
// crash, a restart) loses nothing, as the constructor asks storage for every owner with
// pending messages.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "nemori/memory/clock.h"
#include "nemori/memory/memory_system.h"

namespace nemori::detail {

class BackgroundBuilder {
 public:
  /// Builds an owner (kKeepOpen for the size trigger). May throw (the owner is retried after
  /// another idle period).
  using BuildFn = std::function<void(const std::string& owner_id, NewestSegment newest)>;
  /// Pending raw events per owner, read once at start.
  using PendingFn = std::function<std::map<std::string, std::size_t>()>;

  /// Starts options.workers (>= 1) threads; the first reads `pending` before building.
  BackgroundBuilder(const BackgroundBuildOptions& options, BuildFn build, PendingFn pending);
  /// stop().
  ~BackgroundBuilder();
  /// Stops and joins the workers (a build under way is completed first). Idempotent.
  void stop();
  BackgroundBuilder(const BackgroundBuilder&) = delete;
  BackgroundBuilder& operator=(const BackgroundBuilder&) = delete;

  /// `count` new messages of the owner were stored: restarts its idle timer, wakes a worker.
  void added(const std::string& owner_id, std::size_t count);
  /// A build of the owner starts (from a worker or a caller's flush): what was added so far is
  /// being built.
  void build_started(const std::string& owner_id);
  /// The build ended, leaving `left_open` events unbuilt (or failed: `failed`, retried after
  /// another idle period).
  void build_ended(const std::string& owner_id, std::size_t left_open, bool failed);
  /// The owner was deleted: forget it.
  void forget(const std::string& owner_id);
  /// Makes the workers look at the clock now and returns once no owner is due and none is
  /// being built by a worker.
  void settle();

 private:
  struct OwnerState {
    std::size_t added = 0;  // messages stored since the last build started
    bool unbuilt = false;   // messages may wait (added, or left open)
    bool running = false;   // a worker holds it
    TimeSource::time_point last_add{};
  };
  void run(bool first);
  // Hands a failure to options_.on_error (else stderr).
  void report(const std::string& owner_id, const std::string& error);
  // The next due owner (not running) and how to build it; empty when none is. Sets `wait` to
  // how long until the nearest idle deadline (or an hour).
  std::string next_due(NewestSegment& newest, TimeSource::duration& wait);

  BackgroundBuildOptions options_;
  BuildFn build_;
  PendingFn pending_;
  std::mutex mutex_;
  std::condition_variable wake_;     // workers: something changed
  std::condition_variable changed_;  // settle(): a build ended or the start-up scan finished
  std::unordered_map<std::string, OwnerState> owners_;
  std::size_t running_ = 0;
  bool scanned_ = false;  // the start-up scan of storage is done
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace nemori::detail
