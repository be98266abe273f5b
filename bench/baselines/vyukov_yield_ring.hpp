#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <thread>
#include <utility>

#include <immintrin.h>

namespace bench {

/// Vyukov's bounded MPMC ring whose waits spin briefly, then sched_yield forever: never sleeps.
///
/// Not a peer of blocking queues (an idle consumer keeps a core busy yielding); it is the
/// throughput ceiling a lock-free ring reaches on this machine (perf-anchors: vyukov_ring+yield).
/// Capacity is rounded up to a power of two. Thread-safe.
template <class T>
class vyukov_yield_ring {
 public:
  explicit vyukov_yield_ring(std::size_t capacity)
      : mask_(std::bit_ceil(capacity) - 1), slots_(std::make_unique<slot[]>(mask_ + 1)) {
    for (std::size_t i = 0; i <= mask_; ++i) slots_[i].seq.store(i, std::memory_order_relaxed);
  }

  auto try_push(T& value) -> bool {
    auto pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      auto& s = slots_[pos & mask_];
      const auto seq = s.seq.load(std::memory_order_acquire);
      const auto dif = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos);
      if (dif == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          s.value = std::move(value);
          s.seq.store(pos + 1, std::memory_order_release);
          return true;
        }
      } else if (dif < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);
      }
    }
  }

  auto try_pop(T& out) -> bool {
    auto pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      auto& s = slots_[pos & mask_];
      const auto seq = s.seq.load(std::memory_order_acquire);
      const auto dif = static_cast<std::intptr_t>(seq) - static_cast<std::intptr_t>(pos + 1);
      if (dif == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          out = std::move(s.value);
          s.seq.store(pos + mask_ + 1, std::memory_order_release);
          return true;
        }
      } else if (dif < 0) {
        return false;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

  void push(T value) {
    for (std::uint32_t step = 0; !try_push(value); ++step) back_off(step);
  }

  auto pop() -> T {
    T value;
    for (std::uint32_t step = 0; !try_pop(value); ++step) back_off(step);
    return value;
  }

 private:
  struct slot {
    std::atomic<std::size_t> seq{0};
    T value{};
  };

  // A few growing pause bursts, then yield on every further failure.
  static void back_off(std::uint32_t step) {
    if (step < 6) {
      for (std::uint32_t i = 0; i < (1U << step); ++i) _mm_pause();
    } else {
      std::this_thread::yield();
    }
  }

  alignas(128) std::atomic<std::size_t> tail_{0};
  alignas(128) std::atomic<std::size_t> head_{0};
  alignas(128) std::size_t mask_;
  std::unique_ptr<slot[]> slots_;
};

}  // namespace bench
