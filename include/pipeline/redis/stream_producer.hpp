#pragma once

#include <memory>

#include <pipeline/basic_entry_producer.hpp>
#include <pipeline/codec.hpp>
#include <pipeline/detail/queue_sink.hpp>
#include <pipeline/record.hpp>
#include <pipeline/redis/client.hpp>
#include <pipeline/redis/stream_options.hpp>
#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::redis {

/// Appends framed batches to a queue's stream (XADD): the producer side of a distributed queue;
/// a `pipeline::basic_entry_producer` (which documents the operations).
///
/// `open` creates the consumer group when missing (at id 0, so entries added before any worker
/// joins are delivered), clears the stream's closed flag and checks `maxmemory-policy`.
/// An add checks the depth and XADDs in one script: while the stream holds `max_depth` entries
/// or more it adds nothing and the producer waits, polling (bounded memory in Redis: a fast
/// producer waits for slow workers), then tries again. `close` sets the flag "<stream>:closed".
///
/// Concurrent adds (`add`, `add_all`) share round trips: one script is on the wire at a time,
/// and the adds that arrive meanwhile go together in the next one (a group commit), each
/// caller answered with its own entries' result. A stop ends an add still waiting for its
/// turn; an add already sent with others waits for their answer (the stop of the caller that
/// sent them ends it).
///
/// No entry is added twice by one producer (one `open`, shared by its copies): each frame is
/// numbered, and the script skips numbers already done (kept in "<stream>:producer:<name>",
/// beside the stream, expiring a day after the last add), so the client's resend after a lost
/// reply adds nothing twice. An add that failed without knowing whether its script ran (its
/// reply lost for longer than the client waits) makes the next add read that key first: if it
/// ran, a retry of the same frames (compared byte for byte, for the last 64 such adds) adds
/// nothing and succeeds, and other frames are numbered after it, so nothing is skipped; if it
/// did not, the retry adds them. (So frames identical to those of such an add, from another
/// caller, are taken for its retry.) A producer process that restarts and adds again what it
/// added before (resuming from a checkpoint below it) does add it twice: delivery is then at
/// least once, and sinks are idempotent.
///
/// Unless the producer's run is exactly-once: then `add_committed` adds each batch with an
/// entry in the ledger hash "<stream>:ledger:<job>" (a key beside the stream), in one script
/// that checks the depth first, so every record is on the stream once; `forget` deletes
/// entries in one script.
///
/// Thread-safe (numbered adds reach Redis in order, one group at a time); blocking. Copies
/// share one producer.
class stream_producer : public pipeline::basic_entry_producer {
 public:
  /// Throws std::invalid_argument if `c` is null or the stream or group name is empty.
  [[nodiscard]] static auto open(std::shared_ptr<client> c, stream_options options) -> result<stream_producer>;

  /// How much work the stream holds: its group's lag and pending entries (XINFO GROUPS).
  [[nodiscard]] auto depth() -> result<stream_depth>;

  [[nodiscard]] auto options() const noexcept -> const stream_options& { return *options_; }

 private:
  stream_producer(std::shared_ptr<pipeline::detail::entry_producer_backend> backend,
                  const stream_options& options) noexcept;

  const stream_options* options_;  // the backend's, which every copy shares
};

/// The sink a producer's run writes to (`pipeline::detail::queue_sink` says how batches become
/// entries): a batch's stream entries are added in one round trip and, exactly-once, with the
/// ledger entry in one script.
template <class T, class Codec = record_codec>
using stream_sink = pipeline::detail::queue_sink<T, Codec, stream_producer>;
static_assert(pipeline::transactional_sink<stream_sink<record>>);

}  // namespace pipeline::redis
