// The portable logical dump: JSONL that any backend writes and any backend restores
// (docs/formats.md).
//
// Line 1 is a header {"format":"nemori-dump","version":3,"raw_events":N,"episodes":M,
// "links":L,"statements":S,"statement_sources":T,"semantic_progress":P,"created_at":...}; then
// one line per record, in sections: {"type":"raw_event","data":{...}},
// {"type":"episode","data":{...}}, {"type":"link","episode_id":...,"raw_data_id":...},
// {"type":"statement","data":{...without source_episode_ids}},
// {"type":"statement_source","statement_id":...,"episode_id":...} and
// {"type":"semantic_progress","data":{...}}. Records, links, statements and progress rows are
// ordered by owner and id, statement sources statement by statement in the order the sources
// were added, so that two dumps of the same data are byte-identical apart from created_at (and
// the checksums that cover it); last an end line {"type":"end","lines":K,"dump_sha256":...}
// with the number of lines before it and the SHA-256 of their text (each with its newline).
// Every line, the end line included, ends with a field "sha256": the SHA-256 (hex) of the
// line's text before ,"sha256":. Version 2 dumps (no statement sections) still restore.
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
  std::size_t statements = 0;
  std::size_t statement_sources = 0;  ///< (statement, episode) support rows
  std::size_t semantic_progress = 0;  ///< progress rows of the semantic pass
  bool operator==(const DumpCounts&) const = default;
};

/// Called after each batch with the records done so far and the total.
using DumpProgress = std::function<void(std::size_t done, std::size_t total)>;

/// Writes every record of `storage` (one owner only when `owner_id` is non-empty), read from
/// its primary (Storage::read_from_primary()).
DumpCounts write_dump(Storage& storage, std::ostream& out, const std::string& owner_id = "",
                      const DumpProgress& progress = {});

/// Restores a dump. The whole dump is read and checked before anything is written: the
/// checksum of every line and of the whole dump (unless `verify` is false, which also accepts
/// version 1 dumps, which have none), the order of sections, unique ids, links to records of
/// the dump with the same owner, every statement with at least one source line, sources and
/// progress rows naming episodes of the dump with the same owner, superseded_by naming a
/// statement of the dump with the same owner, the header counts. Then it is written with one
/// Storage::apply(), so it lands whole or not at all; with `replace` the same unit of work
/// first deletes every owner of `storage`, so a failure at any point leaves the target as it
/// was. Throws ValidationError naming the dump line (bad dump, or a record over a limit of the
/// target), DuplicateError / NotFoundError naming the line, ConfigError when `storage` is not
/// empty and `replace` is false, StorageError when the backend fails or the counts read back
/// differ from the header. `batch_size` must be positive; the dump is held in memory while it
/// is restored; `progress` is called once, when the restore is done.
DumpCounts restore_dump(Storage& storage, std::istream& in, bool replace,
                        std::size_t batch_size = 1000, const DumpProgress& progress = {},
                        bool verify = true);

/// Copies everything from one store to another (the target must be empty): raw events,
/// episodes, links, statements with their sources, and semantic progress, reading the source
/// from its primary (Storage::read_from_primary()), then checks the target against what was
/// copied (all six counts) and the source's counts against it (StorageError when the source
/// changed meanwhile).
DumpCounts copy_storage(Storage& from, Storage& to, std::size_t batch_size = 1000,
                        const DumpProgress& progress = {});

}  // namespace nemori
