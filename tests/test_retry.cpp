#include <pipeline/retry.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/frozen_clock.hpp"

namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;
using pipeline::clock;

// Exact waits: 100ms, 200ms, 400ms, … capped at 30s.
auto exact_options(std::uint32_t max_attempts = 5) -> pipeline::backoff_options {
  pipeline::backoff_options options;
  options.jitter_mode = pipeline::jitter::none;
  options.max_attempts = max_attempts;
  return options;
}

// Fails with `failure` until attempt `succeed_on`, then returns the attempt number.
struct flaky {
  pipeline::error failure = pipeline::transient_error("busy");
  std::uint32_t succeed_on = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t calls = 0;

  auto operator()(std::uint32_t n) -> pipeline::result<std::uint32_t> {
    ++calls;
    if (n >= succeed_on) return n;
    auto e = failure;
    e.message += " #" + std::to_string(n);
    return e;
  }
};

TEST(retry, success_is_returned_at_once) {
  pipeline::manual_clock clk;
  flaky attempt{.succeed_on = 1};
  auto r = pipeline::retry(std::ref(attempt), exact_options(), {}, clk);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 1U);
  EXPECT_EQ(attempt.calls, 1U);
  EXPECT_TRUE(clk.sleeps().empty());
}

TEST(retry, transient_errors_are_retried_until_success) {
  pipeline::manual_clock clk;
  flaky attempt{.succeed_on = 3};
  auto r = pipeline::retry(std::ref(attempt), exact_options(), {}, clk);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, 3U);
  EXPECT_EQ(attempt.calls, 3U);
}

class retry_non_transient : public testing::TestWithParam<pipeline::error_kind> {};

TEST_P(retry_non_transient, errors_are_returned_at_once) {
  pipeline::manual_clock clk;
  flaky attempt{.failure = pipeline::error{GetParam(), "no", 0, {}}};
  auto r = pipeline::retry(std::ref(attempt), exact_options(), {}, clk);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, GetParam());
  EXPECT_EQ(r.error().message, "no #1");
  EXPECT_EQ(attempt.calls, 1U);
  EXPECT_TRUE(clk.sleeps().empty());
}

INSTANTIATE_TEST_SUITE_P(retry, retry_non_transient,
                         testing::Values(pipeline::error_kind::permanent, pipeline::error_kind::invalid_input,
                                         pipeline::error_kind::conflict, pipeline::error_kind::not_found,
                                         pipeline::error_kind::internal),
                         [](const auto& kind) { return std::string(pipeline::to_string(kind.param)); });

TEST(retry, stopped_is_never_retried) {
  pipeline::manual_clock clk;
  flaky attempt{.failure = pipeline::stopped_error()};
  auto r = pipeline::retry(std::ref(attempt), exact_options(), {}, clk);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::stopped);
  EXPECT_EQ(attempt.calls, 1U);
}

TEST(retry, stop_before_the_first_attempt_returns_stopped_without_calling) {
  pipeline::manual_clock clk;
  std::stop_source stop;
  stop.request_stop();
  flaky attempt;
  auto r = pipeline::retry(std::ref(attempt), exact_options(), stop.get_token(), clk);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), pipeline::stopped_error());
  EXPECT_EQ(attempt.calls, 0U);
}

TEST(retry, stop_requested_during_an_attempt_returns_stopped_instead_of_waiting) {
  pipeline::manual_clock clk;
  std::stop_source stop;
  std::uint32_t calls = 0;
  auto r = pipeline::retry(
      [&]() -> pipeline::result<void> {
        ++calls;
        stop.request_stop();
        return pipeline::transient_error("timeout");
      },
      exact_options(), stop.get_token(), clk);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), pipeline::stopped_error());
  EXPECT_EQ(calls, 1U);
  EXPECT_TRUE(clk.sleeps().empty());
}

TEST(retry, stop_during_the_wait_returns_stopped_promptly) {
  test_support::frozen_clock clk;  // the wait blocks until stop: only the stop can end it
  std::stop_source stop;
  flaky attempt;
  pipeline::result<std::uint32_t> r = 0U;
  std::jthread worker([&] { r = pipeline::retry(std::ref(attempt), exact_options(), stop.get_token(), clk); });
  clk.wait_for_sleepers(1);
  stop.request_stop();
  worker.join();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), pipeline::stopped_error());
  EXPECT_EQ(attempt.calls, 1U);
}

TEST(retry, stops_after_max_attempts_with_the_last_error) {
  pipeline::manual_clock clk;
  flaky attempt;
  auto r = pipeline::retry(std::ref(attempt), exact_options(4), {}, clk);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, pipeline::error_kind::transient);
  EXPECT_EQ(r.error().message, "busy #4");
  EXPECT_EQ(attempt.calls, 4U);
  EXPECT_EQ(clk.sleeps().size(), 3U);  // no wait after the last attempt
}

TEST(retry, one_max_attempt_means_no_retry) {
  pipeline::manual_clock clk;
  flaky attempt;
  auto r = pipeline::retry(std::ref(attempt), exact_options(1), {}, clk);
  ASSERT_FALSE(r);
  EXPECT_EQ(attempt.calls, 1U);
  EXPECT_TRUE(clk.sleeps().empty());
}

TEST(retry, zero_max_attempts_is_unlimited) {
  pipeline::manual_clock clk;
  flaky attempt{.succeed_on = 100};
  auto r = pipeline::retry(std::ref(attempt), exact_options(0), {}, clk);
  ASSERT_TRUE(r);
  EXPECT_EQ(attempt.calls, 100U);
}

TEST(retry, waits_follow_the_backoff_schedule) {
  pipeline::manual_clock clk;
  flaky attempt;
  (void)pipeline::retry(std::ref(attempt), exact_options(5), {}, clk);
  EXPECT_EQ(clk.sleeps(), (std::vector<clock::duration>{100ms, 200ms, 400ms, 800ms}));
  EXPECT_EQ(clk.now(), clock::time_point{} + 1500ms);
}

TEST(retry, jittered_waits_stay_within_the_schedule) {
  pipeline::manual_clock clk;
  auto options = exact_options(8);
  options.jitter_mode = pipeline::jitter::full;
  flaky attempt;
  (void)pipeline::retry(std::ref(attempt), options, {}, clk);
  const auto sleeps = clk.sleeps();
  ASSERT_EQ(sleeps.size(), 7U);
  pipeline::backoff exact{exact_options()};
  for (std::uint32_t i = 0; i < sleeps.size(); ++i) {
    EXPECT_GE(sleeps[i], 0ns);
    EXPECT_LE(sleeps[i], exact.delay_before(i + 2)) << "wait " << i;
  }
}

TEST(retry, a_wait_that_would_cross_max_elapsed_is_not_started) {
  pipeline::manual_clock clk;
  auto options = exact_options(0);
  options.max_elapsed = 1000ms;  // waits 100, 200, 400 end at 700ms; the next (800) would end at 1500
  flaky attempt;
  auto r = pipeline::retry(std::ref(attempt), options, {}, clk);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "busy #4");
  EXPECT_EQ(clk.sleeps(), (std::vector<clock::duration>{100ms, 200ms, 400ms}));
  EXPECT_EQ(clk.now(), clock::time_point{} + 700ms);
}

TEST(retry, a_wait_ending_exactly_at_max_elapsed_is_allowed) {
  pipeline::manual_clock clk;
  auto options = exact_options(0);
  options.max_elapsed = 700ms;
  flaky attempt;
  (void)pipeline::retry(std::ref(attempt), options, {}, clk);
  EXPECT_EQ(attempt.calls, 4U);
  EXPECT_EQ(clk.now(), clock::time_point{} + 700ms);
}

TEST(retry, max_elapsed_counts_the_time_attempts_take) {
  pipeline::manual_clock clk;
  auto options = exact_options(0);
  options.max_elapsed = 1000ms;
  std::uint32_t calls = 0;
  auto r = pipeline::retry(
      [&]() -> pipeline::result<void> {
        ++calls;
        clk.advance(300ms);
        return pipeline::transient_error("slow");
      },
      options, {}, clk);
  // 300 (attempt 1) + 100 + 300 (attempt 2) = 700; a 200ms wait would end at 900: allowed;
  // then attempt 3 ends at 1200: past the budget.
  ASSERT_FALSE(r);
  EXPECT_EQ(calls, 3U);
  EXPECT_EQ(clk.now(), clock::time_point{} + 1200ms);
}

TEST(retry, max_elapsed_is_measured_on_the_injected_clock) {
  pipeline::manual_clock clk{clock::time_point{} + 24h};
  auto options = exact_options(0);
  options.max_elapsed = 150ms;
  flaky attempt;
  (void)pipeline::retry(std::ref(attempt), options, {}, clk);
  EXPECT_EQ(attempt.calls, 2U);
  EXPECT_EQ(clk.sleeps(), std::vector<clock::duration>{100ms});
}

TEST(retry, observer_is_called_before_each_wait_with_error_attempt_and_wait) {
  pipeline::manual_clock clk;
  struct seen {
    std::string message;
    std::uint32_t attempt;
    nanoseconds wait;
    std::size_t sleeps_so_far;
  };
  std::vector<seen> calls;
  flaky attempt{.succeed_on = 3};
  auto r = pipeline::retry(std::ref(attempt), exact_options(), {}, clk,
                           [&](const pipeline::error& e, std::uint32_t n, nanoseconds wait) {
                             calls.push_back({e.message, n, wait, clk.sleeps().size()});
                           });
  ASSERT_TRUE(r);
  ASSERT_EQ(calls.size(), 2U);
  EXPECT_EQ(calls[0].message, "busy #1");
  EXPECT_EQ(calls[0].attempt, 1U);
  EXPECT_EQ(calls[0].wait, 100ms);
  EXPECT_EQ(calls[0].sleeps_so_far, 0U);
  EXPECT_EQ(calls[1].message, "busy #2");
  EXPECT_EQ(calls[1].attempt, 2U);
  EXPECT_EQ(calls[1].wait, 200ms);
  EXPECT_EQ(calls[1].sleeps_so_far, 1U);
}

TEST(retry, observer_may_be_a_std_function) {
  pipeline::manual_clock clk;
  std::uint32_t retries = 0;
  const std::function<void(const pipeline::error&, std::uint32_t, nanoseconds)> count =
      [&](const pipeline::error&, std::uint32_t, nanoseconds) { ++retries; };
  flaky attempt;
  (void)pipeline::retry(std::ref(attempt), exact_options(3), {}, clk, count);
  EXPECT_EQ(retries, 2U);
}

TEST(retry, last_attempt_number_seen_is_the_number_of_attempts) {
  pipeline::manual_clock clk;
  std::uint32_t attempts = 0;
  auto r = pipeline::retry(
      [&](std::uint32_t n) -> pipeline::result<void> {
        attempts = n;
        return pipeline::transient_error("down");
      },
      exact_options(3), {}, clk);
  ASSERT_FALSE(r);
  EXPECT_EQ(attempts, 3U);
}

TEST(retry, attempt_may_take_no_argument) {
  pipeline::manual_clock clk;
  int calls = 0;
  auto r = pipeline::retry(
      [&]() -> pipeline::result<std::string> {
        if (++calls < 2) return pipeline::transient_error("again");
        return std::string("done");
      },
      exact_options(), {}, clk);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "done");
}

TEST(retry, result_may_hold_a_move_only_value) {
  pipeline::manual_clock clk;
  auto r = pipeline::retry([] { return pipeline::result<std::unique_ptr<int>>(std::make_unique<int>(7)); },
                           exact_options(), {}, clk);
  ASSERT_TRUE(r);
  EXPECT_EQ(**r, 7);
}

TEST(retry, exceptions_from_the_attempt_propagate) {
  pipeline::manual_clock clk;
  int calls = 0;
  EXPECT_THROW((void)pipeline::retry(
                   [&]() -> pipeline::result<void> {
                     ++calls;
                     throw std::runtime_error("user bug");
                   },
                   exact_options(), {}, clk),
               std::runtime_error);
  EXPECT_EQ(calls, 1);
}

TEST(retry, invalid_options_throw_before_the_first_attempt) {
  pipeline::manual_clock clk;
  auto options = exact_options();
  options.multiplier = 0.5;
  flaky attempt{.succeed_on = 1};
  EXPECT_THROW((void)pipeline::retry(std::ref(attempt), options, {}, clk), std::invalid_argument);
  EXPECT_EQ(attempt.calls, 0U);
}

}  // namespace
