#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/dead_letter_store.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// A dead-letter queue in memory: for tests, and for small runs that report their failures
/// at the end.
///
/// Stores each letter once: a letter written again (the runner dead-letters a batch again
/// after a crash or a retried DLQ write, with the same letters, whatever the batch
/// boundaries) is skipped. Its identity is the shared rule of every DLQ
/// (`detail::dead_letter_fingerprints`): partition, position, payload, and how many equal
/// payloads at that partition and position come before it in the same call, so two equal
/// records at different positions stay two (and two of one batch end, too).
///
/// A `dead_letter_store`: ids are the write sequence number (decimal, from 1); `resolve` and
/// `purge` remove entries (their identity stays, so a rewritten letter is still skipped).
///
/// Thread-safe. Can fake an outage (`fail_next_writes`) so that tests can check that a DLQ
/// failure never loses a record. Memory: every entry, and its identity. Not movable: use
/// `std::ref` or build it in place.
class memory_dlq {
 public:
  memory_dlq();
  memory_dlq(const memory_dlq&) = delete;
  auto operator=(const memory_dlq&) -> memory_dlq& = delete;
  ~memory_dlq();

  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void>;

  /// The next `count` writes fail with `e` and store nothing.
  void fail_next_writes(std::size_t count, error e);

  /// A copy of every entry not resolved or purged, in the order written.
  [[nodiscard]] auto entries() const -> std::vector<dead_letter>;

  [[nodiscard]] auto read(const dead_letter_filter& filter, const std::optional<std::string>& after_id,
                          std::size_t limit, std::stop_token stop) const -> result<std::vector<stored_dead_letter>>;
  [[nodiscard]] auto resolve(std::span<const std::string> ids, std::stop_token stop) -> result<void>;
  [[nodiscard]] auto record_failure(std::span<const failed_replay> failures, std::stop_token stop) -> result<void>;
  [[nodiscard]] auto purge(const dead_letter_filter& filter, std::stop_token stop) -> result<std::size_t>;

 private:
  struct state;  // the mutex, the entries and their identities, in src/core/memory
  std::unique_ptr<state> state_;
};

static_assert(dead_letter_store<memory_dlq>);

}  // namespace pipeline
