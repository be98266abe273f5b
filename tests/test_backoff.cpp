#include <pipeline/backoff.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

auto exact(std::chrono::milliseconds initial, double multiplier, std::chrono::milliseconds max_delay)
    -> pipeline::backoff_options {
  pipeline::backoff_options options;
  options.initial = initial;
  options.multiplier = multiplier;
  options.max_delay = max_delay;
  options.jitter_mode = pipeline::jitter::none;
  return options;
}

auto jittered(pipeline::jitter mode) -> pipeline::backoff_options {
  auto options = exact(100ms, 2.0, 30s);
  options.jitter_mode = mode;
  return options;
}

void expect_rejected(const pipeline::backoff_options& options, const std::string& field) {
  try {
    pipeline::validate(options);
    FAIL() << "validate accepted a bad " << field;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("backoff_options." + field), std::string::npos) << e.what();
  }
}

TEST(backoff, schedule_without_jitter_is_exact) {
  pipeline::backoff b{exact(100ms, 2.0, 30s)};
  std::vector<nanoseconds> delays;
  for (std::uint32_t attempt = 2; attempt <= 6; ++attempt) delays.push_back(b.delay_before(attempt));
  EXPECT_EQ(delays, (std::vector<nanoseconds>{100ms, 200ms, 400ms, 800ms, 1600ms}));
}

TEST(backoff, fractional_multiplier_is_exact) {
  pipeline::backoff b{exact(100ms, 1.5, 30s)};
  EXPECT_EQ(b.delay_before(2), 100ms);
  EXPECT_EQ(b.delay_before(3), 150ms);
  EXPECT_EQ(b.delay_before(4), 225ms);
  EXPECT_EQ(b.delay_before(5), 337'500us);
}

TEST(backoff, multiplier_one_keeps_the_delay_constant) {
  pipeline::backoff b{exact(250ms, 1.0, 30s)};
  EXPECT_EQ(b.delay_before(2), 250ms);
  EXPECT_EQ(b.delay_before(1000), 250ms);
}

TEST(backoff, nothing_comes_before_the_first_attempt) {
  pipeline::backoff b{exact(100ms, 2.0, 30s)};
  EXPECT_EQ(b.delay_before(0), 0ns);
  EXPECT_EQ(b.delay_before(1), 0ns);
}

TEST(backoff, is_capped_at_max_delay) {
  pipeline::backoff b{exact(100ms, 2.0, 1s)};
  EXPECT_EQ(b.delay_before(5), 800ms);
  EXPECT_EQ(b.delay_before(6), 1s);
  EXPECT_EQ(b.delay_before(7), 1s);
}

TEST(backoff, max_delay_below_initial_caps_the_first_wait_too) {
  pipeline::backoff b{exact(500ms, 2.0, 200ms)};
  EXPECT_EQ(b.delay_before(2), 200ms);
}

TEST(backoff, huge_attempt_numbers_do_not_overflow) {
  constexpr auto last = std::numeric_limits<std::uint32_t>::max();
  pipeline::backoff doubling{exact(100ms, 2.0, 30s)};
  EXPECT_EQ(doubling.delay_before(last), 30s);
  pipeline::backoff enormous{exact(1ms, 1e300, 30s)};
  EXPECT_EQ(enormous.delay_before(4), 30s);
  pipeline::backoff uncapped{exact(100ms, 2.0, std::chrono::milliseconds::max())};
  EXPECT_EQ(uncapped.delay_before(last), nanoseconds::max());
  pipeline::backoff from_zero{exact(0ms, 2.0, 30s)};
  EXPECT_EQ(from_zero.delay_before(last), 0ns);
}

TEST(backoff, full_jitter_stays_within_zero_and_the_base) {
  pipeline::backoff b{jittered(pipeline::jitter::full), 42};
  const nanoseconds base = 400ms;  // before attempt 4
  auto lowest = nanoseconds::max();
  auto highest = nanoseconds::min();
  for (int i = 0; i < 10'000; ++i) {
    const auto d = b.delay_before(4);
    ASSERT_GE(d, 0ns);
    ASSERT_LE(d, base);
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  EXPECT_LT(lowest, base / 20);  // it does spread over the whole range
  EXPECT_GT(highest, base * 19 / 20);
}

TEST(backoff, equal_jitter_stays_within_half_the_base_and_the_base) {
  pipeline::backoff b{jittered(pipeline::jitter::equal), 42};
  const nanoseconds base = 400ms;
  auto lowest = nanoseconds::max();
  auto highest = nanoseconds::min();
  for (int i = 0; i < 10'000; ++i) {
    const auto d = b.delay_before(4);
    ASSERT_GE(d, base / 2);
    ASSERT_LE(d, base);
    lowest = std::min(lowest, d);
    highest = std::max(highest, d);
  }
  EXPECT_LT(lowest, base * 11 / 20);
  EXPECT_GT(highest, base * 19 / 20);
}

TEST(backoff, jitter_is_applied_to_the_capped_base) {
  auto options = jittered(pipeline::jitter::full);
  options.max_delay = 1s;
  pipeline::backoff b{options, 7};
  for (int i = 0; i < 1000; ++i) ASSERT_LE(b.delay_before(40), 1s);
}

TEST(backoff, same_seed_gives_the_same_delays) {
  pipeline::backoff first{jittered(pipeline::jitter::full), 1234};
  pipeline::backoff second{jittered(pipeline::jitter::full), 1234};
  for (std::uint32_t attempt = 2; attempt < 100; ++attempt) {
    ASSERT_EQ(first.delay_before(attempt), second.delay_before(attempt)) << "attempt " << attempt;
  }
}

TEST(backoff, default_options_are_valid) { EXPECT_NO_THROW(pipeline::validate(pipeline::backoff_options{})); }

TEST(backoff, negative_initial_is_rejected_by_name) {
  pipeline::backoff_options options;
  options.initial = -1ms;
  expect_rejected(options, "initial");
}

TEST(backoff, negative_max_delay_is_rejected_by_name) {
  pipeline::backoff_options options;
  options.max_delay = -1ms;
  expect_rejected(options, "max_delay");
}

TEST(backoff, negative_max_elapsed_is_rejected_by_name) {
  pipeline::backoff_options options;
  options.max_elapsed = -1ms;
  expect_rejected(options, "max_elapsed");
}

TEST(backoff, multiplier_below_one_is_rejected_by_name) {
  pipeline::backoff_options options;
  options.multiplier = 0.5;
  expect_rejected(options, "multiplier");
}

TEST(backoff, multiplier_that_is_not_finite_is_rejected_by_name) {
  pipeline::backoff_options options;
  options.multiplier = std::numeric_limits<double>::quiet_NaN();
  expect_rejected(options, "multiplier");
  options.multiplier = std::numeric_limits<double>::infinity();
  expect_rejected(options, "multiplier");
}

TEST(backoff, unknown_jitter_mode_is_rejected_by_name) {
  pipeline::backoff_options options;
  options.jitter_mode = static_cast<pipeline::jitter>(7);
  expect_rejected(options, "jitter_mode");
}

TEST(backoff, construction_validates_the_options) {
  pipeline::backoff_options options;
  options.multiplier = 0.0;
  EXPECT_THROW(pipeline::backoff{options}, std::invalid_argument);
  EXPECT_THROW((pipeline::backoff{options, 1}), std::invalid_argument);
}

}  // namespace
