#include <pipeline/progress.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace {

using namespace std::chrono_literals;
using pipeline::progress;
using pipeline::progress_meter;
using time_point = std::chrono::steady_clock::time_point;

const time_point t0{std::chrono::hours{1}};

// Designated initializers that skip `total` trip GCC 12's -Wmissing-field-initializers.
auto with_time_constant(std::chrono::nanoseconds tau) -> pipeline::progress_meter_options {
  pipeline::progress_meter_options options;
  options.time_constant = tau;
  return options;
}

// Samples `rate` items per second every `step` for `duration`, starting at `done`.
auto feed(progress_meter& meter, time_point& now, std::uint64_t& done, double rate, std::chrono::milliseconds step,
          std::chrono::milliseconds duration) -> progress {
  progress p;
  for (auto t = step; t <= duration; t += step) {
    now += step;
    done += static_cast<std::uint64_t>(rate * std::chrono::duration<double>(step).count());
    p = meter.sample(done, now);
  }
  return p;
}

TEST(progress_meter, constant_rate_is_reported_exactly) {
  progress_meter meter{t0};
  time_point now = t0;
  std::uint64_t done = 0;
  const progress p = feed(meter, now, done, 1000, 1s, 30s);
  EXPECT_DOUBLE_EQ(p.rate_per_second, 1000);
  EXPECT_EQ(p.done, 30'000u);
  EXPECT_EQ(p.elapsed, 30s);
}

TEST(progress_meter, first_interval_is_not_biased_toward_zero) {
  progress_meter meter{t0};
  EXPECT_DOUBLE_EQ(meter.sample(500, t0 + 100ms).rate_per_second, 5000);
}

TEST(progress_meter, no_interval_yet_means_rate_zero) {
  progress_meter meter{t0, {.total = 10}};
  const progress p = meter.sample(0, t0);
  EXPECT_EQ(p.rate_per_second, 0);
  EXPECT_EQ(p.eta, std::nullopt);
}

TEST(progress_meter, rate_does_not_depend_on_sampling_frequency) {
  progress_meter often{t0};
  progress_meter seldom{t0};
  time_point now_often = t0;
  time_point now_seldom = t0;
  std::uint64_t done_often = 0;
  std::uint64_t done_seldom = 0;
  feed(often, now_often, done_often, 1000, 100ms, 20s);
  feed(seldom, now_seldom, done_seldom, 1000, 5s, 20s);
  const progress a = feed(often, now_often, done_often, 200, 100ms, 10s);
  const progress b = feed(seldom, now_seldom, done_seldom, 200, 5s, 10s);
  EXPECT_NEAR(a.rate_per_second, b.rate_per_second, 1e-6);
}

TEST(progress_meter, old_rate_fades_with_the_time_constant) {
  progress_meter meter{t0, with_time_constant(10s)};
  time_point now = t0;
  std::uint64_t done = 0;
  feed(meter, now, done, 1000, 1s, 600s);  // long enough for the bias correction to vanish
  const progress p = feed(meter, now, done, 0, 1s, 10s);
  EXPECT_NEAR(p.rate_per_second, 1000 * std::exp(-1.0), 1e-6);
}

TEST(progress_meter, eta_is_what_is_left_over_the_rate) {
  progress_meter meter{t0, {.total = 10'000}};
  const progress p = meter.sample(1000, t0 + 1s);
  ASSERT_TRUE(p.eta);
  EXPECT_EQ(*p.eta, 9s);
  EXPECT_EQ(p.total, 10'000u);
}

TEST(progress_meter, no_eta_without_a_total) {
  progress_meter meter{t0};
  EXPECT_EQ(meter.sample(1000, t0 + 1s).eta, std::nullopt);
}

TEST(progress_meter, no_eta_while_nothing_moves) {
  progress_meter meter{t0, {.total = 100}};
  EXPECT_EQ(meter.sample(0, t0 + 1s).eta, std::nullopt);
}

TEST(progress_meter, eta_is_zero_once_the_total_is_reached) {
  progress_meter meter{t0, {.total = 100}};
  EXPECT_EQ(meter.sample(100, t0).eta, 0s);
  EXPECT_EQ(meter.sample(150, t0 + 1s).eta, 0s);
}

TEST(progress_meter, initial_done_counts_in_done_but_not_in_the_rate) {
  progress_meter meter{t0, {.total = 2000, .initial_done = 1000}};
  const progress p = meter.sample(1100, t0 + 1s);
  EXPECT_EQ(p.done, 1100u);
  EXPECT_DOUBLE_EQ(p.rate_per_second, 100);
  EXPECT_EQ(p.eta, 9s);
}

TEST(progress_meter, samples_at_the_same_instant_carry_over_to_the_next_interval) {
  progress_meter meter{t0};
  EXPECT_EQ(meter.sample(100, t0).rate_per_second, 0);
  EXPECT_EQ(meter.sample(200, t0).done, 200u);
  EXPECT_DOUBLE_EQ(meter.sample(200, t0 + 1s).rate_per_second, 200);
}

TEST(progress_meter, done_going_backwards_counts_as_no_progress) {
  progress_meter meter{t0, with_time_constant(1ns)};  // tiny: the rate is the last interval's
  meter.sample(1000, t0 + 1s);
  EXPECT_EQ(meter.sample(500, t0 + 2s).rate_per_second, 0);
  EXPECT_DOUBLE_EQ(meter.sample(600, t0 + 3s).rate_per_second, 100);
}

TEST(progress_meter, time_constant_must_be_positive) {
  EXPECT_THROW((progress_meter{t0, with_time_constant(0s)}), std::invalid_argument);
}

TEST(format_progress_line, shows_done_total_percent_rate_and_eta) {
  progress p{1'234'567, 10'000'000, 85'234.0, 103s, 14s};
  EXPECT_EQ(pipeline::format_progress_line(p), "1,234,567 / 10,000,000 (12.3%) 85.2k/s ETA 1m43s");
}

TEST(format_progress_line, without_a_total_shows_done_and_rate) {
  EXPECT_EQ(pipeline::format_progress_line(progress{1'234'567, std::nullopt, 85'234.0, std::nullopt, 14s}),
            "1,234,567 85.2k/s");
}

TEST(format_progress_line, percentage_is_rounded_down) {
  EXPECT_EQ(pipeline::format_progress_line(progress{9'999, 10'000, 0, std::nullopt, 0s}),
            "9,999 / 10,000 (99.9%) 0.0/s");
  EXPECT_EQ(pipeline::format_progress_line(progress{0, 0, 0, 0s, 0s}), "0 / 0 (100.0%) 0.0/s ETA 0s");
}

TEST(format_progress_line, groups_digits_by_thousands) {
  EXPECT_EQ(pipeline::format_progress_line(progress{999, std::nullopt, 0, std::nullopt, 0s}), "999 0.0/s");
  EXPECT_EQ(pipeline::format_progress_line(progress{1000, std::nullopt, 0, std::nullopt, 0s}), "1,000 0.0/s");
  EXPECT_EQ(pipeline::format_progress_line(progress{18'446'744'073'709'551'615u, std::nullopt, 0, std::nullopt, 0s}),
            "18,446,744,073,709,551,615 0.0/s");
}

TEST(format_progress_line, rate_uses_the_largest_fitting_unit) {
  auto line = [](double rate) { return pipeline::format_progress_line(progress{0, std::nullopt, rate, std::nullopt, 0s}); };
  EXPECT_EQ(line(12.34), "0 12.3/s");
  EXPECT_EQ(line(999.9), "0 999.9/s");
  EXPECT_EQ(line(999.96), "0 1.0k/s");
  EXPECT_EQ(line(2.5e6), "0 2.5M/s");
  EXPECT_EQ(line(3e9), "0 3.0G/s");
}

TEST(format_progress_line, eta_shows_its_two_largest_units) {
  auto line = [](std::chrono::seconds eta) { return pipeline::format_progress_line(progress{0, 1, 0, eta, 0s}); };
  EXPECT_EQ(line(43s), "0 / 1 (0.0%) 0.0/s ETA 43s");
  EXPECT_EQ(line(60s), "0 / 1 (0.0%) 0.0/s ETA 1m00s");
  EXPECT_EQ(line(1h + 5min + 9s), "0 / 1 (0.0%) 0.0/s ETA 1h05m");
  EXPECT_EQ(line(50h), "0 / 1 (0.0%) 0.0/s ETA 2d02h");
}

}  // namespace
