#include "time_zone.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

namespace pipeline::detail {
namespace {

using namespace std::chrono;

constexpr std::int64_t seconds_per_day = 86'400;

auto bad_zone(std::string_view name, std::string_view why) -> std::invalid_argument {
  return std::invalid_argument(fmt::format("schedule: bad zone '{}': {}", name, why));
}

// Zone names are relative paths of letters, digits and _+-/, never climbing out of the zone
// directory.
auto is_zone_name(std::string_view name) -> bool {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '+' || c == '-' || c == '/';
  });
}

// Big-endian signed integers, as TZif stores them.
auto read_be(const std::string& data, std::size_t at, std::size_t width) -> std::int64_t {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < width; ++i) v = (v << 8U) | static_cast<unsigned char>(data[at + i]);
  if (width == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

struct tzif_counts {
  std::int64_t isut, isstd, leap, time, type, chars;
};

auto read_counts(const std::string& data, std::size_t at) -> tzif_counts {
  return {read_be(data, at + 20, 4), read_be(data, at + 24, 4), read_be(data, at + 28, 4),
          read_be(data, at + 32, 4), read_be(data, at + 36, 4), read_be(data, at + 40, 4)};
}

auto block_size(const tzif_counts& c, std::int64_t time_width) -> std::size_t {
  return static_cast<std::size_t>(c.time * time_width + c.time + c.type * 6 + c.chars + c.leap * (time_width + 4) +
                                  c.isstd + c.isut);
}

// The day (days since the epoch) a rule's change falls on in `year`.
auto change_day(const zone_rule::change& c, int year) -> sys_days {
  const auto y = std::chrono::year{year};
  switch (c.how) {
    case zone_rule::change::form::julian_no_leap: {  // 1..365, February 29 never counted
      auto day = sys_days{y / January / 1} + days{c.day - 1};
      if (y.is_leap() && c.day >= 60) day += days{1};
      return day;
    }
    case zone_rule::change::form::julian_zero:
      return sys_days{y / January / 1} + days{c.day};
    case zone_rule::change::form::month_week_day:
      break;
  }
  const auto month = std::chrono::month{static_cast<unsigned>(c.month)};
  const auto wanted = std::chrono::weekday{static_cast<unsigned>(c.weekday)};
  if (c.week == 5) return sys_days{y / month / wanted[last]};
  return sys_days{y / month / wanted[static_cast<unsigned>(c.week)]};
}

// "[+-]h[:mm[:ss]]" in seconds.
auto parse_hms(std::string_view& s, std::int64_t& out) -> bool {
  int sign = 1;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    sign = s.front() == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  std::int64_t total = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (s.empty() || s.front() != ':') break;
      s.remove_prefix(1);
    }
    if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front())) == 0) return false;
    std::int64_t n = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front())) != 0) {
      n = n * 10 + (s.front() - '0');
      s.remove_prefix(1);
    }
    total += n * (part == 0 ? 3600 : part == 1 ? 60 : 1);
  }
  out = sign * total;
  return true;
}

auto parse_abbreviation(std::string_view& s) -> bool {
  if (!s.empty() && s.front() == '<') {
    const auto end = s.find('>');
    if (end == std::string_view::npos) return false;
    s.remove_prefix(end + 1);
    return true;
  }
  std::size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n])) != 0) ++n;
  s.remove_prefix(n);
  return n >= 3;
}

auto parse_number(std::string_view& s, int& out) -> bool {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front())) == 0) return false;
  out = 0;
  while (!s.empty() && std::isdigit(static_cast<unsigned char>(s.front())) != 0) {
    out = out * 10 + (s.front() - '0');
    s.remove_prefix(1);
  }
  return true;
}

auto parse_change(std::string_view& s, zone_rule::change& c) -> bool {
  if (s.empty()) return false;
  if (s.front() == 'M') {
    s.remove_prefix(1);
    c.how = zone_rule::change::form::month_week_day;
    if (!parse_number(s, c.month) || s.empty() || s.front() != '.') return false;
    s.remove_prefix(1);
    if (!parse_number(s, c.week) || s.empty() || s.front() != '.') return false;
    s.remove_prefix(1);
    if (!parse_number(s, c.weekday)) return false;
    if (c.month < 1 || c.month > 12 || c.week < 1 || c.week > 5 || c.weekday > 6) return false;
  } else if (s.front() == 'J') {
    s.remove_prefix(1);
    c.how = zone_rule::change::form::julian_no_leap;
    if (!parse_number(s, c.day) || c.day < 1 || c.day > 365) return false;
  } else {
    c.how = zone_rule::change::form::julian_zero;
    if (!parse_number(s, c.day) || c.day > 365) return false;
  }
  if (!s.empty() && s.front() == '/') {
    s.remove_prefix(1);
    return parse_hms(s, c.at_seconds);
  }
  return true;
}

}  // namespace

auto parse_zone_rule(std::string_view s, zone_rule& out) -> bool {
  zone_rule rule;
  std::int64_t west = 0;
  if (!parse_abbreviation(s) || !parse_hms(s, west)) return false;
  rule.std_offset = -west;  // POSIX offsets count hours west of Greenwich
  if (!s.empty()) {
    if (!parse_abbreviation(s)) return false;
    rule.has_dst = true;
    rule.dst_offset = rule.std_offset + 3600;
    if (!s.empty() && s.front() != ',') {
      if (!parse_hms(s, west)) return false;
      rule.dst_offset = -west;
    }
    if (s.empty()) {  // POSIX's default: the US rule
      std::string_view us = ",M3.2.0,M11.1.0";
      s = us;
    }
    if (s.front() != ',') return false;
    s.remove_prefix(1);
    if (!parse_change(s, rule.start) || s.empty() || s.front() != ',') return false;
    s.remove_prefix(1);
    if (!parse_change(s, rule.end)) return false;
  }
  if (!s.empty()) return false;
  out = rule;
  return true;
}

auto time_zone::load(std::string_view name) -> std::shared_ptr<const time_zone> {
  auto zone = std::make_shared<time_zone>();
  zone->name_ = std::string(name);
  if (name == "UTC") return zone;
  if (!is_zone_name(name)) throw bad_zone(name, "not a zone name (UTC, or an IANA name such as Europe/Paris)");
  const char* dir = std::getenv("TZDIR");
  const auto path = fmt::format("{}/{}", dir != nullptr && *dir != '\0' ? dir : "/usr/share/zoneinfo", name);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw bad_zone(name, fmt::format("no zone file {}", path));
  const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  constexpr std::size_t header = 44;
  if (data.size() < header || data.compare(0, 4, "TZif") != 0) throw bad_zone(name, "not a TZif file");
  const bool v2 = data[4] >= '2';
  auto counts = read_counts(data, 0);
  std::size_t at = header;
  std::int64_t width = 4;
  if (v2) {  // skip the 32-bit block: the 64-bit one after it covers every instant
    at += block_size(counts, 4);
    if (data.size() < at + header) throw bad_zone(name, "truncated TZif file");
    counts = read_counts(data, at);
    at += header;
    width = 8;
  }
  if (counts.type < 1 || data.size() < at + block_size(counts, width)) throw bad_zone(name, "truncated TZif file");
  const auto times_at = at;
  const auto indices_at = times_at + static_cast<std::size_t>(counts.time * width);
  const auto types_at = indices_at + static_cast<std::size_t>(counts.time);
  auto type_offset = [&](std::int64_t type) {
    return read_be(data, types_at + static_cast<std::size_t>(type) * 6, 4);
  };
  zone->initial_offset_ = type_offset(0);
  for (std::int64_t i = 0; i < counts.time; ++i) {
    const auto type = static_cast<unsigned char>(data[indices_at + static_cast<std::size_t>(i)]);
    if (type >= counts.type) throw bad_zone(name, "TZif transition names no type");
    const auto at_time = times_at + static_cast<std::size_t>(i * width);
    zone->transitions_.push_back(read_be(data, at_time, static_cast<std::size_t>(width)));
    zone->offsets_.push_back(type_offset(type));
  }
  if (v2) {
    const auto footer_at = at + block_size(counts, width);
    const auto open = data.find('\n', footer_at);
    const auto close = open == std::string::npos ? std::string::npos : data.find('\n', open + 1);
    if (close != std::string::npos && close > open + 1) {
      if (!parse_zone_rule(std::string_view{data}.substr(open + 1, close - open - 1), zone->rule_)) {
        throw bad_zone(name, "its TZif footer is not a POSIX TZ rule");
      }
      zone->has_rule_ = true;
    }
  }
  return zone;
}

auto time_zone::offset_at(std::int64_t utc) const -> std::int64_t {
  if (!transitions_.empty() && utc < transitions_.front()) return initial_offset_;
  if (!has_rule_ || (!transitions_.empty() && utc <= transitions_.back())) {
    if (transitions_.empty()) return initial_offset_;
    const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
    return offsets_[static_cast<std::size_t>(after - transitions_.begin() - 1)];
  }
  if (!rule_.has_dst) return rule_.std_offset;
  const auto local_std = utc + rule_.std_offset;
  const auto year = static_cast<int>(year_month_day{sys_days{days{local_std / seconds_per_day -
                                                                  (local_std % seconds_per_day < 0 ? 1 : 0)}}}
                                         .year());
  auto instant = [&](const zone_rule::change& c, std::int64_t offset_before) {
    return change_day(c, year).time_since_epoch().count() * seconds_per_day + c.at_seconds - offset_before;
  };
  const auto start = instant(rule_.start, rule_.std_offset);
  const auto end = instant(rule_.end, rule_.dst_offset);
  const bool dst = start < end ? (utc >= start && utc < end) : (utc < end || utc >= start);
  return dst ? rule_.dst_offset : rule_.std_offset;
}

auto time_zone::to_utc(std::int64_t local) const -> std::int64_t {
  // Offsets change at most once within a day here: the offsets a day either side are the only
  // candidates, and a candidate is right when the offset at the instant it gives is itself.
  const std::int64_t candidates[] = {offset_at(local - seconds_per_day), offset_at(local + seconds_per_day)};
  std::optional<std::int64_t> first;
  for (const auto offset : candidates) {
    const auto utc = local - offset;
    if (offset_at(utc) == offset && (!first || utc < *first)) first = utc;
  }
  if (first) return *first;
  // In a gap: the instant the offset changes, found between the two candidate instants.
  auto lo = std::min(local - candidates[0], local - candidates[1]);
  auto hi = std::max(local - candidates[0], local - candidates[1]);
  const auto before = offset_at(lo);
  while (hi - lo > 1) {
    const auto mid = lo + (hi - lo) / 2;
    (offset_at(mid) == before ? lo : hi) = mid;
  }
  return hi;
}

}  // namespace pipeline::detail
