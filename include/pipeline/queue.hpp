#pragma once

#include <concepts>
#include <cstddef>
#include <stop_token>
#include <utility>

#include <pipeline/queue_status.hpp>

namespace pipeline {

/// A bounded hand-off between producers and consumers (in process, or across machines).
///
/// `push` waits for room (backpressure) and returns `pushed`, `closed`, `stopped`, or
/// `dropped` when the queue's overflow policy discards; `pop` waits for an item and returns
/// it, or `closed` once closed and drained, or `stopped`. `close` wakes every waiter.
/// `size` is approximate, for depth metrics. Implementations are thread-safe.
template <class Q>
concept queue = requires(Q& q, typename Q::value_type value, std::stop_token stop) {
  typename Q::value_type;
  { q.push(std::move(value), stop) } -> std::same_as<push_status>;
  { q.pop(stop) } -> std::same_as<pop_result<typename Q::value_type>>;
  { q.close() };
  { q.size() } -> std::convertible_to<std::size_t>;
};

}  // namespace pipeline
