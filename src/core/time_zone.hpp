#pragma once

// A time zone read from its TZif file (RFC 8536), because libstdc++ 12 has no std::chrono::tzdb.
// Immutable once loaded: safe to share between threads.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline::detail {

// The POSIX TZ rule of a TZif footer ("CET-1CEST,M3.5.0,M10.5.0/3"), for times past the table.
struct zone_rule {
  struct change {  // when DST starts or ends, in local time of the offset in force before it
    enum class form : std::uint8_t { month_week_day, julian_no_leap, julian_zero } how{};
    int month = 0, week = 0, weekday = 0, day = 0;
    std::int64_t at_seconds = 7200;  // 02:00 unless told
  };
  std::int64_t std_offset = 0;  // seconds east of UTC
  bool has_dst = false;
  std::int64_t dst_offset = 0;
  change start, end;
};

class time_zone {
 public:
  // "UTC", or an IANA name read from $TZDIR (or /usr/share/zoneinfo). Throws
  // std::invalid_argument naming the zone when the name is not a zone name or its file is
  // missing or malformed.
  [[nodiscard]] static auto load(std::string_view name) -> std::shared_ptr<const time_zone>;

  [[nodiscard]] auto name() const -> const std::string& { return name_; }
  // Seconds east of UTC in force at `utc` (seconds since the epoch).
  [[nodiscard]] auto offset_at(std::int64_t utc) const -> std::int64_t;
  // The instant a local time (seconds since the local epoch) is: its first occurrence when it
  // occurs twice, the first instant after the gap when it does not occur.
  [[nodiscard]] auto to_utc(std::int64_t local) const -> std::int64_t;

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;  // instants, ascending
  std::vector<std::int64_t> offsets_;      // offset in force from transitions_[i] on
  std::int64_t initial_offset_ = 0;        // before the first transition
  bool has_rule_ = false;
  zone_rule rule_;
};

// Parses a POSIX TZ rule; false when it is not one.
[[nodiscard]] auto parse_zone_rule(std::string_view text, zone_rule& out) -> bool;

}  // namespace pipeline::detail
