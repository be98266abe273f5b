#include <pipeline/rate_limiter.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/frozen_clock.hpp"

namespace {

using namespace std::chrono_literals;
using pipeline::clock;

template <class F>
void expect_invalid_naming(F&& make, const std::string& name) {
  try {
    make();
    FAIL() << "no exception for a bad " << name;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
  }
}

TEST(rate_limiter, bucket_starts_full_and_burst_is_honoured) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{100, 1min, 10, clk};
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(limiter.try_acquire()) << "token " << i;
  EXPECT_FALSE(limiter.try_acquire());
}

TEST(rate_limiter, a_token_comes_back_after_one_token_period_not_before) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{100, 1min, 10, clk};  // one token per 600ms
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(limiter.try_acquire());
  clk.advance(600ms - 1ns);
  EXPECT_FALSE(limiter.try_acquire());
  clk.advance(1ns);
  EXPECT_TRUE(limiter.try_acquire());
  EXPECT_FALSE(limiter.try_acquire());
}

TEST(rate_limiter, refill_never_exceeds_burst) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{100, 1min, 10, clk};
  ASSERT_TRUE(limiter.try_acquire(10));
  clk.advance(24h);
  EXPECT_TRUE(limiter.try_acquire(10));
  EXPECT_FALSE(limiter.try_acquire());
}

TEST(rate_limiter, try_acquire_takes_all_or_nothing) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{100, 1min, 10, clk};
  ASSERT_TRUE(limiter.try_acquire(7));
  EXPECT_FALSE(limiter.try_acquire(4));
  EXPECT_TRUE(limiter.try_acquire(3));
  EXPECT_FALSE(limiter.try_acquire());
}

TEST(rate_limiter, acquiring_zero_tokens_always_succeeds) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{1, 1h, 1, clk};
  ASSERT_TRUE(limiter.try_acquire());
  EXPECT_TRUE(limiter.try_acquire(0));
  EXPECT_TRUE(limiter.acquire(0, {}));
  EXPECT_EQ(clk.now(), clock::time_point{});
}

TEST(rate_limiter, acquisitions_take_the_expected_virtual_time) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{100, 1min, 10, clk};
  for (int i = 0; i < 110; ++i) ASSERT_TRUE(limiter.acquire(1, {}));
  // 10 from the full bucket, then 100 at 100/min: one minute, within one token period (600ms).
  const auto took = clk.now() - clock::time_point{};
  EXPECT_GE(took, 1min - 600ms);
  EXPECT_LE(took, 1min);
}

TEST(rate_limiter, a_rate_that_does_not_divide_the_period_does_not_drift) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{3, 1s, 2, clk};  // a token every 333'333'333.33…ns
  for (int i = 0; i < 30'002; ++i) ASSERT_TRUE(limiter.acquire(1, {}));
  EXPECT_EQ(clk.now(), clock::time_point{} + 10'000s);
}

TEST(rate_limiter, acquire_waits_for_several_tokens_at_once) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{10, 1s, 10, clk};
  ASSERT_TRUE(limiter.acquire(10, {}));
  ASSERT_TRUE(limiter.acquire(5, {}));
  EXPECT_EQ(clk.now(), clock::time_point{} + 500ms);
  EXPECT_EQ(clk.sleeps(), std::vector<clock::duration>{500ms});
}

TEST(rate_limiter, concurrent_acquires_in_virtual_time_never_over_grant) {
  pipeline::manual_clock clk;
  constexpr std::uint64_t rate = 50;
  constexpr std::uint64_t burst = 5;
  pipeline::rate_limiter limiter{rate, 1s, burst, clk};
  std::atomic<std::uint64_t> granted{0};
  std::vector<std::jthread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        if (limiter.acquire(1, {})) granted.fetch_add(1);
      }
    });
  }
  workers.clear();
  const auto elapsed_ns = static_cast<std::uint64_t>((clk.now() - clock::time_point{}).count());
  EXPECT_EQ(granted.load(), 800U);
  EXPECT_LE(granted.load(), burst + rate * elapsed_ns / 1'000'000'000U);
}

TEST(rate_limiter, many_threads_on_the_real_clock_never_over_grant) {
  constexpr std::uint64_t rate = 20'000;  // per second
  constexpr std::uint64_t burst = 50;
  const auto start = std::chrono::steady_clock::now();
  pipeline::rate_limiter limiter{rate, 1s, burst};
  std::atomic<std::uint64_t> granted{0};
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&] {
        const auto until = std::chrono::steady_clock::now() + 100ms;
        while (std::chrono::steady_clock::now() < until) {
          if (limiter.try_acquire()) granted.fetch_add(1);
          if (limiter.acquire(2, {})) granted.fetch_add(2);
        }
      });
    }
  }
  const auto elapsed = std::chrono::steady_clock::now() - start;
  const auto allowed = burst + rate * static_cast<std::uint64_t>(elapsed.count()) / 1'000'000'000U;
  EXPECT_GT(granted.load(), burst);
  EXPECT_LE(granted.load(), allowed);
}

TEST(rate_limiter, stop_ends_a_blocked_acquire) {
  test_support::frozen_clock clk;  // time never moves: only the stop can end the wait
  pipeline::rate_limiter limiter{1, 1s, 1, clk};
  ASSERT_TRUE(limiter.try_acquire());
  std::stop_source stop;
  bool got = true;
  std::jthread waiter([&] { got = limiter.acquire(1, stop.get_token()); });
  clk.wait_for_sleepers(1);
  stop.request_stop();
  waiter.join();
  EXPECT_FALSE(got);
}

TEST(rate_limiter, acquire_with_stop_requested_takes_nothing) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{1, 1h, 1, clk};
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(limiter.acquire(1, stop.get_token()));
  EXPECT_TRUE(limiter.try_acquire());
}

TEST(rate_limiter, extreme_values_do_not_overflow) {
  constexpr auto most = std::numeric_limits<std::uint64_t>::max();
  pipeline::manual_clock clk{clock::time_point{} + 1000h};
  pipeline::rate_limiter limiter{most, 1h, most, clk};
  EXPECT_TRUE(limiter.try_acquire(most));
  EXPECT_FALSE(limiter.try_acquire(most));
  clk.advance(1h);
  EXPECT_TRUE(limiter.try_acquire(most));
  EXPECT_TRUE(limiter.acquire(most, {}));
  EXPECT_EQ(clk.now(), clock::time_point{} + 1002h);
}

TEST(rate_limiter, more_than_burst_throws_naming_n) {
  pipeline::manual_clock clk;
  pipeline::rate_limiter limiter{100, 1min, 10, clk};
  expect_invalid_naming([&] { (void)limiter.try_acquire(11); }, "n (11) exceeds burst (10)");
  expect_invalid_naming([&] { (void)limiter.acquire(11, {}); }, "n (11) exceeds burst (10)");
}

TEST(rate_limiter, zero_rate_throws_naming_tokens_per_period) {
  expect_invalid_naming([] { pipeline::rate_limiter{0, 1s, 1}; }, "tokens_per_period");
}

TEST(rate_limiter, zero_or_negative_period_throws_naming_period) {
  expect_invalid_naming([] { pipeline::rate_limiter{1, 0s, 1}; }, "period must be positive");
  expect_invalid_naming([] { pipeline::rate_limiter{1, -1s, 1}; }, "period must be positive");
}

TEST(rate_limiter, zero_burst_throws_naming_burst) {
  expect_invalid_naming([] { pipeline::rate_limiter{1, 1s, 0}; }, "burst");
}

TEST(rate_limiter, a_bucket_taking_centuries_to_refill_throws_naming_the_arguments) {
  expect_invalid_naming([] { pipeline::rate_limiter{1, 24h, 1'000'000}; }, "burst * period / tokens_per_period");
}

}  // namespace
