#include "storage/owner_lock.h"

#include <condition_variable>
#include <mutex>
#include <set>
#include <utility>

#include "nemori/storage/repository.h"

namespace nemori::detail {

namespace {

struct Holds {
  std::mutex mutex;
  std::condition_variable released;
  std::set<std::pair<std::string, std::string>> held;  // (scope, owner)
};

Holds& holds() {
  static Holds instance;
  return instance;
}

}  // namespace

std::shared_ptr<void> hold_owner_in_process(const std::string& scope, const std::string& owner_id) {
  Holds& h = holds();
  auto key = std::make_shared<std::pair<std::string, std::string>>(scope, owner_id);
  std::unique_lock lock(h.mutex);
  h.released.wait(lock, [&] { return !h.held.contains(*key); });
  h.held.insert(*key);
  return std::shared_ptr<void>(key.get(), [key](void*) {
    Holds& h = holds();
    {
      std::lock_guard lock(h.mutex);
      h.held.erase(*key);
    }
    h.released.notify_all();
  });
}

}  // namespace nemori::detail

namespace nemori {

std::shared_ptr<void> Storage::lock_owner(const std::string& owner_id) {
  // A store no other process can reach: its own address names it.
  return detail::hold_owner_in_process(std::to_string(reinterpret_cast<std::uintptr_t>(this)),
                                       owner_id);
}

}  // namespace nemori
