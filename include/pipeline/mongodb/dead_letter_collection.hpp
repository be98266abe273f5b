#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <pipeline/basic_dead_letter_store.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/mongodb/client.hpp>
#include <pipeline/result.hpp>

namespace pipeline::mongodb {

struct dead_letter_collection_options {
  std::string database{};
  /// One document per entry: `{identity, payload: binary, kind, message, native_code: int64,
  /// backend, attempts, position: binary, partition, time: date, time_us: int64, job}`.
  /// Documents from before letters had a job have no `job`: they read back with an empty job
  /// and match no `job` filter.
  std::string collection{"pipeline_dead_letters"};
};

/// A dead-letter queue in a collection, one document per entry, read back for replay.
///
/// Payloads and positions are kept byte for byte (binary); the error kind as `to_string`
/// names it; the time as a date (for people and TTL indexes) and as microseconds since the
/// epoch (`time_us`, what `read` returns).
///
/// Stores each letter once: a letter written again (the runner dead-letters a batch again
/// after a crash, whatever its batch boundaries) adds no document. Its identity is every
/// DLQ's (`detail::dead_letter_fingerprints`: partition, position, payload, and how many equal
/// ones at that position come before it in the call), kept as text in `identity`; each
/// `write` finds which of its identities are stored (`{identity: {$in: …}}`) and inserts the
/// others in one unordered bulk. The first write creates a unique index on `identity`
/// (partial: documents stored before identities existed are left out), which on MongoDB makes
/// writers racing with one letter store it once (the loser's duplicate key counts as stored).
/// CongoDB enforces no unique secondary index: there a letter written again is skipped, but
/// two writers racing with the same letter at the same moment can both store it.
///
/// A `pipeline::basic_dead_letter_store` for replay: ids are `_id`s (24 hex digits). `read`
/// with a filter is one find (`kind`, `partition`, `time_us` range, `job`) sorted by `_id`;
/// `resolve` and `purge` are one deleteMany each; `record_failure` replaces each document,
/// compared on the attempts it read (not $set/$inc, which CongoDB applies to binary fields
/// wrongly). `_id`s are made by the writing client: in write order within one process.
///
/// Contract: concurrent writes from many workers are fine (pooled connections); copies share
/// one collection. A write that fails half-way (a payload over 16 MiB, a lost connection) may
/// have stored some of its letters; writing it again stores the rest only. Blocking; a stop
/// before the write returns `stopped`. A document that does not read back as an entry (edited
/// by hand) is a `permanent` error naming its `_id`.
///
///     auto dlq = pipeline::mongodb::dead_letter_collection(mongo, {.database = "etl"});
///     for (std::string after;;) {                            // replay, 500 at a time
///       auto page = dlq.read(after, 500).value();
///       if (page.empty()) break;
///       for (auto& [id, letter] : page) retry(letter.payload);
///       after = page.back().first;
///     }
class dead_letter_collection : public pipeline::basic_dead_letter_store {
 public:
  /// Throws std::invalid_argument if `c` is null or a name is empty.
  /// No I/O: the first write makes the identity index.
  dead_letter_collection(std::shared_ptr<client> c, dead_letter_collection_options options);

  using basic_dead_letter_store::read;
  /// Up to `limit` entries whose `_id` (24 hex digits) is above `after_id` ("" from the
  /// start), by increasing `_id`, with their ids.
  [[nodiscard]] auto read(const std::string& after_id, std::size_t limit)
      -> result<std::vector<std::pair<std::string, dead_letter>>>;
};

static_assert(pipeline::dead_letter_store<dead_letter_collection>);

}  // namespace pipeline::mongodb
