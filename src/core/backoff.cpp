#include <pipeline/backoff.hpp>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <pipeline/detail/chrono.hpp>

namespace pipeline {
namespace {

// splitmix64 (Steele, Lea, Flood 2014): eight bytes of state, plenty for jitter.
auto splitmix64(std::uint64_t& state) noexcept -> std::uint64_t {
  std::uint64_t z = (state += 0x9e37'79b9'7f4a'7c15U);
  z = (z ^ (z >> 30U)) * 0xbf58'476d'1ce4'e5b9U;
  z = (z ^ (z >> 27U)) * 0x94d0'49bb'1331'11ebU;
  return z ^ (z >> 31U);
}

// The state seen as a UniformRandomBitGenerator, for std::uniform_int_distribution.
struct splitmix_engine {
  using result_type = std::uint64_t;
  static constexpr auto min() noexcept -> result_type { return 0; }
  static constexpr auto max() noexcept -> result_type { return std::numeric_limits<result_type>::max(); }
  auto operator()() noexcept -> result_type { return splitmix64(state); }
  std::uint64_t& state;
};

// random_device once per thread, so that a retry loop's backoff costs no system call.
auto random_seed() -> std::uint64_t {
  thread_local std::uint64_t state = [] {
    std::random_device device;
    return (std::uint64_t{device()} << 32U) ^ device();
  }();
  return splitmix64(state);
}

void reject_negative(std::chrono::milliseconds value, const char* field) {
  if (value < value.zero()) {
    throw std::invalid_argument(fmt::format("backoff_options.{} must not be negative (got {})", field, value));
  }
}

}  // namespace

void validate(const backoff_options& options) {
  reject_negative(options.initial, "initial");
  reject_negative(options.max_delay, "max_delay");
  reject_negative(options.max_elapsed, "max_elapsed");
  if (!std::isfinite(options.multiplier) || options.multiplier < 1.0) {
    throw std::invalid_argument(
        fmt::format("backoff_options.multiplier must be a finite number >= 1 (got {})", options.multiplier));
  }
  if (options.jitter_mode != jitter::none && options.jitter_mode != jitter::full &&
      options.jitter_mode != jitter::equal) {
    throw std::invalid_argument(fmt::format("backoff_options.jitter_mode is not a jitter value (got {})",
                                            static_cast<unsigned>(options.jitter_mode)));
  }
}

backoff::backoff(backoff_options options) : backoff(options, random_seed()) {}

backoff::backoff(backoff_options options, std::uint64_t seed) : options_(options), rng_state_(seed) {
  validate(options_);
}

auto backoff::delay_before(std::uint32_t attempt) -> std::chrono::nanoseconds {
  using std::chrono::nanoseconds;
  if (attempt < 2) return nanoseconds::zero();
  const auto cap = detail::saturating_ns(options_.max_delay);
  const auto initial = detail::saturating_ns(options_.initial);
  // In double, a huge attempt number grows to infinity and is then capped, instead of
  // overflowing. A zero initial stays zero (0 * infinity would be NaN).
  const double growth = std::pow(options_.multiplier, static_cast<double>(attempt - 2));
  const double grown = initial == initial.zero() ? 0.0 : static_cast<double>(initial.count()) * growth;
  const auto base = grown < static_cast<double>(cap.count()) ? nanoseconds{std::llround(grown)} : cap;
  if (options_.jitter_mode == jitter::none) return base;
  const auto low = options_.jitter_mode == jitter::equal ? base / 2 : nanoseconds::zero();
  std::uniform_int_distribution<nanoseconds::rep> pick{low.count(), base.count()};
  splitmix_engine engine{rng_state_};
  return nanoseconds{pick(engine)};
}

}  // namespace pipeline
