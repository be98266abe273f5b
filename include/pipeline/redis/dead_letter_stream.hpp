#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <pipeline/basic_dead_letter_store.hpp>
#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/result.hpp>

namespace pipeline::redis {

struct dead_letter_stream_options {
  std::string stream{"pipeline:dead"};  ///< the stream key; never trimmed by this class
};

/// A dead-letter queue on a Redis stream, one entry per dead letter, read back for replay.
///
/// Each entry has the fields payload, kind (as `to_string` names it), message, code, backend,
/// attempts, pos, partition, time (nanoseconds since the epoch) and job (missing in entries
/// from before letters had one: they read back with an empty job); payload and position are
/// kept byte for byte.
///
/// A `pipeline::basic_dead_letter_store` for replay: ids are stream entry ids. `read` with a
/// filter pages the stream with XRANGE and filters here (a stream has no index on its fields,
/// so a narrow filter over a long stream reads all of it). `resolve` XDELs the entries, with
/// their replay records, in one script. Entries cannot be changed, so `record_failure` keeps a
/// failed replay's attempts and reason in the hash "<stream>:replays" (same slot rule as the
/// identity set), keyed by entry id, which `read` applies over the entry's own fields; both are
/// one Lua script each. `purge` reads the matching entries and deletes them, a page at a time
/// (not atomic: entries added meanwhile may be left), and returns how many.
///
/// Stores each letter once: a letter written again (the runner dead-letters a batch again
/// after a crash, whatever its batch boundaries) adds no entry. The identity is every DLQ's
/// (`detail::dead_letter_fingerprints`: partition, position, payload, and how many equal ones
/// at that position come before it in the call), kept in a set beside the stream,
/// "<stream>:ids" when the stream name has a `{hash tag}`, else "{<stream>}:ids", so that
/// both share a cluster slot. A `write` is one Lua script that adds, for each letter whose
/// identity the set lacks, the entry and then the identity: atomic, so writers racing with
/// the same letters, in any processes, add each once, and a write the client sends again
/// after a lost reply adds nothing. A script that fails half-way (out of memory) keeps the
/// entries it added; a retry adds the rest. The script also keeps each letter's place
/// (partition and position) in the set "<stream>:places", which `holds` reads: a Redis stream
/// worker asks it about the records of a redelivered entry, so that a record dead-lettered
/// before the entry was acknowledged is not written to the sink as well. The sets are never
/// trimmed: delete them with the stream.
///
/// Contract: thread-safe (through the shared `client`); copies share one stream. Blocking.
/// Errors as `client` describes; an entry that does not read back as a dead letter (written by
/// something else) is a `permanent` error naming its id.
///
///     pipeline::redis::dead_letter_stream dlq{client, {.stream = "{orders}:dead"}};
///     for (std::string after = "0-0";;) {                      // replay, 500 at a time
///       auto page = dlq.read(after, 500).value();
///       if (page.empty()) break;
///       for (auto& [id, letter] : page) retry(letter.payload);
///       after = page.back().first;
///     }
class dead_letter_stream : public pipeline::basic_dead_letter_store {
 public:
  /// Throws std::invalid_argument if `c` is null, the stream name is empty, or no identity
  /// set key can share its slot (a name with braces but no valid hash tag, like "a{}b").
  dead_letter_stream(std::shared_ptr<client> c, dead_letter_stream_options options = {});

  using basic_dead_letter_store::read;
  /// Up to `limit` entries with an id after `after_id` ("0-0" for the first), in stream order.
  [[nodiscard]] auto read(const std::string& after_id, std::size_t limit)
      -> result<std::vector<std::pair<std::string, dead_letter>>>;

  /// Puts the letters' payloads back on the queue stream `queue` (one entry per letter, framed
  /// as `stream_producer` frames one record, field "b"), where the workers' transform runs on
  /// them again, and deletes those entries from this stream, in one script: a letter is moved
  /// only while its entry is still here, so two operators requeuing the same letters at once
  /// add each once. `queue` must exist (`not_found` otherwise, so a misspelt name creates
  /// nothing) and share the DLQ stream's slot in a cluster. Returns how many were moved.
  [[nodiscard]] auto requeue(std::span<const stored_dead_letter> letters, const std::string& queue,
                             std::stop_token stop) -> result<std::size_t>;

  /// For each of `positions` in `partition`, whether a letter from there was ever stored (also
  /// after it was resolved). One round trip (SMISMEMBER, Redis 6.2 or later).
  [[nodiscard]] auto holds(std::uint32_t partition, std::span<const position> positions, std::stop_token stop = {})
      -> result<std::vector<bool>>;

  /// How many entries the stream holds.
  [[nodiscard]] auto size() -> result<std::size_t>;
};

static_assert(pipeline::dead_letter_store<dead_letter_stream>);

}  // namespace pipeline::redis
