// Exclusive holds on owners inside one process (Storage::lock_owner for single-process stores).
#pragma once

#include <memory>
#include <string>

namespace nemori::detail {

/// Waits until no other holder in this process has (`scope`, `owner_id`), then holds it until
/// the returned handle is destroyed. `scope` names what the owners belong to (a store, a
/// database file). Thread-safe; never throws but std::bad_alloc.
std::shared_ptr<void> hold_owner_in_process(const std::string& scope, const std::string& owner_id);

}  // namespace nemori::detail
