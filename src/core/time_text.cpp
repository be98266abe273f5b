#include <pipeline/detail/time_text.hpp>

#include <ratio>

#include <fmt/format.h>

namespace pipeline::detail {
namespace {

using namespace std::chrono;

// [first, end) of the years that four digits hold.
constexpr timestamp first_time{sys_days{year{0} / January / 1}};
constexpr timestamp end_time{sys_days{year{10000} / January / 1}};

// `count` decimal digits at `text[at]`, or -1.
auto digits(std::string_view text, std::size_t at, std::size_t count) -> int {
  if (at + count > text.size()) return -1;
  int v = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

}  // namespace

auto format_iso_time(timestamp t) -> std::optional<std::string> {
  if (t < first_time || t >= end_time) return std::nullopt;
  const auto day = floor<days>(t);
  const year_month_day date{day};
  const hh_mm_ss time{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()), time.hours().count(),
                     time.minutes().count(), time.seconds().count(), time.subseconds().count());
}

// A clock this fine spans about ±292 years around 1970, inside the years format_iso_time writes.
static_assert(std::ratio_less_equal_v<system_clock::period, std::nano>);

auto format_iso_time(system_clock::time_point t) -> std::string {
  return *format_iso_time(timestamp{floor<microseconds>(t.time_since_epoch())});
}

auto parse_iso_time(std::string_view text) -> std::optional<timestamp> {
  const int y = digits(text, 0, 4);
  const int mo = digits(text, 5, 2);
  const int d = digits(text, 8, 2);
  const int h = digits(text, 11, 2);
  const int mi = digits(text, 14, 2);
  const int s = digits(text, 17, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || text[4] != '-' ||
      text[7] != '-' || text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const year_month_day date{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!date.ok()) return std::nullopt;
  std::size_t at = 19;
  std::int64_t micros = 0;
  if (at < text.size() && text[at] == '.') {
    std::size_t n = 0;
    for (int digit = 0; n < 6 && (digit = digits(text, at + 1 + n, 1)) >= 0; ++n) micros = micros * 10 + digit;
    if (n == 0) return std::nullopt;
    for (std::size_t k = n; k < 6; ++k) micros *= 10;
    at += 1 + n;
  }
  if (at + 1 != text.size() || text[at] != 'Z') return std::nullopt;
  return timestamp{sys_days{date}} + hours{h} + minutes{mi} + seconds{s} + microseconds{micros};
}

}  // namespace pipeline::detail
