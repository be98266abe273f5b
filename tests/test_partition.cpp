#include <pipeline/partition.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <stdexcept>

namespace {

using namespace std::chrono;

auto names(const std::vector<pipeline::partition>& plan) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& p : plan) out.push_back(p.name);
  return out;
}

TEST(plan_id_ranges, splits_into_equal_contiguous_ranges_covering_min_to_max) {
  auto plan = pipeline::plan_id_ranges(1, 10, 3);
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(std::get<pipeline::id_range>(plan[0].bounds), (pipeline::id_range{1, 3}));
  EXPECT_EQ(std::get<pipeline::id_range>(plan[1].bounds), (pipeline::id_range{4, 6}));
  EXPECT_EQ(std::get<pipeline::id_range>(plan[2].bounds), (pipeline::id_range{7, 10}));
  EXPECT_THAT(names(plan), ::testing::ElementsAre("1..3", "4..6", "7..10"));
}

TEST(plan_id_ranges, gives_fewer_parts_than_asked_when_there_are_fewer_keys) {
  auto plan = pipeline::plan_id_ranges(5, 6, 8);
  ASSERT_EQ(plan.size(), 2u);
  EXPECT_EQ(std::get<pipeline::id_range>(plan[1].bounds), (pipeline::id_range{6, 6}));
}

TEST(plan_id_ranges, covers_the_whole_int64_range_without_overflow) {
  constexpr auto lo = std::numeric_limits<std::int64_t>::min();
  constexpr auto hi = std::numeric_limits<std::int64_t>::max();
  auto plan = pipeline::plan_id_ranges(lo, hi, 4);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(std::get<pipeline::id_range>(plan.front().bounds).first, lo);
  EXPECT_EQ(std::get<pipeline::id_range>(plan.back().bounds).last, hi);
  for (std::size_t i = 1; i < plan.size(); ++i) {
    EXPECT_EQ(std::get<pipeline::id_range>(plan[i].bounds).first, std::get<pipeline::id_range>(plan[i - 1].bounds).last + 1);
  }
}

TEST(plan_id_ranges, bad_arguments_throw) {
  EXPECT_THROW((void)pipeline::plan_id_ranges(1, 10, 0), std::invalid_argument);
  EXPECT_THROW((void)pipeline::plan_id_ranges(10, 1, 2), std::invalid_argument);
}

TEST(hash_buckets, every_key_lands_in_one_bucket_the_same_way_every_time) {
  auto plan = pipeline::plan_hash_buckets(8);
  ASSERT_EQ(plan.size(), 8u);
  EXPECT_EQ(plan[3].name, "h3of8");
  std::map<std::uint32_t, int> per_bucket;
  for (int i = 0; i < 8000; ++i) {
    const auto key = "user-" + std::to_string(i);
    const auto b = pipeline::hash_bucket_of(key, 8);
    EXPECT_EQ(b, pipeline::hash_bucket_of(key, 8));
    ++per_bucket[b];
  }
  ASSERT_EQ(per_bucket.size(), 8u);
  for (const auto& [bucket, n] : per_bucket) EXPECT_NEAR(n, 1000, 200) << bucket;  // spread evenly
  EXPECT_EQ(pipeline::hash_bucket_of("", 8), pipeline::hash_bucket_of("", 8));
}

TEST(hash_buckets, the_hash_is_stable_across_builds) {
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c; this pins it so a change of hash cannot slip in
  // and move every key to another partition.
  EXPECT_EQ(pipeline::hash_bucket_of("a", 1000), 0xaf63dc4c8601ec8cULL % 1000);
}

TEST(plan_categories, one_partition_per_value_and_duplicates_throw) {
  auto plan = pipeline::plan_categories({"Lisbon", "Porto"});
  EXPECT_THAT(names(plan), ::testing::ElementsAre("Lisbon", "Porto"));
  EXPECT_EQ(std::get<pipeline::category>(plan[1].bounds).value, "Porto");
  EXPECT_THROW((void)pipeline::plan_categories({"a", "a"}), std::invalid_argument);
  EXPECT_THROW((void)pipeline::plan_categories({}), std::invalid_argument);
}

TEST(plan_time_intervals, months_are_cut_at_the_ends) {
  auto plan = pipeline::plan_time_intervals(sys_days{2022y / January / 15}, sys_days{2022y / April / 10},
                                            pipeline::interval_unit::month);
  EXPECT_THAT(names(plan), ::testing::ElementsAre("2022-01", "2022-02", "2022-03", "2022-04"));
  EXPECT_EQ(std::get<pipeline::time_interval>(plan[0].bounds),
            (pipeline::time_interval{sys_days{2022y / January / 15}, sys_days{2022y / February / 1}}));
  EXPECT_EQ(std::get<pipeline::time_interval>(plan[3].bounds),
            (pipeline::time_interval{sys_days{2022y / April / 1}, sys_days{2022y / April / 10}}));
}

TEST(plan_time_intervals, monthly_intervals_cover_years_with_leap_days) {
  auto plan = pipeline::plan_time_intervals(sys_days{2022y / January / 1}, sys_days{2025y / January / 1},
                                            pipeline::interval_unit::month);
  ASSERT_EQ(plan.size(), 36u);
  auto feb_2024 = std::get<pipeline::time_interval>(plan[25].bounds);
  EXPECT_EQ(plan[25].name, "2024-02");
  EXPECT_EQ((feb_2024.end - feb_2024.begin).count(), 29);
}

TEST(plan_time_intervals, weeks_start_on_monday_and_use_iso_week_numbers) {
  // 2021-01-01 is a Friday in ISO week 2020-W53.
  auto plan = pipeline::plan_time_intervals(sys_days{2021y / January / 1}, sys_days{2021y / January / 19},
                                            pipeline::interval_unit::week);
  EXPECT_THAT(names(plan), ::testing::ElementsAre("2020-W53", "2021-W01", "2021-W02", "2021-W03"));
  EXPECT_EQ(std::get<pipeline::time_interval>(plan[1].bounds).begin, sys_days{2021y / January / 4});
}

TEST(plan_time_intervals, days_are_named_by_date_and_an_empty_span_throws) {
  auto plan = pipeline::plan_time_intervals(sys_days{2024y / February / 28}, sys_days{2024y / March / 2},
                                            pipeline::interval_unit::day);
  EXPECT_THAT(names(plan), ::testing::ElementsAre("2024-02-28", "2024-02-29", "2024-03-01"));
  EXPECT_THROW((void)pipeline::plan_time_intervals(sys_days{2024y / March / 2}, sys_days{2024y / March / 2},
                                                   pipeline::interval_unit::day),
               std::invalid_argument);
}

}  // namespace
