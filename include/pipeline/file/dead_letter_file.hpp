#pragma once

#include <filesystem>

#include <pipeline/basic_dead_letter_store.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>

namespace pipeline::file {

/// A dead-letter queue in a file: each entry appended as one JSON line, durable when `write`
/// returns.
///
/// Line format (read it back with `dead_letter_file_source` or `read_dead_letters`):
///
///     {"payload":"<base64>","kind":"permanent","message":"bad value for column 'price'",
///      "native_code":1366,"backend":"mysql","attempts":3,"position":"<base64>","partition":0,
///      "time":"2026-09-21T13:46:40.000123Z","job":"listings"}
///
/// payload and position are base64 (RFC 4648, padded), since either may be binary; kind is the
/// `to_string` name of the error kind; bytes of the message or backend that are not UTF-8 are
/// written as U+FFFD; time is ISO-8601 UTC with microseconds; job may be missing (files from
/// before letters had one read back with an empty job).
///
/// A `pipeline::basic_dead_letter_store` for replay: an entry's id is its line number (from
/// 1). The file stays append-only for `write` and `resolve`: resolved line numbers are
/// appended (synced) to the sidecar `<path>.resolved`, one a line. `record_failure` rewrites the file atomically (temp +
/// rename) with the same lines, so ids stay valid; `purge` rewrites it without the matching
/// entries *and* without the resolved ones, empties the sidecar, and so numbers the lines anew:
/// do not purge while a replay of the same file runs. Every `read`, `record_failure` and `purge`
/// reads the whole file (and the sidecar): meant for DLQ files of modest size. Lines that are
/// not entries are never returned; `purge` keeps them.
///
/// Stores each letter once: a letter already in the file (the runner dead-letters a batch
/// again after a crash, whatever its batch boundaries) is not appended again. The identity is
/// every DLQ's (`detail::dead_letter_fingerprints`: partition, position, payload, and how many
/// equal ones at that position come before it in the call); the first write reads the file
/// back to learn the identities of the entries already there, counting them as one call.
/// Entries longer than `dead_letter_file_source`'s default `max_record_bytes` (16 MiB) are not
/// read back, so such an entry can be appended again by a later process.
///
/// Contract: thread-safe (writes are serialised by a mutex); copies share one file. One
/// writing process per file (appends are at the size this object and its copies keep). Another process may purge, resolve or record
/// failures while it writes (pipeline-admin's `dlq purge` beside a running job): every change
/// holds an exclusive flock(2) on `<path>.lock` (made beside the file, never deleted), and a
/// write that finds the file renamed over by such a rewrite reopens it and learns its entries
/// again, so no letter is appended to a file that a purge replaced. Each `write` appends all of its entries, then fsyncs: once
/// it returns success they survive a crash. A failed write leaves nothing of its entries in
/// the file (the torn tail is truncated) and returns the errno error (ENOSPC, EIO, … transient;
/// the rest permanent), so the runner retries it or fails the run, never losing an entry. The
/// file is created, or opened to append, by the first write (its directory must exist); a last
/// line torn by a crash is ended then, so it reads back as one rejected line and the next
/// entry stays whole.
/// Memory: the encoded entries of one call, and the identity of every entry in the file (its
/// position and some 30 bytes).
///
///     pipeline::file::dead_letter_file dlq{"orders.dlq.jsonl"};
///     auto stored = dlq.write(std::span{letters}, stop);
class dead_letter_file : public pipeline::basic_dead_letter_store {
 public:
  /// Throws std::invalid_argument if `path` is empty.
  explicit dead_letter_file(std::filesystem::path path);
};

static_assert(dead_letter_store<dead_letter_file>);

}  // namespace pipeline::file
