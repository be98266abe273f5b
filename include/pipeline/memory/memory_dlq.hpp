#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <span>
#include <stop_token>
#include <string>
#include <tuple>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/dead_letter_fingerprint.hpp>
#include <pipeline/detail/scheduled_failures.hpp>
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
/// Thread-safe. Can fake an outage (`fail_next_writes`) so that tests can check that a DLQ
/// failure never loses a record. Memory: every entry, and its identity. Not movable: use
/// `std::ref` or build it in place.
class memory_dlq {
 public:
  memory_dlq() = default;
  memory_dlq(const memory_dlq&) = delete;
  auto operator=(const memory_dlq&) -> memory_dlq& = delete;

  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
    if (stop.stop_requested()) return stopped_error();
    const auto fingerprints = detail::dead_letter_fingerprints(letters);
    std::scoped_lock lock{mutex_};
    if (auto outage = outages_.take()) return *outage;
    for (std::size_t i = 0; i < letters.size(); ++i) {
      if (stored_.emplace(letters[i].partition, letters[i].pos.bytes(), fingerprints[i]).second) {
        entries_.push_back(letters[i]);
      }
    }
    return ok();
  }

  /// The next `count` writes fail with `e` and store nothing.
  void fail_next_writes(std::size_t count, error e) {
    std::scoped_lock lock{mutex_};
    outages_.schedule(count, std::move(e));
  }

  /// A copy of every entry, in the order written.
  [[nodiscard]] auto entries() const -> std::vector<dead_letter> {
    std::scoped_lock lock{mutex_};
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<dead_letter> entries_;
  std::set<std::tuple<std::uint32_t, std::string, std::string>> stored_;  // (partition, position, fingerprint)
  detail::scheduled_failures outages_;
};

static_assert(dead_letter_sink<memory_dlq>);

}  // namespace pipeline
