#include <pipeline/partition.hpp>

#include <algorithm>
#include <set>
#include <stdexcept>

#include <fmt/format.h>

namespace pipeline {

auto plan_id_ranges(std::int64_t min, std::int64_t max, std::uint32_t count) -> std::vector<partition> {
  if (count == 0) throw std::invalid_argument("plan_id_ranges: count must be > 0");
  if (max < min) throw std::invalid_argument("plan_id_ranges: max must be >= min");
  // 128-bit: [INT64_MIN, INT64_MAX] holds 2^64 keys.
  __extension__ using wide = unsigned __int128;
  const wide keys = static_cast<wide>(static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min)) + 1;
  const wide parts = std::min<wide>(count, keys);
  std::vector<partition> plan;
  for (wide i = 0; i < parts; ++i) {
    // Part i holds the keys at offsets [keys * i / parts, keys * (i + 1) / parts).
    const auto lo = static_cast<std::int64_t>(static_cast<std::uint64_t>(min) + static_cast<std::uint64_t>(keys * i / parts));
    const auto hi = static_cast<std::int64_t>(static_cast<std::uint64_t>(min) +
                                              static_cast<std::uint64_t>(keys * (i + 1) / parts - 1));
    plan.push_back({static_cast<std::uint32_t>(i), fmt::format("{}..{}", lo, hi), id_range{lo, hi}});
  }
  return plan;
}

auto plan_hash_buckets(std::uint32_t buckets) -> std::vector<partition> {
  if (buckets == 0) throw std::invalid_argument("plan_hash_buckets: buckets must be > 0");
  std::vector<partition> plan;
  for (std::uint32_t b = 0; b < buckets; ++b) plan.push_back({b, fmt::format("h{}of{}", b, buckets), hash_bucket{b, buckets}});
  return plan;
}

auto hash_bucket_of(std::string_view key, std::uint32_t buckets) -> std::uint32_t {
  if (buckets == 0) throw std::invalid_argument("hash_bucket_of: buckets must be > 0");
  std::uint64_t h = 14695981039346656037ULL;
  for (const char c : key) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return static_cast<std::uint32_t>(h % buckets);
}

auto plan_categories(std::vector<std::string> values) -> std::vector<partition> {
  if (values.empty()) throw std::invalid_argument("plan_categories: values must not be empty");
  std::set<std::string> seen;
  std::vector<partition> plan;
  for (auto& v : values) {
    if (!seen.insert(v).second) throw std::invalid_argument("plan_categories: duplicate value '" + v + "'");
    plan.push_back({static_cast<std::uint32_t>(plan.size()), v, category{std::move(v)}});
  }
  return plan;
}

namespace {

auto interval_name(std::chrono::sys_days begin, interval_unit unit) -> std::string {
  using namespace std::chrono;
  const year_month_day ymd{begin};
  switch (unit) {
    case interval_unit::day:
      return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                         static_cast<unsigned>(ymd.day()));
    case interval_unit::week: {
      // The ISO week-numbering year is the year of this week's Thursday.
      const auto thursday = begin + days{3} - days{(weekday{begin}.iso_encoding() - 1)};
      const year iso_year = year_month_day{thursday}.year();
      const auto week = (thursday - sys_days{iso_year / January / 1}).count() / 7 + 1;
      return fmt::format("{:04}-W{:02}", static_cast<int>(iso_year), week);
    }
    case interval_unit::month:
      return fmt::format("{:04}-{:02}", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()));
  }
  return {};
}

auto next_boundary(std::chrono::sys_days day, interval_unit unit) -> std::chrono::sys_days {
  using namespace std::chrono;
  switch (unit) {
    case interval_unit::day: return day + days{1};
    case interval_unit::week: return day + days{8 - weekday{day}.iso_encoding()};  // next Monday
    case interval_unit::month: {
      const year_month_day ymd{day};
      return sys_days{(ymd.year() / ymd.month() + months{1}) / 1};
    }
  }
  return day + days{1};
}

}  // namespace

auto plan_time_intervals(std::chrono::sys_days from, std::chrono::sys_days to, interval_unit unit)
    -> std::vector<partition> {
  if (to <= from) throw std::invalid_argument("plan_time_intervals: to must be after from");
  std::vector<partition> plan;
  for (auto begin = from; begin < to;) {
    const auto end = std::min(next_boundary(begin, unit), to);
    plan.push_back({static_cast<std::uint32_t>(plan.size()), interval_name(begin, unit), time_interval{begin, end}});
    begin = end;
  }
  return plan;
}

}  // namespace pipeline
