#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/checkpoint.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_acks.hpp>
#include <pipeline/detail/queue_entry.hpp>
#include <pipeline/detail/queue_source.hpp>
#include <pipeline/detail/tracked_entries.hpp>
#include <pipeline/metrics.hpp>
#include <pipeline/record.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/redis/stream_options.hpp>
#include <pipeline/result.hpp>
#include <pipeline/source.hpp>

namespace pipeline::redis {

/// One stream entry as a worker receives it.
using stream_entry = pipeline::detail::queue_entry;

/// The worker side of a distributed queue: reads entries in a consumer group, reclaims the
/// ones other workers left idle, acknowledges and trims.
///
/// `read` first reclaims (XAUTOCLAIM) an entry pending longer than `visibility_timeout` on any
/// consumer (a crashed, stalled or cut-off worker), with its delivery count; otherwise it reads
/// new entries (XREADGROUP … BLOCK). It returns nullopt once the producer closed the queue and
/// nothing is left, neither undelivered nor pending anywhere (a worker that still holds entries
/// may crash; then they are reclaimed here).
///
/// A reclaimed entry is a suspect: it may hold a record that crashes workers. So that a poison
/// record takes nothing else down with it:
/// - a reclaimed entry of several records is split: its records are added again as one entry
///   each and the original is acknowledged, in one step (a Lua script), so delivery counts
///   become per record (each new entry keeps its record's `origin`, fields o and i);
/// - a reclaimed entry of one record is handled alone: `read` claims it only once every entry
///   this consumer read before is acknowledged, and reads nothing more until it is. A crash
///   while it is in flight then counts against it only, and a record dead-lettered for too
///   many deliveries (`stream_source`) is the one that crashed workers (with `max_deliveries`
///   of at least 2; with 1, an entry in flight beside a crash is dead-lettered with it).
/// Reclaiming is the rare path: it costs throughput only while reclaimed entries are handled.
///
/// Entries are tracked by a number given to each read (`track`/`ack_through`), so the runner's
/// checkpoint — which advances only past batches that are in the sink or the DLQ — acknowledges
/// them (`acks()`): XACK only after the sink or DLQ write succeeded. Acknowledged entries are
/// trimmed every `trim_interval` (XTRIM MINID below both the oldest pending entry and the
/// group's last delivered id, so no entry that is unacknowledged or undelivered is trimmed).
///
/// A server restart or a server loading its dataset is waited out by both connections, up to
/// `connection_options::outage_budget` (see `client`; `read` ends the wait on its stop). An
/// XREADGROUP whose reply was lost leaves its entries pending on this consumer: they are
/// reclaimed after `visibility_timeout`, one delivery more.
///
/// Holds two connections: one that blocks in reads, one for acknowledgements. Thread-safety:
/// `read` from one thread at a time; `ack_through`, `depth` and `trim` from any thread.
class stream_consumer {
 public:
  /// Connects twice with `connection`, creates the group when missing and checks
  /// `maxmemory-policy`. Throws std::invalid_argument as `client::connect`, or when the stream
  /// or group is empty or `max_deliveries`, `read_count` or a duration is 0.
  [[nodiscard]] static auto open(const connection_options& connection, stream_options options)
      -> result<std::unique_ptr<stream_consumer>>;

  /// The next entries, nullopt when the queue is closed and drained, `stopped` on stop.
  [[nodiscard]] auto read(std::stop_token stop) -> result<std::optional<std::vector<stream_entry>>>;

  /// Remembers `ids` under a new number (numbers increase from 1) for `ack_through`.
  [[nodiscard]] auto track(std::vector<std::string> ids) -> std::uint64_t;
  /// Acknowledges every tracked entry with a number up to `number`, then trims when due.
  [[nodiscard]] auto ack_through(std::uint64_t number) -> result<void>;

  [[nodiscard]] auto depth() -> result<stream_depth>;
  /// Trims acknowledged entries now.
  [[nodiscard]] auto trim() -> result<void>;

  [[nodiscard]] auto options() const noexcept -> const stream_options& { return options_; }
  /// The stream, for messages.
  [[nodiscard]] auto name() const noexcept -> const std::string& { return options_.stream; }

 private:
  stream_consumer(std::shared_ptr<client> reader, std::shared_ptr<client> acker, stream_options options);
  // One idle entry of another consumer, claimed once this consumer's entries are acknowledged;
  // nullopt when none is idle (or a multi-record one was split instead).
  auto claim(std::stop_token stop) -> result<std::optional<stream_entry>>;
  auto split(const stream_entry& e) -> result<bool>;
  auto wait_until_acknowledged(std::stop_token stop) -> result<void>;
  auto closed_and_drained() -> result<bool>;
  void trim_when_due();

  std::shared_ptr<client> reader_;
  std::shared_ptr<client> acker_;
  stream_options options_;
  std::chrono::steady_clock::time_point next_claim_{};
  bool suspect_in_flight_ = false;  // the last read returned a reclaimed entry

  pipeline::detail::tracked_entries tracked_;
  std::mutex trim_mutex_;  // guards next_trim_
  std::chrono::steady_clock::time_point next_trim_{};

  gauge local_depth_, local_pending_;
  gauge* depth_gauge_ = &local_depth_;
  gauge* pending_gauge_ = &local_pending_;
};

/// The checkpoint store a worker's run uses so that its checkpoint acknowledges entries
/// (`pipeline::detail::queue_acks`): a `save` of a batch's end acknowledges every entry read up
/// to that batch. Models `pipeline::checkpoint_store`; thread-safe.
using stream_acks = pipeline::detail::queue_acks<stream_consumer>;

static_assert(pipeline::checkpoint_store<stream_acks>);

/// The source a worker's run reads (`pipeline::detail::queue_source`): the entries a
/// `stream_consumer` receives, decoded with `Codec`.
template <class T, class Codec = record_codec>
using stream_source = pipeline::detail::queue_source<T, Codec, stream_consumer>;
static_assert(pipeline::seekable_source<stream_source<record>>);

}  // namespace pipeline::redis
