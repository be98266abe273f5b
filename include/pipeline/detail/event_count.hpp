#pragma once

#include <atomic>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>

#if defined(__linux__) && !defined(PIPELINE_NO_FUTEX)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <ctime>
#else
#include <condition_variable>
#include <mutex>
#endif

namespace pipeline::detail {

// Threads sleep on a 32-bit word with futex(2) on Linux; elsewhere, or with PIPELINE_NO_FUTEX
// defined (to test that path on Linux), with a mutex and a condition variable.
#if defined(__linux__) && !defined(PIPELINE_NO_FUTEX)

// A 32-bit word threads can sleep on until it changes: futex(2), no lock, no allocation.
class parking_word {
 public:
  [[nodiscard]] auto load() const noexcept -> std::uint32_t { return word_.load(std::memory_order_seq_cst); }
  void increment() noexcept { word_.fetch_add(1, std::memory_order_seq_cst); }

  // Sleeps while the word equals `expected`, until woken or `deadline`; may return spuriously.
  void wait(std::uint32_t expected, std::chrono::steady_clock::time_point deadline) noexcept {
    timespec at{};
    timespec* timeout = nullptr;
    if (deadline != std::chrono::steady_clock::time_point::max()) {
      // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time, which is steady_clock's.
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
      const auto clamped = ns < 0 ? 0 : ns;
      at.tv_sec = static_cast<time_t>(clamped / 1'000'000'000);
      at.tv_nsec = static_cast<long>(clamped % 1'000'000'000);
      timeout = &at;
    }
    ::syscall(SYS_futex, address(), FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected, timeout, nullptr,
              FUTEX_BITSET_MATCH_ANY);
  }

  void wake(std::size_t count) noexcept {
    const int n = count > static_cast<std::size_t>(INT_MAX) ? INT_MAX : static_cast<int>(count);
    ::syscall(SYS_futex, address(), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n);
  }

 private:
  // std::atomic<std::uint32_t> has the layout of std::uint32_t (libstdc++ waits on it the same way).
  auto address() noexcept -> std::uint32_t* { return reinterpret_cast<std::uint32_t*>(&word_); }

  std::atomic<std::uint32_t> word_{0};
};

#else

// Portable stand-in for the futex: the word is compared under a mutex that wake() also takes,
// so a wake between the caller's check and its sleep is never missed.
class parking_word {
 public:
  [[nodiscard]] auto load() const noexcept -> std::uint32_t { return word_.load(std::memory_order_seq_cst); }
  void increment() noexcept { word_.fetch_add(1, std::memory_order_seq_cst); }

  void wait(std::uint32_t expected, std::chrono::steady_clock::time_point deadline) noexcept {
    std::unique_lock lock{mutex_};
    while (word_.load(std::memory_order_seq_cst) == expected) {
      if (deadline == std::chrono::steady_clock::time_point::max()) {
        changed_.wait(lock);
      } else if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
        return;
      }
    }
  }

  void wake(std::size_t count) noexcept {
    { std::lock_guard lock{mutex_}; }
    if (count == 1) {
      changed_.notify_one();
    } else {
      changed_.notify_all();
    }
  }

 private:
  std::atomic<std::uint32_t> word_{0};
  std::mutex mutex_;
  std::condition_variable changed_;
};

#endif

/// Lets threads sleep until another thread reports progress, at no cost to the reporter while
/// nobody sleeps (an "event count", as in Folly and Eigen).
///
/// Waiter: `auto key = prepare_wait();`, re-check the condition with seq_cst loads, then
/// `wait(key, deadline)` if it still holds, else `cancel_wait()`. Notifier: make progress with
/// a seq_cst read-modify-write, then `notify(n)`.
///
/// No lost wake-up: the waiter's registration and the notifier's progress are both seq_cst
/// read-modify-writes, each followed by a seq_cst load of the other's variable, so at least one
/// load sees the other's write. Either the waiter's re-check sees the progress and it does not
/// sleep, or the notifier sees the waiter and bumps the epoch; a waiter whose key predates the
/// bump does not sleep (the futex compares the epoch) or is woken.
///
/// No wake-up storm: a woken thread may take a while to run and deregister, so the state also
/// counts signals already sent. A notifier only makes a system call for waiters that no signal
/// covers yet, and each departing waiter consumes one outstanding signal. (Signals never exceed
/// the waiters certain to leave without another wake, so skipping the call never strands one.)
class event_count {
 public:
  using key = std::uint32_t;

  [[nodiscard]] auto prepare_wait() noexcept -> key {
    state_.fetch_add(one_waiter, std::memory_order_seq_cst);
    return epoch_.load();
  }

  void cancel_wait() noexcept { leave(); }

  // Sleeps until notified after prepare_wait() returned `k`, until `deadline`, or spuriously.
  void wait(key k, std::chrono::steady_clock::time_point deadline) noexcept {
    epoch_.wait(k, deadline);
    leave();
  }

  // Wakes up to `count` sleepers; a single load when nobody waits or all are already signalled.
  void notify(std::size_t count) noexcept {
    auto state = state_.load(std::memory_order_seq_cst);
    std::uint64_t woken = 0;
    do {
      const auto unsignalled = waiters(state) - signals(state);
      if (unsignalled == 0 || count == 0) return;
      // Not std::min: <algorithm> would cost every file that includes this header.
      woken = count < unsignalled ? count : unsignalled;
    } while (!state_.compare_exchange_weak(state, state + woken * one_signal, std::memory_order_seq_cst));
    epoch_.increment();
    epoch_.wake(woken);
  }

  // Wakes every sleeper, whether or not a signal already covers it: for a stop callback, which
  // must reach its own waiter (a waiter that reads the key after this bump sees the stop when it
  // re-checks). The others find nothing to do and sleep again.
  void wake_all() noexcept {
    epoch_.increment();
    epoch_.wake(SIZE_MAX);
  }

 private:
  static constexpr std::uint64_t one_waiter = 1;
  static constexpr std::uint64_t one_signal = std::uint64_t{1} << 32;

  static constexpr auto waiters(std::uint64_t state) noexcept -> std::uint64_t { return state & 0xffff'ffffU; }
  static constexpr auto signals(std::uint64_t state) noexcept -> std::uint64_t { return state >> 32U; }

  void leave() noexcept {
    auto state = state_.load(std::memory_order_relaxed);
    while (!state_.compare_exchange_weak(state, state - one_waiter - (signals(state) != 0 ? one_signal : 0),
                                         std::memory_order_seq_cst, std::memory_order_relaxed)) {
    }
  }

  std::atomic<std::uint64_t> state_{0};  // waiters (low half), signals sent to them (high half)
  parking_word epoch_;
};

}  // namespace pipeline::detail
