#pragma once

#include <filesystem>

#include <pipeline/basic_checkpoint_store.hpp>
#include <pipeline/checkpoint.hpp>

namespace pipeline::file {

/// Checkpoints in a directory, one file per key, with version fencing across threads and
/// processes: a `pipeline::basic_checkpoint_store` (whose header documents `load`, `save` and
/// `keys`).
///
/// Files: key `k` is stored in `<directory>/<e>.checkpoint`, where `e` is `k` with every byte
/// other than A-Z a-z 0-9 `_` `-` written as `%` and two upper-case hex digits ("orders/p3" →
/// "orders%2Fp3"; "../x" → "%2E%2E%2Fx"; NUL → "%00"). So no key reaches outside the directory
/// or names another key's file. A key whose escaped form is longer than 200 bytes is
/// `invalid_input`. Beside it, `<e>.lock` (kept, never deleted: deleting lock files races) and
/// `<e>.checkpoint.tmp` while a save is under way. Content: one JSON line
/// `{"format":1,"version":5,"position":"<base64 of the position's bytes>"}`.
///
/// `save` takes an exclusive flock(2) on the key's lock file, reads the stored version,
/// returns `conflict` (and changes nothing) unless it is `expected_version`, then writes a
/// temporary file, fsyncs it, renames it over the checkpoint file and fsyncs the directory:
/// a crash leaves the old checkpoint or the new one, never a mix. `load` takes no lock (the
/// rename is atomic). The directory is created by the first save. `keys` are the keys that
/// have a checkpoint file, in byte order; none when the directory is missing (nothing is
/// created).
///
/// Contract: thread-safe and safe across processes on one machine (flock; not across NFS
/// clients). Copies share the directory. Blocking file I/O. I/O failures are errno errors (EINTR, EAGAIN, EIO, ENOSPC,
/// EDQUOT, EMFILE, ENFILE, EBUSY transient; the rest permanent). A checkpoint file that cannot
/// be read back (edited, damaged) is a `permanent` error naming the file and what is wrong —
/// not version 0, which would silently start the pipeline over; restore or delete the file.
///
///     pipeline::file::checkpoint_store store{"/var/lib/etl/checkpoints"};
///     auto cp = store.load("orders/p3");                       // {pos, version}
///     auto v = store.save("orders/p3", batch.end, cp->version);  // conflict if another won
class checkpoint_store : public pipeline::basic_checkpoint_store {
 public:
  /// Throws std::invalid_argument if `directory` is empty. Does no I/O.
  explicit checkpoint_store(std::filesystem::path directory);
};

static_assert(pipeline::checkpoint_store<checkpoint_store>);

}  // namespace pipeline::file
