#include <pipeline/autoscaler.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace {

auto options() -> pipeline::autoscale_options {
  pipeline::autoscale_options o;
  o.min_workers = 2;
  o.max_workers = 20;
  o.scale_up_above = 4.0;
  o.scale_down_below = 1.0;
  o.up_after = 2;
  o.down_after = 3;
  return o;
}

TEST(autoscaler, a_deep_queue_scales_up_only_after_up_after_evaluations_in_a_row) {
  pipeline::autoscaler scale{options()};
  EXPECT_EQ(scale.evaluate(100, 4), 4u);  // 25 per worker, once
  EXPECT_EQ(scale.evaluate(100, 4), 20u);  // twice: 100 / 2.5 = 40 wanted, capped at 20
}

TEST(autoscaler, scales_up_to_bring_the_depth_per_worker_into_the_band) {
  pipeline::autoscaler scale{options()};
  (void)scale.evaluate(25, 4);
  EXPECT_EQ(scale.evaluate(25, 4), 10u);  // 25 / 2.5 per worker
}

TEST(autoscaler, one_evaluation_below_does_not_undo_the_count_above) {
  pipeline::autoscaler scale{options()};
  EXPECT_EQ(scale.evaluate(100, 4), 4u);
  EXPECT_EQ(scale.evaluate(8, 4), 4u);    // 2 per worker: in the band, resets the streak
  EXPECT_EQ(scale.evaluate(100, 4), 4u);  // the streak starts again
}

TEST(autoscaler, an_empty_queue_scales_down_by_one_after_down_after_evaluations) {
  pipeline::autoscaler scale{options()};
  std::vector<std::size_t> seen;
  std::size_t workers = 6;
  for (int i = 0; i < 9; ++i) seen.push_back(workers = scale.evaluate(0, workers));
  EXPECT_THAT(seen, ::testing::ElementsAre(6, 6, 5, 5, 5, 4, 4, 4, 3));
}

TEST(autoscaler, never_goes_below_min_or_above_max) {
  pipeline::autoscaler scale{options()};
  std::size_t workers = 2;
  for (int i = 0; i < 20; ++i) workers = scale.evaluate(0, workers);
  EXPECT_EQ(workers, 2u);
  for (int i = 0; i < 20; ++i) workers = scale.evaluate(1'000'000, workers);
  EXPECT_EQ(workers, 20u);
}

TEST(autoscaler, a_depth_between_the_thresholds_changes_nothing) {
  pipeline::autoscaler scale{options()};
  for (int i = 0; i < 50; ++i) EXPECT_EQ(scale.evaluate(10, 5), 5u);  // 2 per worker
}

TEST(autoscaler, every_desired_count_reaches_the_callback) {
  std::vector<std::size_t> told;
  auto o = options();
  o.on_desired = [&](std::size_t n) { told.push_back(n); };
  pipeline::autoscaler scale{o};
  (void)scale.evaluate(100, 4);
  (void)scale.evaluate(100, 4);
  EXPECT_THAT(told, ::testing::ElementsAre(4, 20));
}

TEST(autoscaler, invalid_options_throw_naming_the_field) {
  auto expect_throw = [](pipeline::autoscale_options o, const char* field) {
    try {
      pipeline::autoscaler scale{o};
      ADD_FAILURE() << field;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr(field));
    }
  };
  auto o = options();
  o.min_workers = 0;
  expect_throw(o, "min_workers");
  o = options();
  o.max_workers = 1;
  expect_throw(o, "max_workers");
  o = options();
  o.scale_down_below = 5;
  expect_throw(o, "scale_up_above");
  o = options();
  o.interval = std::chrono::milliseconds{0};
  expect_throw(o, "interval");
}

}  // namespace
