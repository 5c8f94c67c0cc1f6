// The clock the memory layer reads to decide when an owner has been idle long enough for its
// episodes to be built. A seam: tests hand MemorySystem a ManualTimeSource and move time themselves
// instead of sleeping.
#pragma once

#include <atomic>
#include <chrono>

namespace nemori {

/// A monotonic clock. Implementations are thread-safe.
class TimeSource {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;
  virtual ~TimeSource() = default;
  /// The current time; never goes backwards. Never throws.
  virtual time_point now() const = 0;
};

/// The machine's steady clock (the default).
class SteadyTimeSource : public TimeSource {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
};

/// A clock that moves only when told to, for tests. Starts at the steady clock's epoch plus
/// one day (so "now minus a while" is a valid time point).
class ManualTimeSource : public TimeSource {
 public:
  time_point now() const override { return time_point(duration(now_.load())); }
  /// Moves the clock forward by `by` (negative values are ignored). A MemorySystem reading this
  /// clock notices at its next look: call MemorySystem::settle() to make it look now.
  void advance(duration by) {
    if (by.count() > 0) now_.fetch_add(by.count());
  }

 private:
  std::atomic<duration::rep> now_{
      std::chrono::duration_cast<duration>(std::chrono::hours(24)).count()};
};

}  // namespace nemori
