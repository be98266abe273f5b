#pragma once

#include <cstdint>
#include <thread>

namespace pipeline::detail {

// Tells the core that this is a spin loop (saves power, frees the sibling hyper-thread). The
// compilers' builtin, not <immintrin.h>: that header alone costs every including file a third
// of a second to compile.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield" ::: "memory");
#endif
}

// The bounded part of a wait: a few exponentially longer spins, then a few yields; after that
// the caller must sleep. Spinning alone collapses throughput once threads outnumber cores
// (the spinner burns the time slice the thread it waits for needs), so it stays short.
class spin_wait {
 public:
  // One step of waiting; false once spinning and yielding are used up.
  auto pause() noexcept -> bool {
    if (step_ < spin_steps) {
      for (std::uint32_t i = 0; i < (1U << step_); ++i) cpu_relax();
    } else if (step_ < spin_steps + yield_steps) {
      std::this_thread::yield();
    } else {
      return false;
    }
    ++step_;
    return true;
  }

  void reset() noexcept { step_ = 0; }

 private:
  static constexpr std::uint32_t spin_steps = 5;    // 31 pauses in all: about a microsecond
  static constexpr std::uint32_t yield_steps = 64;  // some 30 us on an idle core, more when busy
  std::uint32_t step_ = 0;
};

}  // namespace pipeline::detail
