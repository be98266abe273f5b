#include <pipeline/schedule.hpp>

#include <array>
#include <charconv>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "time_zone.hpp"

namespace pipeline {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 7> day_names{"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

auto bad(std::string_view field, std::string_view value, std::string_view text, std::string_view expected)
    -> std::invalid_argument {
  return std::invalid_argument(
      fmt::format("schedule: bad {} '{}' in '{}' (expected {})", field, value, text, expected));
}

auto check_time_of_day(minutes time_of_day) {
  if (time_of_day < minutes{0} || time_of_day >= days{1}) {
    throw std::invalid_argument(fmt::format("schedule: bad time of day {} min (expected 00:00 to 23:59)",
                                            time_of_day.count()));
  }
}

auto split(std::string_view text) -> std::vector<std::string_view> {
  std::vector<std::string_view> words;
  std::size_t at = 0;
  while (at < text.size()) {
    const auto start = text.find_first_not_of(' ', at);
    if (start == std::string_view::npos) break;
    const auto end = std::min(text.find(' ', start), text.size());
    words.push_back(text.substr(start, end - start));
    at = end;
  }
  return words;
}

auto parse_unsigned(std::string_view digits, unsigned& out) -> bool {
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return !digits.empty() && ec == std::errc{} && p == digits.data() + digits.size();
}

// "HH:MM", 00:00 to 23:59.
auto parse_time_of_day(std::string_view word, std::string_view text) -> minutes {
  unsigned h = 0;
  unsigned m = 0;
  if (word.size() != 5 || word[2] != ':' || !parse_unsigned(word.substr(0, 2), h) ||
      !parse_unsigned(word.substr(3, 2), m) || h > 23 || m > 59) {
    throw bad("time", word, text, "HH:MM, 00:00 to 23:59");
  }
  return hours{h} + minutes{m};
}

auto floor_div(std::int64_t a, std::int64_t b) -> std::int64_t {
  return a / b - ((a % b != 0 && (a < 0) != (b < 0)) ? 1 : 0);
}

}  // namespace

auto schedule::every(seconds interval) -> schedule {
  if (interval < seconds{1}) {
    throw std::invalid_argument(fmt::format("schedule: bad interval {} s (expected at least 1 s)", interval.count()));
  }
  schedule s;
  s.kind_ = kind::every;
  s.interval_ = interval;
  s.zone_ = detail::time_zone::load("UTC");
  return s;
}

auto schedule::daily(minutes time_of_day, std::string_view zone) -> schedule {
  check_time_of_day(time_of_day);
  schedule s;
  s.kind_ = kind::daily;
  s.time_of_day_ = time_of_day;
  s.zone_ = detail::time_zone::load(zone);
  return s;
}

auto schedule::weekly(weekday day, minutes time_of_day, std::string_view zone) -> schedule {
  if (!day.ok()) throw std::invalid_argument("schedule: bad weekday (expected Sunday to Saturday)");
  auto s = daily(time_of_day, zone);
  s.kind_ = kind::weekly;
  s.weekday_ = day;
  return s;
}

auto schedule::monthly(unsigned day, minutes time_of_day, std::string_view zone) -> schedule {
  if (day > 31) {
    throw std::invalid_argument(fmt::format("schedule: bad day of month {} (expected 1 to 31 or last)", day));
  }
  auto s = daily(time_of_day, zone);
  s.kind_ = kind::monthly;
  s.day_ = day;
  return s;
}

auto schedule::parse(std::string_view text) -> schedule {
  const auto words = split(text);
  if (words.empty()) throw bad("kind", "", text, "every, daily, weekly or monthly");
  const auto what = words[0];
  if (what == "every") {
    if (words.size() != 2) {
      throw bad("interval", words.size() > 1 ? words[2] : "", text, "one interval such as 30s, 5m, 2h");
    }
    const auto word = words[1];
    unsigned n = 0;
    const auto unit = word.empty() ? '\0' : word.back();
    const std::int64_t scale = unit == 's' ? 1 : unit == 'm' ? 60 : unit == 'h' ? 3600 : 0;
    if (scale == 0 || !parse_unsigned(word.substr(0, word.size() - 1), n) || n == 0) {
      throw bad("interval", word, text, "a positive whole number with s, m or h, such as 30s");
    }
    return every(seconds{n * scale});
  }
  const std::size_t fields = what == "daily" ? 2 : (what == "weekly" || what == "monthly") ? 3 : 0;
  if (fields == 0) throw bad("kind", what, text, "every, daily, weekly or monthly");
  if (words.size() < fields || words.size() > fields + 1) {
    throw bad("field count", fmt::format("{}", words.size()), text,
              what == "daily"    ? "daily HH:MM [zone]"
              : what == "weekly" ? "weekly <mon..sun> HH:MM [zone]"
                                 : "monthly <1-31|last> HH:MM [zone]");
  }
  const auto time_of_day = parse_time_of_day(words[fields - 1], text);
  const auto zone = words.size() > fields ? words[fields] : std::string_view{"UTC"};
  if (what == "daily") return daily(time_of_day, zone);
  if (what == "weekly") {
    for (unsigned d = 0; d < day_names.size(); ++d) {
      if (words[1] == day_names[d]) return weekly(weekday{d}, time_of_day, zone);
    }
    throw bad("weekday", words[1], text, "mon, tue, wed, thu, fri, sat or sun");
  }
  unsigned day = 0;
  if (words[1] != "last" && (!parse_unsigned(words[1], day) || day < 1 || day > 31)) {
    throw bad("day of month", words[1], text, "1 to 31 or last");
  }
  return monthly(day, time_of_day, zone);
}

auto schedule::local_due(sys_days day) const -> time_point {
  const auto local = duration_cast<seconds>(day.time_since_epoch() + time_of_day_).count();
  return time_point{seconds{zone_->to_utc(local)}};
}

auto schedule::next_after(time_point t) const -> time_point {
  const auto utc = floor<seconds>(t).time_since_epoch().count();
  if (kind_ == kind::every) {
    const auto n = interval_.count();
    return time_point{seconds{(floor_div(utc, n) + 1) * n}};
  }
  // Walk local days from the day before t's local day: the first due time after t is within a
  // few days (a week, a month and a half).
  const auto local_day = sys_days{days{floor_div(utc + zone_->offset_at(utc), 86'400)}} - days{1};
  if (kind_ == kind::monthly) {
    const year_month_day ymd{local_day};
    for (auto ym = ymd.year() / ymd.month();; ym += months{1}) {
      const auto last_in_month = year_month_day_last{ym / last}.day();
      const bool past_end = day_ == last_day || std::chrono::day{day_} > last_in_month;
      const auto day = past_end ? last_in_month : std::chrono::day{day_};
      if (const auto due = local_due(sys_days{ym / day}); due > t) return due;
    }
  }
  for (auto day = local_day;; day += days{1}) {
    if (kind_ == kind::weekly && weekday{day} != weekday_) continue;
    if (const auto due = local_due(day); due > t) return due;
  }
}

auto schedule::text() const -> std::string {
  const auto zone = zone_->name() == "UTC" ? std::string{} : " " + zone_->name();
  const auto hh = time_of_day_.count() / 60;
  const auto mm = time_of_day_.count() % 60;
  switch (kind_) {
    case kind::every: {
      const auto n = interval_.count();
      if (n % 3600 == 0) return fmt::format("every {}h", n / 3600);
      if (n % 60 == 0) return fmt::format("every {}m", n / 60);
      return fmt::format("every {}s", n);
    }
    case kind::daily:
      return fmt::format("daily {:02}:{:02}{}", hh, mm, zone);
    case kind::weekly:
      return fmt::format("weekly {} {:02}:{:02}{}", day_names[weekday_.c_encoding()], hh, mm, zone);
    case kind::monthly:
      return fmt::format("monthly {} {:02}:{:02}{}", day_ == last_day ? std::string{"last"} : fmt::format("{}", day_),
                         hh, mm, zone);
  }
  return {};
}

}  // namespace pipeline
