// The fixed-width ISO-8601 text the adapters store times as.
#include <pipeline/detail/time_text.hpp>

#include <chrono>
#include <optional>

#include <gtest/gtest.h>

namespace {

TEST(iso8601, times_round_trip_with_six_fraction_digits) {
  using namespace std::chrono;
  const pipeline::timestamp t{sys_days{year{2024} / 2 / 29} + hours{23} + minutes{59} + seconds{58} + microseconds{7}};
  EXPECT_EQ(pipeline::detail::format_iso_time(t), "2024-02-29T23:59:58.000007Z");
  EXPECT_EQ(pipeline::detail::format_iso_time(pipeline::timestamp{}), "1970-01-01T00:00:00.000000Z");
  EXPECT_EQ(pipeline::detail::parse_iso_time("2024-02-29T23:59:58.000007Z"), t);
  EXPECT_EQ(pipeline::detail::parse_iso_time("2024-02-29T23:59:58.5Z"), t - microseconds{7} + milliseconds{500});
  EXPECT_EQ(pipeline::detail::parse_iso_time("1970-01-01T00:00:00Z"), pipeline::timestamp{});
}

TEST(iso8601, only_years_0000_to_9999_are_written) {
  using namespace std::chrono;
  EXPECT_EQ(pipeline::detail::format_iso_time(pipeline::timestamp{sys_days{year{0} / 1 / 1}}),
            "0000-01-01T00:00:00.000000Z");
  EXPECT_EQ(pipeline::detail::format_iso_time(pipeline::timestamp{sys_days{year{9999} / 12 / 31}} + days{1} -
                                              microseconds{1}),
            "9999-12-31T23:59:59.999999Z");
  EXPECT_EQ(pipeline::detail::format_iso_time(pipeline::timestamp{sys_days{year{10000} / 1 / 1}}), std::nullopt);
  EXPECT_EQ(pipeline::detail::format_iso_time(pipeline::timestamp{sys_days{year{-1} / 12 / 31}}), std::nullopt);
}

TEST(iso8601, clock_times_are_floored_to_the_microsecond) {
  using namespace std::chrono;
  const system_clock::time_point t = sys_days{year{2024} / 3 / 1} + nanoseconds{1'999};
  EXPECT_EQ(pipeline::detail::format_iso_time(t), "2024-03-01T00:00:00.000001Z");
}

TEST(iso8601, malformed_times_do_not_parse) {
  for (const auto* bad : {"", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-01-01T24:00:00Z",
                          "2024-01-01T00:60:00Z", "2024-01-01 00:00:00Z", "2024-01-01T00:00:00",
                          "2024-01-01T00:00:00.Z",
                          "2024-01-01T00:00:00.1234567Z", "2024-01-01T00:00:00+01:00", "+12024-01-01T00:00:00Z"}) {
    EXPECT_EQ(pipeline::detail::parse_iso_time(bad), std::nullopt) << bad;
  }
}

}  // namespace
