#include "time_text.hpp"

#include <charconv>
#include <ratio>

#include <fmt/format.h>

namespace pipeline::sqlite::detail {
namespace {

using namespace std::chrono;

// [first, last) of the years that four digits hold.
constexpr timestamp first_time{sys_days{year{0} / January / 1}};
constexpr timestamp end_time{sys_days{year{10000} / January / 1}};

// Layout: 0123456789012345678901234567
//         YYYY-MM-DDTHH:MM:SS.ffffffZ
constexpr std::string_view layout = "dddd-dd-ddTdd:dd:dd.ddddddZ";

// The digits of text[at, at + n) as a number; the layout has been checked.
auto number(std::string_view text, std::size_t at, std::size_t n) -> int {
  int out = 0;
  std::from_chars(text.data() + at, text.data() + at + n, out);
  return out;
}

}  // namespace

auto format_time(timestamp t) -> std::optional<std::string> {
  if (t < first_time || t >= end_time) return std::nullopt;
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss time{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count(), time.subseconds().count());
}

// A clock this fine spans about ±292 years around 1970, inside the years format_time writes.
static_assert(std::ratio_less_equal_v<system_clock::period, std::nano>);

auto format_clock_time(system_clock::time_point t) -> std::string {
  return *format_time(floor<microseconds>(t));
}

auto parse_time(std::string_view text) -> std::optional<timestamp> {
  if (text.size() != layout.size()) return std::nullopt;
  for (std::size_t i = 0; i < layout.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (layout[i] == 'd' ? !digit : text[i] != layout[i]) return std::nullopt;
  }
  const year_month_day date{year{number(text, 0, 4)}, month{static_cast<unsigned>(number(text, 5, 2))},
                            day{static_cast<unsigned>(number(text, 8, 2))}};
  const auto h = number(text, 11, 2);
  const auto m = number(text, 14, 2);
  const auto s = number(text, 17, 2);
  if (!date.ok() || h > 23 || m > 59 || s > 59) return std::nullopt;
  return timestamp{sys_days{date}} + hours{h} + minutes{m} + seconds{s} + microseconds{number(text, 20, 6)};
}

}  // namespace pipeline::sqlite::detail
