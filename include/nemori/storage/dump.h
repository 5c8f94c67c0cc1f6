// The portable logical dump: JSONL that any backend writes and any backend restores.
//
// Line 1 is a header {"format":"nemori-dump","version":1,"raw_events":N,"episodes":M,
// "links":L,"created_at":...}; then one line per record: {"type":"raw_event","data":{...}},
// {"type":"episode","data":{...}}, {"type":"link","episode_id":...,"raw_data_id":...}, raw
// events first, then episodes, then links, each ordered by owner and id so that two dumps of
// the same data are byte-identical apart from created_at.
#pragma once

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>

#include "nemori/storage/repository.h"

namespace nemori {

/// Counts written or read.
struct DumpCounts {
  std::size_t raw_events = 0;
  std::size_t episodes = 0;
  std::size_t links = 0;
  bool operator==(const DumpCounts&) const = default;
};

/// Called after each batch with the records done so far and the total.
using DumpProgress = std::function<void(std::size_t done, std::size_t total)>;

/// Writes every record of `storage` (one owner only when `owner_id` is non-empty).
DumpCounts write_dump(Storage& storage, std::ostream& out, const std::string& owner_id = "",
                      const DumpProgress& progress = {});

/// Restores a dump. Throws ValidationError (naming the line) for a malformed dump before writing
/// anything, and ConfigError when `storage` is not empty and `replace` is false. With
/// `replace`, every existing owner is deleted first. Records are written in batches of
/// `batch_size`; the header counts are verified at the end (StorageError on mismatch).
DumpCounts restore_dump(Storage& storage, std::istream& in, bool replace,
                        std::size_t batch_size = 1000, const DumpProgress& progress = {});

/// Copies everything from one store to another (the target must be empty) and verifies counts.
DumpCounts copy_storage(Storage& from, Storage& to, std::size_t batch_size = 1000,
                        const DumpProgress& progress = {});

}  // namespace nemori
