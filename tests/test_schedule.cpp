#include <pipeline/schedule.hpp>

#include <chrono>
#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using namespace std::chrono;
using pipeline::schedule;

auto at(year_month_day day, int h = 0, int m = 0, int s = 0) -> schedule::time_point {
  return sys_days{day} + hours{h} + minutes{m} + seconds{s};
}

auto error_of(std::string_view text) -> std::string {
  try {
    (void)schedule::parse(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(schedule, every_runs_at_multiples_of_its_interval_since_the_epoch) {
  const auto s = schedule::parse("every 30s");
  EXPECT_EQ(s.next_after(at(2024y / May / 1, 10, 0, 0)), at(2024y / May / 1, 10, 0, 30));
  EXPECT_EQ(s.next_after(at(2024y / May / 1, 10, 0, 29)), at(2024y / May / 1, 10, 0, 30));
  EXPECT_EQ(s.next_after(at(2024y / May / 1, 10, 0, 30)), at(2024y / May / 1, 10, 1, 0));
}

TEST(schedule, every_n_minutes_crosses_midnight_without_restarting) {
  const auto s = schedule::parse("every 7m");
  // 7 minutes does not divide a day: the run after 23:55 on May 1 is 00:02 on May 2 ... or
  // wherever the multiples since the epoch fall; it is 7 minutes after the one before.
  const auto before = s.next_after(at(2024y / May / 1, 23, 55));
  const auto after = s.next_after(before);
  EXPECT_EQ(after - before, minutes{7});
  EXPECT_EQ(s.next_after(at(2024y / May / 1, 23, 59)) - s.next_after(at(2024y / May / 1, 23, 52)), minutes{7});
  EXPECT_EQ(duration_cast<minutes>(after.time_since_epoch()).count() % 7, 0);
}

TEST(schedule, daily_in_utc) {
  const auto s = schedule::parse("daily 02:30");
  EXPECT_EQ(s.next_after(at(2024y / May / 1, 1, 0)), at(2024y / May / 1, 2, 30));
  EXPECT_EQ(s.next_after(at(2024y / May / 1, 2, 30)), at(2024y / May / 2, 2, 30));
  EXPECT_EQ(s.next_after(at(2024y / December / 31, 23, 0)), at(2025y / January / 1, 2, 30));
}

TEST(schedule, weekly_on_its_day) {
  const auto s = schedule::parse("weekly mon 08:00");
  EXPECT_EQ(s.next_after(at(2024y / May / 1, 0, 0)), at(2024y / May / 6, 8, 0));  // May 1 2024 was a Wednesday
  EXPECT_EQ(s.next_after(at(2024y / May / 6, 8, 0)), at(2024y / May / 13, 8, 0));
}

TEST(schedule, monthly_day_past_the_end_of_a_month_runs_on_its_last_day) {
  const auto s = schedule::parse("monthly 31 06:00");
  EXPECT_EQ(s.next_after(at(2024y / April / 1)), at(2024y / April / 30, 6, 0));
  EXPECT_EQ(s.next_after(at(2024y / April / 30, 6, 0)), at(2024y / May / 31, 6, 0));
  EXPECT_EQ(s.next_after(at(2023y / February / 1)), at(2023y / February / 28, 6, 0));
}

TEST(schedule, monthly_on_the_29th_is_february_29_in_leap_years) {
  const auto s = schedule::parse("monthly 29 00:00");
  EXPECT_EQ(s.next_after(at(2024y / February / 1)), at(2024y / February / 29));
  EXPECT_EQ(s.next_after(at(2023y / February / 1)), at(2023y / February / 28));
  EXPECT_EQ(s.next_after(at(2024y / February / 29)), at(2024y / March / 29));
}

TEST(schedule, monthly_last_is_the_last_day_of_each_month) {
  const auto s = schedule::parse("monthly last 23:00");
  EXPECT_EQ(s.next_after(at(2024y / February / 1)), at(2024y / February / 29, 23, 0));
  EXPECT_EQ(s.next_after(at(2024y / February / 29, 23, 0)), at(2024y / March / 31, 23, 0));
  EXPECT_EQ(s.next_after(at(2024y / December / 31, 23, 0)), at(2025y / January / 31, 23, 0));
}

TEST(schedule, monthly_in_a_zone_is_local_midnight) {
  const auto s = schedule::parse("monthly 1 00:00 Europe/Paris");
  EXPECT_EQ(s.next_after(at(2024y / June / 15)), at(2024y / June / 30, 22, 0));      // CEST, UTC+2
  EXPECT_EQ(s.next_after(at(2024y / December / 15)), at(2024y / December / 31, 23, 0));  // CET, UTC+1
}

TEST(schedule, paris_spring_forward_gap_runs_at_the_first_instant_after_it) {
  // 2024-03-31: 02:00 CET jumps to 03:00 CEST (01:00 UTC); 02:30 does not exist that day.
  const auto s = schedule::parse("daily 02:30 Europe/Paris");
  EXPECT_EQ(s.next_after(at(2024y / March / 30, 12, 0)), at(2024y / March / 31, 1, 0));
  EXPECT_EQ(s.next_after(at(2024y / March / 31, 1, 0)), at(2024y / April / 1, 0, 30));
  EXPECT_EQ(s.next_after(at(2024y / March / 29, 12, 0)), at(2024y / March / 30, 1, 30));
}

TEST(schedule, paris_fall_back_fold_runs_once_at_the_first_occurrence) {
  // 2024-10-27: 03:00 CEST falls back to 02:00 CET (01:00 UTC); 02:30 happens at 00:30 and 01:30 UTC.
  const auto s = schedule::parse("daily 02:30 Europe/Paris");
  EXPECT_EQ(s.next_after(at(2024y / October / 26, 12, 0)), at(2024y / October / 27, 0, 30));
  EXPECT_EQ(s.next_after(at(2024y / October / 27, 0, 30)), at(2024y / October / 28, 1, 30));
}

TEST(schedule, new_york_spring_forward_and_fall_back) {
  const auto s = schedule::parse("daily 02:30 America/New_York");
  // 2024-03-10: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
  EXPECT_EQ(s.next_after(at(2024y / March / 9, 12, 0)), at(2024y / March / 10, 7, 0));
  EXPECT_EQ(s.next_after(at(2024y / March / 10, 7, 0)), at(2024y / March / 11, 6, 30));
  // 2024-11-03: 02:00 EDT falls back to 01:00 EST (06:00 UTC); 01:30 happens twice.
  const auto fold = schedule::parse("daily 01:30 America/New_York");
  EXPECT_EQ(fold.next_after(at(2024y / November / 2, 12, 0)), at(2024y / November / 3, 5, 30));
  EXPECT_EQ(fold.next_after(at(2024y / November / 3, 5, 30)), at(2024y / November / 4, 6, 30));
}

TEST(schedule, times_past_the_zone_table_follow_its_posix_rule) {
  // TZif tables end in 2037; later years come from the footer rule (last Sunday of March).
  const auto s = schedule::parse("daily 02:30 Europe/Paris");
  const year_month_day spring{sys_days{2090y / March / Sunday[last]}};
  EXPECT_EQ(s.next_after(at(spring) - hours{12}), at(spring, 1, 0));
  const auto noon = schedule::parse("daily 12:00 Europe/Paris");
  EXPECT_EQ(noon.next_after(at(2090y / July / 1)), at(2090y / July / 1, 10, 0));
  EXPECT_EQ(noon.next_after(at(2090y / December / 1)), at(2090y / December / 1, 11, 0));
}

TEST(schedule, built_in_code_equals_parsed) {
  EXPECT_EQ(schedule::daily(hours{2} + minutes{30}, "Europe/Paris").text(), "daily 02:30 Europe/Paris");
  EXPECT_EQ(schedule::weekly(Friday, hours{18}).text(), "weekly fri 18:00");
  EXPECT_EQ(schedule::monthly(schedule::last_day, hours{6}).text(), "monthly last 06:00");
  EXPECT_EQ(schedule::every(seconds{90}).text(), "every 90s");
  EXPECT_EQ(schedule::every(minutes{30}).text(), "every 30m");
  for (const auto* text : {"every 30s", "every 5m", "every 2h", "daily 00:00", "weekly sun 23:59 America/New_York",
                           "monthly 15 12:00 Europe/Paris", "monthly last 06:00"}) {
    EXPECT_EQ(schedule::parse(text).text(), text);
  }
}

TEST(schedule, bad_text_names_the_field_and_the_text) {
  EXPECT_THAT(error_of("hourly 02:00"), testing::HasSubstr("bad kind 'hourly' in 'hourly 02:00'"));
  EXPECT_THAT(error_of(""), testing::HasSubstr("bad kind"));
  EXPECT_THAT(error_of("every 30"), testing::HasSubstr("bad interval '30'"));
  EXPECT_THAT(error_of("every 0s"), testing::HasSubstr("bad interval '0s'"));
  EXPECT_THAT(error_of("every 1d"), testing::HasSubstr("bad interval '1d'"));
  EXPECT_THAT(error_of("daily 24:00"), testing::HasSubstr("bad time '24:00' in 'daily 24:00'"));
  EXPECT_THAT(error_of("daily 2:30"), testing::HasSubstr("bad time '2:30'"));
  EXPECT_THAT(error_of("daily"), testing::HasSubstr("bad field count"));
  EXPECT_THAT(error_of("weekly someday 10:00"), testing::HasSubstr("bad weekday 'someday'"));
  EXPECT_THAT(error_of("monthly 32 10:00"), testing::HasSubstr("bad day of month '32'"));
  EXPECT_THAT(error_of("monthly 0 10:00"), testing::HasSubstr("bad day of month '0'"));
  EXPECT_THAT(error_of("daily 10:00 Mars/Olympus"), testing::HasSubstr("bad zone 'Mars/Olympus'"));
  EXPECT_THAT(error_of("daily 10:00 ../etc/passwd"), testing::HasSubstr("bad zone '../etc/passwd'"));
  EXPECT_THROW((void)schedule::every(seconds{0}), std::invalid_argument);
  EXPECT_THROW((void)schedule::daily(hours{24}), std::invalid_argument);
}

}  // namespace
