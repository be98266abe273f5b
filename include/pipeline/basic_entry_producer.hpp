#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <pipeline/result.hpp>
#include <pipeline/transactional_sink.hpp>

namespace pipeline::detail {

/// What an adapter implements to be a queue producer (`basic_entry_producer` documents each
/// operation). Must be thread-safe: the front end's copies call one backend from any thread.
class entry_producer_backend {
 public:
  entry_producer_backend() = default;
  entry_producer_backend(const entry_producer_backend&) = delete;
  auto operator=(const entry_producer_backend&) -> entry_producer_backend& = delete;
  virtual ~entry_producer_backend() = default;

  virtual auto add(const std::string& frame, std::stop_token stop) -> result<std::string> = 0;
  virtual auto add_all(std::span<const std::string> frames, std::stop_token stop) -> result<void> = 0;
  virtual auto add_committed(std::span<const std::string> frames, const committed_batch& entry, std::stop_token stop)
      -> result<void> = 0;
  virtual auto committed(std::string_view job, std::stop_token stop) -> result<std::vector<committed_batch>> = 0;
  virtual auto forget(std::string_view job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
      -> result<void> = 0;
  virtual auto close() -> result<void> = 0;
};

}  // namespace pipeline::detail

namespace pipeline {

/// The producer side of a distributed queue, whatever holds the queue: `postgres::queue_producer`
/// and `redis::stream_producer` are `basic_entry_producer`s, so one type holds either without
/// templates. Each adapter adds what is its own (`depth()`, `options()`, the way it is opened)
/// and says how each operation is done on its server; together they model
/// `pipeline::entry_producer` (queue_roles.hpp).
///
/// Entries hold frames (detail/frame.hpp: a framed batch, `detail::queue_sink` makes them).
/// An add waits, polling, while the queue holds the adapter's `max_depth` entries or more (a
/// fast producer waits for slow workers). The three ledger calls serve an exactly-once run
/// (`runner_options::exactly_once`): a batch's entries are added together with its ledger
/// entry, both or neither, and a batch the ledger holds is not added again, so a restarted
/// producer skips what its killed predecessor added after its last checkpoint.
///
/// Thread-safe; blocking (round trips to the server). Copies share one producer (its
/// connection and its state, e.g. the numbering of Redis adds); the last copy destroyed
/// releases it. A moved-from producer may only be destroyed or assigned to.
class basic_entry_producer {
 public:
  /// Adds one entry holding `frame`; returns its id. `stopped` when stopped while waiting.
  [[nodiscard]] auto add(const std::string& frame, std::stop_token stop) -> result<std::string> {
    return backend_->add(frame, std::move(stop));
  }
  /// Adds one entry per frame, in order, in one step (a statement, a script) after one depth
  /// check.
  [[nodiscard]] auto add_all(std::span<const std::string> frames, std::stop_token stop) -> result<void> {
    return backend_->add_all(frames, std::move(stop));
  }

  /// Adds one entry per frame and records `entry` in the job's ledger, in one step (a
  /// transaction, a script) after one depth check: both or neither. When the ledger holds
  /// `entry`'s identity already it adds nothing: success when the positions are the same (a
  /// batch added before a crash, a resend after a lost reply), a `conflict` when they differ.
  [[nodiscard]] auto add_committed(std::span<const std::string> frames, const committed_batch& entry,
                                   std::stop_token stop) -> result<void> {
    return backend_->add_committed(frames, entry, std::move(stop));
  }
  /// Every ledger entry of `job`, in any order.
  [[nodiscard]] auto committed(std::string_view job, std::stop_token stop) -> result<std::vector<committed_batch>> {
    return backend_->committed(job, std::move(stop));
  }
  /// Deletes the ledger entries of `job` at or below (`run`, `sequence`); the runner calls it
  /// once a checkpoint covers them.
  [[nodiscard]] auto forget(std::string_view job, std::uint64_t run, std::uint64_t sequence, std::stop_token stop)
      -> result<void> {
    return backend_->forget(job, run, sequence, std::move(stop));
  }

  /// Marks the queue closed: workers that find it drained end their run as completed.
  [[nodiscard]] auto close() -> result<void> { return backend_->close(); }

 protected:
  explicit basic_entry_producer(std::shared_ptr<detail::entry_producer_backend> backend) noexcept
      : backend_(std::move(backend)) {}

  [[nodiscard]] auto backend() const noexcept -> detail::entry_producer_backend& { return *backend_; }

 private:
  std::shared_ptr<detail::entry_producer_backend> backend_;
};

}  // namespace pipeline
