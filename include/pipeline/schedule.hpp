#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace pipeline {

namespace detail {
class time_zone;  // src/core/time_zone.hpp: a zone read from its TZif file
}  // namespace detail

/// When a job is due: every N seconds, daily, weekly or monthly at a local time in a zone.
///
/// A value type; copies share the zone, which is immutable, so a schedule may be read from any
/// number of threads. Built in code or parsed from text (docs/schedule.md):
///
///     every 30s | every 5m | every 2h                  multiples of N since 1970-01-01T00:00Z
///     daily 02:30 [zone]
///     weekly mon 02:30 [zone]                          mon tue wed thu fri sat sun
///     monthly 1 06:00 [zone] | monthly last 06:00 [zone]
///
/// The zone is `UTC` (the default) or an IANA name (`Europe/Paris`), read from its TZif file
/// under $TZDIR or /usr/share/zoneinfo, with the file's POSIX rule for times past its table.
/// A local time that does not exist (skipped by a DST change) is due at the first instant after
/// the gap; a local time that occurs twice (the hour repeated when DST ends) is due once, at
/// its first occurrence. A monthly day past the month's end (31 in April, 30 in February) is
/// due on the month's last day. Construction and `parse` throw std::invalid_argument naming the
/// field and the text; `next_after` never throws.
///
///     auto s = pipeline::schedule::parse("monthly last 06:00 Europe/Paris");
///     auto due = s.next_after(std::chrono::system_clock::now());
class schedule {
 public:
  using time_point = std::chrono::system_clock::time_point;
  enum class kind : std::uint8_t { every, daily, weekly, monthly };
  /// The monthly day that means "the last day of the month".
  static constexpr unsigned last_day = 0;

  /// Every `interval` (at least one second, whole seconds), at multiples of it since the epoch.
  [[nodiscard]] static auto every(std::chrono::seconds interval) -> schedule;
  [[nodiscard]] static auto daily(std::chrono::minutes time_of_day, std::string_view zone = "UTC") -> schedule;
  [[nodiscard]] static auto weekly(std::chrono::weekday day, std::chrono::minutes time_of_day,
                                   std::string_view zone = "UTC") -> schedule;
  /// `day` 1 to 31, or `last_day`.
  [[nodiscard]] static auto monthly(unsigned day, std::chrono::minutes time_of_day, std::string_view zone = "UTC")
      -> schedule;
  /// The text forms above; fields are separated by spaces.
  [[nodiscard]] static auto parse(std::string_view text) -> schedule;

  /// The first due time strictly after `t`.
  [[nodiscard]] auto next_after(time_point t) const -> time_point;

  /// The schedule as text, in the form `parse` reads ("daily 02:30 Europe/Paris").
  [[nodiscard]] auto text() const -> std::string;
  [[nodiscard]] auto what() const noexcept -> kind { return kind_; }

 private:
  schedule() = default;
  [[nodiscard]] auto local_due(std::chrono::sys_days day) const -> time_point;

  kind kind_{kind::every};
  std::chrono::seconds interval_{1};
  std::chrono::minutes time_of_day_{0};
  std::chrono::weekday weekday_{};
  unsigned day_{1};
  std::shared_ptr<const detail::time_zone> zone_;
};

}  // namespace pipeline
