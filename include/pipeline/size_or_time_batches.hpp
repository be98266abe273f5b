#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <stop_token>
#include <utility>
#include <vector>

#include <pipeline/detail/batch_queue.hpp>
#include <pipeline/generator.hpp>
#include <pipeline/queue_status.hpp>

namespace pipeline {

/// When `size_or_time_batches` emits a batch from a trickling queue: once it is full, or once it
/// has waited long enough.
///
/// A batch is emitted when it holds `max_items`, or `max_wait` after its first item was taken;
/// the first item of a batch is waited for without a deadline. A plain value.
///
///     pipeline::size_or_time_options options{.max_items = 500, .max_wait = 50ms};
struct size_or_time_options {
  std::size_t max_items{1000};              ///< emit a batch once it holds this many items
  std::chrono::milliseconds max_wait{100};  ///< emit a batch this long after its first item
};

/// A queue with a blocking `pop` and a `pop_until` that gives up at a deadline, reporting
/// `empty`; both report `closed` once closed and drained and `stopped` when `stop` fires.
/// `pipeline::mpmc_queue` is one.
template <class Q>
concept timed_queue = requires(Q& q, std::stop_token stop, std::chrono::steady_clock::time_point deadline) {
  typename Q::value_type;
  { q.pop(stop) } -> std::same_as<pop_result<typename Q::value_type>>;
  { q.pop_until(deadline, stop) } -> std::same_as<pop_result<typename Q::value_type>>;
};

/// Batches from `queue`, each emitted when full or `options.max_wait` after its first item.
///
/// Blocking, one consumer: `begin()` and `++` wait on the queue on the consumer's thread while
/// producers push from others; `queue` must outlive the generator. When the queue is closed
/// (and drained) or `stop` is requested, the partial batch is emitted (never an empty one) and
/// the generator ends; after a stop, items still queued stay there. Each batch is the
/// generator's buffer, yours to read or move out until the next `++`. What the queue throws
/// reaches the consumer. Throws `std::invalid_argument` at the call when `options.max_items` is 0
/// or `options.max_wait` is negative.
///
///     for (auto&& events : pipeline::size_or_time_batches(queue, {.max_items = 500}, stop))
///       sink.write(std::move(events));
template <timed_queue Q>
[[nodiscard]] auto size_or_time_batches(Q& queue, size_or_time_options options, std::stop_token stop = {})
    -> generator<std::vector<typename Q::value_type>> {
  // Checked here, not in the lazy coroutine, so that misuse throws at the call.
  if (options.max_items == 0) {
    throw std::invalid_argument("pipeline::size_or_time_batches: options.max_items must be at least 1");
  }
  if (options.max_wait < std::chrono::milliseconds::zero()) {
    throw std::invalid_argument("pipeline::size_or_time_batches: options.max_wait must not be negative");
  }
  return detail::batch_queue(queue, options.max_items, options.max_wait, std::move(stop));
}

}  // namespace pipeline
