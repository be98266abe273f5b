#include <pipeline/progress.hpp>

#include <array>
#include <cmath>
#include <iterator>
#include <stdexcept>

#include <fmt/format.h>

namespace pipeline {
namespace {

// 1234567 -> "1,234,567"
void append_grouped(std::string& out, std::uint64_t n) {
  const std::string digits = fmt::format("{}", n);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
}

// 85234.1 -> "85.2k/s"
void append_rate(std::string& out, double rate) {
  constexpr std::array<std::string_view, 5> units{"", "k", "M", "G", "T"};
  std::size_t unit = 0;
  // 999.95 and above would print as 1000.0 in this unit.
  while (rate >= 999.95 && unit + 1 < units.size()) {
    rate /= 1000;
    ++unit;
  }
  fmt::format_to(std::back_inserter(out), "{:.1f}{}/s", rate, units[unit]);
}

// 103 s -> "1m43s"; the two largest units only, as a glance needs no more.
void append_duration(std::string& out, std::chrono::seconds d) {
  const auto s = d.count();
  auto it = std::back_inserter(out);
  if (s < 60) {
    fmt::format_to(it, "{}s", s);
  } else if (s < 3600) {
    fmt::format_to(it, "{}m{:02}s", s / 60, s % 60);
  } else if (s < 86400) {
    fmt::format_to(it, "{}h{:02}m", s / 3600, s / 60 % 60);
  } else {
    fmt::format_to(it, "{}d{:02}h", s / 86400, s / 3600 % 24);
  }
}

}  // namespace

progress_meter::progress_meter(std::chrono::steady_clock::time_point start, progress_meter_options options)
    : options_(options), start_(start), last_time_(start), last_done_(options.initial_done) {
  if (options_.time_constant <= std::chrono::nanoseconds::zero()) {
    throw std::invalid_argument("options.time_constant: must be positive");
  }
}

auto progress_meter::sample(std::uint64_t done, std::chrono::steady_clock::time_point now) -> progress {
  if (now > last_time_) {
    using seconds_d = std::chrono::duration<double>;
    const double dt = seconds_d(now - last_time_).count();
    const double delta = done > last_done_ ? static_cast<double>(done - last_done_) : 0.0;
    // expm1 keeps alpha accurate when dt is tiny next to the time constant.
    const double alpha = -std::expm1(-dt / seconds_d(options_.time_constant).count());
    average_ += alpha * (delta / dt - average_);
    weight_ += alpha * (1 - weight_);
    last_time_ = now;
    last_done_ = done;
  }

  progress p;
  p.done = done;
  p.total = options_.total;
  p.rate_per_second = weight_ > 0 ? average_ / weight_ : 0.0;
  p.elapsed = now - start_;
  if (options_.total) {
    const std::uint64_t left = *options_.total > done ? *options_.total - done : 0;
    if (left == 0) {
      p.eta = std::chrono::seconds{0};
    } else if (p.rate_per_second > 0) {
      const double seconds = std::round(static_cast<double>(left) / p.rate_per_second);
      // Beyond what chrono::seconds holds (a near-zero rate) there is no meaningful ETA.
      if (seconds < 0x1p62) p.eta = std::chrono::seconds{static_cast<std::int64_t>(seconds)};
    }
  }
  return p;
}

auto format_progress_line(const progress& p) -> std::string {
  std::string out;
  append_grouped(out, p.done);
  if (p.total) {
    out += " / ";
    append_grouped(out, *p.total);
    // Rounded down, so that 99.96% does not read as 100.0% before the end.
    const double per_mille = *p.total == 0 ? 1000.0
                                           : std::floor(static_cast<double>(p.done) / static_cast<double>(*p.total) * 1000.0);
    fmt::format_to(std::back_inserter(out), " ({:.1f}%)", per_mille / 10);
  }
  out += ' ';
  append_rate(out, p.rate_per_second);
  if (p.eta) {
    out += " ETA ";
    append_duration(out, *p.eta);
  }
  return out;
}

}  // namespace pipeline
