#pragma once

#include <cstdint>
#include <optional>
#include <utility>

namespace pipeline {

/// What a push did. Read as a sentence: `push_status::closed`.
enum class push_status : std::uint8_t {
  pushed,   ///< the item is in the queue
  full,     ///< try_/timed push only: no room (nothing was dropped)
  dropped,  ///< the queue's overflow policy discarded an item (this one, or the oldest)
  closed,   ///< the queue was closed; the item was not taken
  stopped,  ///< the stop token fired while waiting for room; the item was not taken
};

/// What a pop found.
enum class pop_status : std::uint8_t {
  popped,   ///< an item came out
  empty,    ///< try_/timed pop only: nothing there in time
  closed,   ///< the queue is closed and drained: nothing will ever come
  stopped,  ///< the stop token fired while waiting
};

/// When a bounded queue is full: wait (backpressure), or discard and count.
enum class overflow_policy : std::uint8_t {
  block,        ///< the producer waits for room; nothing is ever lost
  drop_newest,  ///< the new item is discarded
  drop_oldest,  ///< the oldest queued item is discarded to make room
};

/// The outcome of a pop: a status, and the item when the status is `popped`.
///
///     if (auto r = q.pop(stop)) consume(*r); else if (r.status() == pop_status::closed) break;
template <class T>
class pop_result {
 public:
  explicit pop_result(pop_status status) noexcept : status_(status) {}
  explicit pop_result(T value) : status_(pop_status::popped), value_(std::move(value)) {}

  [[nodiscard]] auto status() const noexcept -> pop_status { return status_; }
  explicit operator bool() const noexcept { return status_ == pop_status::popped; }
  [[nodiscard]] auto operator*() & noexcept -> T& { return *value_; }
  [[nodiscard]] auto operator*() && noexcept -> T&& { return std::move(*value_); }
  [[nodiscard]] auto operator->() noexcept -> T* { return &*value_; }

 private:
  pop_status status_;
  std::optional<T> value_;
};

}  // namespace pipeline
