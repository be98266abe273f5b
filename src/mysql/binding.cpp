#include "binding.hpp"

#include <charconv>
#include <chrono>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace pipeline::mysql::detail {

auto to_mysql_time(timestamp t) -> std::optional<MYSQL_TIME> {
  using namespace std::chrono;
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  if (int{ymd.year()} < 0 || int{ymd.year()} > 9999) return std::nullopt;
  const hh_mm_ss time{t - day};
  MYSQL_TIME m{};
  m.year = static_cast<unsigned>(int{ymd.year()});
  m.month = unsigned{ymd.month()};
  m.day = unsigned{ymd.day()};
  m.hour = static_cast<unsigned>(time.hours().count());
  m.minute = static_cast<unsigned>(time.minutes().count());
  m.second = static_cast<unsigned>(time.seconds().count());
  m.second_part = static_cast<unsigned long>(time.subseconds().count());
  m.time_type = MYSQL_TIMESTAMP_DATETIME;
  return m;
}

auto from_mysql_time(const MYSQL_TIME& m) -> std::optional<timestamp> {
  using namespace std::chrono;
  const year_month_day ymd{year{static_cast<int>(m.year)}, month{m.month}, day{m.day}};
  if (!ymd.ok() || m.neg || m.hour > 23 || m.minute > 59 || m.second > 59 || m.second_part > 999'999) {
    return std::nullopt;
  }
  return sys_days{ymd} + hours{m.hour} + minutes{m.minute} + seconds{m.second} +
         microseconds{static_cast<std::int64_t>(m.second_part)};
}

auto parse_mysql_time(std::string_view text) -> std::optional<timestamp> {
  MYSQL_TIME m{};
  auto number = [&](std::size_t at, std::size_t width, unsigned& out) {
    if (at + width > text.size()) return false;
    auto [end, ec] = std::from_chars(text.data() + at, text.data() + at + width, out);
    return ec == std::errc{} && end == text.data() + at + width;
  };
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !number(0, 4, m.year) || !number(5, 2, m.month) ||
      !number(8, 2, m.day)) {
    return std::nullopt;
  }
  if (text.size() > 10) {
    if (text.size() < 19 || text[10] != ' ' || text[13] != ':' || text[16] != ':' || !number(11, 2, m.hour) ||
        !number(14, 2, m.minute) || !number(17, 2, m.second)) {
      return std::nullopt;
    }
    if (text.size() > 19) {
      const std::size_t digits = text.size() - 20;
      if (text[19] != '.' || digits == 0 || digits > 6) return std::nullopt;
      unsigned fraction = 0;
      if (!number(20, digits, fraction)) return std::nullopt;
      for (std::size_t i = digits; i < 6; ++i) fraction *= 10;
      m.second_part = fraction;
    }
  }
  return from_mysql_time(m);
}

namespace {
// Connector/C sends a parameter whose buffer is null as NULL: an empty string or blob points
// here instead.
char empty_buffer[1] = {};
auto buffer_of(const void* data, std::size_t size) -> void* {
  return size == 0 ? empty_buffer : const_cast<void*>(data);  // read only: the API is not const
}
}  // namespace

auto parameters::bind(std::span<const value> values) -> result<std::unique_ptr<parameters>> {
  std::unique_ptr<parameters> p{new parameters()};
  // Sized once: the binds point into these vectors.
  p->binds_.resize(values.size());
  p->ints_.resize(values.size());
  p->times_.resize(values.size());
  p->lengths_.resize(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    MYSQL_BIND& b = p->binds_[i];
    std::memset(&b, 0, sizeof b);
    const value& v = values[i];
    switch (v.kind()) {
      case value_kind::null: b.buffer_type = MYSQL_TYPE_NULL; break;
      case value_kind::boolean:
        p->ints_[i] = *v.get_if<bool>() ? 1 : 0;
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &p->ints_[i];
        break;
      case value_kind::int64:
        p->ints_[i] = *v.get_if<std::int64_t>();
        b.buffer_type = MYSQL_TYPE_LONGLONG;
        b.buffer = &p->ints_[i];
        break;
      case value_kind::float64:
        b.buffer_type = MYSQL_TYPE_DOUBLE;
        b.buffer = const_cast<double*>(v.get_if<double>());  // read only: Connector/C's API is not const
        break;
      case value_kind::string: {
        const auto& s = *v.get_if<std::string>();
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = buffer_of(s.data(), s.size());
        p->lengths_[i] = s.size();
        b.buffer_length = s.size();
        b.length = &p->lengths_[i];
        break;
      }
      case value_kind::binary: {
        const auto& s = *v.get_if<bytes>();
        b.buffer_type = MYSQL_TYPE_BLOB;
        b.buffer = buffer_of(s.data(), s.size());
        p->lengths_[i] = s.size();
        b.buffer_length = s.size();
        b.length = &p->lengths_[i];
        break;
      }
      case value_kind::datetime: {
        auto m = to_mysql_time(*v.get_if<timestamp>());
        if (!m) return invalid_input_error(fmt::format("parameter {}: {} is outside the years 0000-9999", i + 1, v));
        p->times_[i] = *m;
        b.buffer_type = MYSQL_TYPE_DATETIME;
        b.buffer = &p->times_[i];
        break;
      }
    }
  }
  return p;
}

}  // namespace pipeline::mysql::detail
