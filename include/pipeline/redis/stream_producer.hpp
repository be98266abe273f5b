#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_sink.hpp>
#include <pipeline/record.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/redis/stream_options.hpp>
#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::redis {

/// Appends framed batches to a queue's stream (XADD): the producer side of a distributed queue.
///
/// `open` creates the consumer group when missing (at id 0, so entries added before any worker
/// joins are delivered), clears the stream's closed flag and checks `maxmemory-policy`.
/// An add checks the depth and XADDs in one script: while the stream holds `max_depth` entries
/// or more it adds nothing and the producer waits, polling (bounded memory in Redis: a fast
/// producer waits for slow workers), then tries again.
///
/// Concurrent adds share round trips: one script is on the wire at a time, and the adds that
/// arrive meanwhile go together in the next one (a group commit), each caller answered with
/// its own entries' result. A stop ends an add still waiting for its turn; an add already sent
/// with others waits for their answer (the stop of the caller that sent them ends it).
///
/// No entry is added twice by one producer object: each frame is numbered, and the script
/// skips numbers already done (kept in "<stream>:producer:<name>", beside the stream, expiring
/// a day after the last add), so the client's resend after a lost reply adds nothing twice.
/// An add that failed without knowing whether its script ran (its reply lost for longer than
/// the client waits) makes the next add read that key first: if it ran, a retry of the same
/// frames (compared byte for byte, for the last 64 such adds) adds nothing and succeeds, and
/// other frames are numbered after it, so nothing is skipped; if it did not, the retry adds
/// them. (So frames identical to those of such an add, from another caller, are taken for its
/// retry.) A producer process that restarts and adds again what it added before (resuming
/// from a checkpoint below it) does add it twice: delivery is then at least once, and sinks
/// are idempotent.
///
/// Unless the producer's run is exactly-once (`runner_options::exactly_once`, which
/// `stream_sink` supports through the three ledger calls below): then each batch is added with
/// an entry in the ledger hash "<stream>:ledger:<job>" (a key beside the stream), in one
/// script, and a batch the ledger holds is not added again: a restarted producer skips what
/// its killed predecessor added after its last checkpoint, so every record is on the stream
/// once. The runner deletes entries once a checkpoint covers them.
///
/// Thread-safe (numbered adds reach Redis in order, one group at a time); blocking.
class stream_producer {
 public:
  /// Throws std::invalid_argument if `c` is null or the stream or group name is empty.
  [[nodiscard]] static auto open(std::shared_ptr<client> c, stream_options options) -> result<stream_producer>;

  stream_producer(stream_producer&&) noexcept;
  auto operator=(stream_producer&&) noexcept -> stream_producer&;
  ~stream_producer();

  /// Appends one entry holding `frame`; returns its id. `stopped` when stopped while waiting.
  [[nodiscard]] auto add(const std::string& frame, std::stop_token stop) -> result<std::string>;

  /// Appends one entry per frame, in order, in one script (shared with concurrent adds) that
  /// checks the depth first. A retry after a failure adds only what is missing (see the class
  /// comment).
  [[nodiscard]] auto add_all(std::span<const std::string> frames, std::stop_token stop) -> result<void>;

  /// Appends one entry per frame and records `entry` in the job's ledger, in one script that
  /// checks the depth first: both or neither. When the ledger holds `entry`'s identity already it
  /// adds nothing: success when the positions are the same (a batch added before a crash, or
  /// a resend after a lost reply), a `conflict` when they differ.
  [[nodiscard]] auto add_committed(std::span<const std::string> frames, const committed_batch& entry,
                                   std::stop_token stop) -> result<void>;
  /// Every ledger entry of `job`, in any order.
  [[nodiscard]] auto committed(std::string_view job, std::stop_token stop) -> result<std::vector<committed_batch>>;
  /// Deletes the ledger entries of `job` at or below (`run`, `sequence`), in one script.
  [[nodiscard]] auto forget(std::string_view job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
      -> result<void>;

  /// Marks the queue complete: workers that find it drained end their run as completed.
  [[nodiscard]] auto close() -> result<void>;

  [[nodiscard]] auto depth() -> result<stream_depth>;

  [[nodiscard]] auto options() const noexcept -> const stream_options& { return options_; }

 private:
  stream_producer(std::shared_ptr<client> c, stream_options options);
  // Runs an add script again, after waiting for room, while it answers 'full'.
  auto eval_when_room(std::string_view script, const std::vector<std::string>& keys,
                      const std::vector<std::string>& args, const std::stop_token& stop) -> result<reply>;
  auto wait_for_room(const std::stop_token& stop) -> result<void>;
  struct pending_add;  // one caller's add, waiting for its group's answer
  struct add_queue;    // the adds waiting for the group on the wire, and their numbering

  auto add_numbered(std::span<const std::string> frames, const std::stop_token& stop) -> result<std::string>;
  void send_group(std::span<pending_add* const> group, const pending_add& leader,
                  const std::stop_token& stop);
  auto resolve_doubt(const std::stop_token& stop) -> result<void>;
  [[nodiscard]] auto ledger_key(std::string_view job) const -> std::string;
  [[nodiscard]] auto wait_for_replicas(const std::stop_token& stop) -> result<void>;

  std::shared_ptr<client> client_;
  stream_options options_;
  std::unique_ptr<add_queue> adds_;  // movable as a whole: the producer is returned by value
};

/// The sink a producer's run writes to (`pipeline::detail::queue_sink` says how batches become
/// entries): a batch's stream entries are added in one round trip and, exactly-once, with the
/// ledger entry in one script.
template <class T, class Codec = record_codec>
using stream_sink = pipeline::detail::queue_sink<T, Codec, stream_producer>;
static_assert(pipeline::transactional_sink<stream_sink<record>>);

}  // namespace pipeline::redis
