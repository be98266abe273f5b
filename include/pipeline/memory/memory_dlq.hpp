#pragma once

#include <cstddef>
#include <mutex>
#include <span>
#include <stop_token>
#include <vector>

#include <pipeline/dead_letter.hpp>
#include <pipeline/detail/scheduled_failures.hpp>
#include <pipeline/result.hpp>

namespace pipeline {

/// A dead-letter queue in memory: for tests, and for small runs that report their failures
/// at the end.
///
/// Thread-safe. Can fake an outage (`fail_next_writes`) so that tests can check that a DLQ
/// failure never loses a record. Not movable: use `std::ref` or build it in place.
class memory_dlq {
 public:
  memory_dlq() = default;
  memory_dlq(const memory_dlq&) = delete;
  auto operator=(const memory_dlq&) -> memory_dlq& = delete;

  [[nodiscard]] auto write(std::span<const dead_letter> letters, std::stop_token stop) -> result<void> {
    if (stop.stop_requested()) return stopped_error();
    std::scoped_lock lock{mutex_};
    if (auto outage = outages_.take()) return *outage;
    entries_.insert(entries_.end(), letters.begin(), letters.end());
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
  detail::scheduled_failures outages_;
};

static_assert(dead_letter_sink<memory_dlq>);

}  // namespace pipeline
