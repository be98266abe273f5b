#pragma once

#include <chrono>
#include <cstdint>

namespace pipeline {

/// How each wait is randomised below its exponential base, so that clients failing together do
/// not retry together (AWS Architecture Blog, "Exponential Backoff And Jitter").
enum class jitter : std::uint8_t {
  none,   ///< exactly the base
  full,   ///< uniform in [0, base]: spreads retries best
  equal,  ///< uniform in [base/2, base]: never shorter than half the base
};

/// When to retry: exponential waits with jitter and a cap, within limits on attempts and time.
///
/// The base wait before attempt n (n >= 2) is min(max_delay, initial * multiplier^(n-2)).
struct backoff_options {
  std::chrono::milliseconds initial{100};      ///< base wait before the second attempt; >= 0
  double multiplier{2.0};                       ///< growth of the base per attempt; finite, >= 1
  std::chrono::milliseconds max_delay{30'000};  ///< cap on every base wait; >= 0
  jitter jitter_mode{jitter::full};
  std::uint32_t max_attempts{5};                ///< total attempts, the first included; 0 = unlimited
  std::chrono::milliseconds max_elapsed{0};     ///< time budget from the first attempt; 0 = no limit
};

/// Throws std::invalid_argument, naming the field, when `options` describe no schedule
/// (a negative duration, a multiplier below 1 or not finite, an unknown jitter mode).
void validate(const backoff_options& options);

/// The waits between attempts that `backoff_options` describe.
///
/// Not thread-safe: one per retry loop (it owns a small random generator); distinct objects may
/// be used from different threads. Never blocks, never allocates. The same options and seed
/// give the same delays.
///
///     pipeline::backoff b{{.initial = std::chrono::milliseconds{100}, .jitter_mode = pipeline::jitter::none}};
///     b.delay_before(2);  // 100ms
///     b.delay_before(3);  // 200ms
class backoff {
 public:
  /// Throws std::invalid_argument as `validate` does. Seeded at random.
  explicit backoff(backoff_options options);
  /// Throws std::invalid_argument as `validate` does. Seeded with `seed` for reproducible jitter.
  backoff(backoff_options options, std::uint64_t seed);

  /// The wait before attempt number `attempt` (1-based): jitter applied to the capped
  /// exponential base. Zero for attempts 0 and 1: nothing comes before the first attempt.
  /// Any attempt number is fine: the base saturates at `max_delay`, it never overflows.
  [[nodiscard]] auto delay_before(std::uint32_t attempt) -> std::chrono::nanoseconds;

 private:
  backoff_options options_;
  std::uint64_t rng_state_;  // splitmix64
};

}  // namespace pipeline
