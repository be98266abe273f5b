#pragma once

#include <memory>
#include <span>
#include <stop_token>
#include <string>

#include <pipeline/redis/client.hpp>
#include <pipeline/redis/stream_options.hpp>
#include <pipeline/result.hpp>

namespace pipeline::redis {

/// Appends framed batches to a queue's stream (XADD): the producer side of a distributed queue.
///
/// `open` creates the consumer group when missing (at id 0, so entries added before any worker
/// joins are delivered), clears the stream's closed flag and checks `maxmemory-policy`.
/// `add` waits, polling, while the stream holds more than `max_depth` entries (bounded memory
/// in Redis: a fast producer waits for slow workers), then XADDs. A retried `add` after a
/// lost connection may add the entry twice: delivery is at least once; sinks are idempotent.
///
/// Thread-safe (through the shared `client`); blocking.
class stream_producer {
 public:
  /// Throws std::invalid_argument if `c` is null or the stream or group name is empty.
  [[nodiscard]] static auto open(std::shared_ptr<client> c, stream_options options) -> result<stream_producer>;

  /// Appends one entry holding `frame`; returns its id. `stopped` when stopped while waiting.
  [[nodiscard]] auto add(const std::string& frame, std::stop_token stop) -> result<std::string>;

  /// Appends one entry per frame, in order, in one round trip (pipelined XADDs), after one
  /// depth check. On a lost connection some may have been added: retrying adds them again.
  [[nodiscard]] auto add_all(std::span<const std::string> frames, std::stop_token stop) -> result<void>;

  /// Marks the queue complete: workers that find it drained end their run as completed.
  [[nodiscard]] auto close() -> result<void>;

  [[nodiscard]] auto depth() -> result<stream_depth>;

  [[nodiscard]] auto options() const noexcept -> const stream_options& { return options_; }

 private:
  stream_producer(std::shared_ptr<client> c, stream_options options);
  auto wait_for_room(const std::stop_token& stop) -> result<void>;

  std::shared_ptr<client> client_;
  stream_options options_;
};

}  // namespace pipeline::redis
