#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace pipeline {

/// How far a run is: what is done, out of how much, how fast, and how long until the end.
struct progress {
  std::uint64_t done = 0;
  std::optional<std::uint64_t> total;  ///< unknown for unbounded sources
  double rate_per_second = 0;          ///< smoothed; see progress_meter
  std::optional<std::chrono::seconds> eta;  ///< only with a total; see progress_meter
  std::chrono::nanoseconds elapsed{0};

  friend auto operator==(const progress&, const progress&) -> bool = default;
};

/// Receives progress reports; called from whichever thread samples the meter.
using progress_callback = std::function<void(const progress&)>;

struct progress_meter_options {
  std::optional<std::uint64_t> total;
  /// Already done at the start (a resumed run). `sample` takes the absolute count, which
  /// includes it; the rate does not.
  std::uint64_t initial_done = 0;
  /// How fast the rate forgets: a sample `t` old weighs exp(-t / time_constant).
  std::chrono::nanoseconds time_constant = std::chrono::seconds{10};
};

/// Turns (done, time) samples into `progress` with a smoothed rate and an ETA.
///
/// Pure: time is passed in, so it is testable without sleeping. Not synchronised: one
/// thread samples it. The rate is an exponential moving average of the rate over each
/// interval between samples, weighted by time (alpha = 1 - exp(-dt / time_constant)), so it
/// does not depend on how often samples come; it is bias-corrected, so the first interval's
/// rate is reported as is instead of rising from zero. Samples at the same time (or earlier)
/// as the previous one change `done` but not the rate; a `done` below the previous one
/// counts as no progress. ETA = what is left / rate, rounded to seconds; zero once `done`
/// reaches the total; none without a total, or while the rate is zero.
///
///     pipeline::progress_meter meter{std::chrono::steady_clock::now(), {.total = rows}};
///     callback(meter.sample(written, std::chrono::steady_clock::now()));
class progress_meter {
 public:
  /// Throws std::invalid_argument if `options.time_constant` is not positive.
  explicit progress_meter(std::chrono::steady_clock::time_point start, progress_meter_options options = {});

  auto sample(std::uint64_t done, std::chrono::steady_clock::time_point now) -> progress;

 private:
  progress_meter_options options_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_time_;
  std::uint64_t last_done_;
  double average_ = 0;  // the EMA before bias correction
  double weight_ = 0;   // the sum of the EMA's weights so far, which corrects its bias
};

/// A plain log line: `1,234,567 / 10,000,000 (12.3%) 85.2k/s ETA 1m43s`, or without a
/// total `1,234,567 85.2k/s`. The percentage is rounded down.
[[nodiscard]] auto format_progress_line(const progress& p) -> std::string;

}  // namespace pipeline
